/** Calico facts shared by the analysis and the planners (sources in docs/calico-facts.md and calico-domain.md). */
import type { ClusterSnapshot, NodeInfo } from './types.js';

/** Calico's best-practice guide:  full mesh up to ~100 nodes, route reflectors above. */
export const MESH_NODE_THRESHOLD = 100;

/** Kubernetes' own label domains (kubernetes.io, k8s.io and their subdomains): never a reflector label. */
export const SYSTEM_LABEL = /^([a-z0-9.-]+\.)?(kubernetes\.io|k8s\.io)\//i;

/** Labels people use to mark route reflectors (docs, calico-the-hard-way, upstream e2e). */
export const RR_LABEL_KEYS = [
  'route-reflector',
  'calico-route-reflector',
  'projectcalico.org/RouteReflectorClusterID',
];

/**
 * The Calico minor release from which tigera/operator v1.34 ships: it creates calico-typha-metrics itself
 * (pkg/render/typha.go typhaPrometheusService) and runs the IP pool controller (pkg/controller/ippool).
 */
export const OPERATOR_V134_CALICO_MINOR = 28;

/** Whether the cluster runs Calico v3.`minor` or later; undefined when its version is unknown. */
export function calicoAtLeast(s: ClusterSnapshot, minor: number): boolean | undefined {
  const v = s.calico.version;
  return v ? v.major > 3 || (v.major === 3 && v.minor >= minor) : undefined;
}

/** A node is a route reflector when calico-node sees a cluster ID (the label is only a selector convention). */
export function isRouteReflector(n: NodeInfo): boolean {
  return n.bgp.rrClusterId !== undefined;
}

/** BGP sessions of a full node-to-node mesh of `n` nodes: n(n-1)/2. */
export function fullMeshSessions(n: number): number {
  return n > 1 ? (n * (n - 1)) / 2 : 0;
}

/** Sessions with `r` reflectors peered with every other node and with each other: r(n-r) + r(r-1)/2. */
export function reflectorSessions(n: number, r: number): number {
  return r * (n - r) + fullMeshSessions(r);
}
