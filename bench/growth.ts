/**
 * Growth per peering shape: `status`, `bgp topology` and `migrate plan` at 1,000, 2,000, 5,000 and 10,000
 * nodes, each run in a new process (as a user runs it) under /usr/bin/time for its CPU time and peak RSS.
 *
 *   node dist/bench/growth.js [--runs N] [--sizes 1000,2000] [--shapes per-node,per-zone]
 *
 * Shapes (test/fixtures/generate.ts): `per-zone` one selector BGPPeer per zone (the baseline), `per-node` one
 * BGPPeer per client (`node: X` + its zone's reflector selector), `per-rack` one per rack, `tor` per-node
 * plus a ToR BGPPeer per node (external peerIP), `multi-as` per-node with an AS number per zone; all with 6
 * reflectors in 3 zones and the mesh off. `migrate plan` needs a cluster to migrate: the mesh with a ToR
 * BGPPeer per node (`mesh-tor`) and the plain mesh (`mesh`).
 *
 * The shared machine is loaded by other work, so growth ratios use CPU time (user + system of the child), which
 * contention does not inflate; wall time is printed alongside.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateCluster, type ClusterSpec } from '../test/fixtures/generate.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'run.js');

export const SHAPES: Record<string, Omit<ClusterSpec, 'nodes'>> = {
  'per-zone': { zones: 3, rrs: 6, mesh: false, peering: 'per-zone' },
  'per-node': { zones: 3, rrs: 6, mesh: false, peering: 'per-node' },
  'per-rack': { zones: 3, rrs: 6, mesh: false, peering: 'per-rack' },
  tor: { zones: 3, rrs: 6, mesh: false, peering: 'per-node', torPeers: true },
  'multi-as': { zones: 3, rrs: 6, mesh: false, peering: 'per-node', asPerZone: true },
  mesh: { zones: 3 },
  'mesh-tor': { zones: 3, torPeers: true },
};

const COMMANDS: Record<string, (file: string) => string[]> = {
  status: (f) => ['status', '--snapshot', f, '-o', 'json'],
  'bgp topology': (f) => ['bgp', 'topology', '--snapshot', f, '-o', 'json'],
  'migrate plan': (f) => ['migrate', 'plan', '--to', 'route-reflectors', '--snapshot', f, '-o', 'json'],
};

/** Which commands run on which shapes. */
const PLAN: [string, string[]][] = [
  ['status', ['per-zone', 'per-node', 'per-rack', 'tor', 'multi-as']],
  ['bgp topology', ['per-zone', 'per-node']],
  ['migrate plan', ['mesh', 'mesh-tor']],
];

export interface GrowthRow {
  command: string;
  shape: string;
  nodes: number;
  wallMs: number;
  cpuMs: number;
  rssMB: number;
  exit: number | null;
}

function once(argv: string[]): { wall: number; cpu: number; rss: number; exit: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, BIN, ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 1 << 30,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const [u, s, m] = (r.stderr.trim().split('\n').pop() ?? '0 0 0').split(' ').map(Number);
  return { wall, cpu: ((u ?? 0) + (s ?? 0)) * 1000, rss: (m ?? 0) / 1024, exit: r.status };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function snapshotFile(dir: string, shape: string, nodes: number): string {
  const file = path.join(dir, `${shape}-${nodes}.json`);
  if (!fs.existsSync(file))
    fs.writeFileSync(
      file,
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: generateCluster({ nodes, ...SHAPES[shape] }) }),
    );
  return file;
}

export function run(
  opts: { runs?: number; sizes?: number[]; shapes?: string[]; dir?: string } = {},
): GrowthRow[] {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-growth-'));
  const sizes = opts.sizes ?? [1000, 2000, 5000, 10000];
  const runs = opts.runs ?? 3;
  const out: GrowthRow[] = [];
  try {
    for (const nodes of sizes) {
      const cases = PLAN.flatMap(([command, shapes]) =>
        shapes
          .filter((s) => !opts.shapes || opts.shapes.includes(s))
          .map((shape) => ({ command, shape, argv: COMMANDS[command]!(snapshotFile(dir, shape, nodes)) })),
      );
      const res = new Map(
        cases.map((c) => [
          c,
          { wall: [] as number[], cpu: [] as number[], rss: 0, exit: 0 as number | null },
        ]),
      );
      // interleaved: every round runs every case of this size once
      for (let i = 0; i < runs; i++) {
        for (const c of cases) {
          const r = once(c.argv);
          const acc = res.get(c)!;
          acc.wall.push(r.wall);
          acc.cpu.push(r.cpu);
          acc.rss = Math.max(acc.rss, r.rss);
          acc.exit = r.exit;
        }
      }
      for (const c of cases) {
        const acc = res.get(c)!;
        out.push({
          command: c.command,
          shape: c.shape,
          nodes,
          wallMs: median(acc.wall),
          cpuMs: median(acc.cpu),
          rssMB: acc.rss,
          exit: acc.exit,
        });
      }
      process.stderr.write(`growth: ${nodes} nodes done\n`);
    }
  } finally {
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export interface Goal {
  goal: string;
  measured: string;
  pass: boolean;
}

/** The goals that the growth table decides. */
export function growthGoals(rows: GrowthRow[]): Goal[] {
  const goals: Goal[] = [];
  const get = (command: string, shape: string, nodes: number): GrowthRow | undefined =>
    rows.find((r) => r.command === command && r.shape === shape && r.nodes === nodes);
  let worst = 0;
  let where = '';
  for (const [command, shapes] of PLAN) {
    for (const shape of shapes) {
      for (const [n, m] of [
        [1000, 2000],
        [5000, 10000],
      ] as const) {
        const a = get(command, shape, n);
        const b = get(command, shape, m);
        if (!a || !b) continue;
        const r = b.cpuMs / a.cpuMs;
        if (r > worst) [worst, where] = [r, `${command} ${shape} ${n}->${m}`];
      }
    }
  }
  if (worst > 0)
    goals.push({
      goal: 'every shape linear: CPU time(2n)/time(n) <= 2.2 (worst case)',
      measured: `${worst.toFixed(2)}x (${where})`,
      pass: worst <= 2.2,
    });
  const pn = get('status', 'per-node', 5000);
  const pz = get('status', 'per-zone', 5000);
  if (pn && pz)
    goals.push({
      goal: 'status, 5,000 nodes, BGPPeer per node <= 1.5x per-zone selectors (CPU)',
      measured: `${(pn.cpuMs / pz.cpuMs).toFixed(2)}x (${pn.cpuMs.toFixed(0)} / ${pz.cpuMs.toFixed(0)} ms)`,
      pass: pn.cpuMs / pz.cpuMs <= 1.5,
    });
  const big = rows.filter((r) => r.nodes === 10000);
  if (big.length) {
    const max = big.reduce((a, b) => (b.rssMB > a.rssMB ? b : a));
    goals.push({
      goal: 'peak RSS at 10,000 nodes <= 300 MB (every command and shape)',
      measured: `${max.rssMB.toFixed(0)} MB (${max.command} ${max.shape})`,
      pass: max.rssMB <= 300,
    });
  }
  const mp = get('migrate plan', 'mesh', 10000);
  if (mp)
    goals.push({
      goal: 'migrate plan, 10,000 nodes (mesh) <= 2 s',
      measured: `${(mp.cpuMs / 1000).toFixed(2)} s CPU, ${(mp.wallMs / 1000).toFixed(2)} s wall`,
      pass: mp.cpuMs <= 2000,
    });
  return goals;
}

export function growthTable(rows: GrowthRow[]): string {
  const lines = [
    '| command | shape | nodes | CPU ms | wall ms | peak RSS MB | exit |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of [...rows].sort(
    (a, b) => a.command.localeCompare(b.command) || a.shape.localeCompare(b.shape) || a.nodes - b.nodes,
  ))
    lines.push(
      `| ${r.command} | ${r.shape} | ${r.nodes.toLocaleString('en-US')} | ${r.cpuMs.toFixed(0)} | ${r.wallMs.toFixed(0)} | ${r.rssMB.toFixed(0)} | ${r.exit} |`,
    );
  return lines.join('\n');
}

export function goalsTable(goals: Goal[]): string {
  return [
    '| goal | measured | result |',
    '|---|---|---|',
    ...goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.pass ? 'PASS' : '**FAIL**'} |`),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const rows = run({
    runs: arg('--runs') ? Number(arg('--runs')) : undefined,
    sizes: arg('--sizes')?.split(',').map(Number),
    shapes: arg('--shapes')?.split(','),
    dir: arg('--dir'),
  });
  const goals = growthGoals(rows);
  process.stdout.write(`${growthTable(rows)}\n\n${goalsTable(goals)}\n`);
  if (goals.some((g) => !g.pass) || rows.some((r) => r.exit !== 0)) process.exitCode = 1;
}
