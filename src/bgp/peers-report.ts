/** `bgp peers`: the live sessions of some nodes compared with what the BGP model expects. Pure. */
import type { ClusterSnapshot } from '../model/types.js';
import type { ObservedNode } from '../model/observed.js';
import { bgpStateFromSnapshot } from './state.js';
import { computeTopology, expectedPeers, type Topology } from './topology.js';

export interface PeerRow {
  peerIP: string;
  peerNode: string | null;
  type: string | null;
  state: string;
  since: string | null;
  /** Whether the model expects this session (`false`: unexpected, e.g. a leftover mesh session). */
  expected: boolean;
}

export interface NodePeers {
  node: string;
  source: string;
  error: string | null;
  peers: PeerRow[];
  /** Sessions the model expects that the node does not report. */
  missing: { peerIP: string; peerNode: string | null }[];
  established: number;
  ok: boolean;
  /**
   * Whether the node's sessions were read. A node that was not (no report in time, no calico-node pod for
   * birdcl) has `error` and no `missing`: what it has is unknown, not missing.
   */
  read: boolean;
}

export interface PeersReport {
  apiVersion: 'calico-tune/v1';
  kind: 'BgpPeers';
  nodes: NodePeers[];
  summary: { nodes: number; ok: number; unreported: number };
}

/** Which nodes to look at when none are named: the reflectors (they list every client), else one per zone. */
export function defaultObservedNodes(
  s: ClusterSnapshot,
  t: Topology = computeTopology(bgpStateFromSnapshot(s)),
): string[] {
  const rrs = t.state.nodes.filter((n) => n.participates && n.clusterId !== undefined).map((n) => n.name);
  if (rrs.length) return rrs.slice(0, 10);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of t.state.nodes) {
    if (!n.participates || seen.has(n.zone ?? '')) continue;
    seen.add(n.zone ?? '');
    out.push(n.name);
    if (out.length >= 5) break;
  }
  return out;
}

export function peersReport(
  s: ClusterSnapshot,
  observed: Map<string, ObservedNode>,
  nodes: string[],
): PeersReport {
  const t = computeTopology(bgpStateFromSnapshot(s));
  const ipToName = new Map<string, string>();
  t.state.nodes.forEach((n, i) => {
    const ip = t.ip[i];
    if (ip) ipToName.set(ip, n.name);
  });
  const out: NodePeers[] = nodes.map((node) => {
    // a node the model has no BGP for (no usable projectcalico.org/IPv4Address, not Linux, a virtual
    // kubelet): nothing to compare, never "every session Established as the model expects" with 0 sessions
    const idx = t.state.nodes.findIndex((n) => n.name === node);
    if (idx < 0 || !t.state.nodes[idx]!.participates) {
      const info = s.nodes.find((n) => n.name === node);
      return {
        node,
        source: observed.get(node)?.source ?? 'none',
        error: `the model has no BGP for this node: ${
          !info
            ? 'no such node'
            : info.virtualKubelet
              ? 'a virtual-kubelet node (no calico-node)'
              : info.os !== 'linux' && info.os !== 'unknown'
                ? `${info.os}, where calico-node runs no BIRD`
                : 'no usable projectcalico.org/IPv4Address (calico-node has not started there, or cannot detect its address: kubectl calico-tune status)'
        }`,
        peers: [],
        missing: [],
        established: 0,
        ok: false,
        read: !!observed.get(node)?.peers,
      };
    }
    const want = expectedPeers(t, node).filter((p) => p.established);
    const wantIPs = new Set(want.map((p) => p.peerIP));
    const o = observed.get(node);
    const peers: PeerRow[] = (o?.peers ?? []).map((p) => ({
      peerIP: p.peerIP,
      peerNode: ipToName.get(p.peerIP) ?? null,
      type: p.type ?? null,
      state: p.state,
      since: null,
      expected: wantIPs.has(p.peerIP),
    }));
    const seen = new Set(peers.map((p) => p.peerIP));
    const read = !!o?.peers;
    const missing = want
      .filter((p) => read && !seen.has(p.peerIP))
      .map((p) => ({ peerIP: p.peerIP, peerNode: p.peerName ?? null }));
    const established = peers.filter((p) => p.state === 'Established').length;
    return {
      node,
      source: o?.source ?? 'none',
      error: o?.error ?? (o?.peers ? null : 'no report'),
      peers,
      missing,
      established,
      ok: read && missing.length === 0 && peers.every((p) => p.expected && p.state === 'Established'),
      read,
    };
  });
  return {
    apiVersion: 'calico-tune/v1',
    kind: 'BgpPeers',
    nodes: out,
    summary: {
      nodes: out.length,
      ok: out.filter((n) => n.ok).length,
      unreported: out.filter((n) => n.error).length,
    },
  };
}
