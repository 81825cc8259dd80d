/**
 * Route propagation between Calico nodes, as Calico's BIRD does it (research notes §1 and §3):
 *
 * - Every node originates its own routes (its IPAM blocks) and sends them on every session.
 * - Add-path is on between Calico nodes, so a node passes on every path it holds, each judged on its own;
 *   best-path selection never limits who learns what. A path is (origin, the session it came from,
 *   ORIGINATOR_ID, CLUSTER_LIST as a set, AS_PATH as a set).
 * - Export from v, of a path learned on session s, to session d (BIRD `bgp_import_control`):
 *   never back on s; not when d is an rr-client session and CLUSTER_LIST holds v's cluster ID;
 *   iBGP to iBGP only when s or d is an rr-client session (reflection: ORIGINATOR_ID set to s's peer if
 *   missing, v's cluster ID added to CLUSTER_LIST); any eBGP side: passed on, ORIGINATOR_ID and CLUSTER_LIST
 *   dropped, and v's AS added to AS_PATH when d is eBGP.
 * - Receive at w over session d: dropped when ORIGINATOR_ID is w (iBGP), when d is an rr-client session and
 *   CLUSTER_LIST holds w's cluster ID, or when AS_PATH holds w's AS (allow local as 0).
 * - External peers are not modelled as relays: the model only answers which cluster nodes learn which
 *   cluster nodes' routes over node-to-node sessions. Export filters accept every pool route (notes §2e).
 *
 * Class-level algorithm. Nodes of one class (topology.ts) are interchangeable: swapping two members maps
 * the session graph onto itself. So for an origin x in class A, every member of a class C other than x ends
 * up with the same table up to that symmetry, and "does a member of C learn x's routes" is a per-class
 * question. Paths are tracked abstractly, at "a generic member of C other than x", as
 * (source class, source is x?, originator class or none, originator is x?, CLUSTER_LIST, AS_PATH).
 * When a path at a member v of B is exported to class C, the receivers are the members of C other than v, x,
 * the node it came from (never back on the same session) and the ORIGINATOR_ID node (it drops the path);
 * the path reaches C when at least one receiver is left. That count is the only place the node identities
 * matter, which keeps the abstraction exact (property tests compare it with naive per-node message passing).
 * Paths with the same key and a subset CLUSTER_LIST and AS_PATH dominate (loop checks are monotone), so only
 * minimal ones are kept. Cost per origin class: O(reachable abstract paths x neighbour classes); with
 * singleton classes (node-specific peerings) this is exactly per-node propagation.
 */
import { FLAG_ALLOW_LOCAL_AS, FLAG_CLIENT, FLAG_IBGP, type Topology, classSizes } from './topology.js';

/** Per-class attributes in the form the propagation loop uses. */
export interface Graph {
  k: number;
  adj: number[][];
  /** Dense k x k copy of Topology.flags (0 = no session). */
  flags: Uint8Array;
  /** Bit of the class's cluster ID in CLUSTER_LIST masks, or 0n. */
  clusterBit: bigint[];
  asBit: bigint[];
  /** Bit numbers of cluster IDs and AS numbers (to decode masks). */
  clusterIndex: Map<string, number>;
  asIndex: Map<number, number>;
}

const graphCache = new WeakMap<Topology, Graph>();

export function graphOf(t: Topology): Graph {
  const cached = graphCache.get(t);
  if (cached) return cached;
  const clusterIdx = new Map<string, number>();
  const asIdx = new Map<number, number>();
  const clusterBit = t.classes.map((c) => {
    const id = c.birdClusterId;
    if (id === undefined) return 0n;
    let i = clusterIdx.get(id);
    if (i === undefined) clusterIdx.set(id, (i = clusterIdx.size));
    return 1n << BigInt(i);
  });
  const asBit = t.classes.map((c) => {
    let i = asIdx.get(c.asNumber);
    if (i === undefined) asIdx.set(c.asNumber, (i = asIdx.size));
    return 1n << BigInt(i);
  });
  const k = t.classes.length;
  const flags = new Uint8Array(k * k);
  for (const [key, f] of t.flags) flags[key] = f;
  const g: Graph = {
    k,
    adj: t.adj,
    flags,
    clusterBit,
    asBit,
    clusterIndex: clusterIdx,
    asIndex: asIdx,
  };
  graphCache.set(t, g);
  return g;
}

/** An abstract path held by a generic member of class `cls` (not the origin node). */
export interface AbstractPath {
  cls: number;
  /** Class of the neighbour it came from; `srcIsOrigin` when that neighbour is the origin node itself. */
  src: number;
  srcIsOrigin: boolean;
  /** ORIGINATOR_ID: class of that node, or -1 when not set. */
  orig: number;
  origIsOrigin: boolean;
  clusterList: bigint;
  asPath: bigint;
}

export interface OriginResult {
  /** learned[c] = 1 when the members of class c (other than the origin) learn the origin's routes. */
  learned: Uint8Array;
  /**
   * When asked for: the minimal abstract paths (no other kept path with the same key has a subset
   * CLUSTER_LIST and AS_PATH), for explanations and tests.
   */
  paths?: AbstractPath[] | undefined;
}

/** Why a path held by a member of one class does not reach a neighbouring class. */
export type Block =
  /** Export to an rr-client session while CLUSTER_LIST holds the sender's own cluster ID. */
  | 'cluster-export'
  /** iBGP to iBGP with neither session an rr client. */
  | 'non-client'
  /** The receiver's rr-client session drops a CLUSTER_LIST holding its own cluster ID. */
  | 'cluster-receive'
  /** The receiver's AS is in the AS path. */
  | 'as-loop'
  /** No receiver left: only the sender itself, the origin, the node it came from or the ORIGINATOR_ID node. */
  | 'no-receiver';

/**
 * One export (at a member v of p.cls) plus receive (at a member w of class c) step: the path w gets, or why
 * none does. The single definition of the BIRD rules used by propagation and by explanations.
 */
export function step(
  g: Graph,
  sizes: Int32Array,
  origin: number,
  p: AbstractPath,
  c: number,
): AbstractPath | Block {
  const { k, flags, clusterBit, asBit } = g;
  const b = p.cls;
  const srcFlags = flags[b * k + p.src]!;
  const outFlags = flags[b * k + c]!;
  const srcIbgp = (srcFlags & FLAG_IBGP) !== 0;
  const dstIbgp = (outFlags & FLAG_IBGP) !== 0;
  const srcClient = (srcFlags & FLAG_CLIENT) !== 0;
  const dstClient = (outFlags & FLAG_CLIENT) !== 0;
  // Export-side CLUSTER_LIST loop check, on rr-client sessions only.
  if (dstClient && (p.clusterList & clusterBit[b]!) !== 0n) return 'cluster-export';
  let orig: number;
  let origIsOrigin: boolean;
  let clusterList: bigint;
  let asPath: bigint;
  if (srcIbgp && dstIbgp) {
    if (!srcClient && !dstClient) return 'non-client';
    // Reflection: ORIGINATOR_ID = the peer it came from, unless already set; prepend own cluster ID.
    if (p.orig === -1) {
      orig = p.src;
      origIsOrigin = p.srcIsOrigin;
    } else {
      orig = p.orig;
      origIsOrigin = p.origIsOrigin;
    }
    clusterList = p.clusterList | clusterBit[b]!;
    asPath = p.asPath;
  } else {
    // An eBGP side: ORIGINATOR_ID and CLUSTER_LIST are not carried over eBGP; own AS prepended toward eBGP.
    orig = -1;
    origIsOrigin = false;
    clusterList = 0n;
    asPath = dstIbgp ? p.asPath : p.asPath | asBit[b]!;
  }
  // Receive-side checks at w.
  if (dstIbgp && (flags[c * k + b]! & FLAG_CLIENT) !== 0 && (clusterList & clusterBit[c]!) !== 0n) {
    return 'cluster-receive';
  }
  if ((asPath & asBit[c]!) !== 0n && (flags[c * k + b]! & FLAG_ALLOW_LOCAL_AS) === 0) return 'as-loop';
  // Receivers in c: not v itself, not the origin, not the node the path came from (never back on the same
  // session), not the ORIGINATOR_ID node (it drops the path). These are distinct nodes.
  let excluded = (c === b ? 1 : 0) + (c === origin ? 1 : 0);
  if (c === p.src && !p.srcIsOrigin) excluded++;
  if (orig !== -1 && orig === p.orig && !p.origIsOrigin && c === p.orig) excluded++;
  if (sizes[c]! - excluded < 1) return 'no-receiver';
  return { cls: c, src: b, srcIsOrigin: false, orig, origIsOrigin, clusterList, asPath };
}

/**
 * Propagates the routes of one node of class `origin`. `sizes` gives the number of BIRD-running members per
 * class (defaults to the topology's; N-1 analysis passes sizes with one route reflector removed).
 *
 * Pruning (both exact for "who learns what"):
 * - plain dominance: same key (class, source, ORIGINATOR_ID) and a subset CLUSTER_LIST and AS_PATH;
 * - `fast` mode adds, for paths whose ORIGINATOR_ID is already set, dominance across sources: P dominates Q
 *   at the same class with the same ORIGINATOR_ID when its CLUSTER_LIST and AS_PATH are subsets and P reaches
 *   every neighbour class Q reaches (checked with step()). The source then no longer matters for what follows:
 *   every successor of either has the key (neighbour, this class, same ORIGINATOR_ID). This keeps route
 *   reflector meshes with many distinct cluster IDs from multiplying paths by their source.
 * `strict` (the default when paths are kept) keeps the plain minimal paths, which tests compare one for one
 * with the naive reference, and explanations use.
 */
export function propagateFrom(
  t: Topology,
  origin: number,
  sizes: Int32Array = classSizes(t),
  keepPaths = false,
  mode: 'fast' | 'strict' = keepPaths ? 'strict' : 'fast',
): OriginResult {
  const g = graphOf(t);
  const { k, adj, flags, asBit } = g;
  const learned = new Uint8Array(k);
  if (sizes[origin]! < 1) return { learned, paths: keepPaths ? [] : undefined };
  const fast = mode === 'fast';

  // Upper bound: classes connected to the origin with a member other than the origin node. Once all of them
  // have learned, nothing more can change the answer (fast mode stops there; strict mode explores all paths).
  let bound = 0;
  {
    const seen = new Uint8Array(k);
    const stack = [origin];
    while (stack.length > 0) {
      const b = stack.pop()!;
      for (const c of adj[b]!) {
        if (seen[c] === 1 || sizes[c]! < 1) continue;
        seen[c] = 1;
        stack.push(c);
        if (sizes[c]! - (c === origin ? 1 : 0) >= 1) bound++;
      }
    }
  }
  let learnedCount = 0;

  const kept = new Map<string, Entry[]>();
  const queue: Entry[] = [];
  const dead = new Set<Entry>();

  const subset = (p: Entry, q: Entry): boolean =>
    (p.clusterList & q.clusterList) === p.clusterList && (p.asPath & q.asPath) === p.asPath;
  /** The step result toward the i-th neighbour class, computed once per path. */
  const succ = (p: Entry, i: number): AbstractPath | Block => {
    const cache = (p.succ ??= new Array<AbstractPath | Block | undefined>(adj[p.cls]!.length));
    return (cache[i] ??= step(g, sizes, origin, p, adj[p.cls]![i]!));
  };
  /** p reaches every neighbour class q reaches (same class, both with ORIGINATOR_ID set). */
  const covers = (p: Entry, q: Entry): boolean => {
    if (p.src === q.src && p.srcIsOrigin === q.srcIsOrigin) return true;
    const n = adj[p.cls]!.length;
    for (let i = 0; i < n; i++) {
      if (typeof succ(p, i) === 'string' && typeof succ(q, i) !== 'string') return false;
    }
    return true;
  };

  const add = (p: Entry): void => {
    const relaxed = fast && p.orig !== -1;
    const key = relaxed
      ? `${p.cls},*,${p.orig},${p.origIsOrigin ? 1 : 0}`
      : `${p.cls},${p.src},${p.srcIsOrigin ? 1 : 0},${p.orig},${p.origIsOrigin ? 1 : 0}`;
    const list = kept.get(key);
    if (list) {
      for (const q of list) if (subset(q, p) && (!relaxed || covers(q, p))) return;
      const rest = list.filter((q) => {
        const dominated = subset(p, q) && (!relaxed || covers(p, q));
        if (dominated) dead.add(q);
        return !dominated;
      });
      rest.push(p);
      kept.set(key, rest);
    } else kept.set(key, [p]);
    if (learned[p.cls] === 0) {
      learned[p.cls] = 1;
      learnedCount++;
    }
    queue.push(p);
  };

  // The origin sends its own routes on every session (originated: no ORIGINATOR_ID, no CLUSTER_LIST).
  for (const c of adj[origin]!) {
    if (sizes[c]! - (c === origin ? 1 : 0) < 1) continue;
    const ibgp = (flags[origin * k + c]! & FLAG_IBGP) !== 0;
    const asPath = ibgp ? 0n : asBit[origin]!;
    if ((asPath & asBit[c]!) !== 0n) continue;
    add({ cls: c, src: origin, srcIsOrigin: true, orig: -1, origIsOrigin: false, clusterList: 0n, asPath });
  }

  // Breadth first: short paths (small CLUSTER_LIST / AS_PATH) arrive first and prune the longer ones they dominate.
  for (let head = 0; head < queue.length; head++) {
    if (fast && learnedCount >= bound) break;
    const p = queue[head]!;
    if (dead.has(p)) continue;
    const n = adj[p.cls]!.length;
    for (let i = 0; i < n; i++) {
      const r = succ(p, i);
      if (typeof r !== 'string') add(r);
    }
  }
  return { learned, paths: keepPaths ? [...kept.values()].flat() : undefined };
}

/** An abstract path with its successors cached (computed at most once, for dominance and expansion). */
interface Entry extends AbstractPath {
  succ?: (AbstractPath | Block | undefined)[] | undefined;
}

export interface PropagationResult {
  k: number;
  sizes: Int32Array;
  /** learned[a * k + c] = 1 when members of class c (other than the origin) learn routes of members of a. */
  learned: Uint8Array;
}

/** Propagation for every origin class. */
export function propagate(t: Topology, sizes: Int32Array = classSizes(t)): PropagationResult {
  const k = t.classes.length;
  const learned = new Uint8Array(k * k);
  for (let a = 0; a < k; a++) {
    if (sizes[a]! < 1) continue;
    learned.set(propagateFrom(t, a, sizes).learned, a * k);
  }
  return { k, sizes, learned };
}

/** Does node `learner` learn the routes of node `origin`? (Both by index; false when either is down.) */
export function learns(t: Topology, r: PropagationResult, learner: number, origin: number): boolean {
  if (learner === origin) return true;
  const a = t.classOf[origin]!;
  const c = t.classOf[learner]!;
  if (r.sizes[a]! < 1 || r.sizes[c]! < 1 || t.participates[learner] !== 1 || t.participates[origin] !== 1)
    return false;
  return r.learned[a * r.k + c] === 1;
}

/** For every node (by index), the node indices whose routes it learns. O(n^2): for small clusters and tests. */
export function learnedMatrix(t: Topology, r: PropagationResult = propagate(t)): boolean[][] {
  return Array.from({ length: t.n }, (_, y) => Array.from({ length: t.n }, (_, x) => learns(t, r, y, x)));
}
