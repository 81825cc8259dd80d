/**
 * Benchmark of the BGP model: verifying large clusters, N-1 (every single route-reflector failure) included.
 *
 *   node dist/bench/bgp-verify.js            (add --expose-gc for steadier memory numbers)
 *
 * Each case reports the first (cold, JIT not warmed up: what one CLI invocation pays) and the median of the
 * following runs, and the heap growth during one run (process.memoryUsage().heapUsed delta; garbage
 * included unless --expose-gc lets the bench collect first).
 */
import { pathToFileURL } from 'node:url';
import { bgpFindings } from '../src/bgp/findings.js';
import { bgpStateFromSnapshot, type BgpState } from '../src/bgp/state.js';
import { computeTopology, sessionCount } from '../src/bgp/topology.js';
import { verify } from '../src/bgp/verify.js';
import { parseSnapshot } from '../src/model/parse.js';
import type { ClusterSnapshot } from '../src/model/types.js';
import { generateCluster } from '../test/fixtures/generate.js';

export interface BenchResult {
  name: string;
  /** Median of the warm runs, in milliseconds. */
  ms: number;
  /** The first run (cold). */
  firstMs: number;
  /** Median CPU time (user + system) of the warm runs: less sensitive to other load on the machine. */
  cpuMs: number;
  runs: number;
  heapDeltaMB: number;
  nodes: number;
  sessions: number;
  classes: number;
  ok: boolean;
}

function snapshot(spec: Parameters<typeof generateCluster>[0]): ClusterSnapshot {
  return parseSnapshot(generateCluster(spec), {
    kind: 'file',
    path: 'bench',
    capturedAt: '2026-11-24T00:00:00Z',
  });
}

/** 5,000 nodes in 3 zones, `rrs` route reflectors sharing one cluster ID, the docs' BGPPeer, mesh off. */
function rrState(nodes: number, rrs: number): BgpState {
  return bgpStateFromSnapshot(snapshot({ nodes, zones: 3, rrs, mesh: false }));
}

/** RRs with distinct cluster IDs, meshed together, every node peered with its zone's RRs. */
function multiState(nodes: number, rrs: number): BgpState {
  const s = rrState(nodes, rrs);
  let n = 0;
  const zoneKey = 'topology.kubernetes.io/zone';
  const zones = [...new Set(s.nodes.map((x) => x.zone).filter((z): z is string => !!z))];
  return {
    ...s,
    nodes: s.nodes.map((x) => (x.clusterId ? { ...x, clusterId: `244.0.1.${++n}` } : x)),
    peers: [
      ...zones.map((z) => ({
        name: `zone-${z}`,
        apiVersion: 'projectcalico.org/v3',
        nodeSelector: `${zoneKey} == '${z}' && !has(route-reflector)`,
        peerSelector: `${zoneKey} == '${z}' && route-reflector == 'true'`,
        spec: {},
      })),
      {
        name: 'rr-mesh',
        apiVersion: 'projectcalico.org/v3',
        nodeSelector: "route-reflector == 'true'",
        peerSelector: "route-reflector == 'true'",
        spec: {},
      },
    ],
  };
}

function meshState(nodes: number): BgpState {
  return bgpStateFromSnapshot(snapshot({ nodes, zones: 3, rrs: 0, mesh: true }));
}

const gc = (globalThis as { gc?: () => void }).gc;

function measure(
  name: string,
  runs: number,
  fn: () => { ok: boolean },
  info: () => Pick<BenchResult, 'nodes' | 'sessions' | 'classes'>,
): BenchResult {
  gc?.();
  const h0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let last = fn();
  const firstMs = performance.now() - t0;
  const heapDeltaMB = (process.memoryUsage().heapUsed - h0) / 1024 / 1024;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    last = fn();
    times.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  const median = (xs: number[]): number =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? firstMs;
  return {
    name,
    ms: median(times),
    firstMs,
    cpuMs: median(cpu),
    runs: runs + 1,
    heapDeltaMB,
    ok: last.ok,
    ...info(),
  };
}

export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const info = (s: BgpState) => (): Pick<BenchResult, 'nodes' | 'sessions' | 'classes'> => {
    const t = computeTopology(s);
    return { nodes: s.nodes.length, sessions: sessionCount(t), classes: t.classes.length };
  };
  for (const rrs of [3, 5]) {
    const s = rrState(5000, rrs);
    out.push(
      measure(
        `verify 5,000 nodes, ${rrs} RRs (shared cluster ID), N-1`,
        9,
        () => {
          const v = verify(s, { n1: true });
          return { ok: v.ok && v.n1!.ok };
        },
        info(s),
      ),
    );
  }
  for (const rrs of [9, 25]) {
    const multi = multiState(5000, rrs);
    out.push(
      measure(
        `verify 5,000 nodes, ${rrs} RRs (distinct IDs, meshed, per zone), N-1`,
        9,
        () => {
          const v = verify(multi, { n1: true });
          return { ok: v.ok && v.n1!.ok };
        },
        info(multi),
      ),
    );
  }
  const mesh = meshState(1000);
  out.push(
    measure(
      'verify 1,000-node full mesh, N-1',
      9,
      () => {
        const v = verify(mesh, { n1: true });
        return { ok: v.ok && v.n1!.ok };
      },
      info(mesh),
    ),
  );
  const snap = snapshot({ nodes: 5000, zones: 3, rrs: 3 });
  const snapState = bgpStateFromSnapshot(snap);
  out.push(
    measure(
      'status BGP findings from a 5,000-node snapshot (state + topology + N-1)',
      9,
      () => ({ ok: bgpFindings(snap).length === 0 }),
      info(snapState),
    ),
  );
  return out;
}

export function fmtTable(rows: BenchResult[]): string {
  const head = [
    'CASE',
    'NODES',
    'SESSIONS',
    'CLASSES',
    'FIRST ms',
    'MEDIAN ms',
    'CPU ms',
    'RUNS',
    'HEAP Δ MB',
    'OK',
  ];
  const body = rows.map((r) => [
    r.name,
    r.nodes.toLocaleString('en-US'),
    r.sessions.toLocaleString('en-US'),
    String(r.classes),
    r.firstMs.toFixed(1),
    r.ms.toFixed(2),
    r.cpuMs.toFixed(2),
    String(r.runs),
    r.heapDeltaMB.toFixed(1),
    r.ok ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body]
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await run();
  process.stdout.write(`${fmtTable(rows)}\n`);
  if (rows.some((r) => !r.ok)) process.exitCode = 1;
}
