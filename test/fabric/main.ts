/**
 * `npm run fabric -- --nodes 30 --scenario migrate-to-rr [--json] [--period-ms 100] [--out DIR]`: runs one
 * scenario on the real-BGP rig (docs/fabric.md) and prints the per-step loss table (or the JSON report).
 * Needs root, bird/birdc, fping, iproute2 and the test tools (`CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh`).
 */
import { controlPlane, stopAll } from '../harness/index.js';
import { formatReport, runScenario } from './scenario.js';
import { SCENARIOS } from './scenarios.js';

interface Args {
  nodes: number;
  scenario: string;
  json: boolean;
  periodMs: number;
  out?: string | undefined;
}

function parse(argv: string[]): Args {
  const a: Args = { nodes: 12, scenario: 'migrate-to-rr', json: false, periodMs: 100 };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${f} needs a value`);
      return x;
    };
    if (f === '--nodes' || f === '-k') a.nodes = Number(v());
    else if (f === '--scenario') a.scenario = v();
    else if (f === '--json') a.json = true;
    else if (f === '--period-ms') a.periodMs = Number(v());
    else if (f === '--out') a.out = v();
    else if (f === '--help' || f === '-h') {
      process.stdout.write(
        `usage: npm run fabric -- [--nodes K] [--scenario NAME] [--json] [--period-ms MS] [--out DIR]\n` +
          `scenarios: ${Object.keys(SCENARIOS).join(', ')}\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${f} (try --help)`);
  }
  if (!SCENARIOS[a.scenario])
    throw new Error(`unknown scenario ${a.scenario}: ${Object.keys(SCENARIOS).join(', ')}`);
  if (!Number.isInteger(a.nodes) || a.nodes < 4) throw new Error('--nodes must be an integer >= 4');
  return a;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const log = (l: string): void =>
    void process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${l}\n`);
  const cp = await controlPlane({ calico: 'v3.31.3' });
  try {
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
