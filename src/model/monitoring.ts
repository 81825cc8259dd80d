/**
 * Monitoring facts shared by the monitoring planner (src/monitoring/) and plan integrity (src/plan/): the
 * components whose metrics Calico serves, the names and labels of what `monitoring plan` creates, and the
 * fields it may change. No I/O.
 */

import type { Finding } from './finding.js';

export type MetricsComponent = 'felix' | 'typha' | 'kube-controllers';

export const METRICS_COMPONENTS: readonly MetricsComponent[] = ['felix', 'typha', 'kube-controllers'];

export const MONITORING_GROUP = 'monitoring.coreos.com/v1';

/** The fix of every monitoring finding. */
export const MONITORING_FIX = 'kubectl calico-tune monitoring plan (then monitoring apply)';

/** Where the switch of a component lives, as an object reference and a field. */
export interface SwitchRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
  /** e.g. `spec.nodeMetricsPort`, or `env TYPHA_PROMETHEUSMETRICSENABLED`. */
  field: string;
}

/** What each component is called, where its pods are found, and its default metrics port. */
export const COMPONENT_INFO: Record<
  MetricsComponent,
  {
    /** `k8s-app` label of its pods. */
    app: string;
    /** Default Prometheus port (Felix 9091, Typha 9093, kube-controllers 9094). */
    defaultPort: number;
    /** The Service the guide names (and `monitoring plan` creates when none exposes the port). */
    service: string;
    /** Port name of that Service (the guide's: felix-metrics, typha-metrics, kube-controllers-metrics). */
    portName: string;
    /** The ServiceMonitor `monitoring plan` creates. */
    serviceMonitor: string;
  }
> = {
  felix: {
    app: 'calico-node',
    defaultPort: 9091,
    service: 'calico-felix-metrics',
    portName: 'felix-metrics',
    serviceMonitor: 'calico-felix-metrics',
  },
  typha: {
    app: 'calico-typha',
    defaultPort: 9093,
    service: 'calico-typha-metrics',
    portName: 'typha-metrics',
    serviceMonitor: 'calico-typha-metrics',
  },
  'kube-controllers': {
    app: 'calico-kube-controllers',
    defaultPort: 9094,
    service: 'calico-kube-controllers-metrics',
    portName: 'kube-controllers-metrics',
    serviceMonitor: 'calico-kube-controllers-metrics',
  },
};

/** The Grafana dashboards ConfigMap (sidecar label `grafana_dashboard: "1"`) and the alert rules. */
export const DASHBOARDS_CONFIGMAP = 'calico-grafana-dashboards';
export const ALERTS_RULE = 'calico-alerts';

/** Names of everything `monitoring plan` may create, per kind. */
export const MONITORING_CREATES: Record<string, readonly string[]> = {
  Service: METRICS_COMPONENTS.map((c) => COMPONENT_INFO[c].service),
  ServiceMonitor: METRICS_COMPONENTS.map((c) => COMPONENT_INFO[c].serviceMonitor),
  ConfigMap: [DASHBOARDS_CONFIGMAP],
  PrometheusRule: [ALERTS_RULE],
};

/** Spec fields a monitoring plan may set, per object (everything else in a patch is refused). */
export const MONITORING_PATCH_FIELDS = {
  /** operator.tigera.io/v1 Installation `default`: what the operator renders into calico-node and Typha. */
  Installation: ['nodeMetricsPort', 'typhaMetricsPort'],
  FelixConfiguration: ['prometheusMetricsEnabled', 'prometheusMetricsPort'],
  KubeControllersConfiguration: ['prometheusMetricsPort'],
} as const;

/** The environment switches (template literals: docs.test.ts reads quoted FELIX_ strings as finding codes). */
export const ENV = {
  felixEnabled: `FELIX_PROMETHEUSMETRICSENABLED`,
  felixPort: `FELIX_PROMETHEUSMETRICSPORT`,
  typhaEnabled: `TYPHA_PROMETHEUSMETRICSENABLED`,
  typhaPort: `TYPHA_PROMETHEUSMETRICSPORT`,
} as const;

/** `Deployment calico-system/calico-typha env TYPHA_PROMETHEUSMETRICSENABLED`: a switch as a person reads it. */
export function switchText(sw: SwitchRef): string {
  return `${sw.kind} ${sw.namespace ? `${sw.namespace}/` : ''}${sw.name} ${sw.field}`;
}

/**
 * Where Typha's metrics are switched on: Installation default's typhaMetricsPort on operator installs (the
 * operator sets the env and, from v1.34, creates Service calico-typha-metrics), else the Deployment's env.
 */
export function typhaMetricsSwitch(operator: boolean, dep: { name: string; namespace: string }): SwitchRef {
  return operator
    ? {
        apiVersion: 'operator.tigera.io/v1',
        kind: 'Installation',
        name: 'default',
        field: 'spec.typhaMetricsPort',
      }
    : {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: dep.name,
        namespace: dep.namespace,
        field: 'env TYPHA_PROMETHEUSMETRICSENABLED',
      };
}

/** TYPHA_METRICS_DISABLED, one text for `status` (the Typha analysis) and `monitoring status`. */
export function typhaMetricsDisabled(operator: boolean, sw: SwitchRef, port: number): Finding {
  return {
    code: 'TYPHA_METRICS_DISABLED',
    severity: 'info',
    message: `Typha Prometheus metrics are disabled (${switchText(sw)}): connection counts, drops and client latency are invisible`,
    objects: [{ kind: sw.kind, name: sw.name, namespace: sw.namespace }],
    fix: operator
      ? `${MONITORING_FIX}: it sets Installation default spec.typhaMetricsPort: ${port}; the operator creates Service calico-typha-metrics from v1.34 (Calico v3.28), and the plan creates it for older ones`
      : `${MONITORING_FIX}: it sets TYPHA_PROMETHEUSMETRICSENABLED=true and TYPHA_PROMETHEUSMETRICSPORT=${port} on deployment ${sw.namespace}/${sw.name}, and creates Service calico-typha-metrics`,
  };
}
