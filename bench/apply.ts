/**
 * `migrate apply` on the real test API server (test/harness: etcd + kube-apiserver + Calico's CRDs) with the
 * calico-node simulator answering the gates' CalicoNodeStatus objects: a generated full-mesh cluster of
 * 5,000 nodes in 3 zones goes to route reflectors and back. For each direction: the process's wall and CPU
 * time (`/usr/bin/time`), the time its gates spent waiting for reports (`timings.waitingMs` of the
 * ApplyResult: from the gate's objects in place to its verdict), and the tool's own time, wall minus
 * waiting: start-up, reading the cluster, re-verifying the plan, the writes, the gates' objects, the
 * journal and the cleanup. Issue 13's goal: the own time of the 5,000-node migration <= 3 s.
 *
 *   CALICO_TUNE_CALICO_DIR=/work/shared/calico node dist/bench/apply.js [--nodes 5000] [--delay-ms 300]
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { controlPlane, loadFixture, startSimulator, stopAll } from '../test/harness/index.js';
import type { Goal } from './growth.js';
import { exec } from './live.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'run.js');
/** Issue 13: the tool's own time in `migrate apply` at 5,000 nodes, outside waiting for sessions. */
export const OWN_TIME_GOAL_MS = 3000;

export interface ApplyRow {
  nodes: number;
  to: 'route-reflectors' | 'mesh';
  steps: number;
  gates: number;
  wallMs: number;
  cpuMs: number;
  waitingMs: number;
  /** wallMs - waitingMs */
  ownMs: number;
  /** Of ownMs: the executor's own part (writes, gate objects, journal, cleanup); the rest is start-up, reads and re-verification. */
  executorOwnMs: number;
}

interface ApplyJson {
  outcome: string;
  steps: number;
  timings?: { ms: number; waitingMs: number; steps: { id: string; ms: number; waitingMs?: number }[] };
}

export async function run(opts: { nodes?: number; delayMs?: number } = {}): Promise<ApplyRow[]> {
  const nodes = opts.nodes ?? 5000;
  const cp = await controlPlane();
  const rows: ApplyRow[] = [];
  try {
    await loadFixture(cp, { nodes, zones: 3, install: 'operator' });
    const sim = await startSimulator(cp, { knobs: { establishDelayMs: opts.delayMs ?? 300 } });
    try {
      for (const to of ['route-reflectors', 'mesh'] as const) {
        const t0 = performance.now();
        const r = await exec(
          process.execPath,
          [
            BIN,
            'migrate',
            'apply',
            '--to',
            to,
            '--yes',
            '-o',
            'json',
            '--kubeconfig',
            cp.kubeconfig('plugin'),
          ],
          { ...process.env, NO_COLOR: '1' },
          { stdout: true },
        );
        const wallMs = performance.now() - t0;
        if (r.code !== 0)
          throw new Error(`migrate apply --to ${to} failed (exit ${r.code}): ${r.stderr.slice(-1500)}`);
        const res = JSON.parse(r.stdout) as ApplyJson;
        if (res.outcome !== 'done' || !res.timings)
          throw new Error(`migrate apply --to ${to}: outcome ${res.outcome}, no timings`);
        const t = res.timings;
        rows.push({
          nodes,
          to,
          steps: res.steps,
          gates: t.steps.filter((s) => s.waitingMs !== undefined).length,
          wallMs,
          cpuMs: r.cpuMs,
          waitingMs: t.waitingMs,
          ownMs: wallMs - t.waitingMs,
          executorOwnMs: t.ms - t.waitingMs,
        });
        process.stderr.write(`apply: ${nodes} nodes --to ${to} done\n`);
      }
    } finally {
      await sim.stop();
    }
  } finally {
    await cp.reset().catch(() => {});
  }
  return rows;
}

export function applyTable(rows: ApplyRow[]): string {
  return [
    '| nodes | migrate apply --to | steps | gates | wall ms | waiting in gates ms | own ms (wall - waiting) | of which executor ms | CPU ms |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.nodes.toLocaleString('en-US')} | ${r.to} | ${r.steps} | ${r.gates} | ${r.wallMs.toFixed(0)} | ${r.waitingMs.toFixed(0)} | ${r.ownMs.toFixed(0)} | ${r.executorOwnMs.toFixed(0)} | ${r.cpuMs.toFixed(0)} |`,
    ),
  ].join('\n');
}

export function applyGoals(rows: ApplyRow[]): Goal[] {
  const fwd = rows.find((r) => r.to === 'route-reflectors' && r.nodes === 5000);
  if (!fwd) return [];
  return [
    {
      goal: 'migrate apply at 5,000 nodes: own time outside waiting for sessions <= 3 s',
      measured: `${(fwd.ownMs / 1000).toFixed(2)} s (wall ${(fwd.wallMs / 1000).toFixed(1)} s, of which ${(fwd.waitingMs / 1000).toFixed(1)} s in ${fwd.gates} gates; CPU ${(fwd.cpuMs / 1000).toFixed(2)} s)`,
      pass: fwd.ownMs <= OWN_TIME_GOAL_MS,
    },
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  try {
    const rows = await run({
      nodes: arg('--nodes') ? Number(arg('--nodes')) : undefined,
      delayMs: arg('--delay-ms') ? Number(arg('--delay-ms')) : undefined,
    });
    const goals = applyGoals(rows);
    const { goalsTable } = await import('./growth.js');
    process.stdout.write(`${applyTable(rows)}\n\n${goalsTable(goals)}\n`);
    if (goals.some((g) => !g.pass)) process.exitCode = 1;
  } finally {
    await stopAll();
  }
}
