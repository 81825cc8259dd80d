/** The resource types the tool reads and writes, and their REST paths. No I/O. */
import { calicoApiVersion } from './api-mode.js';
import type { CalicoApiMode } from './types.js';

export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const Node: ResourceType = { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false };
export const Pod: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
export const ConfigMap: ResourceType = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};
export const Namespace: ResourceType = {
  apiVersion: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
};
export const Deployment: ResourceType = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  plural: 'deployments',
  namespaced: true,
};
export const DaemonSet: ResourceType = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  namespaced: true,
};
export const PodDisruptionBudget: ResourceType = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  namespaced: true,
};
export const Lease: ResourceType = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
};
export const Installation: ResourceType = {
  apiVersion: 'operator.tigera.io/v1',
  kind: 'Installation',
  plural: 'installations',
  namespaced: false,
};

export const Service: ResourceType = {
  apiVersion: 'v1',
  kind: 'Service',
  plural: 'services',
  namespaced: true,
};
/** prometheus-operator kinds (monitoring.coreos.com/v1), for `monitoring`. */
export const ServiceMonitor: ResourceType = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  plural: 'servicemonitors',
  namespaced: true,
};
export const PrometheusRule: ResourceType = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  plural: 'prometheusrules',
  namespaced: true,
};
export const Prometheus: ResourceType = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'Prometheus',
  plural: 'prometheuses',
  namespaced: true,
};

/** Calico kinds the tool uses (all cluster-scoped). */
export const CALICO_KINDS = {
  BGPConfiguration: 'bgpconfigurations',
  BGPPeer: 'bgppeers',
  IPPool: 'ippools',
  FelixConfiguration: 'felixconfigurations',
  ClusterInformation: 'clusterinformations',
  CalicoNodeStatus: 'caliconodestatuses',
  KubeControllersConfiguration: 'kubecontrollersconfigurations',
} as const;
export type CalicoKind = keyof typeof CALICO_KINDS;

export { calicoApiVersion };

export function calicoType(kind: CalicoKind, mode: CalicoApiMode): ResourceType {
  return { apiVersion: calicoApiVersion(mode), kind, plural: CALICO_KINDS[kind], namespaced: false };
}

/** A ResourceType for any known kind/apiVersion (plan steps name objects by apiVersion + kind). */
export function typeFor(apiVersion: string, kind: string): ResourceType | undefined {
  for (const t of [
    Node,
    Pod,
    ConfigMap,
    Namespace,
    Deployment,
    DaemonSet,
    PodDisruptionBudget,
    Lease,
    Installation,
    Service,
    ServiceMonitor,
    PrometheusRule,
    Prometheus,
  ]) {
    if (t.apiVersion === apiVersion && t.kind === kind) return t;
  }
  if (
    (apiVersion === 'crd.projectcalico.org/v1' || apiVersion === 'projectcalico.org/v3') &&
    kind in CALICO_KINDS
  ) {
    return { apiVersion, kind, plural: CALICO_KINDS[kind as CalicoKind], namespaced: false };
  }
  return undefined;
}

export function collectionPath(t: ResourceType, namespace?: string): string {
  const base = t.apiVersion.includes('/') ? `/apis/${t.apiVersion}` : `/api/${t.apiVersion}`;
  return t.namespaced && namespace
    ? `${base}/namespaces/${encodeURIComponent(namespace)}/${t.plural}`
    : `${base}/${t.plural}`;
}

export function objectPath(t: ResourceType, name: string, namespace?: string): string {
  return `${collectionPath(t, namespace)}/${encodeURIComponent(name)}`;
}
