/**
 * The verifier planners and `status` rely on: which node pairs cannot reach each other in a BGP state, the
 * same with any single route reflector down (N-1), and the first failing step of a sequence of states.
 *
 * "Reach" means: each of the two nodes learns the other's routes over the node-to-node BGP sessions
 * (propagate.ts). External BGP peers are not modelled as relays (a ToR might re-advertise routes between
 * nodes; the model cannot see that), so pairs that only an external peer could connect count as unreachable;
 * `unreachableWithExternalPeers` says how many of them have external peers on both ends.
 */
import {
  type AbstractPath,
  type Block,
  graphOf,
  learns,
  propagate,
  propagateFrom,
  type PropagationResult,
  step,
} from './propagate.js';
import type { BgpState } from './state.js';
import {
  classSizes,
  computeTopology,
  expectedPeers,
  externalsOf,
  nodeSessionsOfClass,
  type Topology,
} from './topology.js';

/** Why a route is missing, for machines (the `reason` text is for people). */
export type UnreachableCause =
  /** One of the two nodes has no established session to another node. */
  | 'isolated'
  /** A route reflector holds the route only via another RR with the same cluster ID (calico#2735). */
  | 'shared-cluster-id'
  /** The route only reaches non-client iBGP peers of the learner (no reflection between non-clients). */
  | 'not-reflected'
  | 'cluster-list-loop'
  | 'as-path-loop'
  | 'originator-loop'
  /** No peer of the learner has the route at all. */
  | 'no-path';

/** `from` does not learn `to`'s routes. */
export interface Unreachable {
  from: string;
  to: string;
  reason: string;
  cause: UnreachableCause;
}

export interface Verdict {
  ok: boolean;
  /** Nodes running BIRD. */
  participating: number;
  /** Unordered pairs of BIRD nodes where at least one does not learn the other's routes. */
  unreachablePairs: number;
  /** Ordered (learner, origin) pairs where the learner lacks the origin's routes. */
  missingRoutes: number;
  /** Of the unreachable pairs, those where both nodes have external BGP peers (which might relay). */
  unreachableWithExternalPeers: number;
  examples: Unreachable[];
  /** BIRD nodes with no established session to another node. */
  isolated: string[];
}

export interface N1Failure {
  rr: string;
  unreachablePairs: number;
  examples: Unreachable[];
}

export interface N1Verdict {
  ok: boolean;
  /** Route reflectors considered (BIRD nodes with a cluster ID). */
  routeReflectors: number;
  failures: N1Failure[];
}

export interface VerifyOptions {
  /** Also check every single route-reflector failure. */
  n1?: boolean | undefined;
  /** Examples per verdict (default 5). */
  maxExamples?: number | undefined;
}

export type FullVerdict = Verdict & { n1?: N1Verdict | undefined };

export function verify(state: BgpState, opts: VerifyOptions = {}): FullVerdict {
  return verifyTopology(computeTopology(state), opts);
}

export function verifyTopology(t: Topology, opts: VerifyOptions = {}): FullVerdict {
  const maxExamples = opts.maxExamples ?? 5;
  const sizes = classSizes(t);
  const base = propagate(t, sizes);
  const verdict: FullVerdict = verdictOf(t, base, maxExamples, NONE_REMOVED);
  if (opts.n1) verdict.n1 = n1Of(t, sizes, maxExamples);
  return verdict;
}

function n1Of(t: Topology, sizes: Int32Array, maxExamples: number): N1Verdict {
  const rrs: number[] = [];
  for (let i = 0; i < t.n; i++)
    if (t.participates[i] === 1 && t.state.nodes[i]!.clusterId !== undefined) rrs.push(i);
  // Route reflectors of one class are interchangeable: one propagation per class.
  const byClass = new Map<number, PropagationResult>();
  const failures: N1Failure[] = [];
  for (const r of rrs) {
    const c = t.classOf[r]!;
    let res = byClass.get(c);
    if (!res) {
      const s = Int32Array.from(sizes);
      s[c]!--;
      res = propagate(t, s);
      byClass.set(c, res);
    }
    const v = verdictOf(t, res, maxExamples, new Set([r]));
    if (v.unreachablePairs > 0)
      failures.push({
        rr: t.state.nodes[r]!.name,
        unreachablePairs: v.unreachablePairs,
        examples: v.examples,
      });
  }
  return { ok: failures.length === 0, routeReflectors: rrs.length, failures };
}

const NONE_REMOVED: ReadonlySet<number> = new Set();

/** Members of class c that count (running BIRD, not a removed node), in node order. */
function liveMembers(t: Topology, c: number, removed: ReadonlySet<number>, limit: number): number[] {
  const out: number[] = [];
  for (const m of t.classes[c]!.members) {
    if (removed.has(m) || t.participates[m] !== 1) continue;
    out.push(m);
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * The verdict of a propagation. `removed`: nodes counted as down although the topology has them running
 * (N-1 and zone loss subtract them from their classes' sizes instead of rebuilding the topology).
 */
function verdictOf(
  t: Topology,
  r: PropagationResult,
  maxExamples: number,
  removed: ReadonlySet<number>,
): Verdict {
  const { k, sizes, learned } = r;
  const live: number[] = [];
  for (let c = 0; c < k; c++) if (sizes[c]! > 0) live.push(c);
  let participating = 0;
  for (const c of live) participating += sizes[c]!;

  // External peers per class (nodes with at least one).
  const ext = new Int32Array(k);
  for (const c of live) {
    for (const m of t.classes[c]!.members) {
      if (!removed.has(m) && t.participates[m] === 1 && externalsOf(t, m).length > 0) ext[c]!++;
    }
  }

  let unreachablePairs = 0;
  let missingRoutes = 0;
  let withExt = 0;
  const bad: [number, number][] = []; // (origin class, learner class)
  for (const a of live) {
    for (const c of live) {
      const sa = sizes[a]!;
      const sc = sizes[c]!;
      if (a === c && sa < 2) continue;
      const ok = learned[a * k + c] === 1;
      if (!ok) {
        missingRoutes += sa * (sc - (a === c ? 1 : 0));
        bad.push([a, c]);
      }
      if (c < a) continue;
      const both = ok && learned[c * k + a] === 1;
      if (both) continue;
      if (a === c) {
        unreachablePairs += (sa * (sa - 1)) / 2;
        withExt += (ext[a]! * (ext[a]! - 1)) / 2;
      } else {
        unreachablePairs += sa * sc;
        withExt += ext[a]! * ext[c]!;
      }
    }
  }

  const isolated: string[] = [];
  for (const c of live) {
    if (nodeSessionsOfClass(t, c, sizes) > 0) continue;
    for (const m of liveMembers(t, c, removed, Infinity)) isolated.push(t.state.nodes[m]!.name);
  }

  const examples: Unreachable[] = [];
  const explainer = new Explainer(t, sizes, removed);
  // Prefer pairs between connected nodes (more telling than isolated ones), then isolated ones.
  const isIso = (c: number): boolean => nodeSessionsOfClass(t, c, sizes) === 0;
  const ordered = [
    ...bad.filter(([a, c]) => !isIso(a) && !isIso(c)),
    ...bad.filter(([a, c]) => isIso(a) || isIso(c)),
  ];
  for (const [a, c] of ordered) {
    if (examples.length >= maxExamples) break;
    const [x] = liveMembers(t, a, removed, 1);
    const y = liveMembers(t, c, removed, 2).find((m) => m !== x);
    if (x === undefined || y === undefined) continue;
    examples.push({
      from: t.state.nodes[y]!.name,
      to: t.state.nodes[x]!.name,
      ...explainer.explain(a, c, x, y),
    });
  }

  return {
    ok: unreachablePairs === 0,
    participating,
    unreachablePairs,
    missingRoutes,
    unreachableWithExternalPeers: withExt,
    examples,
    isolated,
  };
}

/** Builds one-sentence reasons for a missing route, from the abstract paths of the origin class. */
class Explainer {
  private readonly paths = new Map<number, AbstractPath[]>();
  constructor(
    private readonly t: Topology,
    private readonly sizes: Int32Array,
    private readonly removed: ReadonlySet<number>,
  ) {}

  private name(i: number): string {
    return this.t.state.nodes[i]!.name;
  }

  /** A member of class c other than the given nodes, for naming. */
  private pick(c: number, not: number[]): number | undefined {
    return liveMembers(this.t, c, this.removed, not.length + 1).find((m) => !not.includes(m));
  }

  private neighbourNames(c: number, self: number, limit = 3): string {
    const names: string[] = [];
    let more = 0;
    for (const b of this.t.adj[c]!) {
      if (this.sizes[b]! - (b === c ? 1 : 0) < 1) continue;
      for (const m of liveMembers(this.t, b, this.removed, 4)) {
        if (m === self) continue;
        if (names.length < limit) names.push(this.name(m));
        else more++;
      }
    }
    return names.join(', ') + (more > 0 ? ', ...' : '');
  }

  private isolationCause(i: number): string {
    const t = this.t;
    const node = t.state.nodes[i]!;
    if (this.removed.size > 0) {
      const base = nodeSessionsOfClass(t, t.classOf[i]!);
      const names = [...this.removed].map((r) => this.name(r));
      if (base > 0)
        return names.length === 1
          ? `its only BGP sessions are to ${names[0]}, which is down`
          : `its only BGP sessions are to ${names.join(', ')}, which are down`;
    }
    const down = expectedPeers(t, node.name, { includeDown: true }).find((p) => !p.established);
    if (down)
      return `its configured session to ${down.peerName ?? down.peerIP} cannot come up: ${down.problem}`;
    if (!t.state.meshEnabled) return 'the node-to-node mesh is off and no BGPPeer peers it';
    if (node.clusterId !== undefined)
      return `its route-reflector cluster ID ${node.clusterId} takes it out of the node-to-node mesh and no BGPPeer peers it`;
    return 'no BGPPeer or mesh session reaches it';
  }

  explain(a: number, c: number, x: number, y: number): { reason: string; cause: UnreachableCause } {
    const t = this.t;
    const { sizes } = this;
    if (nodeSessionsOfClass(t, c, sizes) === 0) {
      return { cause: 'isolated', reason: `${this.name(y)} has no BGP session: ${this.isolationCause(y)}` };
    }
    if (nodeSessionsOfClass(t, a, sizes) === 0) {
      return { cause: 'isolated', reason: `${this.name(x)} has no BGP session: ${this.isolationCause(x)}` };
    }
    let paths = this.paths.get(a);
    if (!paths) {
      // Fast mode keeps fewer paths; it does not stop early here (this origin has classes left to learn).
      paths = propagateFrom(t, a, sizes, true, 'fast').paths ?? [];
      this.paths.set(a, paths);
    }
    const g = graphOf(t);
    // Why does no neighbour class of c pass x's routes on to y? Same rules as propagation (step()).
    const rank: Block[] = ['cluster-export', 'non-client', 'cluster-receive', 'as-loop', 'no-receiver'];
    let best: { why: Block; b: number } | undefined;
    for (const b of t.adj[c]!) {
      for (const p of paths) {
        if (p.cls !== b) continue;
        const r = step(g, sizes, a, p, c);
        if (typeof r !== 'string') continue; // cannot happen: c would have learned
        if (!best || rank.indexOf(r) < rank.indexOf(best.why)) best = { why: r, b };
      }
    }
    const clusterOf = (cls: number): string | undefined => t.classes[cls]!.clusterId;
    const asOf = (cls: number): number => t.classes[cls]!.asNumber;
    const X = this.name(x);
    const Y = this.name(y);
    if (!best) {
      return {
        cause: 'no-path',
        reason: `no BGP peer of ${Y} (${this.neighbourNames(c, y)}) has ${X}'s routes; ${X} peers with ${this.neighbourNames(a, x)}`,
      };
    }
    const bi = this.pick(best.b, [x, y]);
    const B = bi === undefined ? `a peer of ${Y}` : this.name(bi);
    const cidB = clusterOf(best.b);
    switch (best.why) {
      case 'cluster-export':
        return {
          cause: 'shared-cluster-id',
          reason:
            `${B} (cluster ID ${cidB}) has ${X}'s routes only with its own cluster ID in CLUSTER_LIST (reflected by another ` +
            `route reflector with the same cluster ID), and BIRD does not reflect such routes to clients like ${Y}: ` +
            `route reflectors sharing a cluster ID need every client peered with every one of them (projectcalico/calico#2735)`,
        };
      case 'non-client':
        return {
          cause: 'not-reflected',
          reason:
            `${B} learns ${X}'s routes from a non-client iBGP peer and ${Y} is not its route-reflector client: ` +
            `iBGP routes are never passed on between non-clients`,
        };
      case 'cluster-receive':
        return {
          cause: 'cluster-list-loop',
          reason: `${Y} (cluster ID ${clusterOf(c)}) drops ${X}'s routes from ${B}: their CLUSTER_LIST already holds its own cluster ID`,
        };
      case 'as-loop':
        return {
          cause: 'as-path-loop',
          reason: `${Y}'s AS ${asOf(c)} is already in the AS path of ${X}'s routes as ${B} has them (AS-path loop check)`,
        };
      default:
        return {
          cause: 'originator-loop',
          reason: `the copies of ${X}'s routes that ${Y}'s peers hold came from ${Y} itself or name it as ORIGINATOR_ID`,
        };
    }
  }
}

export interface SequenceResult {
  ok: boolean;
  firstFailure?: { index: number; label: string; verdict: FullVerdict } | undefined;
  verdicts: FullVerdict[];
}

/**
 * Verifies every state of a sequence (a plan's intermediate states, in order). A step fails when some pair
 * cannot reach each other, or, with `n1`, when some single route-reflector failure would cut pairs off.
 */
export function verifySequence(
  steps: { label: string; state: BgpState }[],
  opts: VerifyOptions = {},
): SequenceResult {
  const verdicts = steps.map((s) => verify(s.state, opts));
  const idx = verdicts.findIndex((v) => !v.ok || (opts.n1 === true && v.n1 !== undefined && !v.n1.ok));
  return {
    ok: idx < 0,
    firstFailure: idx < 0 ? undefined : { index: idx, label: steps[idx]!.label, verdict: verdicts[idx]! },
    verdicts,
  };
}

export interface ZoneLossFailure {
  zone: string;
  /** The reflectors of that zone, all down at once. */
  routeReflectors: string[];
  unreachablePairs: number;
  examples: Unreachable[];
}

export interface ZoneLossVerdict {
  /** null where it does not apply: nodes in fewer than two zones, or no route reflector. */
  ok: boolean | null;
  zones: number;
  failures: ZoneLossFailure[];
}

/**
 * Zone loss: where BIRD nodes span two or more zones and a route reflector exists, every zone's reflectors down
 * at once (a zone outage) must not cut node pairs that the state itself connects. A single reflector counts: with
 * the mesh off its zone's outage cuts every client. Nodes without a zone label form no zone. A state that
 * already has unreachable pairs fails only when the outage cuts more.
 */
export function verifyZoneLoss(
  state: BgpState,
  opts: { maxExamples?: number | undefined; baseUnreachable?: number | undefined } = {},
): ZoneLossVerdict {
  const zones = new Map<string, string[]>();
  const allZones = new Set<string>();
  let rrCount = 0;
  for (const n of state.nodes) {
    if (!n.participates) continue;
    if (n.clusterId !== undefined) rrCount++;
    if (n.zone === undefined || n.zone === '') continue;
    allZones.add(n.zone);
    if (n.clusterId === undefined) continue;
    if (!zones.has(n.zone)) zones.set(n.zone, []);
    zones.get(n.zone)!.push(n.name);
  }
  // a single reflector counts too: with the mesh off, an outage of its zone cuts every client off
  if (allZones.size < 2 || rrCount < 1) return { ok: null, zones: allZones.size, failures: [] };
  // One topology; each zone's reflectors are subtracted from their classes' sizes (as N-1 does for one).
  const t = computeTopology(state);
  const sizes = classSizes(t);
  const base = opts.baseUnreachable ?? verdictOf(t, propagate(t, sizes), 0, NONE_REMOVED).unreachablePairs;
  const failures: ZoneLossFailure[] = [];
  for (const [zone, rrs] of [...zones].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const down = new Set(rrs);
    const removed = new Set<number>();
    t.state.nodes.forEach((n, i) => {
      if (down.has(n.name) && t.participates[i] === 1) removed.add(i);
    });
    const s = Int32Array.from(sizes);
    for (const i of removed) s[t.classOf[i]!]!--;
    const v = verdictOf(t, propagate(t, s), opts.maxExamples ?? 1, removed);
    if (v.unreachablePairs > base)
      failures.push({
        zone,
        routeReflectors: rrs,
        unreachablePairs: v.unreachablePairs,
        examples: v.examples,
      });
  }
  return { ok: failures.length === 0, zones: allZones.size, failures };
}

/** Convenience for tests and explanations: does node `learner` learn node `origin`'s routes? */
export function learnsRoutes(state: BgpState, learner: string, origin: string): boolean {
  const t = computeTopology(state);
  const y = t.nodeIndex.get(learner);
  const x = t.nodeIndex.get(origin);
  if (x === undefined || y === undefined) return false;
  return learns(t, propagate(t), y, x);
}
