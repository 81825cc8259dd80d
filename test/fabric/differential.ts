/**
 * The differential check (issue 12, scenario 6; docs/fabric.md "Differential check"): for random small
 * topologies (differential-gen.ts), the pod blocks each real BIRD installs in its node's kernel agree with the
 * model's prediction of which node learns which node's routes (src/bgp: computeTopology + propagate + learns,
 * what the verifier uses), read from the same live API objects.
 *
 * One rig per node count, reconfigured between topologies (Node labels/annotations, BGPConfiguration, BGPPeers
 * written through the API server; confd re-renders, BIRD reloads). A topology is observed when
 *  - every node's bird.cfg shows its intended local AS and mesh membership (the node-level writes arrived),
 *  - every BGP session that both nodes' rendered configs make possible (each side has a protocol to the other
 *    with the other's AS, not both passive) is Established: computed from confd's files, not from the model,
 *  - and configs, Established sessions and kernel pod routes have not changed for `stableMs`,
 * or after `timeoutMs` (recorded as not converged: an unexplained result).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bgpStateFromSnapshot } from '../../src/bgp/state.js';
import { computeTopology } from '../../src/bgp/topology.js';
import { learnedMatrix, propagate } from '../../src/bgp/propagate.js';
import type { BgpState } from '../../src/bgp/state.js';
import { KubeApi } from '../../src/kube/api.js';
import { ANN_ASN } from '../../src/model/parse.js';
import { KubeHttp } from '../../src/kube/http.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { readLiveSnapshot } from '../../src/kube/snapshot.js';
import { parseBirdConfig, type BirdConfig } from '../harness/calico-tools.js';
import { sleep, type ControlPlane, type Obj } from '../harness/index.js';
import {
  describeTopology,
  GROUP_LABEL,
  randomTopology,
  simplifications,
  topologySeed,
  type DiffTopology,
} from './differential-gen.js';
import { ANN_CID, bgpState, Fabric, RR_LABEL } from './rig.js';

const CAPI = '/apis/crd.projectcalico.org/v1';

export interface Disagreement {
  learner: string;
  origin: string;
  /** What the model predicts: learner learns origin's block. */
  model: boolean;
  /** What BIRD installed in the learner's kernel. */
  bird: boolean;
  /** The id of the documented BIRD-1.6-versus-fork difference that explains it, if any. */
  known?: string | undefined;
}

export interface Observation {
  topology: DiffTopology;
  names: string[];
  /** installed[y][x]: node y's kernel has BIRD's route to node x's block (x != y). */
  installed: boolean[][];
  /** The model's learnedMatrix on the live state, by rig node index. */
  model: boolean[][];
  state: BgpState;
  converged: boolean;
  /** Why it did not converge (the last problems seen). */
  problems: string[];
  /** From the first write to a stable observation. */
  ms: number;
  configs: BirdConfig[];
  /** The BIRDs were restarted because the reconfigured ones did not settle in time. */
  restarted: boolean;
  /** Phase-locked sessions broken by disabling one side for a second ("a>b": a's protocols to b). */
  kicks: string[];
}

export interface TopologyResult {
  seed: number;
  k: number;
  description: string;
  ms: number;
  converged: boolean;
  restarted: boolean;
  kicks: string[];
  problems: string[];
  pairs: number;
  /** Ordered pairs where the learner has the origin's block. */
  learned: number;
  disagreements: Disagreement[];
  /** When minimised: the smallest topology that still disagrees, and its disagreements. */
  minimised?: { description: string; topology: DiffTopology; disagreements: Disagreement[] } | undefined;
}

export interface DifferentialReport {
  seed: number;
  count: number;
  sizes: number[];
  startedAt: string;
  durationMs: number;
  /** Rig starts (one per node count), ms each. */
  rigStartsMs: number[];
  perTopologyMs: { mean: number; median: number; max: number };
  results: TopologyResult[];
  totals: {
    topologies: number;
    pairs: number;
    agreeing: number;
    /** Topologies where some pair does not learn (so the check says something beyond "all learn all"). */
    partial: number;
    disagreements: number;
    known: number;
    unexplained: number;
    notConverged: number;
    /** Topologies whose BIRDs had to be restarted to settle. */
    restarted: number;
    /** Topologies with a phase-locked session that had to be kicked. */
    kicked: number;
  };
}

/**
 * Differences between Debian's BIRD 1.6 (the rig) and Calico's BIRD fork (production) that make the rig's routes
 * differ from what the model (which follows the fork) predicts: each documented in docs/fabric.md with its
 * topology and evidence. The runner counts a disagreement as explained only when one of these matches it.
 */
export const KNOWN_DIFFERENCES: {
  id: string;
  doc: string;
  matches: (o: Observation, d: Disagreement) => boolean;
}[] = [];

/** Every ordered pair where `predict` and the installed routes differ. */
export function compare(
  names: string[],
  installed: boolean[][],
  predict: (learner: number, origin: number) => boolean,
): Disagreement[] {
  const out: Disagreement[] = [];
  for (let y = 0; y < names.length; y++)
    for (let x = 0; x < names.length; x++) {
      if (x === y) continue;
      const model = predict(y, x);
      const bird = installed[y]![x]!;
      if (model !== bird) out.push({ learner: names[y]!, origin: names[x]!, model, bird });
    }
  return out;
}

/** compare() against the model, with known differences marked. */
export function disagreementsOf(o: Observation): Disagreement[] {
  return compare(o.names, o.installed, (y, x) => o.model[y]![x]!).map((d) => {
    const known = KNOWN_DIFFERENCES.find((k) => k.matches(o, d));
    return known ? { ...d, known: known.id } : d;
  });
}

/** The model's "who learns whose routes", by rig node index (names sorted, as the rig numbers them). */
export function modelMatrix(state: BgpState, names: string[]): boolean[][] {
  const t = computeTopology(state);
  const m = learnedMatrix(t, propagate(t));
  return names.map((y) =>
    names.map((x) => {
      const yi = t.nodeIndex.get(y);
      const xi = t.nodeIndex.get(x);
      return yi !== undefined && xi !== undefined && m[yi]![xi]!;
    }),
  );
}

/** The API objects of a topology on the rig's nodes. */
export function peerObjects(t: DiffTopology, f: Pick<Fabric, 'nodes'>): Obj[] {
  return t.peers.map((p) => {
    const spec: Record<string, unknown> = {};
    if (p.node !== undefined) spec['node'] = f.nodes[p.node]!.name;
    if (p.nodeSelector !== undefined) spec['nodeSelector'] = p.nodeSelector;
    if (p.peerSelector !== undefined) spec['peerSelector'] = p.peerSelector;
    if (p.peerNode !== undefined) spec['peerIP'] = f.nodes[p.peerNode]!.ip;
    if (p.asNumber !== undefined) spec['asNumber'] = p.asNumber;
    if (p.reversePeering) spec['reversePeering'] = p.reversePeering;
    return { apiVersion: 'crd.projectcalico.org/v1', kind: 'BGPPeer', metadata: { name: p.name }, spec };
  });
}

/** Writes the topology: Node labels and annotations, BGPConfiguration default, the BGPPeers (others deleted). */
export async function writeTopology(cp: ControlPlane, f: Fabric, t: DiffTopology): Promise<void> {
  if (t.k !== f.nodes.length) throw new Error(`topology of ${t.k} nodes on a rig of ${f.nodes.length}`);
  const admin = cp.client('admin');
  const patch = (p: string, body: unknown): Promise<unknown> =>
    admin.request('PATCH', p, { body, contentType: 'application/merge-patch+json' });
  const wanted = peerObjects(t, f);
  const existing = (await admin.list(`${CAPI}/bgppeers`)).items as Obj[];
  for (const o of existing)
    if (!wanted.some((w) => w.metadata.name === o.metadata.name))
      await admin.request('DELETE', `${CAPI}/bgppeers/${o.metadata.name}`);
  if (wanted.length) await cp.apply(wanted);
  await Promise.all(
    t.nodes.map((n, i) =>
      patch(`/api/v1/nodes/${f.nodes[i]!.name}`, {
        metadata: {
          labels: { [RR_LABEL]: n.rrLabel ? 'true' : null, [GROUP_LABEL]: n.group },
          annotations: {
            [ANN_ASN]: n.asNumber !== undefined ? String(n.asNumber) : null,
            [ANN_CID]: n.clusterId ?? null,
          },
        },
      }),
    ),
  );
  await patch(`${CAPI}/bgpconfigurations/default`, {
    spec: { nodeToNodeMeshEnabled: t.mesh, asNumber: t.globalAs },
  });
}

/** Node-level facts of the topology visible in a node's bird.cfg (so a stale render is not taken for the new). */
function markerProblems(t: DiffTopology, i: number, cfg: BirdConfig): string[] {
  const n = t.nodes[i]!;
  const out: string[] = [];
  const as = n.asNumber ?? t.globalAs;
  if (cfg.localAs !== as) out.push(`local as ${cfg.localAs}, want ${as}`);
  const meshMember = t.mesh && !n.clusterId && t.nodes.some((o, j) => j !== i && !o.clusterId);
  const hasMesh = cfg.protocols.some((p) => p.kind === 'mesh');
  if (hasMesh !== meshMember) out.push(hasMesh ? 'mesh protocols left' : 'no mesh protocols yet');
  return out;
}

/**
 * For each node, the peers (by rig index) it must have an Established session with according to the rendered
 * configs: both sides have a protocol to each other, each with the other's local AS, not both passive.
 */
export function possibleSessions(configs: BirdConfig[], ips: string[]): Set<number>[] {
  const localAs = (c: BirdConfig, p: BirdConfig['protocols'][number]): number | undefined =>
    p.localAs ?? c.localAs;
  return configs.map((ca, a) => {
    const out = new Set<number>();
    for (const p of ca.protocols) {
      const b = ips.indexOf(p.neighbor);
      if (b < 0 || b === a) continue;
      const cb = configs[b]!;
      const ok = cb.protocols.some(
        (q) =>
          q.neighbor === ips[a] &&
          q.as === localAs(ca, p) &&
          p.as === localAs(cb, q) &&
          !(p.passive && q.passive),
      );
      if (ok) out.add(b);
    }
    return out;
  });
}

export interface ObserveOptions {
  stableMs?: number;
  /** How long the reconfigured BIRDs get to settle before they are restarted. */
  reloadTimeoutMs?: number;
  /** How long the restarted BIRDs get (then: not converged). */
  timeoutMs?: number;
}

interface Settled {
  converged: boolean;
  /** Sessions whose phase-locked connection attempts were broken by disabling one side for a second. */
  kicks: string[];
  problems: string[];
  configs: BirdConfig[];
  installed: boolean[][];
}

/**
 * Polls the rig until it is settled for this topology (see the file comment) or `timeoutMs` passed.
 */
async function settle(
  f: Fabric,
  t: DiffTopology,
  stableMs: number,
  timeoutMs: number,
  kickAfterMs = 4000,
): Promise<Settled> {
  const t0 = performance.now();
  const kicks: string[] = [];
  /** Pair a<b -> since when the configs make a session possible that is Established on neither side. */
  const downSince = new Map<string, number>();
  const ips = f.nodes.map((n) => n.ip);
  const blocks = f.nodes.map((n) => n.block);
  let lastSig = '';
  let stableSince = performance.now();
  for (;;) {
    const texts = f.nodes.map((n) => {
      try {
        return fs.readFileSync(path.join(n.dir, 'bird.cfg'), 'utf8');
      } catch {
        return '';
      }
    });
    const configs = texts.map((x) => parseBirdConfig(x));
    const problems = configs.flatMap((c, i) =>
      markerProblems(t, i, c).map((p) => `${f.nodes[i]!.name}: ${p}`),
    );
    const possible = possibleSessions(configs, ips);
    const established = await Promise.all(
      f.nodes.map(async (n) => {
        const up = new Set<number>();
        try {
          for (const p of await f.protocols(n.name)) {
            if (p.proto !== 'BGP' || bgpState(p) !== 'Established') continue;
            const m = /^(?:Mesh|Node|Global)_(\d+)_(\d+)_(\d+)_(\d+)/.exec(p.name);
            if (m) up.add(ips.indexOf(`${m[1]}.${m[2]}.${m[3]}.${m[4]}`));
          }
        } catch (e) {
          problems.push(`${n.name}: ${(e as Error).message}`);
        }
        return up;
      }),
    );
    const down = new Set<string>();
    possible.forEach((want, a) => {
      const missing = [...want].filter((b) => !established[a]!.has(b));
      if (missing.length)
        problems.push(
          `${f.nodes[a]!.name}: not Established with ${missing.map((b) => f.nodes[b]!.name).join(', ')}`,
        );
      for (const b of missing) if (a < b && !established[b]!.has(a)) down.add(`${a},${b}`);
    });
    const at = performance.now();
    for (const key of [...downSince.keys()]) if (!down.has(key)) downSince.delete(key);
    const due: [number, number][] = [];
    for (const key of down) {
      const since = downSince.get(key) ?? at;
      downSince.set(key, since);
      if (at - since >= kickAfterMs) due.push(key.split(',').map(Number) as [number, number]);
    }
    if (due.length) {
      // BIRD 1.6 (and Calico's fork): two active sides whose 2 s connect delays are in phase re-connect at the
      // same instant forever; each side takes the other's new connection on an Established session for a
      // graceful restart and drops it (docs/fabric.md). Disabling one side for a second shifts its phase.
      const protos = due.map(([a, b]) => ({
        node: f.nodes[a]!.name,
        names: configs[a]!.protocols.filter((p) => p.neighbor === ips[b]).map((p) => p.name),
      }));
      kicks.push(...due.map(([a, b]) => `${f.nodes[a]!.name}>${f.nodes[b]!.name}`));
      const each = (cmd: string): Promise<unknown> =>
        Promise.all(protos.flatMap((x) => x.names.map((n) => f.birdc(x.node, [cmd, n]).catch(() => ''))));
      await each('disable');
      await sleep(1000);
      await each('enable');
      for (const [a, b] of due) downSince.set(`${a},${b}`, performance.now());
    }
    const installed = await Promise.all(
      f.nodes.map(async (n) => {
        const have = new Set(await f.routedBlocks(n.name).catch(() => [] as string[]));
        return blocks.map((b, x) => x !== n.index - 1 && have.has(b));
      }),
    );
    const sig = createHash('sha1')
      .update(texts.join('\0'))
      .update(JSON.stringify(established.map((x) => [...x].sort())))
      .update(JSON.stringify(installed))
      .digest('hex');
    const now = performance.now();
    if (sig !== lastSig) {
      lastSig = sig;
      stableSince = now;
    }
    if (!problems.length && now - stableSince >= stableMs)
      return { converged: true, kicks, problems, configs, installed };
    if (now - t0 > timeoutMs) return { converged: false, kicks, problems, configs, installed };
    await sleep(200);
  }
}

/**
 * Writes the topology, waits for the rig to settle, reads the kernel routes and the model on the live state.
 * When the reconfigured BIRDs have not settled within `reloadTimeoutMs` (sessions between two active sides
 * re-forming through collisions and error waits: docs/fabric.md), every BIRD is restarted on the rendered
 * configs and given `timeoutMs` more.
 */
export async function observe(
  cp: ControlPlane,
  f: Fabric,
  api: KubeApi,
  t: DiffTopology,
  opts: ObserveOptions = {},
): Promise<Observation> {
  const stableMs = opts.stableMs ?? 2000;
  const t0 = performance.now();
  await writeTopology(cp, f, t);
  let s = await settle(f, t, stableMs, opts.reloadTimeoutMs ?? 25_000);
  const kicks = [...s.kicks];
  let restarted = false;
  if (!s.converged && !s.problems.some((p) => /local as|mesh protocols/.test(p))) {
    restarted = true;
    await f.restartAllBirds();
    s = await settle(f, t, stableMs, opts.timeoutMs ?? 30_000);
    kicks.push(...s.kicks);
  }
  const { converged, problems, configs, installed } = s;
  const state = bgpStateFromSnapshot(await readLiveSnapshot(api));
  const names = f.nodes.map((n) => n.name);
  return {
    topology: t,
    names,
    installed,
    model: modelMatrix(state, names),
    state,
    converged,
    problems,
    ms: Math.round(performance.now() - t0),
    configs,
    restarted,
    kicks,
  };
}

export interface DifferentialOptions {
  seed: number;
  count: number;
  /** Node counts: one per topology, cycled (e.g. [3,4,5,6,7]); topologies are run grouped by size. */
  sizes: number[];
  /** Greedily minimise each unexplained disagreement (extra rig runs). */
  shrink?: boolean;
  log?: (line: string) => void;
  observe?: ObserveOptions;
  /** Run only the topologies of these sizes (of the `count` from `seed`): to finish a run by parts. */
  runSizes?: number[] | undefined;
  /** Run exactly these topology seeds (with the first size) instead of `count` from `seed`. */
  only?: number[] | undefined;
  /** Keep evidence of every unexplained topology here: per node bird.cfg, `birdc show protocols all`, routes. */
  evidenceDir?: string | undefined;
  /** Called with every observation (the tests keep them to check a wrong predictor is caught). */
  onObservation?: (o: Observation) => void;
}

function resultOf(o: Observation): TopologyResult {
  const k = o.names.length;
  return {
    seed: o.topology.seed,
    k,
    description: describeTopology(o.topology),
    ms: o.ms,
    converged: o.converged,
    restarted: o.restarted,
    kicks: o.kicks,
    problems: o.converged ? [] : o.problems,
    pairs: k * (k - 1),
    learned: o.installed.flat().filter(Boolean).length,
    disagreements: disagreementsOf(o),
  };
}

const unexplained = (r: Pick<TopologyResult, 'disagreements' | 'converged'>): boolean =>
  !r.converged || r.disagreements.some((d) => !d.known);

/** The topologies of a run: topology i has size sizes[i % sizes.length] and seed topologySeed(seed, i). */
export function runTopologies(
  o: Pick<DifferentialOptions, 'seed' | 'count' | 'sizes' | 'only'>,
): DiffTopology[] {
  if (o.only) return o.only.map((s) => randomTopology(s, o.sizes[0]!));
  return Array.from({ length: o.count }, (_, i) =>
    randomTopology(topologySeed(o.seed, i), o.sizes[i % o.sizes.length]!),
  );
}

/** Runs the differential check on the (shared) control plane `cp`. */
export async function runDifferential(
  cp: ControlPlane,
  opts: DifferentialOptions,
): Promise<DifferentialReport> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const topologies = runTopologies(opts).filter((t) => !opts.runSizes || opts.runSizes.includes(t.k));
  const bySize = new Map<number, DiffTopology[]>();
  for (const t of topologies) bySize.set(t.k, [...(bySize.get(t.k) ?? []), t]);
  const results: TopologyResult[] = [];
  const rigStartsMs: number[] = [];
  const http = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('admin') }));
  const api = new KubeApi(http);
  try {
    for (const [k, ts] of [...bySize].sort((a, b) => a[0] - b[0])) {
      const ts0 = performance.now();
      const f = await Fabric.start(cp, k, { log });
      rigStartsMs.push(Math.round(performance.now() - ts0));
      try {
        for (const t of ts) {
          let o: Observation;
          try {
            o = await observe(cp, f, api, t, opts.observe);
          } catch (e) {
            // an API connection reset under load (seen once in 300): the topology is written again from scratch
            log(`#${results.length + 1} seed ${t.seed}: ${(e as Error).message}; once more`);
            o = await observe(cp, f, api, t, opts.observe);
          }
          opts.onObservation?.(o);
          const r = resultOf(o);
          log(
            `#${results.length + 1} seed ${t.seed} ${r.ms} ms ${r.restarted ? '(restarted) ' : ''}` +
              `${r.kicks.length ? `(kicked ${r.kicks.join(' ')}) ` : ''}` +
              `${r.converged ? '' : 'NOT CONVERGED '}` +
              `learned ${r.learned}/${r.pairs}, ${r.disagreements.length} disagreements | ${r.description}`,
          );
          for (const d of r.disagreements)
            log(
              `    ${d.learner} <- ${d.origin}: model ${d.model}, BIRD ${d.bird}${d.known ? ` (${d.known})` : ''}`,
            );
          if (!r.converged) log(`    ${r.problems.slice(0, 6).join(' / ')}`);
          if (opts.evidenceDir && unexplained(r)) await keepEvidence(f, o, opts.evidenceDir);
          if (opts.shrink && r.converged && unexplained(r))
            r.minimised = await shrink(cp, f, api, t, opts, log);
          results.push(r);
        }
      } finally {
        await f.stop();
      }
    }
  } finally {
    http.close();
  }
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const all = results.flatMap((r) => r.disagreements);
  return {
    seed: opts.seed,
    count: opts.count,
    sizes: opts.sizes,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    rigStartsMs,
    perTopologyMs: {
      mean: Math.round(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length)),
      median: ms[Math.floor(ms.length / 2)] ?? 0,
      max: ms[ms.length - 1] ?? 0,
    },
    results,
    totals: {
      topologies: results.length,
      pairs: results.reduce((a, r) => a + r.pairs, 0),
      agreeing: results.filter((r) => r.converged && r.disagreements.length === 0).length,
      partial: results.filter((r) => r.learned < r.pairs).length,
      disagreements: all.length,
      known: all.filter((d) => d.known).length,
      unexplained: results.filter(unexplained).length,
      notConverged: results.filter((r) => !r.converged).length,
      restarted: results.filter((r) => r.restarted).length,
      kicked: results.filter((r) => r.kicks.length > 0).length,
    },
  };
}

/** Writes the rig's view of an observation to DIR/seed-<seed>/: topology, per node config, protocols, routes. */
export async function keepEvidence(f: Fabric, o: Observation, dir: string): Promise<void> {
  const d = path.join(dir, `seed-${o.topology.seed}`);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(
    path.join(d, 'topology.json'),
    `${JSON.stringify({ topology: o.topology, description: describeTopology(o.topology), disagreements: disagreementsOf(o), problems: o.problems }, null, 2)}\n`,
  );
  for (const n of f.nodes) {
    const show = await f.birdc(n.name, ['show', 'protocols', 'all']).catch((e: Error) => e.message);
    const routes = await f.birdc(n.name, ['show', 'route', 'all']).catch((e: Error) => e.message);
    fs.copyFileSync(path.join(n.dir, 'bird.cfg'), path.join(d, `${n.name}.bird.cfg`));
    fs.writeFileSync(path.join(d, `${n.name}.protocols.txt`), show);
    fs.writeFileSync(path.join(d, `${n.name}.routes.txt`), routes);
    const log = fs.readFileSync(path.join(n.dir, 'bird.log'), 'utf8').split('\n');
    fs.writeFileSync(path.join(d, `${n.name}.bird.log`), log.slice(-300).join('\n'));
  }
}

/** Greedy minimisation: keep the first simpler topology that still has an unexplained disagreement, repeat. */
async function shrink(
  cp: ControlPlane,
  f: Fabric,
  api: KubeApi,
  t: DiffTopology,
  opts: DifferentialOptions,
  log: (l: string) => void,
): Promise<TopologyResult['minimised']> {
  let cur = t;
  let curDis: Disagreement[] = [];
  for (let round = 0; round < 30; round++) {
    let progressed = false;
    for (const c of simplifications(cur)) {
      const o = await observe(cp, f, api, c, opts.observe);
      const d = disagreementsOf(o).filter((x) => !x.known);
      if (o.converged && d.length) {
        cur = c;
        curDis = d;
        progressed = true;
        log(`    shrunk: ${describeTopology(c)} (${d.length} disagreements)`);
        break;
      }
    }
    if (!progressed) break;
  }
  if (cur === t) return undefined;
  return { description: describeTopology(cur), topology: cur, disagreements: curDis };
}

/** The report as text: a summary, then every topology that disagreed or did not converge. */
export function formatDifferential(r: DifferentialReport): string {
  const t = r.totals;
  const lines = [
    `differential check: seed ${r.seed}, ${t.topologies} topologies (sizes ${[...new Set(r.sizes)].join(',')}), ` +
      `${t.pairs} ordered pairs, in ${(r.durationMs / 1000).toFixed(0)} s`,
    `  rig starts: ${r.rigStartsMs.map((x) => `${(x / 1000).toFixed(1)} s`).join(', ')}; per topology: mean ` +
      `${(r.perTopologyMs.mean / 1000).toFixed(1)} s, median ${(r.perTopologyMs.median / 1000).toFixed(1)} s, ` +
      `max ${(r.perTopologyMs.max / 1000).toFixed(1)} s`,
    `  agreeing: ${t.agreeing}; with some pair not learning: ${t.partial}; disagreements: ${t.disagreements} ` +
      `(${t.known} documented BIRD 1.6 vs fork); unexplained topologies: ${t.unexplained} ` +
      `(not converged: ${t.notConverged}); BIRDs restarted to settle: ${t.restarted}; ` +
      `with a phase-locked session kicked: ${t.kicked}`,
  ];
  for (const x of r.results.filter((y) => y.disagreements.length || !y.converged)) {
    lines.push(`  seed ${x.seed}: ${x.description}`);
    if (!x.converged) lines.push(`    not converged: ${x.problems.slice(0, 6).join(' / ')}`);
    for (const d of x.disagreements)
      lines.push(
        `    ${d.learner} <- ${d.origin}: model ${d.model}, BIRD ${d.bird}${d.known ? ` (${d.known})` : ''}`,
      );
    if (x.minimised) lines.push(`    minimised: ${x.minimised.description}`);
  }
  return lines.join('\n');
}
