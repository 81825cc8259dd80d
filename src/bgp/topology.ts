/**
 * The BGP sessions Calico configures, computed the way confd does it, stored compactly.
 *
 * Sources (see /work/research/bird-rr-semantics.md §2): confd `bird.cfg.template` / `bgp_processor.go`
 * (mesh, RR-client marking, skip self) and `client.go#updatePeersV1` (BGPPeer expansion, first-wins keys,
 * automatic reverse peerings).
 *
 * Semantics implemented:
 * - Mesh (`Mesh_<ip>`): when `nodeToNodeMeshEnabled`, between every two nodes with an IPv4 address; from
 *   Calico v3.21 a node with a (valid) route-reflector cluster ID is out of the mesh on both sides (v3.13-v3.20
 *   kept RRs in). The remote AS is the peer node's AS. Mesh sessions never carry `rr client`.
 * - BGPPeers, in the order given (the snapshot's: by name; confd's own order between two BGPPeers of the
 *   same pass is Go map order, i.e. undefined):
 *   - pass 1, global BGPPeers (no `node`/`nodeSelector`) first: key (peer IP) for every node (`Global_`);
 *     then node BGPPeers: key (local node, peer IP) (`Node_`); the first value for a key wins and a node key
 *     is dropped when a global key for the same IP exists. Remote side: `peerSelector` nodes (their IP,
 *     their AS, their cluster ID) or `peerIP` (the BGPPeer's `asNumber`, no cluster ID).
 *   - pass 2, automatic reverse peerings (unless `reversePeering: Manual`): the `peerSelector` nodes (or the
 *     node whose IP is `peerIP` and whose AS is the BGPPeer's, 0 meaning the global AS) get `Node_` keys to
 *     the local nodes (`nodeSelector`/`node`, all nodes for a global BGPPeer), with those nodes' AS/cluster ID.
 *   - a node skips a peer whose IP is its own.
 * - RR client: on node n, a protocol is `rr client` when its remote AS equals n's AS, n has a cluster ID, and
 *   the peer's cluster ID (known only for selector-derived and reverse peers; empty for `peerIP` peers) is
 *   empty or different.
 * - A session between two nodes is established only if both run BIRD, both configure a protocol to each
 *   other, and each side's configured remote AS is the other's AS.
 * - Mesh and BGPPeer protocols to the same IP are not de-duplicated by confd; BIRD matches incoming
 *   connections by IP to the first protocol in the file, which is the `Mesh_` one (the template renders the
 *   mesh first), so the mesh session is the established one and the BGPPeer protocol is a stuck duplicate.
 * - `peerIP` not belonging to any node: an external peer. It counts as a session (assumed up when the
 *   BGPPeer has an `asNumber`) but takes no part in node-to-node propagation. IPv6 peer IPs are ignored (this
 *   is the IPv4 model). Ports are ignored for node peers.
 * - An invalid selector makes confd skip the BGPPeer (Calico's API validation normally prevents it).
 * - Two nodes with the same IP: only the first keeps it (the others are treated as having no IP).
 *
 * Compactness: nodes are grouped into classes with the same signature (participation, AS, cluster ID, mesh
 * membership, and for every BGPPeer that creates node-to-node protocols, membership of its local, remote and
 * reverse-local sets). Everything confd renders between two nodes depends only on their classes, so the
 * topology stores protocols per ordered class pair; a class may be a clique (sessions among its members).
 * Node-specific peerings make singleton classes, which degrades gracefully to per-node detail.
 */
import type { BgpPeerInfo } from '../model/types.js';
import { ipv4Network, ipv4ToInt, isStrictIPv4, parseIPv4Cidr } from '../model/net.js';
import { parseSelectorCached, SelectorParseError, type Selector } from './selector.js';
import {
  birdClusterId,
  RR_LEAVES_MESH_SINCE_MINOR,
  ZERO_CLUSTER_ID,
  type BgpNode,
  type BgpState,
} from './state.js';

/** confd honours BGPPeer reversePeering: Manual from v3.30(.3) (automaticReversePeering in client.go). */
export const REVERSE_PEERING_SINCE_MINOR = 30;

/** BIRD protocol names Mesh_, Node_, Global_; CalicoNodeStatus types NodeMesh, NodePeer, GlobalPeer. */
export type SessionKind = 'mesh' | 'node' | 'global';

/**
 * The set of nodes a BGPPeer's side covers. Sets are shared: every BGPPeer with the same selector text gets
 * the same object, and `node: X` sets are interned per node, so the identity of a set can stand for its
 * content (computeTopology groups nodes by the sets they belong to).
 */
export class MemberSet {
  private list: number[] | undefined;
  private size: number | undefined;
  /** Membership of a set made from its list (`ofIndices`), built at the first `has`. */
  private lookup: Set<number> | undefined;
  private constructor(
    private readonly allNodes: boolean,
    private readonly one: number,
    private readonly bits: Uint8Array | undefined,
  ) {}
  private static readonly ALL = new MemberSet(true, -1, undefined);
  private static readonly NONE = new MemberSet(false, -1, undefined);
  static all(): MemberSet {
    return MemberSet.ALL;
  }
  static none(): MemberSet {
    return MemberSet.NONE;
  }
  static single(i: number): MemberSet {
    return new MemberSet(false, i, undefined);
  }
  static of(bits: Uint8Array): MemberSet {
    return new MemberSet(false, -1, bits);
  }
  /** From member indices in ascending order: O(members), not O(nodes) (a selector matching one rack). */
  static ofIndices(indices: number[]): MemberSet {
    const m = new MemberSet(false, -1, undefined);
    m.list = indices;
    m.size = indices.length;
    return m;
  }
  get isAll(): boolean {
    return this.allNodes;
  }
  has(i: number): boolean {
    if (this.allNodes || i === this.one) return true;
    if (this.bits !== undefined) return this.bits[i] === 1;
    if (this.list === undefined || this.one >= 0) return false;
    return (this.lookup ??= new Set(this.list)).has(i);
  }
  count(n: number): number {
    if (this.allNodes) return n;
    if (this.bits) return (this.size ??= this.bits.reduce((a, b) => a + b, 0));
    if (this.size !== undefined) return this.size;
    return this.one >= 0 ? 1 : 0;
  }
  /** Member indices in order (computed once; callers must not modify the array). */
  indices(n: number): readonly number[] {
    if (this.list) return this.list;
    if (this.allNodes) return Array.from({ length: n }, (_, i) => i);
    const out: number[] = [];
    if (this.bits) {
      for (let i = 0; i < n; i++) if (this.bits[i] === 1) out.push(i);
    } else if (this.one >= 0) out.push(this.one);
    return (this.list = out);
  }
}

export interface SelectorProblem {
  field: 'nodeSelector' | 'peerSelector';
  selector: string;
  message: string;
  position: number;
}

/** One BGPPeer as confd expands it. */
export interface PeerSpec {
  index: number;
  name: string;
  info: BgpPeerInfo;
  /** No `node` and no `nodeSelector`: applies to every node (`Global_` protocols). */
  global: boolean;
  /** Automatic reverse peerings (reversePeering is not `Manual`). */
  reverse: boolean;
  peerIP?: string | undefined;
  port?: number | undefined;
  asNumber?: number | undefined;
  /** Node whose IP is `peerIP`, or -1. */
  targetNode: number;
  /** `peerIP` outside the cluster's node IPs. */
  external: boolean;
  /** Why confd renders nothing for it (invalid selector, unusable peerIP, ...). */
  ignored?: string | undefined;
  selectorProblem?: SelectorProblem | undefined;
  /** Creates protocols between cluster nodes. */
  affectsNodes: boolean;
  /** Pass 1 local nodes (`node`, `nodeSelector`, or all). */
  local: MemberSet;
  /** Pass 1 remote nodes (with an IP): `peerSelector` matches, or the node whose IP is `peerIP`. */
  remote: MemberSet;
  /** Pass 2 local nodes: `peerSelector` matches, or the `peerIP` node when its AS matches. */
  revLocal: MemberSet;
  /** How many nodes each side matched (for "selector matches nothing"). */
  localMatches: number;
  remoteMatches: number;
}

/** A protocol one node configures toward another (or toward an external peer). */
export interface Proto {
  kind: SessionKind;
  remoteAS: number;
  /** The peer's cluster ID as confd knows it (selector-derived peers only). */
  rr?: string | undefined;
  /** Index of the BGPPeer that produced it (first wins), -1 for the mesh. */
  peer: number;
  /** `allow local as N` (N >= 1) on this protocol: see FLAG_ALLOW_LOCAL_AS. */
  allowLocalAs?: true | undefined;
}

/** What a node of class `a` configures toward a (different) node of class `b`. */
export interface ClassPair {
  mesh: boolean;
  /** The BGPPeer-derived protocol (after first-wins), if any. */
  peer?: Proto | undefined;
  /** Every BGPPeer that would produce a protocol for this pair (the winner first). */
  via: number[];
}

export interface NodeClass {
  id: number;
  members: number[];
  /** Members run BIRD (and have an IP). */
  participating: boolean;
  hasIp: boolean;
  asNumber: number;
  clusterId?: string | undefined;
  /** The cluster ID BIRD checks CLUSTER_LIST against (`birdClusterId`: 0.0.0.0 is the router ID). */
  birdClusterId?: string | undefined;
  meshMember: boolean;
  /**
   * Every member takes part in the very same BGPPeer objects (not only BGPPeers of the same shape): which
   * BGPPeer renders a protocol is then the same for all members. False for e.g. one BGPPeer per node.
   */
  uniform: boolean;
}

export interface ExtProto extends Proto {
  ip: string;
  port?: number | undefined;
}

export const FLAG_IBGP = 1;
/** Set on key a*k+b when a node of class a treats its peer of class b as a route-reflector client. */
export const FLAG_CLIENT = 2;
/**
 * Set on key a*k+b when a's protocol toward b has `allow local as N` (BGPPeer numAllowedLocalASNumbers N >= 1):
 * a accepts routes from b whose AS_PATH holds a's own AS. The model keeps the AS_PATH as a set, so N is read as
 * "any number" (a path holding the AS more than N times needs two eBGP round trips out of it and back).
 */
export const FLAG_ALLOW_LOCAL_AS = 4;

export interface Topology {
  state: BgpState;
  n: number;
  /** Per node: the IP the model uses (undefined when none, or when another node already has it). */
  ip: (string | undefined)[];
  participates: Uint8Array;
  nodeIndex: Map<string, number>;
  ipIndex: Map<string, number>;
  peers: PeerSpec[];
  classOf: Int32Array;
  classes: NodeClass[];
  /**
   * Ordered class pairs with a configured protocol, key `a * classes.length + b`. `via` and `peer.peer` are
   * those of the two representatives (the first members); `between` gives them for any two nodes.
   */
  pairs: Map<number, ClassPair>;
  /** Per class a: the classes b with a configured protocol from a to b (ascending). */
  pairTargets: number[][];
  /** The BGPPeer protocol node x configures toward node y, and every BGPPeer producing it (winner first). */
  between: (x: number, y: number) => { peer?: Proto | undefined; via: number[] };
  /** Established sessions between classes (neighbour class ids; a class lists itself when it is a clique). */
  adj: number[][];
  /** Per established ordered class pair: FLAG_IBGP | FLAG_CLIENT. */
  flags: Map<number, number>;
  /** External protocols every participating node has (global BGPPeers with an external peerIP). */
  globalExternals: ExtProto[];
  /** External protocols of single nodes. */
  nodeExternals: Map<number, ExtProto[]>;
  /** Things the model noticed and worked around (duplicate IPs, ignored BGPPeers). */
  problems: string[];
  /**
   * bird.cfg files BIRD refuses (`bird -p` fails, so confd keeps the node's last good config, and a calico-node
   * that restarts has no BGP at all): the model gives those nodes no session.
   */
  refused: RefusedConfig[];
  /** Per node: 1 when its bird.cfg is refused (above): it has no session in the model. */
  isolated: Uint8Array;
  /**
   * Node-to-node mesh pairs of different AS numbers whose sessions never come up: confd renders `Mesh_`
   * protocols without `multihop`, and BIRD's eBGP then waits for a directly connected neighbour. `pairs` is how
   * many such node pairs there are; `example` one of them.
   */
  meshNotConnected: { pairs: number; example?: [string, string] | undefined };
}

/** A bird.cfg BIRD refuses, and why. */
export interface RefusedConfig {
  /** `peer-as`: a peerIP BGPPeer without asNumber (`neighbor X as 0;`); `duplicate-ip`: two mesh nodes share an IP. */
  kind: 'peer-as' | 'duplicate-ip';
  /** The BGPPeer (peer-as) or the IP (duplicate-ip). */
  cause: string;
  /** The nodes whose configs are refused. */
  nodes: string[];
  /** duplicate-ip: the nodes that share the IP. */
  sharing?: string[] | undefined;
}

/** Per BGPPeer object (parsed once per object): a BGPPeer per node makes thousands at every plan step. */
const peerIPCache = new WeakMap<BgpPeerInfo, { ip?: string; port?: number; v6?: boolean }>();

function peerIPOf(info: BgpPeerInfo & { peerIP: string }): { ip?: string; port?: number; v6?: boolean } {
  let p = peerIPCache.get(info);
  if (!p) peerIPCache.set(info, (p = parsePeerIP(info.peerIP)));
  return p;
}

function parsePeerIP(raw: string): { ip?: string; port?: number; v6?: boolean } {
  const s = raw.trim();
  const m4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(s);
  if (m4) {
    if (!isStrictIPv4(m4[1]!)) return {};
    return { ip: m4[1], port: m4[2] !== undefined ? Number(m4[2]) : undefined };
  }
  if (s.includes(':')) return { v6: true };
  return {};
}

function trySel(
  text: string,
  field: 'nodeSelector' | 'peerSelector',
): { sel: Selector; problem?: undefined } | { sel?: undefined; problem: SelectorProblem } {
  try {
    return { sel: parseSelectorCached(text) };
  } catch (e) {
    if (e instanceof SelectorParseError) {
      return { problem: { field, selector: text, message: e.message.split('\n')[0]!, position: e.position } };
    }
    throw e;
  }
}

/**
 * Per label key, the nodes by value: a selector `key == 'value'` (one per rack, per zone) finds its nodes
 * without evaluating it on every node, which made a BGPPeer per rack O(racks x nodes).
 */
function labelIndex(state: BgpState): (key: string, value: string) => readonly number[] {
  const byKey = new Map<string, Map<string, number[]>>();
  return (key, value) => {
    let byValue = byKey.get(key);
    if (!byValue) {
      byKey.set(key, (byValue = new Map()));
      state.nodes.forEach((node, i) => {
        // own string values only, as the compiled selector sees them
        const x = Object.hasOwn(node.labels, key) ? node.labels[key] : undefined;
        if (typeof x !== 'string') return;
        const list = byValue!.get(x);
        if (list) list.push(i);
        else byValue!.set(x, [i]);
      });
    }
    return byValue.get(value) ?? [];
  };
}

function matchSet(sel: Selector, state: BgpState, requireIp: (i: number) => boolean): MemberSet {
  const bits = new Uint8Array(state.nodes.length);
  state.nodes.forEach((node, i) => {
    if (requireIp(i) && sel.matches(node.labels)) bits[i] = 1;
  });
  return MemberSet.of(bits);
}

/**
 * Expanded BGPPeers that depend only on the node indexes and their own position: a ToR BGPPeer per node
 * (`node: X`, an external peerIP) is expanded once per plan, not at every step.
 */
const specCache = new WeakMap<BgpPeerInfo, { idx: NodeIndexes; index: number; spec: PeerSpec }>();

/** Expands the BGPPeers (selectors evaluated once per node). */
function expandPeers(state: BgpState, idx: NodeIndexes, problems: string[]): PeerSpec[] {
  const { ip, nodeIndex, ipIndex } = idx;
  const n = state.nodes.length;
  const hasIp = (i: number): boolean => ip[i] !== undefined;
  const any = (): boolean => true;
  // One set per selector text and per node: BGPPeers written per node share their peerSelector's set, and
  // each selector is evaluated once per node however many BGPPeers use it.
  const setCache = new Map<string, MemberSet>();
  const byLabel = labelIndex(state);
  const cachedMatch = (sel: Selector, text: string, withIp: boolean): MemberSet => {
    const key = `${withIp ? 'ip' : 'any'}|${text}`;
    let m = setCache.get(key);
    if (!m) {
      const ast = sel.ast;
      m =
        ast.kind === 'eq'
          ? MemberSet.ofIndices(byLabel(ast.key, ast.value).filter(withIp ? hasIp : any))
          : matchSet(sel, state, withIp ? hasIp : any);
      setCache.set(key, m);
    }
    return m;
  };
  const singles = new Map<number, MemberSet>();
  const single = (i: number): MemberSet => {
    let m = singles.get(i);
    if (!m) singles.set(i, (m = MemberSet.single(i)));
    return m;
  };
  return state.peers.map((info, index): PeerSpec => {
    const hit = specCache.get(info);
    if (hit && hit.idx === idx && hit.index === index) {
      if (hit.spec.ignored) problems.push(`BGPPeer ${info.name} ignored: ${hit.spec.ignored}`);
      return hit.spec;
    }
    const spec: PeerSpec = {
      index,
      name: info.name,
      info,
      global: info.node === undefined && info.nodeSelector === undefined,
      // reversePeering: Manual is read by confd from v3.30.3 (automaticReversePeering); before v3.30 every
      // BGPPeer has its automatic reverse peering (v3.30.0-3.30.2 are read as later ones: the version is known to
      // the minor only, and reading Manual there can only report a session down that is up)
      reverse:
        state.calicoMinor < REVERSE_PEERING_SINCE_MINOR || (info.reversePeering ?? 'Auto') !== 'Manual',
      asNumber: info.asNumber,
      targetNode: -1,
      external: false,
      affectsNodes: false,
      local: MemberSet.none(),
      remote: MemberSet.none(),
      revLocal: MemberSet.none(),
      localMatches: 0,
      remoteMatches: 0,
    };
    // Local side: nodeSelector before node when both are set (confd client.go updatePeersV1 reads the selector
    // first; Calico's validation forbids both, but a crd.projectcalico.org write is not validated)
    if (info.nodeSelector !== undefined) {
      const r = trySel(info.nodeSelector, 'nodeSelector');
      if (r.sel) spec.local = cachedMatch(r.sel, info.nodeSelector, false);
      else spec.selectorProblem = r.problem;
    } else if (info.node !== undefined) {
      const i = nodeIndex.get(info.node);
      spec.local = i === undefined ? MemberSet.none() : single(i);
    } else {
      spec.local = MemberSet.all();
    }
    spec.localMatches = spec.local.count(n);
    // Remote side.
    if (info.peerSelector !== undefined) {
      const r = trySel(info.peerSelector, 'peerSelector');
      if (r.sel) {
        spec.remote = cachedMatch(r.sel, info.peerSelector, true);
        spec.revLocal = cachedMatch(r.sel, info.peerSelector, false);
        spec.remoteMatches = spec.remote.count(n);
        spec.affectsNodes = true;
      } else {
        spec.selectorProblem ??= r.problem;
      }
    } else if (info.peerIP !== undefined) {
      const p = peerIPOf(info as BgpPeerInfo & { peerIP: string });
      if (p.ip === undefined) {
        spec.ignored = p.v6
          ? 'IPv6 peerIP (this is the IPv4 model)'
          : `peerIP ${info.peerIP} is not an IP address`;
      } else {
        spec.peerIP = p.ip;
        spec.port = p.port;
        const t = ipIndex.get(p.ip);
        if (t === undefined) {
          spec.external = true;
          spec.remoteMatches = 1;
        } else {
          spec.targetNode = t;
          spec.remote = single(t);
          spec.remoteMatches = 1;
          spec.affectsNodes = true;
          const want =
            info.asNumber === undefined || info.asNumber === 0 ? state.globalAsNumber : info.asNumber;
          spec.revLocal = state.nodes[t]!.asNumber === want ? single(t) : MemberSet.none();
        }
      }
    } else {
      spec.ignored = 'neither peerIP nor peerSelector is set';
    }
    if (spec.selectorProblem) {
      spec.ignored = `invalid ${spec.selectorProblem.field}: ${spec.selectorProblem.message}`;
      spec.local = MemberSet.none();
      spec.remote = MemberSet.none();
      spec.revLocal = MemberSet.none();
      spec.affectsNodes = false;
      spec.external = false;
    }
    if (spec.ignored) problems.push(`BGPPeer ${info.name} ignored: ${spec.ignored}`);
    // without selectors, and not toward a node (whose AS decides the reverse side), it depends on nothing else
    if (info.nodeSelector === undefined && info.peerSelector === undefined && spec.targetNode < 0)
      specCache.set(info, { idx, index, spec });
    return spec;
  });
}

/** The last few topologies by state object (a WeakMap would keep one alive per plan step's snapshot). */
const topologyCache: { state: BgpState; topology: Topology }[] = [];
const TOPOLOGY_CACHE_SIZE = 2;

/**
 * The topology of a state, computed once for the last few state objects (states are never modified:
 * planners derive new ones), so `status`, the findings, the verifier and a planner's steps share it.
 */
export function computeTopology(state: BgpState): Topology {
  const hit = topologyCache.find((e) => e.state === state);
  if (hit) return hit.topology;
  const topology = buildTopology(state);
  topologyCache.push({ state, topology });
  if (topologyCache.length > TOPOLOGY_CACHE_SIZE) topologyCache.shift();
  return topology;
}

interface NodeIndexes {
  nodes: readonly BgpNode[];
  nodeIndex: Map<string, number>;
  ipIndex: Map<string, number>;
  /** Per node: its IP, unless another node has it already. */
  ip: (string | undefined)[];
  duplicates: string[];
}

/** The last indexes built: a plan's states differ in a few nodes' roles, not in the nodes' names and IPs. */
let lastIndexes: NodeIndexes | undefined;

/** Nodes by name and by IP (shared with the previous topology when every node has the same name and IP). */
function indexNodes(nodes: readonly BgpNode[]): NodeIndexes {
  const last = lastIndexes;
  if (last && last.nodes.length === nodes.length) {
    let same = true;
    for (let i = 0; i < nodes.length && same; i++)
      same = nodes[i]!.name === last.nodes[i]!.name && nodes[i]!.ip === last.nodes[i]!.ip;
    if (same) return last;
  }
  const nodeIndex = new Map<string, number>();
  const ipIndex = new Map<string, number>();
  const ip: (string | undefined)[] = new Array<string | undefined>(nodes.length);
  const duplicates: string[] = [];
  nodes.forEach((node, i) => {
    if (!nodeIndex.has(node.name)) nodeIndex.set(node.name, i);
    let addr = node.ip;
    if (addr !== undefined) {
      const other = ipIndex.get(addr);
      if (other !== undefined) {
        duplicates.push(
          `nodes ${nodes[other]!.name} and ${node.name} have the same IP ${addr}; ${node.name} is left out`,
        );
        addr = undefined;
      } else ipIndex.set(addr, i);
    }
    ip[i] = addr;
  });
  return (lastIndexes = { nodes, nodeIndex, ipIndex, ip, duplicates });
}

/**
 * Builds the topology. O(nodes + sum of the BGPPeers' set sizes) plus O(candidate class pairs x the
 * per-node BGPPeer lists of their representatives): linear in the nodes for selector BGPPeers and for one
 * BGPPeer per node alike.
 */
function buildTopology(state: BgpState): Topology {
  const n = state.nodes.length;
  const indexes = indexNodes(state.nodes);
  const { nodeIndex, ipIndex, ip, duplicates } = indexes;
  const problems: string[] = [...duplicates];
  const participates = new Uint8Array(n);
  for (let i = 0; i < n; i++) participates[i] = state.nodes[i]!.participates && ip[i] !== undefined ? 1 : 0;

  const peers = expandPeers(state, indexes, problems);
  const affecting = peers.filter((p) => p.affectsNodes);
  const rrInMesh = state.calicoMinor < RR_LEAVES_MESH_SINCE_MINOR;
  const meshMember = (i: number): boolean =>
    state.meshEnabled && ip[i] !== undefined && (rrInMesh || state.nodes[i]!.clusterId === undefined);
  // mesh pairs of different AS numbers need a connected neighbour: the nodes' subnets join their signature then
  const asOfMesh = new Set<number>();
  for (let i = 0; i < n && asOfMesh.size < 2; i++) if (meshMember(i)) asOfMesh.add(state.nodes[i]!.asNumber);
  const ebgpMesh = asOfMesh.size > 1;

  // Per node, the BGPPeers it takes part in (index order): as a local node (non-global BGPPeers), as a
  // remote node, as a reverse-local node (reverse BGPPeers). O(sum of the set sizes).
  // (one shared empty list until a node has an entry: most nodes have none in two of the three)
  const localOf: number[][] = new Array<number[]>(n).fill(NO_PEERS);
  const remoteOf: number[][] = new Array<number[]>(n).fill(NO_PEERS);
  const revOf: number[][] = new Array<number[]>(n).fill(NO_PEERS);
  const add = (lists: number[][], i: number, p: number): void => {
    const l = lists[i]!;
    if (l === NO_PEERS) lists[i] = [p];
    else l.push(p);
  };
  const globalPeers = affecting.filter((p) => p.global);
  const globalReverse = globalPeers.filter((p) => p.reverse);
  for (const p of affecting) {
    if (!p.global) for (const i of p.local.indices(n)) add(localOf, i, p.index);
    for (const i of p.remote.indices(n)) add(remoteOf, i, p.index);
    if (p.reverse) for (const i of p.revLocal.indices(n)) add(revOf, i, p.index);
  }
  const cluster = (i: number): string | undefined => state.nodes[i]!.clusterId;
  // numAllowedLocalASNumbers: confd (client.go updatePeersV1, v3.31) sets `allow local as N` only on the
  // protocols of a peerIP BGPPeer's own pass, never of a peerSelector one nor of reverse peerings (checked
  // against confd's output in test/integration/confd.test.ts)
  const fwd = (
    p: PeerSpec,
    m: number,
  ): { remoteAS: number; rr: string | undefined; allowLocalAs?: true | undefined } =>
    p.targetNode >= 0
      ? {
          remoteAS: p.asNumber ?? 0,
          rr: undefined,
          ...(allowsLocalAs(p.info) ? { allowLocalAs: true as const } : {}),
        }
      : { remoteAS: state.nodes[m]!.asNumber, rr: cluster(m) };
  /**
   * The BGPPeer protocol node x configures toward node y (x != y, y has an IP), and every BGPPeer that
   * would produce it, the winner first: global BGPPeers, then node BGPPeers, then reverse peerings, each in
   * order. Each part walks the shorter of the two per-node lists. O(min list lengths).
   */
  const between = (x: number, y: number): { peer?: Proto | undefined; via: number[] } => {
    const via: number[] = [];
    let peer: Proto | undefined;
    const rem = remoteOf[y]!;
    if (globalPeers.length <= rem.length) {
      for (const p of globalPeers) if (p.remote.has(y)) via.push(p.index);
    } else for (const j of rem) if (peers[j]!.global) via.push(j);
    if (via.length > 0) peer = { kind: 'global', ...fwd(peers[via[0]!]!, y), peer: via[0]! };
    const nodeStart = via.length;
    const loc = localOf[x]!;
    if (loc.length <= rem.length) {
      for (const j of loc) if (peers[j]!.remote.has(y)) via.push(j);
    } else for (const j of rem) if (!peers[j]!.global && peers[j]!.local.has(x)) via.push(j);
    if (peer === undefined && via.length > nodeStart)
      peer = { kind: 'node', ...fwd(peers[via[nodeStart]!]!, y), peer: via[nodeStart]! };
    const revStart = via.length;
    const rv = revOf[x]!;
    const ly = localOf[y]!;
    if (rv.length <= ly.length + globalReverse.length) {
      for (const j of rv) if (peers[j]!.local.has(y)) via.push(j);
    } else {
      const found: number[] = [];
      for (const j of ly) if (peers[j]!.reverse && peers[j]!.revLocal.has(x)) found.push(j);
      for (const p of globalReverse) if (p.revLocal.has(x)) found.push(p.index);
      found.sort((u, v) => u - v);
      via.push(...found);
    }
    if (peer === undefined && via.length > revStart)
      peer = { kind: 'node', remoteAS: state.nodes[y]!.asNumber, rr: cluster(y), peer: via[revStart]! };
    return { peer, via };
  };

  // External peers.
  const globalExternals: ExtProto[] = [];
  const globalKeys = new Set<string>();
  const extKey = (p: PeerSpec): string => `${p.peerIP}|${p.port ?? ''}`;
  for (const p of peers) {
    if (!p.external || !p.global || globalKeys.has(extKey(p))) continue;
    globalKeys.add(extKey(p));
    globalExternals.push({
      kind: 'global',
      remoteAS: p.asNumber ?? 0,
      peer: p.index,
      ip: p.peerIP!,
      port: p.port,
    });
  }
  const nodeExternals = nodeExternalsOf(
    peers.filter((p) => p.external && !p.global && !globalKeys.has(extKey(p))),
    n,
  );

  // nodes whose bird.cfg BIRD refuses keep no session in the model (its last good config is stale: no change
  // reaches it, and a restart leaves it without BGP), so every pair with them is unreachable, and plans say so
  const refused = refusedConfigs(state, peers, rrInMesh, participates, duplicates.length > 0, {
    localOf,
    globalPeers,
    between,
    globalExternals,
    nodeExternals,
  });
  const isolated = new Uint8Array(n);
  for (const r of refused) for (const name of r.nodes) isolated[nodeIndex.get(name)!] = 1;

  // Signatures -> classes. Two nodes are in one class when they take part in BGPPeers of the same shape in
  // the same order: for every BGPPeer (by index), the same kind (global, reverse, peerIP's AS), the same
  // role, and the same set on the other side (sets are shared objects, see MemberSet). Which BGPPeer object
  // it is does not matter, so a BGPPeer per node (`node: X` + its zone's peerSelector) puts all clients of a
  // zone in one class. Then for any third node y, x and x' configure the same protocol toward y and y the
  // same toward both; with three or more members that makes the class uniform inside too; a class of two is
  // split when its members' protocols toward each other differ. Nodes that also share the very same BGPPeer
  // objects are `uniform` (which BGPPeer renders a protocol is then the same for every member).
  const setIds = new Map<MemberSet, number>();
  const setId = (m: MemberSet): number => {
    let id = setIds.get(m);
    if (id === undefined) setIds.set(m, (id = setIds.size));
    return id;
  };
  const kindIds = new Map<string, number>();
  const kindOf = (p: PeerSpec): number => {
    // (`allow local as` is part of the shape: members joined through BGPPeers that differ in it differ)
    const key = `${p.global ? 1 : 0}${p.reverse ? 1 : 0}${p.targetNode >= 0 ? `t${p.asNumber ?? 0}${allowsLocalAs(p.info) ? 'a' : ''}` : ''}`;
    let id = kindIds.get(key);
    if (id === undefined) kindIds.set(key, (id = kindIds.size));
    return id;
  };
  const roleL = new Map<number, string>();
  const roleR = new Map<number, string>();
  const roleV = new Map<number, string>();
  for (const p of affecting) {
    const kd = kindOf(p);
    roleL.set(p.index, `L${kd}.${setId(p.remote)}.${p.reverse ? setId(p.revLocal) : '-'}`);
    roleR.set(p.index, `R${kd}.${setId(p.local)}`);
    roleV.set(p.index, `V${kd}.${setId(p.local)}`);
  }
  const sigOf = (i: number): { sig: string; exact: string } => {
    const node = state.nodes[i]!;
    const roles: string[] = [
      `${participates[i]}${ip[i] !== undefined ? 1 : 0}${meshMember(i) ? 1 : 0}|${node.asNumber}|${node.clusterId ?? ''}|${node.clusterId === ZERO_CLUSTER_ID ? birdClusterId(node) : ''}|${ebgpMesh && meshMember(i) ? (node.net ?? '') : ''}|${isolated[i]}|`,
    ];
    for (const j of localOf[i]!) roles.push(roleL.get(j)!);
    for (const j of remoteOf[i]!) roles.push(roleR.get(j)!);
    for (const j of revOf[i]!) roles.push(roleV.get(j)!);
    return {
      sig: roles.join(','),
      exact: `${localOf[i]!.join(',')}|${remoteOf[i]!.join(',')}|${revOf[i]!.join(',')}`,
    };
  };
  const groups = new Map<string, number[]>();
  const exactOf: string[] = new Array<string>(n);
  const keyOf: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const { sig, exact } = sigOf(i);
    exactOf[i] = exact;
    keyOf[i] = sig;
    const g = groups.get(sig);
    if (g) g.push(i);
    else groups.set(sig, [i]);
  }
  const sameProto = (p: Proto | undefined, q: Proto | undefined): boolean =>
    p === q ||
    (p !== undefined && q !== undefined && p.kind === q.kind && p.remoteAS === q.remoteAS && p.rr === q.rr);
  for (const [sig, g] of groups) {
    if (g.length !== 2 || ip[g[0]!] === undefined) continue;
    const [x, y] = g as [number, number];
    if (!sameProto(between(x, y).peer, between(y, x).peer)) keyOf[y] = `${sig}#${y}`;
  }
  groups.clear();

  const classOf = new Int32Array(n);
  const classes: NodeClass[] = [];
  const bySig = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const node = state.nodes[i]!;
    const sig = keyOf[i]!;
    let c = bySig.get(sig);
    if (c === undefined) {
      c = classes.length;
      bySig.set(sig, c);
      classes.push({
        id: c,
        members: [],
        participating: participates[i] === 1,
        hasIp: ip[i] !== undefined,
        asNumber: node.asNumber,
        clusterId: node.clusterId,
        birdClusterId: birdClusterId(node),
        meshMember: meshMember(i),
        uniform: true,
      });
    }
    const cl = classes[c]!;
    if (cl.members.length > 0 && exactOf[cl.members[0]!] !== exactOf[i]) cl.uniform = false;
    classOf[i] = c;
    cl.members.push(i);
  }
  const k = classes.length;

  // Candidate ordered class pairs: wherever some rule could render a protocol.
  const candidates = new Set<number>();
  const addBlock = (as: readonly number[], bs: readonly number[]): void => {
    for (const a of as) for (const b of bs) candidates.add(a * k + b);
  };
  const classMemo = [new Map<MemberSet, number[]>(), new Map<MemberSet, number[]>()];
  const classesOf = (m: MemberSet, needIp: boolean): number[] => {
    const memo = classMemo[needIp ? 1 : 0]!;
    let out = memo.get(m);
    if (out) return out;
    if (m.isAll) out = classes.filter((c) => !needIp || c.hasIp).map((c) => c.id);
    else {
      const seen = new Set<number>();
      for (const i of m.indices(n)) if (!needIp || ip[i] !== undefined) seen.add(classOf[i]!);
      out = [...seen];
    }
    memo.set(m, out);
    return out;
  };
  const meshClasses = classes.filter((c) => c.meshMember).map((c) => c.id);
  addBlock(meshClasses, meshClasses);
  const done = new Set<string>();
  for (const p of affecting) {
    const blocks: [MemberSet, MemberSet][] = [[p.local, p.remote]];
    if (p.reverse) blocks.push([p.revLocal, p.local]);
    for (const [from, to] of blocks) {
      const key = `${setId(from)}>${setId(to)}`;
      if (done.has(key)) continue;
      done.add(key);
      addBlock(classesOf(from, false), classesOf(to, true));
    }
  }
  for (const key of [...candidates]) candidates.add((key % k) * k + Math.floor(key / k));

  const pairs = new Map<number, ClassPair>();
  const pairOf = (a: number, b: number): ClassPair | undefined => {
    // Representatives: distinct nodes, both may come from the same class.
    const ca = classes[a]!;
    const cb = classes[b]!;
    const x = ca.members[0]!;
    const y = a === b ? cb.members[1] : cb.members[0];
    if (y === undefined || ip[y] === undefined) return undefined;
    const mesh = meshMember(x) && meshMember(y);
    const { peer, via } = between(x, y);
    if (!mesh && peer === undefined) return undefined;
    return { mesh, peer, via };
  };
  const pairTargets: number[][] = classes.map(() => []);
  for (const key of candidates) {
    const pr = pairOf(Math.floor(key / k), key % k);
    if (pr) {
      pairs.set(key, pr);
      pairTargets[Math.floor(key / k)]!.push(key % k);
    }
  }
  for (const list of pairTargets) list.sort((u, v) => u - v);

  // Established sessions.
  const meshNotConnected: Topology['meshNotConnected'] = { pairs: 0 };
  const allowLocalAs = (p: Proto): number => (p.allowLocalAs ? FLAG_ALLOW_LOCAL_AS : 0);
  const adj: number[][] = classes.map(() => []);
  const flags = new Map<number, number>();
  for (const [key, pr] of pairs) {
    const a = Math.floor(key / k);
    const b = key % k;
    if (b < a) continue;
    const back = pairs.get(b * k + a);
    if (!back) continue;
    const ca = classes[a]!;
    const cb = classes[b]!;
    if (!ca.participating || !cb.participating) continue;
    if (isolated[ca.members[0]!] || isolated[cb.members[0]!]) continue;
    const pa = effectiveProto(pr, cb);
    const pb = effectiveProto(back, ca);
    if (pa.remoteAS !== cb.asNumber || pb.remoteAS !== ca.asNumber) continue;
    if (pa.kind === 'mesh' && ca.asNumber !== cb.asNumber) {
      // (members of a class share their subnet when the mesh has several AS numbers: see the signature)
      const x = ca.members[0]!;
      const y = cb.members[0]!;
      if (!connected(state.nodes[x]!, state.nodes[y]!)) {
        meshNotConnected.pairs += ca.members.length * cb.members.length;
        meshNotConnected.example ??= [state.nodes[x]!.name, state.nodes[y]!.name];
        continue;
      }
    }
    const ibgp = ca.asNumber === cb.asNumber ? FLAG_IBGP : 0;
    flags.set(key, ibgp | (isClient(pa, ca) ? FLAG_CLIENT : 0) | allowLocalAs(pa));
    flags.set(b * k + a, ibgp | (isClient(pb, cb) ? FLAG_CLIENT : 0) | allowLocalAs(pb));
    adj[a]!.push(b);
    if (a !== b) adj[b]!.push(a);
  }

  return {
    state,
    n,
    ip,
    participates,
    nodeIndex,
    ipIndex,
    peers,
    classOf,
    classes,
    pairs,
    pairTargets,
    between,
    adj,
    flags,
    globalExternals,
    nodeExternals,
    problems,
    refused,
    isolated,
    meshNotConnected,
  };
}

/** Whether BIRD on `a` and on `b` each sees the other on a connected subnet (unknown subnets: assumed so). */
function connected(a: BgpNode, b: BgpNode): boolean {
  if (a.net === undefined || b.net === undefined || a.ip === undefined || b.ip === undefined) return true;
  return inIPv4Net(b.ip, a.net) && inIPv4Net(a.ip, b.net);
}

function inIPv4Net(ip: string, net: string): boolean {
  const c = parseIPv4Cidr(net);
  const addr = ipv4ToInt(ip);
  return c !== undefined && addr !== undefined && ipv4Network(addr, c.prefix) === net;
}

/**
 * The bird.cfg files BIRD refuses to load (confd's `bird -p` check fails; BIRD's own messages in
 * test/integration/confd.test.ts):
 * - a BGPPeer with a peerIP and no asNumber: confd renders `neighbor X as 0;` on every node the BGPPeer selects
 *   ("Remote AS number must be set"); Calico's validation does not require the field;
 * - two nodes with one IPv4Address, neither a route reflector, while the mesh is on: every other mesh node
 *   renders two `protocol bgp Mesh_<ip>` ("Symbol already defined"); the two themselves skip the IP as their own.
 */
function refusedConfigs(
  state: BgpState,
  peers: readonly PeerSpec[],
  rrInMesh: boolean,
  participates: Uint8Array,
  duplicateIps: boolean,
  of: {
    localOf: number[][];
    globalPeers: readonly PeerSpec[];
    between: (x: number, y: number) => { peer?: Proto | undefined };
    globalExternals: readonly ExtProto[];
    nodeExternals: ReadonlyMap<number, ExtProto[]>;
  },
): RefusedConfig[] {
  const out: RefusedConfig[] = [];
  const n = state.nodes.length;
  // (built for every state a plan verifies: nothing per node unless some BGPPeer could render `as 0`, nor per
  // IP unless two nodes share one)
  const as0 = (p: PeerSpec): boolean =>
    p.peerIP !== undefined && !((p.asNumber ?? 0) > 0) && p.ignored === undefined;
  const anyAs0 = peers.some(as0);
  // `as 0` where it is what confd renders: the protocol that wins its (node, IP) key (a global BGPPeer's
  // protocol to the same IP, or an earlier one, hides a later one)
  const byCause = new Map<string, string[]>();
  const refuse = (cause: string, i: number): void => {
    const l = byCause.get(cause);
    if (l) l.push(state.nodes[i]!.name);
    else byCause.set(cause, [state.nodes[i]!.name]);
  };
  const globalAs0 = of.globalExternals.find((e) => e.remoteAS === 0);
  const toNodes = (list: readonly PeerSpec[]): PeerSpec[] => list.filter((p) => as0(p) && p.targetNode >= 0);
  const globalToNodes = toNodes(of.globalPeers);
  for (let i = 0; anyAs0 && i < n; i++) {
    if (!participates[i]) continue;
    const ext = globalAs0 ?? of.nodeExternals.get(i)?.find((e) => e.remoteAS === 0);
    if (ext) {
      refuse(peers[ext.peer]!.name, i);
      continue;
    }
    for (const p of [...globalToNodes, ...toNodes(of.localOf[i]!.map((j) => peers[j]!))]) {
      if (p.targetNode === i) continue;
      const eff = of.between(i, p.targetNode).peer;
      if (eff && eff.kind !== 'mesh' && eff.remoteAS === 0) {
        refuse(peers[eff.peer]?.name ?? p.name, i);
        break;
      }
    }
  }
  for (const [cause, nodes] of byCause) out.push({ kind: 'peer-as', cause, nodes });
  if (state.meshEnabled && duplicateIps) {
    const byIp = new Map<string, number[]>();
    state.nodes.forEach((node, i) => {
      // a route reflector's own entry is skipped in the mesh loop (`Skipping ... as it is a route reflector`)
      if (node.ip === undefined || (!rrInMesh && node.clusterId !== undefined)) return;
      const l = byIp.get(node.ip);
      if (l) l.push(i);
      else byIp.set(node.ip, [i]);
    });
    for (const [addr, sharing] of byIp) {
      if (sharing.length < 2) continue;
      const nodes = state.nodes
        .filter(
          (node, i) => participates[i] && node.ip !== addr && (rrInMesh || node.clusterId === undefined),
        )
        .map((node) => node.name);
      if (nodes.length)
        out.push({
          kind: 'duplicate-ip',
          cause: addr,
          nodes,
          sharing: sharing.map((i) => state.nodes[i]!.name),
        });
    }
  }
  return out;
}

/** The last node externals built, and from which expanded BGPPeers (shared while they are the same). */
let lastExternals: { specs: PeerSpec[]; n: number; map: Map<number, ExtProto[]> } | undefined;

/** Per node, the external protocols of the node BGPPeers `specs` (in order; first wins per IP and port). */
function nodeExternalsOf(specs: PeerSpec[], n: number): Map<number, ExtProto[]> {
  const last = lastExternals;
  if (
    last &&
    last.n === n &&
    last.specs.length === specs.length &&
    last.specs.every((p, i) => p === specs[i])
  )
    return last.map;
  const map = new Map<number, ExtProto[]>();
  for (const p of specs) {
    for (const i of p.local.indices(n)) {
      // lists are short (a node's own external peers)
      const list = map.get(i);
      if (!list) map.set(i, [nodeExternalOf(p)]);
      else if (!list.some((e) => e.ip === p.peerIP && e.port === p.port)) list.push(nodeExternalOf(p));
    }
  }
  lastExternals = { specs, n, map };
  return map;
}

/** The per-node BGPPeer list of a node that has none (shared, never modified). */
const NO_PEERS: number[] = [];

/** A node BGPPeer's external protocol: one object per expanded BGPPeer (shared while it is, see specCache). */
const externalCache = new WeakMap<PeerSpec, ExtProto>();

function nodeExternalOf(p: PeerSpec): ExtProto {
  let e = externalCache.get(p);
  if (!e)
    externalCache.set(
      p,
      (e = { kind: 'node', remoteAS: p.asNumber ?? 0, peer: p.index, ip: p.peerIP!, port: p.port }),
    );
  return e;
}

/** The protocol that carries the session: the mesh one when both exist (rendered first, matched first). */
/** A BGPPeer with numAllowedLocalASNumbers >= 1 (`allow local as N` where confd renders it). */
function allowsLocalAs(p: BgpPeerInfo): boolean {
  return Number(p.spec['numAllowedLocalASNumbers'] ?? 0) > 0;
}

export function effectiveProto(pr: ClassPair, remote: NodeClass): Proto {
  if (pr.mesh) return { kind: 'mesh', remoteAS: remote.asNumber, rr: undefined, peer: -1 };
  return pr.peer!;
}

function isClient(p: Proto, local: NodeClass): boolean {
  return (
    p.kind !== 'mesh' &&
    local.clusterId !== undefined &&
    p.remoteAS === local.asNumber &&
    (p.rr === undefined || p.rr !== local.clusterId)
  );
}

// ---------------------------------------------------------------------------------------------------
// Queries

function classSize(t: Topology, c: number, sizes?: Int32Array): number {
  if (sizes) return sizes[c]!;
  const cl = t.classes[c]!;
  return cl.participating ? cl.members.length : 0;
}

/** Participating members per class (what propagation and counting use). */
export function classSizes(t: Topology): Int32Array {
  return Int32Array.from(t.classes, (c) => (c.participating ? c.members.length : 0));
}

/** External protocols node i configures (only counted for nodes running BIRD). */
export function externalsOf(t: Topology, i: number): ExtProto[] {
  return t.isolated[i] ? [] : renderedExternalsOf(t, i);
}

/** External protocols node i's bird.cfg has, whether or not BIRD loads it (expectedPeers lists them down). */
function renderedExternalsOf(t: Topology, i: number): ExtProto[] {
  const own = t.nodeExternals.get(i);
  return own ? [...t.globalExternals, ...own] : t.globalExternals;
}

function externalUp(p: ExtProto): boolean {
  return p.remoteAS > 0;
}

/** Established node-to-node sessions of a node of class c (for the given class sizes). */
export function nodeSessionsOfClass(t: Topology, c: number, sizes?: Int32Array): number {
  let s = 0;
  for (const b of t.adj[c]!) s += classSize(t, b, sizes) - (b === c ? 1 : 0);
  return s;
}

/** Established sessions between nodes. */
export function nodeSessionCount(t: Topology, sizes?: Int32Array): number {
  const k = t.classes.length;
  let total = 0;
  for (let a = 0; a < k; a++) {
    const sa = classSize(t, a, sizes);
    for (const b of t.adj[a]!) {
      if (b < a) continue;
      const sb = classSize(t, b, sizes);
      total += a === b ? (sa * (sa - 1)) / 2 : sa * sb;
    }
  }
  return total;
}

/**
 * Established sessions between nodes by kind (as the lower-indexed class configures it: mesh, node-specific
 * BGPPeer or global BGPPeer), and how many of them are iBGP sessions to a route-reflector client.
 */
export function nodeSessionsByKind(t: Topology): Record<SessionKind, number> & { rrClient: number } {
  const k = t.classes.length;
  const out = { mesh: 0, node: 0, global: 0, rrClient: 0 };
  for (let a = 0; a < k; a++) {
    const sa = classSize(t, a);
    for (const b of t.adj[a]!) {
      if (b < a) continue;
      const n = a === b ? (sa * (sa - 1)) / 2 : sa * classSize(t, b);
      const pr = t.pairs.get(a * k + b);
      if (!pr) continue;
      out[effectiveProto(pr, t.classes[b]!).kind] += n;
      const f = (t.flags.get(a * k + b) ?? 0) | (t.flags.get(b * k + a) ?? 0);
      if (f & FLAG_CLIENT) out.rrClient += n;
    }
  }
  return out;
}

/** Sessions to external peers (participating nodes, peers with an AS number). */
export function externalSessionCount(t: Topology): number {
  let total = 0;
  const g = t.globalExternals.filter(externalUp).length;
  for (let i = 0; i < t.n; i++) {
    if (t.participates[i] !== 1 || t.isolated[i]) continue;
    total += g + (t.nodeExternals.get(i)?.filter(externalUp).length ?? 0);
  }
  return total;
}

/** One external peer's sessions: the BGPPeer that renders them and the router's `ip` or `ip:port`. */
export interface ExternalSessions {
  sessions: number;
  peer: string;
  address: string;
}

/**
 * Sessions per external peer, keyed by BGPPeer name and `ip` or `ip:port` (NUL-separated), counted as
 * `externalSessionCount` does: a router outside the cluster learns pod routes only over these.
 */
export function externalSessionsByPeer(t: Topology): Map<string, ExternalSessions> {
  const out = new Map<string, ExternalSessions>();
  const names = new Map(t.peers.map((p) => [p.index, p.name]));
  const add = (p: ExtProto, n: number): void => {
    if (!externalUp(p) || n === 0) return;
    // per BGPPeer and address: two BGPPeers naming one router are two sets of sessions (a review)
    const peer = names.get(p.peer) ?? '';
    const address = p.port ? `${p.ip}:${p.port}` : p.ip;
    const key = `${peer}\u0000${address}`;
    const e = out.get(key);
    if (e) e.sessions += n;
    else out.set(key, { sessions: n, peer, address });
  };
  let participating = 0;
  for (let i = 0; i < t.n; i++) {
    if (t.participates[i] !== 1 || t.isolated[i]) continue;
    participating++;
    for (const p of t.nodeExternals.get(i) ?? []) add(p, 1);
  }
  for (const p of t.globalExternals) add(p, participating);
  return out;
}

/** Total established-able sessions: between nodes, plus to external peers. */
export function sessionCount(t: Topology): number {
  return nodeSessionCount(t) + externalSessionCount(t);
}

/** Sessions of one node (to nodes and external peers). */
export function sessionsOfNode(t: Topology, nodeIndex: number): number {
  if (t.participates[nodeIndex] !== 1) return 0;
  return nodeSessionsOfClass(t, t.classOf[nodeIndex]!) + externalsOf(t, nodeIndex).filter(externalUp).length;
}

export interface ExpectedPeer {
  peerName?: string | undefined;
  peerIP: string;
  port?: number | undefined;
  kind: SessionKind;
  /** Same AS on both ends (as this node configures it). */
  ibgp: boolean;
  remoteAS: number;
  /** This node marks the peer `rr client` (it reflects to it). */
  peerIsClient: boolean;
  /** The peer marks this node `rr client`. */
  weAreClient: boolean;
  /** What configured it: `node-to-node mesh` or BGPPeer names (the one that won first). */
  via: string[];
  /** Can reach Established (both sides configured, AS numbers agree, peer runs BIRD). */
  established: boolean;
  /** Why not, when it cannot. */
  problem?: string | undefined;
}

const MESH_VIA = 'node-to-node mesh';

function ipNum(s: string): number {
  return s.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

/**
 * The BGP peers `calicoctl node status` on this node lists. By default only the ones that can reach
 * Established (what a gate should wait for); `includeDown` adds protocols confd renders that cannot come up
 * (duplicates of mesh sessions, one-sided peerings, AS mismatches, peers not running BIRD), with `problem`.
 * External peers are assumed to be up when the BGPPeer has an asNumber. O(nodes).
 */
export function expectedPeers(
  t: Topology,
  nodeName: string,
  opts: { includeDown?: boolean } = {},
): ExpectedPeer[] {
  const i = t.nodeIndex.get(nodeName);
  if (i === undefined || t.participates[i] !== 1) return [];
  const k = t.classes.length;
  const a = t.classOf[i]!;
  const ca = t.classes[a]!;
  const me = t.state.nodes[i]!;
  const rows: ExpectedPeer[] = [];
  const peerName = (j: number): string => t.peers[j]!.name;
  // Only the classes this node configures protocols toward: O(rows).
  for (const b of t.pairTargets[a]!) {
    const pr = t.pairs.get(a * k + b)!;
    const cb = t.classes[b]!;
    const back = t.pairs.get(b * k + a);
    const eff = effectiveProto(pr, cb);
    const backEff = back ? effectiveProto(back, ca) : undefined;
    const flags = t.flags.get(a * k + b) ?? 0;
    const backFlags = t.flags.get(b * k + a) ?? 0;
    for (const m of cb.members) {
      if (m === i || t.ip[m] === undefined) continue;
      const other = t.state.nodes[m]!;
      let problem: string | undefined;
      if (!cb.participating)
        problem = `${other.name} does not run BIRD (not a Linux calico-node with an IPv4 address)`;
      else if (t.isolated[i] || t.isolated[m])
        problem = `BIRD refuses ${t.isolated[i] ? me.name : other.name}'s bird.cfg (BGP_CONFIG_REFUSED)`;
      else if (eff.remoteAS !== other.asNumber) {
        problem = `configured remote AS ${eff.remoteAS || '(none)'} but ${other.name} uses AS ${other.asNumber}`;
      } else if (!backEff) {
        problem = `${other.name} configures no session back to ${me.name} (one-sided peering, e.g. reversePeering: Manual without a mirror BGPPeer)`;
      } else if (backEff.remoteAS !== me.asNumber) {
        problem = `${other.name} expects AS ${backEff.remoteAS || '(none)'} but ${me.name} uses AS ${me.asNumber}`;
      } else if (eff.kind === 'mesh' && me.asNumber !== other.asNumber && !connected(me, other))
        problem = `eBGP in the mesh without multihop: ${other.name} (${other.net}) is not on ${me.name}'s subnet (${me.net})`;
      const established = problem === undefined;
      const dup = pr.mesh && pr.peer !== undefined && opts.includeDown === true;
      if (!established && !opts.includeDown) continue;
      // Which BGPPeers: those of this very pair (class members may owe the same protocol to different ones).
      const peerVia = pr.peer !== undefined ? t.between(i, m).via.map(peerName) : [];
      rows.push({
        peerName: other.name,
        peerIP: t.ip[m]!,
        kind: eff.kind,
        ibgp: eff.remoteAS === me.asNumber,
        remoteAS: eff.remoteAS,
        peerIsClient: established ? (flags & FLAG_CLIENT) !== 0 : isClient(eff, ca),
        weAreClient: established
          ? (backFlags & FLAG_CLIENT) !== 0
          : backEff !== undefined && isClient(backEff, cb),
        via: [...(pr.mesh ? [MESH_VIA] : []), ...peerVia],
        established,
        problem,
      });
      if (dup) {
        rows.push({
          peerName: other.name,
          peerIP: t.ip[m]!,
          kind: pr.peer!.kind,
          ibgp: pr.peer!.remoteAS === me.asNumber,
          remoteAS: pr.peer!.remoteAS,
          peerIsClient: isClient(pr.peer!, ca),
          weAreClient: false,
          via: peerVia,
          established: false,
          problem: `duplicates the Mesh_ session to ${t.ip[m]} (BIRD matches the peer's connection to the Mesh_ protocol)`,
        });
      }
    }
  }
  for (const e of renderedExternalsOf(t, i)) {
    const up = externalUp(e) && !t.isolated[i];
    if (!up && !opts.includeDown) continue;
    rows.push({
      peerIP: e.ip,
      port: e.port,
      kind: e.kind,
      ibgp: e.remoteAS === me.asNumber,
      remoteAS: e.remoteAS,
      peerIsClient: isClient(e, ca),
      weAreClient: false,
      via: [peerName(e.peer)],
      established: up,
      problem: up
        ? undefined
        : t.isolated[i]
          ? `BIRD refuses ${me.name}'s bird.cfg (BGP_CONFIG_REFUSED)`
          : `BGPPeer ${peerName(e.peer)} has no asNumber`,
    });
  }
  // decorate-sort-undecorate: the address is parsed once per row, not once per comparison
  const keyed = rows.map((r) => ({ r, k: ipNum(r.peerIP) }));
  keyed.sort((x, y) => x.k - y.k || (x.r.established === y.r.established ? 0 : x.r.established ? -1 : 1));
  return keyed.map((x) => x.r);
}

export interface RouteReflectorInfo {
  name: string;
  clusterId: string;
  /** Cluster nodes it treats as rr clients over established sessions. */
  clients: number;
  /** External peers it treats as rr clients. */
  externalClients: number;
  /** All its established sessions (nodes and external peers). */
  sessions: number;
  zone?: string | undefined;
  participates: boolean;
}

/** Nodes with a (valid) cluster ID, with their client and session counts. */
export function routeReflectors(t: Topology): RouteReflectorInfo[] {
  const k = t.classes.length;
  const out: RouteReflectorInfo[] = [];
  t.state.nodes.forEach((node, i) => {
    if (node.clusterId === undefined) return;
    const a = t.classOf[i]!;
    let clients = 0;
    if (t.participates[i] === 1) {
      for (const b of t.adj[a]!) {
        if (((t.flags.get(a * k + b) ?? 0) & FLAG_CLIENT) === 0) continue;
        clients += classSize(t, b) - (b === a ? 1 : 0);
      }
    }
    const ca = t.classes[a]!;
    const externalClients =
      t.participates[i] === 1 ? externalsOf(t, i).filter((e) => externalUp(e) && isClient(e, ca)).length : 0;
    out.push({
      name: node.name,
      clusterId: node.clusterId,
      clients,
      externalClients,
      sessions: sessionsOfNode(t, i),
      zone: node.zone,
      participates: t.participates[i] === 1,
    });
  });
  return out;
}

/** Names of the cluster nodes a route reflector treats as clients (over established sessions). */
export function clientsOf(t: Topology, rrName: string): string[] {
  const i = t.nodeIndex.get(rrName);
  if (i === undefined || t.participates[i] !== 1) return [];
  const k = t.classes.length;
  const a = t.classOf[i]!;
  const out: string[] = [];
  for (let m = 0; m < t.n; m++) {
    if (m === i || t.participates[m] !== 1) continue;
    const b = t.classOf[m]!;
    const f = t.flags.get(a * k + b);
    if (f !== undefined && (f & FLAG_CLIENT) !== 0) out.push(t.state.nodes[m]!.name);
  }
  return out;
}

/** True when nodes i and j (both running BIRD) have an established session. */
export function hasSession(t: Topology, i: number, j: number): boolean {
  if (i === j || t.participates[i] !== 1 || t.participates[j] !== 1) return false;
  return t.flags.has(t.classOf[i]! * t.classes.length + t.classOf[j]!);
}

/** Mesh sessions duplicated by BGPPeer protocols: per winning BGPPeer, how many node pairs. */
export function meshDuplicates(t: Topology): Map<number, { pairs: number; example: [number, number] }> {
  const k = t.classes.length;
  const out = new Map<number, { pairs: number; example: [number, number] }>();
  for (const [key, pr] of t.pairs) {
    if (!pr.mesh || !pr.peer) continue;
    const a = Math.floor(key / k);
    const b = key % k;
    const ca = t.classes[a]!;
    const cb = t.classes[b]!;
    if (!ca.participating || !cb.participating) continue;
    // Count unordered pairs once: ordered pair (a,b) contributes when a<b, or when (b,a) has no duplicate.
    const rev = t.pairs.get(b * k + a);
    const revDup = rev !== undefined && rev.mesh && rev.peer !== undefined;
    if (revDup && b < a) continue;
    const add = (peer: number, count: number, x: number, y: number): void => {
      const e = out.get(peer);
      if (e) e.pairs += count;
      else out.set(peer, { pairs: count, example: [x, y] });
    };
    if (ca.uniform && cb.uniform) {
      const count =
        a === b ? (ca.members.length * (ca.members.length - 1)) / 2 : ca.members.length * cb.members.length;
      add(pr.peer.peer, count, ca.members[0]!, a === b ? ca.members[1]! : cb.members[0]!);
      continue;
    }
    // Members owe the protocol to different BGPPeers (e.g. one per node): attribute pair by pair.
    for (const x of ca.members) {
      for (const y of cb.members) {
        if (a === b ? y <= x : false) continue;
        const w = t.between(x, y).peer;
        if (w) add(w.peer, 1, x, y);
      }
    }
  }
  return out;
}

/**
 * What a node of class a sees of its established session to a node of class b, as `expectedPeers` reports
 * it (kind, remote AS, who is whose rr client), or undefined when there is none. Equal for every such pair.
 */
export function sessionSignature(t: Topology, a: number, b: number): string | undefined {
  const k = t.classes.length;
  const f = t.flags.get(a * k + b);
  if (f === undefined) return undefined;
  const eff = effectiveProto(t.pairs.get(a * k + b)!, t.classes[b]!);
  const back = t.flags.get(b * k + a) ?? 0;
  return `${eff.kind}|${eff.remoteAS}|${(f & FLAG_CLIENT) !== 0 ? 1 : 0}|${(back & FLAG_CLIENT) !== 0 ? 1 : 0}`;
}

/**
 * `[...externalSignatures(t, i)].join()` (entries "ip,signature" joined by commas), without building the map:
 * transitions group every node by it.
 */
export function externalSignatureKey(t: Topology, i: number): string {
  if (t.participates[i] !== 1 || t.isolated[i]) return '';
  const own = t.nodeExternals.get(i);
  const g = t.globalExternals;
  if (g.length + (own?.length ?? 0) > 1) return [...externalSignatures(t, i)].join();
  const e = g[0] ?? own?.[0];
  if (!e || !externalUp(e)) return '';
  const client = isClient(e, t.classes[t.classOf[i]!]!) ? 1 : 0;
  let keys = signatureKeys.get(e);
  if (!keys) signatureKeys.set(e, (keys = []));
  return (keys[client] ??= `${e.ip},${e.kind}|${e.remoteAS}|${client}|0`);
}

/** externalSignatureKey's strings per external protocol object (shared between a plan's states). */
const signatureKeys = new WeakMap<ExtProto, string[]>();

/** The same for a node's sessions to external peers that are up, by peer IP. */
export function externalSignatures(t: Topology, i: number): Map<string, string> {
  const out = new Map<string, string>();
  if (t.participates[i] !== 1 || t.isolated[i]) return out;
  const ca = t.classes[t.classOf[i]!]!;
  for (const e of externalsOf(t, i))
    if (externalUp(e)) out.set(e.ip, `${e.kind}|${e.remoteAS}|${isClient(e, ca) ? 1 : 0}|0`);
  return out;
}
