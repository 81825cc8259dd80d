/**
 * All benchmarks (npm run bench): whole-command timings (bench/cli.ts) and the BGP model (bench/bgp-verify.ts),
 * printed as the markdown tables docs/benchmarks.md records.
 */
import os from 'node:os';
import { fmtTable, run as runBgp } from './bgp-verify.js';
import { markdown, run as runCli } from './cli.js';
import { run as runReverify } from './reverify.js';

const header = `machine: ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? '?'}), load ${os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(' ')}, Node ${process.version}, ${new Date().toISOString()}`;
process.stdout.write(`${header}\n\n## Commands\n\n`);
const cli = runCli();
process.stdout.write(`${markdown(cli)}\n\n## BGP model (in process)\n\n\`\`\`\n`);
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
if (
  cli.some((r) => r.withinBudget === false) ||
  bgp.some((r) => !r.ok) ||
  rv.some((r) => !r.ok || r.preflightMs > 1000)
)
  process.exitCode = 1;
