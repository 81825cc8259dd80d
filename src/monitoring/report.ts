/** The `monitoring status` report: what is enabled, exposed, scraped and selected, with findings. Pure. */
import { sortFindings, type Finding } from '../model/finding.js';
import type { ClusterSnapshot, InstallMode } from '../model/types.js';
import { chooseTarget, detectMonitoring, type MonitorTarget } from './detect.js';
import { monitoringFindings } from './findings.js';
import { switchText } from '../model/monitoring.js';
import type { MetricsComponent } from '../model/monitoring.js';
import { decideProbe, notChecked, probeFinding, type ComponentProbe, type ProbeInput } from './probe.js';

/** What the probe of `/metrics` did: read the pods (live), or why it was not run (offline). */
export type ProbeRun =
  { ran: true; timeoutMs: number; inputs: ProbeInput[] } | { ran: false; reason: string };

export interface MonitoringReport {
  apiVersion: 'calico-tune/v1';
  kind: 'MonitoringStatus';
  source: { kind: string; server: string | null; capturedAt: string };
  installMode: InstallMode;
  /** monitoring.coreos.com/v1 served (null: unknown, a snapshot file without discovery). */
  prometheusOperator: boolean | null;
  components: {
    component: MetricsComponent;
    present: boolean;
    namespace: string;
    enabled: boolean;
    port: number;
    /** The switch that decides it: `Kind [ns/]name field`. */
    switch: string;
    override: string | null;
    service: {
      namespace: string;
      name: string;
      port: number;
      portName: string;
      source: 'cluster' | 'operator';
    } | null;
    scrapedBy: string[];
    selectedBy: string[];
    /** Does a pod actually answer `/metrics` on the port (read through the API server's pod proxy)? */
    serving: ComponentProbe;
  }[];
  /** The probe of `/metrics`: run (live) or not, why not, and its one timeout. */
  probe: { ran: boolean; reason: string | null; timeoutMs: number | null };
  prometheuses: {
    namespace: string;
    name: string;
    serviceMonitorSelector: unknown;
    serviceMonitorNamespaceSelector: unknown;
  }[];
  /** Where `monitoring plan` would put ServiceMonitors (null without prometheus-operator). */
  serviceMonitorTarget: MonitorTarget | null;
  findings: Finding[];
  summary: { enabled: number; exposed: number; scraped: number; present: number; gaps: number };
}

export function buildMonitoringReport(
  s: ClusterSnapshot,
  probe: ProbeRun = { ran: false, reason: 'not run' },
): MonitoringReport {
  const st = detectMonitoring(s);
  const serving = new Map<MetricsComponent, ComponentProbe>();
  for (const c of st.components) {
    const input = probe.ran ? probe.inputs.find((i) => i.component === c.component) : undefined;
    serving.set(
      c.component,
      !c.present
        ? notChecked('not checked: not installed')
        : !c.enabled
          ? notChecked('not checked: metrics are off')
          : !probe.ran
            ? notChecked(`not checked: ${probe.reason}`)
            : input
              ? decideProbe(input)
              : notChecked('not checked: not probed'),
    );
  }
  const probeFindings = st.components.flatMap((c) => {
    const f = probeFinding({ ...c, switch: switchText(c.switch) }, serving.get(c.component)!);
    return f ? [f] : [];
  });
  const findings = sortFindings([...monitoringFindings(st, { includeTypha: true }), ...probeFindings]);
  const present = st.components.filter((c) => c.present);
  return {
    apiVersion: 'calico-tune/v1',
    kind: 'MonitoringStatus',
    source: { kind: s.source.kind, server: s.source.server ?? null, capturedAt: s.source.capturedAt },
    installMode: st.installMode,
    prometheusOperator: st.crds,
    components: st.components.map((c) => ({
      component: c.component,
      present: c.present,
      namespace: c.namespace,
      enabled: c.enabled,
      port: c.port,
      switch: switchText(c.switch),
      override: c.override ?? null,
      service: c.service
        ? {
            namespace: c.service.namespace,
            name: c.service.name,
            port: c.service.port,
            portName: c.service.portName,
            source: c.service.source,
          }
        : null,
      scrapedBy: c.scrapedBy,
      selectedBy: c.selectedBy,
      serving: serving.get(c.component)!,
    })),
    probe: probe.ran
      ? { ran: true, reason: null, timeoutMs: probe.timeoutMs }
      : { ran: false, reason: probe.reason, timeoutMs: null },
    prometheuses: st.prometheuses.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      serviceMonitorSelector: p.serviceMonitorSelector,
      serviceMonitorNamespaceSelector: p.serviceMonitorNamespaceSelector,
    })),
    serviceMonitorTarget: st.crds === false ? null : chooseTarget(st, {}),
    findings,
    summary: {
      present: present.length,
      enabled: present.filter((c) => c.enabled).length,
      // (a Service the operator is to create but the cluster does not have yet exposes nothing)
      exposed: present.filter((c) => c.enabled && c.service?.source === 'cluster').length,
      scraped: present.filter((c) => c.scrapedBy.length).length,
      gaps: findings.length,
    },
  };
}
