/**
 * Cost of the executor's live re-verification (issue 10): before the first write, `preflight` (src/executor/checks.ts) checks the
 * plan's integrity, staleness, and runs every step on the state just read (preconditions and the BGP model
 * at each intermediate state). Compared with what the executor pays anyway: reading the cluster, i.e. parsing
 * a snapshot of the same size (`parseSnapshot`; over the network it costs more), and planning.
 *
 *   node dist/bench/reverify.js [--nodes 5000] [--runs 5]
 */
import { pathToFileURL } from 'node:url';
import { planMigration } from '../src/migrate/plan.js';
import { parseSnapshot } from '../src/model/parse.js';
import type { KubeObject } from '../src/model/types.js';
import { preflight } from '../src/executor/checks.js';
import { generateCluster } from '../test/fixtures/generate.js';

export interface ReverifyBench {
  nodes: number;
  steps: number;
  parseMs: number;
  planMs: number;
  preflightMs: number;
  /** preflight / parse, medians of interleaved runs. */
  ratio: number;
  ok: boolean;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

export function run(nodes = 5000, runs = 5): ReverifyBench {
  const objects: KubeObject[] = generateCluster({ nodes, zones: 3, calico: 'v3.31.3' });
  const source = {
    kind: 'file' as const,
    path: 'bench',
    capturedAt: '2026-12-01T00:00:00Z',
    server: 'https://bench:6443',
    clusterUID: '7b6c1e1a-0000-4000-8000-000000000001',
  };
  const parse = (): ReturnType<typeof parseSnapshot> =>
    // fresh copies: the parser caches by object identity, which a real read never hits
    parseSnapshot(JSON.parse(JSON.stringify(objects)) as KubeObject[], source);
  const s0 = parse();
  const t0 = performance.now();
  const plan = planMigration(s0, { to: 'route-reflectors', timeout: '10m', name: 'bench', command: 'bench' });
  const planMs = performance.now() - t0;
  const p: number[] = [];
  const v: number[] = [];
  let ok = true;
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const live = parse();
    p.push(performance.now() - t);
    t = performance.now();
    ok = preflight(plan, live).ok && ok;
    v.push(performance.now() - t);
  }
  return {
    nodes,
    steps: plan.steps.length,
    parseMs: median(p),
    planMs,
    preflightMs: median(v),
    ratio: median(v) / median(p),
    ok,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (k: string, d: number): number => {
    const i = process.argv.indexOf(k);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  for (const n of [1000, arg('--nodes', 5000)]) {
    const r = run(n, arg('--runs', 5));
    process.stdout.write(
      `${r.nodes} nodes, ${r.steps} steps: parse ${r.parseMs.toFixed(0)} ms, plan ${r.planMs.toFixed(0)} ms, re-verification ${r.preflightMs.toFixed(0)} ms (${r.ratio.toFixed(2)}x the parse)${r.ok ? '' : ' FAILED'}\n`,
    );
  }
}
