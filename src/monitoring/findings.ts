/**
 * Monitoring findings for `status` and `monitoring status`: which switch is off (in the object the install
 * mode makes authoritative), which Service is missing, what nothing scrapes, which ServiceMonitor no
 * Prometheus selects; each fixed by `kubectl calico-tune monitoring plan`. Typha's switch is reported by
 * the Typha analysis (TYPHA_METRICS_DISABLED). Pure.
 */
import type { Finding } from '../model/finding.js';
import { listSome } from '../model/format.js';
import type { ObjectRef } from '../model/types.js';
import type { MonitoringState } from './detect.js';
import type { SwitchRef } from '../model/monitoring.js';

import { MONITORING_FIX, switchText, typhaMetricsDisabled } from '../model/monitoring.js';

const label = { felix: 'Felix', typha: 'Typha', 'kube-controllers': 'kube-controllers' } as const;

function switchRef(sw: SwitchRef): ObjectRef {
  return { kind: sw.kind, name: sw.name, namespace: sw.namespace };
}

export function monitoringFindings(st: MonitoringState, opts: { includeTypha?: boolean } = {}): Finding[] {
  const out: Finding[] = [];
  for (const c of st.components) {
    if (!c.present) continue;
    const name = label[c.component];
    if (!c.enabled) {
      if (c.component === 'typha' && !opts.includeTypha) continue;
      if (c.override) {
        out.push({
          code: 'METRICS_ENV_OVERRIDE',
          severity: 'warning',
          message: `${name} Prometheus metrics are off and cannot be turned on in FelixConfiguration: ${c.override}`,
          objects: [switchRef(c.switch)],
          fix: `kubectl set env -n ${c.switch.namespace} daemonset/${c.switch.name} FELIX_PROMETHEUSMETRICSENABLED-`,
        });
        continue;
      }
      if (c.component === 'typha') {
        out.push(typhaMetricsDisabled(st.installMode === 'operator', c.switch, c.port));
        continue;
      }
      out.push({
        code: c.component === 'felix' ? 'FELIX_METRICS_DISABLED' : 'KUBE_CONTROLLERS_METRICS_DISABLED',
        severity: 'info',
        message: `${name} Prometheus metrics are disabled (${switchText(c.switch)}): ${c.component === 'felix' ? 'dataplane apply times, resync state and the errors of Table 4 are invisible' : 'IPAM allocations and blocks per node are invisible'}`,
        objects: [switchRef(c.switch)],
        fix: MONITORING_FIX,
      });
      continue;
    }
    if (c.offOn?.length) {
      const nodes = c.offOn.flatMap((o) => o.nodes);
      out.push({
        code: 'FELIX_METRICS_OFF_ON_NODES',
        severity: 'warning',
        message: `Felix Prometheus metrics are on in FelixConfiguration default, but off on ${nodes.length} node(s) through their own FelixConfiguration (${listSome(c.offOn.map((o) => o.object))}), which wins for them: Prometheus gets no Felix metrics from ${listSome(nodes)}`,
        objects: c.offOn.map((o) => ({ kind: 'FelixConfiguration', name: o.object })),
        fix: `kubectl patch felixconfiguration ${c.offOn[0]!.object} --type=merge -p '{"spec":{"prometheusMetricsEnabled":null}}'`,
      });
    }
    if (!c.service) {
      out.push({
        code: 'METRICS_SERVICE_MISSING',
        severity: 'info',
        message: `${name} serves metrics on port ${c.port} but no Service in ${c.namespace} exposes it (selector k8s-app, port ${c.port}): Prometheus cannot discover it`,
        objects: [
          {
            kind: 'Service',
            name: `calico-${c.component === 'felix' ? 'felix' : c.component}-metrics`,
            namespace: c.namespace,
          },
        ],
        fix: MONITORING_FIX,
      });
      continue;
    }
    if (st.crds !== true) continue; // without prometheus-operator there is nothing to check beyond the Service
    if (!c.scrapedBy.length) {
      out.push({
        code: 'METRICS_NOT_SCRAPED',
        severity: 'info',
        message: `no ServiceMonitor scrapes Service ${c.service.namespace}/${c.service.name} (port ${c.service.portName}): ${name} metrics are exposed but not collected`,
        objects: [{ kind: 'Service', name: c.service.name, namespace: c.service.namespace }],
        fix: MONITORING_FIX,
      });
    } else if (!c.selectedBy.length) {
      out.push({
        code: 'SERVICEMONITOR_NOT_SELECTED',
        severity: 'warning',
        message: `ServiceMonitor ${c.scrapedBy.join(', ')} scrapes ${name}, but no Prometheus object selects it (serviceMonitorSelector / serviceMonitorNamespaceSelector${st.prometheuses.length ? `; Prometheus: ${st.prometheuses.map((p) => `${p.namespace}/${p.name}`).join(', ')}` : '; no Prometheus object exists'})`,
        objects: c.scrapedBy.map((r) => {
          const [namespace, n] = r.split('/');
          return { kind: 'ServiceMonitor', name: n!, namespace };
        }),
        fix: `${MONITORING_FIX}; it places ServiceMonitors where a Prometheus selects them (--namespace, --service-monitor-labels)`,
      });
    }
  }
  return out;
}
