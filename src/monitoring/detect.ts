/**
 * What is set up for monitoring Calico, read from a snapshot: for Felix, Typha and kube-controllers, where
 * each runs, its metrics switch (in the object the install mode makes authoritative) and port, the Service
 * that exposes it (ours, the installer's, or the one the operator creates itself), the ServiceMonitors that
 * scrape it, whether the monitoring.coreos.com CRDs are served, and which Prometheus objects select what.
 * Pure.
 */
import {
  COMPONENT_INFO,
  ENV,
  METRICS_COMPONENTS,
  MONITORING_GROUP,
  type MetricsComponent,
} from '../model/monitoring.js';
import { managedByUs } from '../model/managed-by.js';
import { envBool, felixBool, felixFieldByNode } from '../model/felix.js';
import { calicoAtLeast, OPERATOR_V134_CALICO_MINOR } from '../model/calico.js';
import type { ClusterSnapshot, InstallMode, KubeObject } from '../model/types.js';
import { labelsSatisfying, selects, type LabelSelector } from './selector.js';
import { typhaMetricsSwitch, type SwitchRef } from '../model/monitoring.js';

export type { MetricsComponent };

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v)
    ? v
    : typeof v === 'string' && /^\d+$/.test(v)
      ? Number(v)
      : undefined;

export type { SwitchRef } from '../model/monitoring.js';

export interface ServiceExposure {
  namespace: string;
  name: string;
  portName: string;
  port: number;
  labels: Record<string, string>;
  /** `cluster`: the Service exists; `operator`: the operator creates it from the switch (do not create it). */
  source: 'cluster' | 'operator';
  /** We created it (label app.kubernetes.io/managed-by=kubectl-calico-tune, or 0.1's calico-tune). */
  ours: boolean;
}

export interface ServiceMonitorInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ours: boolean;
  /** `any: true`, or the namespaces it looks in (its own when the field is absent). */
  namespaces: 'any' | string[];
  selector: LabelSelector | null;
  ports: string[];
  interval?: string | undefined;
}

export interface PrometheusInfo {
  namespace: string;
  name: string;
  serviceMonitorSelector: LabelSelector | null;
  serviceMonitorNamespaceSelector: LabelSelector | null;
  /** The PrometheusRules it loads (null: none, as prometheus-operator reads a missing ruleSelector). */
  ruleSelector: LabelSelector | null;
  ruleNamespaceSelector: LabelSelector | null;
}

export interface ComponentMonitoring {
  component: MetricsComponent;
  /** It runs (or is configured) in this cluster. */
  present: boolean;
  namespace: string;
  enabled: boolean;
  port: number;
  /** The switch that decides `enabled` now (what a plan changes). */
  switch: SwitchRef;
  /**
   * A setting that overrides the switch a plan would change and that no plan changes (e.g. FELIX_
   * PROMETHEUSMETRICSENABLED=false in calico-node's env on a manifest install).
   */
  override?: string | undefined;
  /**
   * What sets the port outside the switch, so that no plan can change it (calico-node's
   * FELIX_PROMETHEUSMETRICSPORT on a manifest install overrides FelixConfiguration).
   */
  portFixedBy?: string | undefined;
  /**
   * Felix: nodes whose own FelixConfiguration `node.<name>` sets prometheusMetricsEnabled: false while the
   * switch (FelixConfiguration default) is on: those Felixes serve no metrics (per object).
   */
  offOn?: { object: string; nodes: string[] }[] | undefined;
  /** The Service exposing the metrics port, when one exists or the operator makes it. */
  service?: ServiceExposure | undefined;
  /** ServiceMonitors (namespace/name) that scrape that Service. */
  scrapedBy: string[];
  /** Prometheus objects (namespace/name) selecting at least one of those ServiceMonitors. */
  selectedBy: string[];
}

export interface MonitoringState {
  installMode: InstallMode;
  /** monitoring.coreos.com/v1 is served (null: unknown, e.g. a snapshot file without discovery). */
  crds: boolean | null;
  prometheuses: PrometheusInfo[];
  serviceMonitors: ServiceMonitorInfo[];
  /** Namespace labels, when namespaces could be listed. */
  namespaces?: Map<string, Record<string, string>> | undefined;
  components: ComponentMonitoring[];
  /** Objects of ours by kind/namespace/name (ConfigMap, PrometheusRule) found in the snapshot. */
  ours: KubeObject[];
}

function envOf(o: KubeObject | undefined, container: string, name: string): string | undefined {
  const cs = arr(obj(obj(obj(o?.spec)['template'])['spec'])['containers']).map(obj);
  const c = cs.find((x) => x['name'] === container) ?? cs[0];
  const e = arr(c?.['env'])
    .map(obj)
    .find((x) => x['name'] === name);
  return typeof e?.['value'] === 'string' ? e['value'] : undefined;
}

function findObj(s: ClusterSnapshot, kind: string, name: string, namespace?: string): KubeObject | undefined {
  return s.objects.find(
    (o) =>
      o.kind === kind &&
      o.metadata.name === name &&
      (namespace === undefined || (o.metadata.namespace ?? '') === namespace),
  );
}

function isOurs(o: KubeObject): boolean {
  return managedByUs(o.metadata.labels);
}

/**
 * The Service in `ns` whose selector picks the component's pods and which serves `port`: one with a named port
 * first (a ServiceMonitor can only scrape that), else one with an unnamed port (Calico's docs make
 * felix-metrics-svc so).
 */
function exposingService(
  s: ClusterSnapshot,
  ns: string,
  app: string,
  port: number,
): ServiceExposure | undefined {
  let unnamed: ServiceExposure | undefined;
  for (const o of s.objects) {
    if (o.kind !== 'Service' || o.metadata.namespace !== ns) continue;
    const spec = obj(o.spec);
    if (strMap(spec['selector'])['k8s-app'] !== app) continue;
    for (const p of arr(spec['ports']).map(obj)) {
      const target = num(p['targetPort']) ?? num(p['port']);
      if (target !== port) continue;
      const exposure: ServiceExposure = {
        namespace: ns,
        name: o.metadata.name,
        portName: typeof p['name'] === 'string' ? p['name'] : '',
        port: num(p['port']) ?? port,
        labels: { ...(o.metadata.labels ?? {}) },
        source: 'cluster',
        ours: isOurs(o),
      };
      if (exposure.portName) return exposure;
      unnamed ??= exposure;
    }
  }
  return unnamed;
}

function selectorOf(v: unknown): LabelSelector | null {
  if (v === undefined || v === null) return null;
  const o = obj(v);
  return {
    matchLabels: strMap(o['matchLabels']),
    matchExpressions: arr(o['matchExpressions']).map((e) => {
      const x = obj(e);
      return {
        key: String(x['key'] ?? ''),
        operator: String(x['operator'] ?? ''),
        values: arr(x['values']).map(String),
      };
    }),
  };
}

function parseServiceMonitor(o: KubeObject): ServiceMonitorInfo {
  const spec = obj(o.spec);
  const nsSel = obj(spec['namespaceSelector']);
  const names = arr(nsSel['matchNames']).map(String);
  const eps = arr(spec['endpoints']).map(obj);
  return {
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    labels: { ...(o.metadata.labels ?? {}) },
    ours: isOurs(o),
    namespaces: nsSel['any'] === true ? 'any' : names.length ? names : [o.metadata.namespace ?? ''],
    selector: selectorOf(spec['selector'] ?? {}),
    ports: eps.map((e) => String(e['port'] ?? '')).filter(Boolean),
    interval: typeof eps[0]?.['interval'] === 'string' ? eps[0]['interval'] : undefined,
  };
}

export function smScrapes(sm: ServiceMonitorInfo, svc: ServiceExposure): boolean {
  return (
    (sm.namespaces === 'any' || sm.namespaces.includes(svc.namespace)) &&
    selects(sm.selector, svc.labels) &&
    sm.ports.includes(svc.portName)
  );
}

/**
 * Whether Prometheus `p` selects a ServiceMonitor (or, `rule`, a PrometheusRule) in `ns` with `labels`
 * (namespace labels when known). A missing namespace selector means its own namespace.
 */
export function promSelects(
  p: PrometheusInfo,
  ns: string,
  labels: Record<string, string>,
  namespaces: Map<string, Record<string, string>> | undefined,
  kind: 'serviceMonitor' | 'rule' = 'serviceMonitor',
): boolean {
  const [sel, nsSel] =
    kind === 'rule'
      ? [p.ruleSelector, p.ruleNamespaceSelector]
      : [p.serviceMonitorSelector, p.serviceMonitorNamespaceSelector];
  if (!selects(sel, labels)) return false;
  if (nsSel === null) return ns === p.namespace;
  const nsLabels = namespaces?.get(ns) ?? { 'kubernetes.io/metadata.name': ns };
  return selects(nsSel, nsLabels);
}

/** Whether the monitoring.coreos.com API is served: from discovery, else from objects of that group. */
function crdsServed(s: ClusterSnapshot): boolean | null {
  const groups = s.source.apiGroups;
  if (groups?.length) return groups.includes(MONITORING_GROUP);
  if (s.objects.some((o) => o.apiVersion === MONITORING_GROUP)) return true;
  return s.source.kind === 'live' ? false : null;
}

export function detectMonitoring(s: ClusterSnapshot): MonitoringState {
  const mode = s.calico.installMode;
  const operator = mode === 'operator';
  const calicoNs = s.calico.nodeNamespace ?? (operator ? 'calico-system' : 'kube-system');
  const calicoApi =
    s.calico.apiMode === 'projectcalico.org/v3' ? 'projectcalico.org/v3' : 'crd.projectcalico.org/v1';
  const inst = s.installation;
  const components: ComponentMonitoring[] = [];

  // Felix: the operator renders Installation.spec.nodeMetricsPort into calico-node's env (it takes
  // precedence over FelixConfiguration); otherwise calico-node's env, then FelixConfiguration default.
  {
    const ds = findObj(s, 'DaemonSet', 'calico-node', calicoNs);
    // an invalid value is Felix's default (off), still overriding FelixConfiguration
    const envRaw = envOf(ds, 'calico-node', ENV.felixEnabled);
    const envOn = envBool(envRaw, false);
    const envPort = num(envOf(ds, 'calico-node', ENV.felixPort));
    const fc = s.felixConfiguration;
    let enabled: boolean;
    let port: number;
    let sw: SwitchRef;
    let override: string | undefined;
    if (operator) {
      sw = {
        apiVersion: 'operator.tigera.io/v1',
        kind: 'Installation',
        name: 'default',
        field: 'spec.nodeMetricsPort',
      };
      if (inst?.nodeMetricsPort !== undefined) {
        enabled = true;
        port = inst.nodeMetricsPort;
      } else {
        // without nodeMetricsPort the operator sets no env: FelixConfiguration decides
        enabled = fc?.prometheusMetricsEnabled === true;
        port = fc?.prometheusMetricsPort ?? 9091;
        if (enabled)
          sw = {
            apiVersion: calicoApi,
            kind: 'FelixConfiguration',
            name: 'default',
            field: 'spec.prometheusMetricsEnabled',
          };
      }
    } else if (envOn !== undefined) {
      enabled = envOn;
      port = envPort ?? fc?.prometheusMetricsPort ?? 9091;
      sw = {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        name: 'calico-node',
        namespace: calicoNs,
        field: 'env FELIX_PROMETHEUSMETRICSENABLED',
      };
      if (!envOn)
        override = `FELIX_PROMETHEUSMETRICSENABLED=${envRaw}${felixBool(envRaw) === undefined ? ' (not a boolean Felix reads: its default, off)' : ''} in DaemonSet ${calicoNs}/calico-node overrides FelixConfiguration default`;
    } else {
      enabled = fc?.prometheusMetricsEnabled === true;
      port = envPort ?? fc?.prometheusMetricsPort ?? 9091;
      sw = {
        apiVersion: calicoApi,
        kind: 'FelixConfiguration',
        name: 'default',
        field: 'spec.prometheusMetricsEnabled',
      };
    }
    // the switch is FelixConfiguration default: a node's own node.<name> wins over it for that node
    const offOn: { object: string; nodes: string[] }[] = [];
    if (enabled && sw.kind === 'FelixConfiguration') {
      const by = new Map<string, string[]>();
      for (const [node, src] of felixFieldByNode(
        s.objects,
        s.nodes.map((n) => n.name),
        'prometheusMetricsEnabled',
      ))
        if (src?.value === false && src.object !== 'default')
          by.set(src.object, [...(by.get(src.object) ?? []), node]);
      for (const [object, nodes] of by) offOn.push({ object, nodes });
    }
    components.push({
      component: 'felix',
      present: !!ds || mode !== 'unknown' || !!fc,
      namespace: calicoNs,
      enabled,
      port,
      switch: sw,
      override,
      ...(!operator && envPort !== undefined
        ? { portFixedBy: `${ENV.felixPort}=${envPort} in DaemonSet ${calicoNs}/calico-node` }
        : {}),
      ...(offOn.length ? { offOn } : {}),
      scrapedBy: [],
      selectedBy: [],
    });
  }

  // Typha: Installation.spec.typhaMetricsPort (the operator sets the env and creates calico-typha-metrics);
  // on manifest installs the Deployment's env.
  {
    const dep = s.typha.deployment;
    const ns = dep?.namespace ?? calicoNs;
    const depObj = dep ? findObj(s, 'Deployment', dep.name, dep.namespace) : undefined;
    const envOn = envBool(envOf(depObj, 'calico-typha', ENV.typhaEnabled), false);
    const envPort = num(envOf(depObj, 'calico-typha', ENV.typhaPort));
    let enabled: boolean;
    let port: number;
    const sw = typhaMetricsSwitch(operator, { name: dep?.name ?? 'calico-typha', namespace: ns });
    if (operator) {
      enabled = inst?.typhaMetricsPort !== undefined || envOn === true;
      port = inst?.typhaMetricsPort ?? envPort ?? 9093;
    } else {
      enabled = envOn === true;
      port = envPort ?? 9093;
    }
    components.push({
      component: 'typha',
      present: !!dep,
      namespace: ns,
      enabled,
      port,
      switch: sw,
      scrapedBy: [],
      selectedBy: [],
    });
  }

  // kube-controllers: KubeControllersConfiguration default spec.prometheusMetricsPort (0 or unset = off; with
  // no object, kube-controllers writes the default one with 9094 when it starts).
  {
    const dep =
      findObj(s, 'Deployment', 'calico-kube-controllers', calicoNs) ??
      findObj(s, 'Deployment', 'calico-kube-controllers');
    const kcc = s.objects.find(
      (o) => o.kind === 'KubeControllersConfiguration' && o.metadata.name === 'default',
    );
    // a field left unset is 0 to kube-controllers (runconfig.go mergeConfig: nil stays 0); only an object it
    // creates itself gets 9094 (clientv3 fills the default)
    const port = kcc ? (num(obj(kcc.spec)['prometheusMetricsPort']) ?? 0) : 9094;
    components.push({
      component: 'kube-controllers',
      present: !!dep || !!kcc,
      namespace: dep?.metadata.namespace ?? calicoNs,
      enabled: port !== 0,
      port: port === 0 ? 9094 : port,
      switch: {
        apiVersion: kcc?.apiVersion ?? calicoApi,
        kind: 'KubeControllersConfiguration',
        name: 'default',
        field: 'spec.prometheusMetricsPort',
      },
      scrapedBy: [],
      selectedBy: [],
    });
  }

  // a component that is not installed serves nothing, whatever its switch says (a review found kube-controllers
  // "enabled" with neither its Deployment nor its configuration in the cluster)
  for (const c of components) if (!c.present) c.enabled = false;
  for (const c of components) c.service = serviceFor(s, c, operator);

  const serviceMonitors = s.objects
    .filter((o) => o.kind === 'ServiceMonitor' && o.apiVersion === MONITORING_GROUP)
    .map(parseServiceMonitor);
  const prometheuses: PrometheusInfo[] = s.objects
    .filter((o) => o.kind === 'Prometheus' && o.apiVersion === MONITORING_GROUP)
    .map((o) => ({
      namespace: o.metadata.namespace ?? '',
      name: o.metadata.name,
      serviceMonitorSelector: selectorOf(obj(o.spec)['serviceMonitorSelector']),
      serviceMonitorNamespaceSelector: selectorOf(obj(o.spec)['serviceMonitorNamespaceSelector']),
      ruleSelector: selectorOf(obj(o.spec)['ruleSelector']),
      ruleNamespaceSelector: selectorOf(obj(o.spec)['ruleNamespaceSelector']),
    }));
  const nsObjs = s.objects.filter((o) => o.kind === 'Namespace' && o.apiVersion === 'v1');
  const namespaces =
    nsObjs.length > 1
      ? new Map(nsObjs.map((o) => [o.metadata.name, { ...(o.metadata.labels ?? {}) }]))
      : undefined;
  for (const c of components)
    Object.assign(c, scrapingOf({ serviceMonitors, prometheuses, namespaces }, c.service));
  return {
    installMode: mode,
    crds: crdsServed(s),
    prometheuses,
    serviceMonitors,
    namespaces,
    components,
    ours: s.objects.filter((o) => (o.kind === 'ConfigMap' || o.kind === 'PrometheusRule') && isOurs(o)),
  };
}

/** The ServiceMonitors that scrape `svc`, and the Prometheus objects that select at least one of them. */
export function scrapingOf(
  st: Pick<MonitoringState, 'serviceMonitors' | 'prometheuses' | 'namespaces'>,
  svc: ServiceExposure | undefined,
): { scrapedBy: string[]; selectedBy: string[] } {
  if (!svc) return { scrapedBy: [], selectedBy: [] };
  const sms = st.serviceMonitors.filter((sm) => smScrapes(sm, svc));
  return {
    scrapedBy: sms.map((sm) => `${sm.namespace}/${sm.name}`),
    selectedBy: st.prometheuses
      .filter((p) => sms.some((sm) => promSelects(p, sm.namespace, sm.labels, st.namespaces)))
      .map((p) => `${p.namespace}/${p.name}`),
  };
}

/**
 * The Service that exposes the component: one in the cluster, else on operator installs the one the
 * operator creates (calico-typha-metrics once typhaMetricsPort is set; calico-kube-controllers-metrics,
 * port `metrics-port`, from KubeControllersConfiguration's port), else none (a plan creates ours).
 */
export function serviceFor(
  s: ClusterSnapshot,
  c: Pick<ComponentMonitoring, 'component' | 'namespace' | 'port'>,
  operator: boolean,
): ServiceExposure | undefined {
  const info = COMPONENT_INFO[c.component];
  const found = exposingService(s, c.namespace, info.app, c.port);
  if (found) return found;
  if (operator && c.component === 'typha' && operatorMakesTyphaService(s))
    return {
      namespace: c.namespace,
      name: 'calico-typha-metrics',
      portName: 'calico-typha-metrics',
      port: c.port,
      labels: { 'k8s-app': 'calico-typha-metrics' },
      source: 'operator',
      ours: false,
    };
  if (operator && c.component === 'kube-controllers')
    return {
      namespace: c.namespace,
      name: 'calico-kube-controllers-metrics',
      portName: 'metrics-port',
      port: c.port,
      labels: { 'k8s-app': 'calico-kube-controllers' },
      source: 'operator',
      ours: false,
    };
  return undefined;
}

/**
 * Whether the operator creates calico-typha-metrics from typhaMetricsPort: from tigera/operator v1.34
 * (Calico v3.28, pkg/render/typha.go typhaPrometheusService); v1.32, Calico v3.27's, only sets the env.
 * An unknown version is taken to be a current one.
 */
export function operatorMakesTyphaService(s: ClusterSnapshot): boolean {
  return calicoAtLeast(s, OPERATOR_V134_CALICO_MINOR) ?? true;
}

export interface MonitorTarget {
  namespace: string;
  labels: Record<string, string>;
  /** Prometheus objects (namespace/name) that would select ServiceMonitors placed so. */
  selectedBy: string[];
  /** Why it was chosen, or why no Prometheus would select it. */
  reason: string;
}

/**
 * Where to put ServiceMonitors and which labels to give them so that an existing Prometheus selects them:
 * the first Prometheus (by namespace/name) whose serviceMonitorSelector can be satisfied and whose
 * serviceMonitorNamespaceSelector admits the namespace (its own namespace when the field is unset). The
 * flags win; then the result says which Prometheus objects select it (maybe none).
 */
export function chooseTarget(
  st: MonitoringState,
  opts: { namespace?: string | undefined; labels?: Record<string, string> | undefined },
): MonitorTarget {
  const proms = [...st.prometheuses].sort((a, b) =>
    `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1,
  );
  const nsCandidates = (p: PrometheusInfo): string[] => {
    if (opts.namespace) return [opts.namespace];
    if (p.serviceMonitorNamespaceSelector === null) return [p.namespace];
    const all = st.namespaces ? [...st.namespaces.keys()].sort() : [];
    return [p.namespace, ...all.filter((n) => n !== p.namespace)];
  };
  for (const p of proms) {
    const labels = opts.labels ?? labelsSatisfying(p.serviceMonitorSelector);
    if (!labels) continue;
    const ns = nsCandidates(p).find((n) => promSelects(p, n, labels, st.namespaces));
    if (!ns) continue;
    const selectedBy = proms
      .filter((q) => promSelects(q, ns, labels, st.namespaces))
      .map((q) => `${q.namespace}/${q.name}`);
    return {
      namespace: ns,
      labels,
      selectedBy,
      reason: `Prometheus ${p.namespace}/${p.name} selects ServiceMonitors in ${ns}${
        Object.keys(labels).length
          ? ` labelled ${Object.entries(labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')}`
          : ''
      }`,
    };
  }
  const namespace = opts.namespace ?? proms[0]?.namespace ?? 'monitoring';
  const labels = opts.labels ?? {};
  return {
    namespace,
    labels,
    selectedBy: [],
    reason: proms.length
      ? `no Prometheus object (${proms.map((p) => `${p.namespace}/${p.name}`).join(', ')}) selects ServiceMonitors in ${namespace}${Object.keys(labels).length ? ' with these labels' : ''}: check its serviceMonitorSelector and serviceMonitorNamespaceSelector, or pass --namespace/--service-monitor-labels`
      : 'no Prometheus object exists: the ServiceMonitors wait for a Prometheus that selects them',
  };
}

export function componentOf(st: MonitoringState, c: MetricsComponent): ComponentMonitoring {
  return st.components.find((x) => x.component === c)!;
}

export { METRICS_COMPONENTS };
