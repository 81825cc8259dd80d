/**
 * `npm run fabric -- --nodes 30 --scenario migrate-to-rr [--json] [--period-ms 100] [--out DIR]`: runs one
 * scenario on the real-BGP rig (docs/fabric.md) and prints the per-step loss table (or the JSON report).
 * Needs root, bird/birdc, fping, iproute2 and the test tools (`CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { controlPlane, stopAll } from '../harness/index.js';
import { formatDifferential, runDifferential } from './differential.js';
import { formatReport, runScenario } from './scenario.js';
import { SCENARIOS } from './scenarios.js';

interface Args {
  nodes: number;
  scenario: string;
  json: boolean;
  periodMs: number;
  out?: string | undefined;
  nodesGiven: boolean;
  count: number;
  seed: number;
  sizes: number[];
  shrink: boolean;
  only?: number[] | undefined;
  runSizes?: number[] | undefined;
  timeoutMs?: number | undefined;
}

/** The differential check (issue 12 scenario 6) is not a probe scenario: it has its own runner. */
const DIFFERENTIAL = 'differential';

function parse(argv: string[]): Args {
  const a: Args = {
    nodes: 12,
    scenario: 'migrate-to-rr',
    json: false,
    periodMs: 100,
    nodesGiven: false,
    count: 300,
    seed: 1,
    sizes: [3, 4, 5, 6, 7],
    shrink: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${f} needs a value`);
      return x;
    };
    if (f === '--nodes' || f === '-k') {
      a.nodes = Number(v());
      a.nodesGiven = true;
    } else if (f === '--count') a.count = Number(v());
    else if (f === '--seed') a.seed = Number(v());
    else if (f === '--sizes') a.sizes = v().split(',').map(Number);
    else if (f === '--shrink') a.shrink = true;
    else if (f === '--only') a.only = v().split(',').map(Number);
    else if (f === '--run-sizes') a.runSizes = v().split(',').map(Number);
    else if (f === '--timeout-ms') a.timeoutMs = Number(v());
    else if (f === '--scenario') a.scenario = v();
    else if (f === '--json') a.json = true;
    else if (f === '--period-ms') a.periodMs = Number(v());
    else if (f === '--out') a.out = v();
    else if (f === '--help' || f === '-h') {
      process.stdout.write(
        `usage: npm run fabric -- [--nodes K] [--scenario NAME] [--json] [--period-ms MS] [--out DIR]\n` +
          `       npm run fabric -- --scenario ${DIFFERENTIAL} [--count N] [--seed S] [--sizes 3,4,5,6,7 | --nodes K] [--shrink] [--run-sizes 5,6] [--only SEED,...] [--timeout-ms MS] [--json] [--out DIR]\n` +
          `scenarios: ${[...Object.keys(SCENARIOS), DIFFERENTIAL].join(', ')}\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${f} (try --help)`);
  }
  if (a.scenario === DIFFERENTIAL) {
    if (a.nodesGiven) a.sizes = [a.nodes];
    if (!a.sizes.every((k) => Number.isInteger(k) && k >= 3 && k <= 12))
      throw new Error('--sizes/--nodes of the differential check: integers 3..12');
    if (!Number.isInteger(a.count) || a.count < 1) throw new Error('--count must be a positive integer');
    if (!Number.isInteger(a.seed)) throw new Error('--seed must be an integer');
    return a;
  }
  if (!SCENARIOS[a.scenario])
    throw new Error(
      `unknown scenario ${a.scenario}: ${[...Object.keys(SCENARIOS), DIFFERENTIAL].join(', ')}`,
    );
  if (!Number.isInteger(a.nodes) || a.nodes < 4) throw new Error('--nodes must be an integer >= 4');
  return a;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const log = (l: string): void =>
    void process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${l}\n`);
  const cp = await controlPlane({ calico: 'v3.31.3' });
  try {
    if (a.scenario === DIFFERENTIAL) {
      const report = await runDifferential(cp, {
        seed: a.seed,
        count: a.count,
        sizes: a.sizes,
        shrink: a.shrink,
        only: a.only,
        runSizes: a.runSizes,
        ...(a.timeoutMs ? { observe: { timeoutMs: a.timeoutMs } } : {}),
        ...(a.out ? { evidenceDir: a.out } : {}),
        log,
      });
      if (a.out) {
        fs.mkdirSync(a.out, { recursive: true });
        fs.writeFileSync(
          path.join(a.out, `differential-s${a.seed}-n${a.count}.json`),
          `${JSON.stringify(report, null, 2)}\n`,
        );
      }
      process.stdout.write(
        a.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDifferential(report)}\n`,
      );
      if (report.totals.unexplained > 0) process.exitCode = 1;
      return;
    }
    const report = await runScenario(cp, SCENARIOS[a.scenario]!, {
      k: a.nodes,
      periodMs: a.periodMs,
      log,
      ...(a.out ? { outDir: a.out } : {}),
    });
    process.stdout.write(a.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  } finally {
    await stopAll();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`fabric: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
