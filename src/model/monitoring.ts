/**
 * Monitoring facts shared by the monitoring planner (src/monitoring/) and plan integrity (src/plan/): the
 * components whose metrics Calico serves, the names and labels of what `monitoring plan` creates, and the
 * fields it may change. No I/O.
 */

export type MetricsComponent = 'felix' | 'typha' | 'kube-controllers';

export const METRICS_COMPONENTS: readonly MetricsComponent[] = ['felix', 'typha', 'kube-controllers'];

/** Label on every object `monitoring plan` creates (and the only ones its undo may delete). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'calico-tune';

export const MONITORING_GROUP = 'monitoring.coreos.com/v1';

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
