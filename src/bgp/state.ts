/**
 * The input of the BGP model: the few facts about a cluster that decide which BGP sessions Calico's confd
 * renders and how BIRD propagates routes over them. Pure data; built from a snapshot here, or directly by
 * planners (a plan step is "the same state with one field changed") and tests.
 */
import { ipv4Network, isStrictIPv4, parseIPv4Cidr } from '../model/net.js';
import { effectiveBgp } from '../model/parse.js';
import type { BgpPeerInfo, ClusterSnapshot, NodeInfo } from '../model/types.js';

export interface BgpNode {
  name: string;
  /** IPv4 address without prefix: from `projectcalico.org/IPv4Address`, else the InternalIP. */
  ip?: string | undefined;
  /**
   * The network of `projectcalico.org/IPv4Address` (`10.0.1.0/24` for `10.0.1.5/24`): what BIRD sees as the
   * node's connected subnet. Undefined when the address names no prefix.
   */
  net?: string | undefined;
  /** The node's AS number (`projectcalico.org/ASNumber`) else the global one. */
  asNumber: number;
  /** The route-reflector cluster ID Calico uses (valid values only; an invalid one is ignored by Calico). */
  clusterId?: string | undefined;
  /** The labels BGPPeer selectors see (Kubernetes labels merged over `projectcalico.org/labels`). */
  labels: Readonly<Record<string, string>>;
  zone?: string | undefined;
  /** Runs BIRD: a Linux node (not a virtual kubelet) with an IPv4 address. */
  participates: boolean;
}

export interface BgpState {
  /** Calico minor version (major 3 assumed): 27, 31, ... Decides whether RRs stay in the mesh (< 21). */
  calicoMinor: number;
  meshEnabled: boolean;
  globalAsNumber: number;
  nodes: BgpNode[];
  /**
   * In the snapshot's order (by name). First wins on duplicate keys; confd walks a Go map, so between two
   * BGPPeers of the same pass its choice is not stable (docs/bgp-model.md).
   */
  peers: BgpPeerInfo[];
}

/**
 * The cluster ID BIRD puts in CLUSTER_LIST and checks it against. confd compares the configured strings (which
 * peers are rr clients); BIRD reads `rr cluster id 0.0.0.0` as none and takes its router ID instead
 * (proto/bgp/bgp.c `bgp_start`), which Calico's bird.cfg sets to the node's IPv4 address. So reflectors that all
 * say 0.0.0.0 are each other's non-clients for confd, and yet each has a cluster ID of its own for loop checks
 * (seen on real BIRD: docs/fabric.md).
 */
export function birdClusterId(node: Pick<BgpNode, 'clusterId' | 'ip' | 'name'>): string | undefined {
  if (node.clusterId !== ZERO_CLUSTER_ID) return node.clusterId;
  return node.ip ?? `router ID of ${node.name}`;
}

export const ZERO_CLUSTER_ID = '0.0.0.0';

/** Used when the snapshot does not tell the Calico version: current behaviour (RRs leave the mesh). */
export const DEFAULT_CALICO_MINOR = 31;

/** Before v3.21 (v3.13-v3.20, confd #311) route reflectors stayed in the node-to-node mesh. */
export const RR_LEAVES_MESH_SINCE_MINOR = 21;

/**
 * The IPv4 address BIRD uses for a node: `projectcalico.org/IPv4Address` only (libcalico-go's KDD node
 * conversion reads nothing else; a node without it renders "IPv4 disabled on this node" and no BGP protocols,
 * and other nodes render no sessions to it). The InternalIP is never used: checked against confd in
 * test/integration/confd.test.ts.
 */
export function nodeIPv4(n: NodeInfo): string | undefined {
  const raw = n.bgp.ipv4Address;
  if (raw === undefined) return undefined;
  // asked several times per node (status, the topology, the checks): once per annotation value
  let addr = ipv4Of.get(raw);
  if (addr === undefined) {
    const slash = raw.indexOf('/');
    const a = (slash < 0 ? raw : raw.slice(0, slash)).trim();
    addr = isStrictIPv4(a) ? a : '';
    if (ipv4Of.size > 100_000) ipv4Of.clear();
    ipv4Of.set(raw, addr);
  }
  return addr || undefined;
}
const ipv4Of = new Map<string, string>();

export function calicoMinorOf(s: ClusterSnapshot): number {
  const v = s.calico.version;
  if (v === undefined) return DEFAULT_CALICO_MINOR;
  if (v.major > 3) return 99;
  if (v.major < 3) return 0;
  return v.minor;
}

/**
 * The cluster with its reflectors that are not Ready left out: calico-node there is most likely down, so they
 * reflect nothing (the model otherwise counts every reflector up). What demotions and RR_NOT_READY verify on.
 */
export function withoutDeadReflectors(s: ClusterSnapshot): ClusterSnapshot {
  const dead = (n: NodeInfo): boolean => !n.ready && n.bgp.rrClusterId !== undefined;
  return s.nodes.some(dead) ? { ...s, nodes: s.nodes.filter((n) => !dead(n)) } : s;
}

/**
 * Whether calico-node runs BIRD on the node: Linux (or unknown), not virtual-kubelet, with a BGP address, and
 * a cluster ID BIRD can load (a network one is a syntax error there: RR_CLUSTER_ID_NETWORK).
 */
export function runsBird(n: NodeInfo): boolean {
  return (
    (n.os === 'linux' || n.os === 'unknown') &&
    !n.virtualKubelet &&
    nodeIPv4(n) !== undefined &&
    !(n.bgp.rrClusterId !== undefined && n.bgp.rrClusterId.includes('/'))
  );
}

/** Per parsed node (unchanged nodes keep their NodeInfo from one plan step to the next) and global AS. */
const nodeCache = new WeakMap<NodeInfo, { as: number; node: BgpNode }>();

export function bgpNodeFromInfo(n: NodeInfo, globalAsNumber: number): BgpNode {
  const hit = nodeCache.get(n);
  if (hit && hit.as === globalAsNumber) return hit.node;
  const node = bgpNodeOf(n, globalAsNumber);
  nodeCache.set(n, { as: globalAsNumber, node });
  return node;
}

function bgpNodeOf(n: NodeInfo, globalAsNumber: number): BgpNode {
  const ip = nodeIPv4(n);
  const cidr =
    ip !== undefined && n.bgp.ipv4Address?.includes('/')
      ? parseIPv4Cidr(n.bgp.ipv4Address.trim())
      : undefined;
  return {
    name: n.name,
    ip,
    net: cidr ? ipv4Network(cidr.addr, cidr.prefix) : undefined,
    asNumber: n.bgp.asNumber ?? globalAsNumber,
    clusterId: n.bgp.rrClusterId,
    labels: n.calicoLabels,
    zone: n.zone,
    participates: runsBird(n),
  };
}

const stateCache = new WeakMap<ClusterSnapshot, BgpState>();

/**
 * The BGP state of a snapshot, once per snapshot object (snapshots are never modified; plan steps make new
 * ones), so the topology computed on it (cached per state) is shared by every caller. A snapshot whose BGP
 * facts equal those of one of the last few states gets that state object: a plan's cordon, drain or
 * uncordon changes a Node but not its BGP, and the next gate then reuses the topology instead of building it
 * again.
 */
export function bgpStateFromSnapshot(s: ClusterSnapshot): BgpState {
  let st = stateCache.get(s);
  if (!st) {
    st = bgpStateOf(s);
    const same = recentStates.find((r) => sameState(r, st!));
    if (same) st = same;
    else {
      recentStates.push(st);
      if (recentStates.length > RECENT_STATES) recentStates.shift();
    }
    stateCache.set(s, st);
  }
  return st;
}

const recentStates: BgpState[] = [];
const RECENT_STATES = 2;

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
  return true;
}

function sameNode(a: BgpNode, b: BgpNode): boolean {
  return (
    a === b ||
    (a.name === b.name &&
      a.ip === b.ip &&
      a.net === b.net &&
      a.asNumber === b.asNumber &&
      a.clusterId === b.clusterId &&
      a.zone === b.zone &&
      a.participates === b.participates &&
      sameLabels(a.labels, b.labels))
  );
}

/** Equal BGP facts (BGPPeers by object: they are parsed once per object). */
function sameState(a: BgpState, b: BgpState): boolean {
  if (
    a.calicoMinor !== b.calicoMinor ||
    a.meshEnabled !== b.meshEnabled ||
    a.globalAsNumber !== b.globalAsNumber ||
    a.nodes.length !== b.nodes.length ||
    a.peers.length !== b.peers.length
  )
    return false;
  for (let i = 0; i < a.peers.length; i++) if (a.peers[i] !== b.peers[i]) return false;
  for (let i = 0; i < a.nodes.length; i++) if (!sameNode(a.nodes[i]!, b.nodes[i]!)) return false;
  return true;
}

/** Per array of parsed nodes (a plan step that changes no Node keeps the array) and global AS. */
const nodesCache = new WeakMap<readonly NodeInfo[], { as: number; nodes: BgpNode[] }>();

/** The last array mapped: a plan step that changes one Node makes an array that differs in one place. */
let lastNodes: { infos: readonly NodeInfo[]; as: number; nodes: BgpNode[] } | undefined;

function bgpNodesOf(infos: readonly NodeInfo[], globalAsNumber: number): BgpNode[] {
  const hit = nodesCache.get(infos);
  if (hit && hit.as === globalAsNumber) return hit.nodes;
  let nodes: BgpNode[];
  const last = lastNodes;
  if (last && last.as === globalAsNumber && last.infos.length === infos.length) {
    nodes = last.nodes.slice();
    for (let i = 0; i < infos.length; i++)
      if (infos[i] !== last.infos[i]) nodes[i] = bgpNodeFromInfo(infos[i]!, globalAsNumber);
  } else nodes = infos.map((n) => bgpNodeFromInfo(n, globalAsNumber));
  nodesCache.set(infos, { as: globalAsNumber, nodes });
  lastNodes = { infos, as: globalAsNumber, nodes };
  return nodes;
}

function bgpStateOf(s: ClusterSnapshot): BgpState {
  const eff = effectiveBgp(s);
  return {
    calicoMinor: calicoMinorOf(s),
    meshEnabled: eff.meshEnabled,
    globalAsNumber: eff.asNumber,
    nodes: bgpNodesOf(s.nodes, eff.asNumber),
    peers: s.bgpPeers,
  };
}

/** A copy of the state with some nodes not running BIRD (e.g. a route reflector that is down). */
export function withNodesDown(state: BgpState, names: Iterable<string>): BgpState {
  const down = new Set(names);
  return { ...state, nodes: state.nodes.map((n) => (down.has(n.name) ? { ...n, participates: false } : n)) };
}

/** True when BGP (BIRD) is in use or may be (unknown backend). */
export function bgpApplies(s: ClusterSnapshot): boolean {
  return s.calico.networkingBackend === 'bird' || s.calico.networkingBackend === 'unknown';
}
