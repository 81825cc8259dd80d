/**
 * The monitoring planner, `(snapshot, options) → Plan`: the metrics switches of Felix, Typha and
 * kube-controllers in the object the install mode makes authoritative, a Service for each component that
 * none exposes (never one the operator creates itself), ServiceMonitors placed where an existing Prometheus
 * selects them, and optionally the alert rules. Every write is a PlanBuilder step with its undo. Pure.
 */
import { NothingToDo, usageError } from '../errors.js';
import {
  COMPONENT_INFO,
  ENV,
  MONITORING_GROUP,
  ALERTS_RULE,
  DASHBOARDS_CONFIGMAP,
  type MetricsComponent,
} from '../model/monitoring.js';
import { MANAGED_BY_LABEL, MANAGED_BY_LABELS, managedByUs } from '../model/managed-by.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import { PlanBuilder } from '../plan/builder.js';
import type { Plan } from '../plan/types.js';
import { alertRules } from './alerts.js';
import { dashboardsConfigMap } from './dashboards.js';
import {
  chooseTarget,
  detectMonitoring,
  operatorMakesTyphaService,
  promSelects,
  scrapingOf,
  serviceFor,
  type ComponentMonitoring,
  type MonitorTarget,
  type PrometheusInfo,
} from './detect.js';
import { labelsSatisfying } from './selector.js';

export interface MonitoringOptions {
  /** Namespace for ServiceMonitors and rules (default: where an existing Prometheus selects them). */
  namespace?: string | undefined;
  /** Labels for ServiceMonitors (default: what an existing Prometheus's serviceMonitorSelector needs). */
  serviceMonitorLabels?: Record<string, string> | undefined;
  serviceMonitors: boolean;
  alerts: boolean;
  /** Calico's dashboards (file name → parsed JSON) for a Grafana-sidecar ConfigMap; undefined: none. */
  dashboards?: Record<string, unknown> | undefined;
  /**
   * Ports given on the command line for switches turned on; a component without one keeps the port already
   * configured for it (FelixConfiguration, calico-node's or Typha's env), else its default.
   */
  ports: Partial<Record<MetricsComponent, number>>;
  timeout: string;
  name: string;
  command: string;
  createdAt?: string | undefined;
}

export const DEFAULT_PORTS: Record<MetricsComponent, number> = {
  felix: COMPONENT_INFO.felix.defaultPort,
  typha: COMPONENT_INFO.typha.defaultPort,
  'kube-controllers': COMPONENT_INFO['kube-controllers'].defaultPort,
};

const ours = (): Record<string, string> => ({ ...MANAGED_BY_LABELS });
/** The managed-by value an object of ours carries (this version's, or 0.1's): a precondition keeps it as it is. */
const labelOf = (o: KubeObject): string => o.metadata.labels?.[MANAGED_BY_LABEL] ?? '';
const OPERATOR_TYPHA_SERVICE = 'calico-typha-metrics';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/** The Typha Deployment's containers with the metrics env set (a merge patch replaces the whole list). */
function typhaContainers(dep: KubeObject): Obj[] {
  return (obj(obj(obj(dep.spec)['template'])['spec'])['containers'] as Obj[] | undefined) ?? [];
}

function typhaContainersWithMetrics(dep: KubeObject, port: number): unknown[] {
  return typhaContainers(dep).map((c) => {
    if (c['name'] !== 'calico-typha') return c;
    const env = ((c['env'] as Obj[] | undefined) ?? []).filter(
      (e) => e['name'] !== ENV.typhaEnabled && e['name'] !== ENV.typhaPort,
    );
    return {
      ...c,
      env: [...env, { name: ENV.typhaEnabled, value: 'true' }, { name: ENV.typhaPort, value: String(port) }],
    };
  });
}

function switchStep(
  b: PlanBuilder,
  s: ClusterSnapshot,
  c: ComponentMonitoring,
  port: number,
): string | undefined {
  const sw = c.switch;
  const operator = s.calico.installMode === 'operator';
  const why = `the guide's step: ${c.component} Prometheus metrics are off`;
  if (c.component === 'felix') {
    if (operator) {
      b.add({
        title: `enable Felix metrics: Installation default spec.nodeMetricsPort=${port}`,
        why: `${why}; the operator renders nodeMetricsPort into calico-node's FELIX_PROMETHEUSMETRICS* env (it overrides FelixConfiguration)`,
        action: 'patch',
        object: { apiVersion: 'operator.tigera.io/v1', kind: 'Installation', name: 'default' },
        patch: { spec: { nodeMetricsPort: port } },
        precondition: { exists: true, fields: [{ path: ['spec', 'nodeMetricsPort'], equals: null }] },
      });
      return `Felix metrics on port ${port} (Installation default spec.nodeMetricsPort)`;
    }
    const fc = b.find('FelixConfiguration', 'default');
    const spec: Obj = { prometheusMetricsEnabled: true };
    // the port only when it moves (a port chosen there before stays); never when calico-node's env sets it
    const fcPort = obj(fc?.spec)['prometheusMetricsPort'];
    if (!c.portFixedBy && port !== (typeof fcPort === 'number' ? fcPort : COMPONENT_INFO.felix.defaultPort))
      spec['prometheusMetricsPort'] = port;
    if (!fc) return undefined; // calico-node creates FelixConfiguration default when it starts
    b.add({
      title: `enable Felix metrics: FelixConfiguration default prometheusMetricsEnabled=true`,
      why,
      action: 'patch',
      object: { apiVersion: fc.apiVersion, kind: 'FelixConfiguration', name: 'default' },
      patch: { spec },
      precondition: { exists: true },
    });
    return `Felix metrics on port ${port} (FelixConfiguration default)`;
  }
  if (c.component === 'typha') {
    if (operator) {
      b.add({
        title: `enable Typha metrics: Installation default spec.typhaMetricsPort=${port}`,
        why: `${why}; the operator sets TYPHA_PROMETHEUSMETRICS*${operatorMakesTyphaService(s) ? ' and creates Service calico-system/calico-typha-metrics itself' : " (Calico v3.27's operator creates no Service for it: the plan does)"}`,
        action: 'patch',
        object: { apiVersion: 'operator.tigera.io/v1', kind: 'Installation', name: 'default' },
        patch: { spec: { typhaMetricsPort: port } },
        precondition: { exists: true, fields: [{ path: ['spec', 'typhaMetricsPort'], equals: null }] },
      });
      return `Typha metrics on port ${port} (Installation default spec.typhaMetricsPort)`;
    }
    const dep = b.find('Deployment', sw.name, sw.namespace);
    if (!dep) return undefined;
    b.add({
      title: `enable Typha metrics: Deployment ${sw.namespace}/${sw.name} env TYPHA_PROMETHEUSMETRICSENABLED=true, PORT=${port}`,
      why: `${why}; on a manifest install Typha reads the switch from its environment (the pods restart)`,
      action: 'patch',
      object: { apiVersion: 'apps/v1', kind: 'Deployment', name: sw.name, namespace: sw.namespace },
      patch: { spec: { template: { spec: { containers: typhaContainersWithMetrics(dep, port) } } } },
      // the patch carries the whole container list as planned: a change to it since (a hotfix image, a
      // resource limit) refuses the step rather than reverting it; replicas (an autoscaler's) do not matter
      precondition: {
        exists: true,
        fields: [{ path: ['spec', 'template', 'spec', 'containers'], equals: typhaContainers(dep) }],
      },
    });
    return `Typha metrics on port ${port} (Deployment ${sw.namespace}/${sw.name} env)`;
  }
  const kcc = b.find('KubeControllersConfiguration', 'default');
  if (!kcc) return undefined; // absent: kube-controllers creates it with metrics on 9094
  b.add({
    title: `enable kube-controllers metrics: KubeControllersConfiguration default prometheusMetricsPort=${port}`,
    why: `${why} (prometheusMetricsPort is 0 or unset, which kube-controllers reads as 0)`,
    action: 'patch',
    object: { apiVersion: kcc.apiVersion, kind: 'KubeControllersConfiguration', name: 'default' },
    patch: { spec: { prometheusMetricsPort: port } },
    precondition: { exists: true },
  });
  return `kube-controllers metrics on port ${port} (KubeControllersConfiguration default)`;
}

/**
 * The Service of a component. On operator installs whose operator does not make calico-typha-metrics (Calico
 * v3.27), Typha's is made exactly as later operators make it (port name and label calico-typha-metrics), so
 * that an upgraded operator takes it over unchanged and the ServiceMonitor keeps scraping it.
 */
export function serviceManifest(
  c: MetricsComponent,
  namespace: string,
  port: number,
  operatorShape = false,
): KubeObject {
  if (c === 'typha' && operatorShape)
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: OPERATOR_TYPHA_SERVICE,
        namespace,
        labels: { 'k8s-app': OPERATOR_TYPHA_SERVICE, ...ours() },
      },
      spec: {
        selector: { 'k8s-app': COMPONENT_INFO.typha.app },
        ports: [{ name: OPERATOR_TYPHA_SERVICE, port, targetPort: port, protocol: 'TCP' }],
      },
    };
  const info = COMPONENT_INFO[c];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: info.service, namespace, labels: { 'k8s-app': info.service, ...ours() } },
    spec: {
      // headless: only Prometheus reads it (through its Endpoints); kube-proxy renders no rules for it
      clusterIP: 'None',
      selector: { 'k8s-app': info.app },
      ports: [{ name: info.portName, port, targetPort: port, protocol: 'TCP' }],
    },
  };
}

export function serviceMonitorManifest(
  c: MetricsComponent,
  target: MonitorTarget,
  svc: { namespace: string; portName: string; labels: Record<string, string> },
): KubeObject {
  const app = svc.labels['k8s-app'];
  const matchLabels = app !== undefined ? { 'k8s-app': app } : { ...svc.labels };
  return {
    apiVersion: MONITORING_GROUP,
    kind: 'ServiceMonitor',
    metadata: {
      name: COMPONENT_INFO[c].serviceMonitor,
      namespace: target.namespace,
      labels: { ...target.labels, ...ours() },
    },
    spec: {
      endpoints: [{ port: svc.portName, interval: '15s', path: '/metrics' }],
      namespaceSelector: { matchNames: [svc.namespace] },
      selector: { matchLabels },
    },
  };
}

export function planMonitoring(s: ClusterSnapshot, opts: MonitoringOptions): Plan {
  if (s.calico.installMode === 'unknown' && !s.felixConfiguration)
    throw usageError(
      'no Calico install found (no Installation, calico-node DaemonSet or FelixConfiguration)',
    );
  const st = detectMonitoring(s);
  const operator = s.calico.installMode === 'operator';
  const b = new PlanBuilder(s, { timeout: opts.timeout });
  const changes: string[] = [];
  const warnings: string[] = [];
  const present = st.components.filter((c) => c.present);

  // Felix and Typha share each node's network namespace (both hostNetwork): the port one of them is turned
  // on with must not be the one the other already serves, or is turned on with here (found by a review:
  // Felix already on 9093, Typha turned on with its default 9093)
  const hostNet = present.filter((c) => c.component === 'felix' || c.component === 'typha');
  const portOf = (c: (typeof present)[number]): number | undefined =>
    c.enabled ? c.port : c.override ? undefined : (opts.ports[c.component] ?? c.port);
  const [felix, typha] = ['felix', 'typha'].map((k) => hostNet.find((c) => c.component === k));
  if (felix && typha && (!felix.enabled || !typha.enabled)) {
    const f = portOf(felix);
    if (f !== undefined && f === portOf(typha))
      throw usageError(
        `Felix and Typha metrics would both listen on port ${f} on every node (host network): ${felix.enabled ? 'Felix serves it already' : typha.enabled ? 'Typha serves it already' : 'both turned on with it'}`,
        `choose another with --${felix.enabled ? 'typha' : 'felix'}-port`,
      );
  }

  for (const c of present) {
    if (c.enabled) continue;
    if (c.override) {
      warnings.push(
        `${c.component} metrics stay off: ${c.override} (no plan changes it; remove the variable)`,
      );
      continue;
    }
    const port = opts.ports[c.component] ?? c.port;
    if (c.portFixedBy && port !== c.port)
      throw usageError(
        `--${c.component}-port ${port}: ${c.portFixedBy} overrides ${c.switch.kind} ${c.switch.name}, so ${c.component} would listen on ${c.port}`,
        `pass --${c.component}-port ${c.port}, or change the variable first`,
      );
    const change = switchStep(b, s, c, port);
    if (!change)
      warnings.push(
        `${c.component} metrics stay off: ${c.switch.kind} ${c.switch.name} does not exist yet (${c.component === 'felix' ? 'calico-node' : 'kube-controllers'} creates it when it starts; plan again then)`,
      );
    if (change) {
      changes.push(change);
      c.enabled = true;
      if (port !== c.port) {
        // a port moved by a flag: the Service that exposed the old one (ours: patched below) no longer does
        c.port = port;
        c.service = serviceFor(s, c, operator);
        // and what scrapes it is not what scraped the old one (a review: no ServiceMonitor for the new port)
        Object.assign(c, scrapingOf(st, c.service));
      }
    }
  }

  // Services: the operator creates calico-kube-controllers-metrics, and from v1.34 calico-typha-metrics, from
  // the switches
  for (const c of present) {
    if (!c.enabled || c.service) continue;
    const m = serviceManifest(c.component, c.namespace, c.port, operator);
    const existing = b.find('Service', m.metadata.name, c.namespace);
    if (existing) {
      // ours, left on another port by an earlier plan (the component's port moved since): its ports follow
      if (!managedByUs(existing.metadata.labels)) {
        warnings.push(
          `Service ${c.namespace}/${m.metadata.name} exists but does not expose ${c.component}'s metrics port ${c.port} and is not ours: left as it is; fix its port, or delete it and plan again`,
        );
        continue;
      }
      const ports = (m.spec as { ports: unknown[] }).ports;
      b.add({
        title: `set Service ${c.namespace}/${m.metadata.name} port ${c.port} (${c.component} metrics moved)`,
        why: `the Service this tool made exposes another port than the ${c.port} ${c.component} serves`,
        action: 'patch',
        object: { apiVersion: 'v1', kind: 'Service', name: m.metadata.name, namespace: c.namespace },
        patch: { spec: { ports } },
        precondition: {
          exists: true,
          fields: [
            { path: ['metadata', 'labels', MANAGED_BY_LABEL], equals: labelOf(existing) },
            { path: ['spec', 'ports'], equals: (obj(existing.spec)['ports'] as unknown[] | undefined) ?? [] },
          ],
        },
      });
    } else
      b.add({
        title: `create Service ${c.namespace}/${m.metadata.name} (port ${(m.spec as { ports: { name: string }[] }).ports[0]!.name} ${c.port})`,
        why: `no Service exposes ${c.component}'s metrics port ${c.port}: Prometheus discovers targets through Services`,
        action: 'create',
        manifest: m,
        precondition: { exists: false },
      });
    changes.push(`Service ${c.namespace}/${m.metadata.name}`);
    c.service = {
      namespace: c.namespace,
      name: m.metadata.name,
      portName: String((m.spec as { ports: { name: string }[] }).ports[0]!.name),
      port: c.port,
      labels: { ...(m.metadata.labels ?? {}) },
      source: 'cluster',
      ours: true,
    };
  }

  let target: MonitorTarget | undefined;
  const wantsCrds = opts.serviceMonitors || opts.alerts;
  if (wantsCrds && st.crds === false)
    warnings.push(
      'the monitoring.coreos.com CRDs are not served (no prometheus-operator): no ServiceMonitors or rules are planned',
    );
  if (wantsCrds && st.crds !== false) {
    target = chooseTarget(st, { namespace: opts.namespace, labels: opts.serviceMonitorLabels });
    if (st.namespaces && !st.namespaces.has(target.namespace))
      throw usageError(
        `namespace ${target.namespace} does not exist: create it or pass --namespace`,
        ...(st.prometheuses.length
          ? [`Prometheus objects: ${st.prometheuses.map((p) => `${p.namespace}/${p.name}`).join(', ')}`]
          : []),
      );
    if (!target.selectedBy.length) warnings.push(target.reason);
  }
  if (opts.serviceMonitors && target) {
    // ServiceMonitors that scrape but that no Prometheus selects (its selector changed since): ours in the
    // chosen namespace get the labels it wants now; someone else's are named with the command
    const relabelled = new Set<string>();
    for (const c of present) {
      if (!c.enabled || !c.scrapedBy.length || c.selectedBy.length || !target.selectedBy.length) continue;
      for (const ref of c.scrapedBy) {
        if (relabelled.has(ref)) continue;
        relabelled.add(ref);
        const [smNs, smName] = ref.split('/') as [string, string];
        const sm = b.find('ServiceMonitor', smName, smNs);
        if (!sm) continue;
        const labels = Object.entries(target.labels);
        const isOurs = managedByUs(sm.metadata.labels);
        if (isOurs && smNs === target.namespace && labels.length) {
          b.add({
            title: `label ServiceMonitor ${ref} ${labels.map(([k, v]) => `${k}=${v}`).join(',')} (selected by ${target.selectedBy.join(', ')})`,
            why: `no Prometheus selects it any more; ${target.reason}`,
            action: 'patch',
            object: { apiVersion: MONITORING_GROUP, kind: 'ServiceMonitor', name: smName, namespace: smNs },
            patch: { metadata: { labels: target.labels } },
            precondition: {
              exists: true,
              fields: [{ path: ['metadata', 'labels', MANAGED_BY_LABEL], equals: labelOf(sm) }],
            },
          });
          changes.push(`ServiceMonitor ${ref} labels`);
        } else
          warnings.push(
            `ServiceMonitor ${ref} scrapes ${c.component} but no Prometheus selects it: ${
              smNs === target.namespace && labels.length
                ? `kubectl label servicemonitor -n ${smNs} ${smName} ${labels.map(([k, v]) => `${k}=${v}`).join(' ')} --overwrite`
                : `${target.reason}; move it there, or plan with --namespace and --service-monitor-labels`
            }${isOurs ? '' : ' (not ours: left as it is)'}`,
          );
      }
    }
    for (const c of present) {
      if (!c.enabled || !c.service || c.scrapedBy.length) continue;
      if (!c.service.portName) {
        warnings.push(
          `Service ${c.service.namespace}/${c.service.name} exposes ${c.component}'s metrics on a port with no name, and a ServiceMonitor selects ports by name: no ServiceMonitor for it; name the port (e.g. ${COMPONENT_INFO[c.component].portName}) and plan again`,
        );
        continue;
      }
      const m = serviceMonitorManifest(c.component, target, c.service);
      if (b.find('ServiceMonitor', m.metadata.name, target.namespace)) {
        warnings.push(
          `ServiceMonitor ${target.namespace}/${m.metadata.name} exists but does not scrape Service ${c.service.namespace}/${c.service.name} (port ${c.service.portName}): left as it is; delete it and plan again, or pass --namespace`,
        );
        continue;
      }
      b.add({
        title: `create ServiceMonitor ${target.namespace}/${m.metadata.name} (port ${c.service.portName}, every 15s)`,
        why: `nothing scrapes Service ${c.service.namespace}/${c.service.name}; ${target.selectedBy.length ? `selected by Prometheus ${target.selectedBy.join(', ')}` : 'no Prometheus selects it yet'}`,
        action: 'create',
        manifest: m,
        precondition: { exists: false },
      });
      changes.push(`ServiceMonitor ${target.namespace}/${m.metadata.name}`);
    }
  }
  if (opts.alerts && target) {
    // where and with which labels a Prometheus loads the rule: its ruleSelector's labels, in a namespace its
    // ruleNamespaceSelector admits (its own when that is unset); the Prometheus that scrapes first; the flags win
    const promOf = (ref: string): PrometheusInfo | undefined =>
      st.prometheuses.find((p) => `${p.namespace}/${p.name}` === ref);
    const candidates = [
      ...target.selectedBy.map(promOf),
      ...st.prometheuses.filter((p) => !target!.selectedBy.includes(`${p.namespace}/${p.name}`)),
    ].filter((p): p is PrometheusInfo => !!p);
    let ns = target.namespace;
    let ruleLabels = { ...target.labels };
    for (const p of candidates) {
      const want = labelsSatisfying(p.ruleSelector);
      if (!want) continue;
      const nsList = opts.namespace
        ? [opts.namespace]
        : [target.namespace, p.namespace, ...[...(st.namespaces?.keys() ?? [])].sort()];
      const at = nsList.find((n) => promSelects(p, n, want, st.namespaces, 'rule'));
      if (at === undefined) continue;
      ns = at;
      ruleLabels = want;
      break;
    }
    const loadedBy = (labels: Record<string, string>, at: string): string[] =>
      st.prometheuses
        .filter((p) => promSelects(p, at, labels, st.namespaces, 'rule'))
        .map((p) => `${p.namespace}/${p.name}`);
    const noneLoads = `no Prometheus ${st.prometheuses.length ? `(${st.prometheuses.map((p) => `${p.namespace}/${p.name}${p.ruleSelector ? '' : ': no ruleSelector, so no rules'}`).join(', ')}) ` : ''}loads PrometheusRule`;
    // a rule of ours already there (in the chosen namespace, or the ServiceMonitors' from before the
    // ruleSelector was read): relabelled when no Prometheus loads it any more, like the ServiceMonitors
    const existing = [ns, target.namespace]
      .map((n) => b.find('PrometheusRule', ALERTS_RULE, n))
      .find((o): o is KubeObject => !!o);
    if (existing) {
      const at = existing.metadata.namespace ?? ns;
      const isOurs = managedByUs(existing.metadata.labels);
      if (!loadedBy(existing.metadata.labels ?? {}, at).length) {
        if (isOurs && at === ns && loadedBy(ruleLabels, at).length) {
          b.add({
            title: `label PrometheusRule ${at}/${ALERTS_RULE} ${Object.entries(ruleLabels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')} (loaded by ${loadedBy(ruleLabels, at).join(', ')})`,
            why: 'no Prometheus loads it any more (its ruleSelector changed since)',
            action: 'patch',
            object: {
              apiVersion: MONITORING_GROUP,
              kind: 'PrometheusRule',
              name: ALERTS_RULE,
              namespace: at,
            },
            patch: { metadata: { labels: ruleLabels } },
            precondition: {
              exists: true,
              fields: [{ path: ['metadata', 'labels', MANAGED_BY_LABEL], equals: labelOf(existing) }],
            },
          });
          changes.push(`PrometheusRule ${at}/${ALERTS_RULE} labels`);
        } else
          warnings.push(
            `${noneLoads} ${at}/${ALERTS_RULE}${isOurs ? '' : ' (not ours: left as it is)'}: check the ruleSelector and ruleNamespaceSelector${at !== ns ? `, or move it to ${ns}` : ''}`,
          );
      }
    } else {
      if (!loadedBy(ruleLabels, ns).length)
        warnings.push(`${noneLoads} ${ns}/${ALERTS_RULE}: check its ruleSelector and ruleNamespaceSelector`);
      if (st.namespaces && !st.namespaces.has(ns))
        throw usageError(`namespace ${ns} does not exist: create it or pass --namespace`);
      b.add({
        title: `create PrometheusRule ${ns}/${ALERTS_RULE} (Table 4 errors, Typha clients lagging, IPAM)`,
        why: "alerts for the error counters of the guide's Table 4, Typha clients lagging behind and IP pool exhaustion",
        action: 'create',
        manifest: {
          apiVersion: MONITORING_GROUP,
          kind: 'PrometheusRule',
          metadata: { name: ALERTS_RULE, namespace: ns, labels: { ...ruleLabels, ...ours() } },
          spec: alertRules(),
        },
        precondition: { exists: false },
      });
      changes.push(`PrometheusRule ${ns}/${ALERTS_RULE}`);
    }
  }
  if (opts.dashboards) {
    const ns = target?.namespace ?? opts.namespace ?? 'monitoring';
    if (st.namespaces && !st.namespaces.has(ns))
      throw usageError(
        `--dashboards: namespace ${ns} does not exist (the dashboards ConfigMap goes where Grafana's sidecar loads it)`,
        `create it, pass --namespace NS, or plan without --dashboards`,
      );
    const cm = b.find('ConfigMap', DASHBOARDS_CONFIGMAP, ns);
    if (cm && !managedByUs(cm.metadata.labels))
      warnings.push(
        `ConfigMap ${ns}/${DASHBOARDS_CONFIGMAP} exists and is not ours: left as it is (no dashboards planned); delete it and plan again, or pass --namespace`,
      );
    if (!cm) {
      const m = dashboardsConfigMap(ns, opts.dashboards);
      b.add({
        title: `create ConfigMap ${ns}/${DASHBOARDS_CONFIGMAP} (Grafana: Felix, Typha, kube-controllers IPAM)`,
        why: 'the Grafana sidecar loads ConfigMaps labelled grafana_dashboard: "1"; the datasource is a template variable',
        action: 'create',
        manifest: m,
        precondition: { exists: false },
      });
      changes.push(`ConfigMap ${ns}/${DASHBOARDS_CONFIGMAP} (dashboards)`);
    }
  }
  if (!b.steps.length)
    throw new NothingToDo(
      `monitoring is set up: ${present.map((c) => `${c.component} ${c.enabled ? `on :${c.port}` : 'off'}`).join(', ')}${warnings.length ? `; ${warnings.join('; ')}` : ''}`,
    );
  return b.finish({
    name: opts.name,
    command: opts.command,
    description: `Monitoring set-up (${s.calico.installMode} install): metrics switches, Services${opts.serviceMonitors ? ', ServiceMonitors' : ''}${opts.alerts ? ', alert rules' : ''}${opts.dashboards ? ', dashboards' : ''}`,
    changes,
    warnings,
    createdAt: opts.createdAt,
  });
}
