/** Quick BgpState fixtures for the BGP model tests and the benchmark. */
import type { BgpPeerInfo } from '../../../src/model/types.js';
import type { BgpNode, BgpState } from '../../../src/bgp/state.js';

export const GLOBAL_AS = 64512;
export const RR_SELECTOR = "route-reflector == 'true'";

export interface NodeOpts {
  /** Explicit IPv4; `null` for none. Default: derived from the index given to `nodes()` / `node()`. */
  ip?: string | null;
  as?: number;
  cluster?: string;
  labels?: Record<string, string>;
  zone?: string;
  participates?: boolean;
  /** Label route-reflector=true (default: when a cluster ID is given). */
  rrLabel?: boolean;
}

export function ipOf(i: number): string {
  return `10.${Math.floor(i / 62500) % 256}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

let autoIp = 0;
/** One node; IPs are allocated from a counter unless given. */
export function node(name: string, o: NodeOpts = {}): BgpNode {
  const ip = o.ip === null ? undefined : (o.ip ?? ipOf(autoIp++));
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) };
  if (o.zone) labels['topology.kubernetes.io/zone'] = o.zone;
  if (o.rrLabel ?? o.cluster !== undefined) labels['route-reflector'] = 'true';
  return {
    name,
    ip,
    asNumber: o.as ?? GLOBAL_AS,
    clusterId: o.cluster,
    labels,
    zone: o.zone,
    participates: (o.participates ?? true) && ip !== undefined,
  };
}

/** `count` nodes named `${prefix}${i}`. */
export function nodes(prefix: string, count: number, o: NodeOpts = {}): BgpNode[] {
  return Array.from({ length: count }, (_, i) => node(`${prefix}${i}`, o));
}

export function peer(name: string, spec: Omit<Partial<BgpPeerInfo>, 'name' | 'spec'> = {}): BgpPeerInfo {
  const s: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) if (v !== undefined && k !== 'apiVersion') s[k] = v;
  return { name, apiVersion: 'projectcalico.org/v3', ...spec, spec: s };
}

/** The docs' BGPPeer: every node peers with the route reflectors (which also peer with each other). */
export function rrPeer(name = 'peer-with-route-reflectors'): BgpPeerInfo {
  return peer(name, { nodeSelector: 'all()', peerSelector: RR_SELECTOR });
}

export function state(o: {
  nodes: BgpNode[];
  peers?: BgpPeerInfo[];
  mesh?: boolean;
  minor?: number;
  globalAs?: number;
}): BgpState {
  return {
    calicoMinor: o.minor ?? 31,
    meshEnabled: o.mesh ?? true,
    globalAsNumber: o.globalAs ?? GLOBAL_AS,
    nodes: o.nodes,
    peers: o.peers ?? [],
  };
}

export interface RRClusterOpts {
  clients: number;
  rrs: number;
  /** One shared cluster ID (string) or one per RR (array). Default: shared 244.0.0.1. */
  clusterIds?: string | string[];
  zones?: number;
  mesh?: boolean;
  /** Add the docs' all() -> route-reflector BGPPeer (default true). */
  rrPeering?: boolean;
  minor?: number;
}

/** Clients c0..c{n-1} and route reflectors rr0..; IPs 10.x.y.z from the index; zones round-robin. */
export function rrCluster(o: RRClusterOpts): BgpState {
  const zones = Math.max(1, o.zones ?? 3);
  const zoneName = (i: number): string => `zone-${String.fromCharCode(97 + (i % zones))}`;
  const ids = o.clusterIds ?? '244.0.0.1';
  const out: BgpNode[] = [];
  for (let r = 0; r < o.rrs; r++) {
    const cluster = typeof ids === 'string' ? ids : ids[r % ids.length]!;
    out.push(node(`rr${r}`, { ip: ipOf(r), cluster, zone: zoneName(r) }));
  }
  for (let c = 0; c < o.clients; c++) out.push(node(`c${c}`, { ip: ipOf(o.rrs + c), zone: zoneName(c) }));
  return state({
    nodes: out,
    peers: o.rrs > 0 && (o.rrPeering ?? true) ? [rrPeer()] : [],
    mesh: o.mesh ?? false,
    minor: o.minor,
  });
}

/** A copy with node fields changed. */
export function editNode(s: BgpState, name: string, edit: Partial<BgpNode>): BgpState {
  return { ...s, nodes: s.nodes.map((n) => (n.name === name ? { ...n, ...edit } : n)) };
}

/** Gives a node a cluster ID (and the route-reflector label), as `rr promote` does. */
export function promote(s: BgpState, name: string, clusterId: string): BgpState {
  return {
    ...s,
    nodes: s.nodes.map((n) =>
      n.name === name ? { ...n, clusterId, labels: { ...n.labels, 'route-reflector': 'true' } } : n,
    ),
  };
}

/** Removes a node's cluster ID and route-reflector label. */
export function demote(s: BgpState, name: string): BgpState {
  return {
    ...s,
    nodes: s.nodes.map((n) => {
      if (n.name !== name) return n;
      const labels = { ...n.labels };
      delete labels['route-reflector'];
      return { ...n, clusterId: undefined, labels };
    }),
  };
}
