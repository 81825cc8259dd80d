/** The data behind `rr list`. Pure. */
import { bgpStateFromSnapshot } from '../bgp/state.js';
import { computeTopology, routeReflectors } from '../bgp/topology.js';
import { verifyTopology } from '../bgp/verify.js';
import { effectiveBgp } from '../model/parse.js';
import type { ClusterSnapshot } from '../model/types.js';
import type { Finding } from '../model/finding.js';
import { RR_LABEL_KEYS } from '../model/calico.js';
import { configFindings, peersSelectingNode } from '../status/checks.js';

export interface RrListEntry {
  node: string;
  clusterId: string;
  zone: string | null;
  ready: boolean;
  schedulable: boolean;
  clients: number;
  sessions: number;
  labels: Record<string, string>;
  selectedBy: string[];
}

export interface RrList {
  apiVersion: 'calico-tune/v1';
  kind: 'RouteReflectorList';
  meshEnabled: boolean;
  clusterIds: string[];
  routeReflectors: RrListEntry[];
  /** Nodes that look like reflectors but are not (invalid cluster ID, label without cluster ID, ...). */
  problems: { node: string; code: string; severity: Finding['severity']; message: string }[];
  /** BGP node pairs that do not learn each other's routes (the BGP model; 0 when every node reaches every other). */
  unreachablePairs: number;
}

export function listRouteReflectors(s: ClusterSnapshot): RrList {
  const t = computeTopology(bgpStateFromSnapshot(s));
  const unreachablePairs = verifyTopology(t, { maxExamples: 0 }).unreachablePairs;
  const byName = new Map(s.nodes.map((n) => [n.name, n]));
  const rrs = routeReflectors(t).map((r) => {
    const n = byName.get(r.name)!;
    return {
      node: r.name,
      clusterId: r.clusterId,
      zone: n.zone ?? null,
      ready: n.ready,
      schedulable: !n.unschedulable,
      clients: r.clients,
      sessions: r.sessions,
      labels: Object.fromEntries(RR_LABEL_KEYS.filter((k) => k in n.labels).map((k) => [k, n.labels[k]!])),
      selectedBy: peersSelectingNode(s, n).map((p) => p.name),
    };
  });
  const problems = configFindings(s)
    .filter((f) =>
      ['RR_CLUSTER_ID_INVALID', 'RR_LABEL_WITHOUT_CLUSTER_ID', 'RR_NOT_PEERED', 'RR_NOT_READY'].includes(
        f.code,
      ),
    )
    .map((f) => ({ node: f.objects[0]?.name ?? '', code: f.code, severity: f.severity, message: f.message }));
  return {
    apiVersion: 'calico-tune/v1',
    kind: 'RouteReflectorList',
    meshEnabled: effectiveBgp(s).meshEnabled,
    clusterIds: [...new Set(rrs.map((r) => r.clusterId))].sort(),
    routeReflectors: rrs,
    problems,
    unreachablePairs,
  };
}
