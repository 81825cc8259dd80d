/**
 * All benchmarks (npm run bench): whole-command timings (bench/cli.ts), the BGP model (bench/bgp-verify.ts),
 * live re-verification (bench/reverify.ts), growth per peering shape (bench/growth.ts) and, with `--live`
 * (needs the Go test tools and CALICO_TUNE_CALICO_DIR), the real API server comparison (bench/live.ts) and
 * the 5,000-node `migrate apply` (bench/apply.ts);
 * printed as the markdown tables docs/benchmarks.md records, then every goal of issue 13 with PASS/FAIL.
 *
 *   node --expose-gc dist/bench/run.js [--live] [--growth-runs N] [--growth-sizes 1000,2000,5000,10000]
 */
import os from 'node:os';
import { fmtTable, run as runBgp } from './bgp-verify.js';
import fs from 'node:fs';
import { firstRequest, markdown, run as runCli, SINGLE_BINARY } from './cli.js';
import { extraCaSet, WITHOUT_EXTRA_CA, withoutExtraCa } from './env.js';
import { goalsTable, growthGoals, growthTable, run as runGrowth, type Goal } from './growth.js';
import { run as runReverify } from './reverify.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const header = `machine: ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? '?'}), load ${os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(' ')}, Node ${process.version}, ${new Date().toISOString()}`;
process.stdout.write(`${header}\n\n## Commands\n\n`);
const cli = runCli();
const cpuNote = (c: { firstMs: number; nodeMs: number } | undefined): string =>
  c
    ? ` (CPU ${c.firstMs.toFixed(0)} / ${c.nodeMs.toFixed(0)} ms: ${(c.firstMs / c.nodeMs).toFixed(2)}x)`
    : '';
// in this environment, and without NODE_EXTRA_CA_CERTS when it sets it (bench/env.ts); the npm install (Node)
// and, when `npm run package` built it, the krew single binary (Bun: the variable costs it nothing)
const single = fs.existsSync(SINGLE_BINARY) ? SINGLE_BINARY : undefined;
const firsts: ({ env: string; build: string } & Awaited<ReturnType<typeof firstRequest>>)[] = [];
for (const [build, exe] of [
  ['', undefined],
  [' (krew single binary)', single],
] as const) {
  if (build && !exe) continue;
  firsts.push({ env: '', build, ...(await firstRequest(undefined, process.env, { exe })) });
  if (extraCaSet())
    firsts.push({
      env: `, ${WITHOUT_EXTRA_CA}`,
      build,
      ...(await firstRequest(9, withoutExtraCa(), { exe })),
    });
}
process.stdout.write(
  `${markdown(cli)}\n\n${firsts
    .map(
      (f) =>
        `first connection of \`status\`${f.build}${f.env} after ${f.firstMs.toFixed(0)} ms, its TLS ClientHello after ${f.helloMs?.toFixed(0) ?? '?'} ms; \`node -e 0\` ${f.nodeMs.toFixed(0)} ms${cpuNote(f.cpu)}${f.ca ? '' : ' (no openssl: the kubeconfig skipped TLS verification)'}`,
    )
    .join('\n')}\n\n## BGP model (in process)\n\n\`\`\`\n`,
);
const bgp = await runBgp();
process.stdout.write(`${fmtTable(bgp)}\n\`\`\`\n\n## Live re-verification before the first write\n\n`);
const rv = [runReverify(1000), runReverify(5000)];
process.stdout.write(
  `| nodes | steps | parse ms | plan ms | re-verification ms | ratio to parse |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n${rv
    .map(
      (r) =>
        `| ${r.nodes} | ${r.steps} | ${r.parseMs.toFixed(0)} | ${r.planMs.toFixed(0)} | ${r.preflightMs.toFixed(0)} | ${r.ratio.toFixed(2)}x |`,
    )
    .join('\n')}\n`,
);
const growth = runGrowth({
  runs: Number(arg('--growth-runs') ?? 1),
  sizes: arg('--growth-sizes')?.split(',').map(Number),
});
process.stdout.write(`\n## Growth per peering shape\n\n${growthTable(growth)}\n`);

const goals: Goal[] = [];
for (const env of ['', `, ${WITHOUT_EXTRA_CA}`]) {
  const help = cli.find((r) => r.name === `kubectl-calico_tune --help${env}`);
  if (help?.ratio !== undefined)
    goals.push({
      goal: `--help <= 1.3x \`node -e 0\`${env}`,
      measured: `${help.ratio.toFixed(2)}x (${help.medianMs.toFixed(0)} / ${(help.medianMs / help.ratio).toFixed(0)} ms)`,
      pass: help.ratio <= 1.3,
    });
}
for (const first of firsts)
  goals.push({
    goal: `a command that needs the cluster${first.build} starts its first request within 1.6x \`node -e 0\`${first.env} (its TLS ClientHello)`,
    measured: `${first.helloRatio?.toFixed(2) ?? '?'}x (${first.helloMs?.toFixed(0) ?? '?'} / ${first.nodeMs.toFixed(0)} ms wall; its TCP connection at ${first.firstMs.toFixed(0)} ms, ${first.ratio.toFixed(2)}x${cpuNote(first.cpu)})`,
    pass: first.helloRatio !== undefined && first.helloRatio <= 1.6,
  });
goals.push(...growthGoals(growth));
if (process.argv.includes('--live')) {
  const live = await import('./live.js');
  const { stopAll } = await import('../test/harness/index.js');
  try {
    const rows = await live.run();
    process.stdout.write(`\n## Real API server\n\n${live.liveTable(rows)}\n`);
    goals.push(...live.liveGoals(rows));
    const apply = await import('./apply.js');
    const applied = await apply.run();
    process.stdout.write(`\n## migrate apply, real API server\n\n${apply.applyTable(applied)}\n`);
    goals.push(...apply.applyGoals(applied));
  } finally {
    await stopAll();
  }
} else {
  process.stdout.write('\n(real API server comparison skipped: add --live)\n');
}
process.stdout.write(`\n## Goals (issue 13)\n\n${goalsTable(goals)}\n`);
if (
  cli.some((r) => r.withinBudget === false) ||
  bgp.some((r) => !r.ok) ||
  rv.some((r) => !r.ok || r.preflightMs > 1000) ||
  goals.some((g) => !g.pass)
)
  process.exitCode = 1;
