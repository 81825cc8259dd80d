#!/usr/bin/env node
// npm run demo: the main job. Runs the read-only commands (and a migration plan, which changes nothing) on the
// current kubectl context when one is reachable, else on the example cluster shipped in examples/.
//   npm run demo                       auto
//   npm run demo -- --snapshot FILE    a snapshot of your own
//   npm run demo -- --example          force the shipped example
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}bin/run.js`;
const args = process.argv.slice(2);
const example = `${root}examples/cluster-150.yaml`;

function cli(argv, opts = {}) {
  return spawnSync(process.execPath, [bin, ...argv], {
    stdio: opts.quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
}

let target = [];
const i = args.indexOf('--snapshot');
if (i >= 0 && args[i + 1]) target = ['--snapshot', args[i + 1]];
else if (args.includes('--example')) target = ['--snapshot', example];
else {
  const probe = cli(['status', '-o', 'json', '--request-timeout', '5s'], { quiet: true });
  if (probe.status === 2 || probe.status === 3) {
    const why = (probe.stderr || '').split('\n')[0].replace(/^error: /, '');
    console.log(
      `No reachable cluster (${why}).\nUsing the shipped example: examples/cluster-150.yaml (150 nodes still on the full mesh).\n`,
    );
    target = ['--snapshot', example];
  } else console.log('Using the current kubectl context (read-only; the migration plan is only printed).\n');
}

const runs = [
  ['status'],
  ['bgp', 'topology', '--proposed-rrs', '3'],
  ['rr', 'recommend', '--min-cpu', '4', '--min-memory', '16Gi'],
  ['typha', 'report'],
  ['migrate', 'plan', '--to', 'route-reflectors'],
];
let worst = 0;
// bold only on a terminal that takes colour, as the plugin's own output (NO_COLOR, FORCE_COLOR, a file or pipe)
const env = (k) => (process.env[k] === '' ? undefined : process.env[k]);
const bold =
  env('NO_COLOR') === undefined &&
  (env('FORCE_COLOR') !== undefined ? env('FORCE_COLOR') !== '0' : process.stdout.isTTY);
for (const r of runs) {
  const cmd = `$ kubectl calico-tune ${[...r, ...target].join(' ').replace(root, '')}`;
  console.log(`\n${bold ? `\u001b[1m${cmd}\u001b[22m` : cmd}`);
  const res = cli([...r, ...target]);
  if (res.status !== 0 && res.status !== 1) worst = Math.max(worst, res.status ?? 1);
}
console.log(
  '\nNext: npm run playground -- --nodes 150 --zones 3 (a real API server to try the mutating commands on)',
);
process.exit(worst);
