/** Flags shared by `monitoring plan` and `monitoring apply` (CLI layer; the planner options are pure). */
import { Flags } from '@oclif/core';
import { usageError } from './errors.js';
import type { MonitoringOptions } from './monitoring/plan.js';
import { parseLabelList } from './monitoring/selector.js';
import { DEFAULT_GATE_TIMEOUT, type Planner } from './plan-command.js';
import { planName } from './plan/name.js';

const port = (name: string, def: number) =>
  Flags.integer({
    description: `${name} metrics port when it is turned on (default: the port already configured for it, else ${def})`,
    min: 1,
    max: 65535,
  });

/** --namespace (-n, the kubectl flag) places the ServiceMonitors and rules. */
export const monitoringFlags = {
  'service-monitor-labels': Flags.string({
    description:
      "Labels for the ServiceMonitors (default: what an existing Prometheus's serviceMonitorSelector needs)",
    helpValue: 'k=v,...',
  }),
  'service-monitors': Flags.boolean({
    default: true,
    allowNo: true,
    description: 'Create ServiceMonitors (needs the monitoring.coreos.com CRDs)',
  }),
  dashboards: Flags.boolean({
    description:
      'Also create a ConfigMap with the Felix, Typha and kube-controllers Grafana dashboards (sidecar label grafana_dashboard: "1")',
  }),
  alerts: Flags.boolean({
    description: 'Also create a PrometheusRule with alerts (Table 4 errors, Typha drops, IPAM)',
  }),
  'felix-port': port('Felix', 9091),
  'typha-port': port('Typha', 9093),
  'kube-controllers-port': port('kube-controllers', 9094),
};

interface MonitoringFlagValues {
  namespace?: string | undefined;
  'service-monitor-labels'?: string | undefined;
  'service-monitors': boolean;
  alerts: boolean;
  dashboards: boolean;
  'felix-port'?: number | undefined;
  'typha-port'?: number | undefined;
  'kube-controllers-port'?: number | undefined;
}

/**
 * Ports calico-node and Typha already listen on in the host's network namespace (both run with hostNetwork):
 * BGP, Typha's own port, Typha's and Felix's health ports (Calico's defaults: typhaPort, healthPort).
 */
const HOST_PORTS: Record<number, string> = {
  179: 'BGP (BIRD)',
  5473: "Typha's port for Felix",
  9098: "Typha's health port",
  9099: "Felix's health port",
};

/** Felix and Typha metrics share each node's network namespace: refused when they collide (exit 2). */
function portConflicts(felix: number | undefined, typha: number | undefined): void {
  if (felix !== undefined && felix === typha)
    throw usageError(
      `--felix-port and --typha-port are both ${felix}: calico-node and Typha run in the host's network namespace, so the second one could not listen`,
    );
  for (const [flag, port] of [
    ['--felix-port', felix],
    ['--typha-port', typha],
  ] as const)
    if (port !== undefined && HOST_PORTS[port])
      throw usageError(
        `${flag} ${port} is ${HOST_PORTS[port]} on every node (host network): choose another port`,
      );
}

export function monitoringOptions(
  flags: MonitoringFlagValues & { timeout: string },
  verb: 'plan' | 'apply',
  dashboards?: Record<string, unknown>,
): MonitoringOptions {
  let labels: Record<string, string> | undefined;
  if (flags['service-monitor-labels'] !== undefined) {
    const r = parseLabelList(flags['service-monitor-labels']);
    if (r.error) throw usageError(`invalid --service-monitor-labels: ${r.error}`);
    labels = r.labels;
  }
  portConflicts(flags['felix-port'], flags['typha-port']);
  if (flags.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(flags.namespace))
    throw usageError(`invalid --namespace "${flags.namespace}" (a DNS label)`);
  return {
    namespace: flags.namespace,
    serviceMonitorLabels: labels,
    serviceMonitors: flags['service-monitors'],
    alerts: flags.alerts,
    dashboards: flags.dashboards ? dashboards : undefined,
    // only the ports given: a component without one keeps the port configured for it
    ports: Object.fromEntries(
      (
        [
          ['felix', flags['felix-port']],
          ['typha', flags['typha-port']],
          ['kube-controllers', flags['kube-controllers-port']],
        ] as const
      ).filter(([, v]) => v !== undefined),
    ),
    timeout: flags.timeout,
    name: planName('monitoring', 'setup'),
    // the flags that shaped the plan, so the plan says how to make it again
    command: [
      `kubectl calico-tune monitoring ${verb}`,
      ...(flags.namespace !== undefined ? [`-n ${flags.namespace}`] : []),
      ...(flags['service-monitor-labels'] !== undefined
        ? [`--service-monitor-labels ${flags['service-monitor-labels']}`]
        : []),
      ...(flags['service-monitors'] ? [] : ['--no-service-monitors']),
      ...(flags.alerts ? ['--alerts'] : []),
      ...(flags.dashboards ? ['--dashboards'] : []),
      ...(flags['felix-port'] !== undefined ? [`--felix-port ${flags['felix-port']}`] : []),
      ...(flags['typha-port'] !== undefined ? [`--typha-port ${flags['typha-port']}`] : []),
      ...(flags['kube-controllers-port'] !== undefined
        ? [`--kube-controllers-port ${flags['kube-controllers-port']}`]
        : []),
    ].join(' '),
  };
}

/**
 * The planner that `monitoring plan|apply` run. Bad flags are refused here, before the cluster is read;
 * with --dashboards it reads the Grafana dashboards for the cluster's Calico release.
 */
export async function monitoringPlanner(
  flags: MonitoringFlagValues,
  verb: 'plan' | 'apply',
): Promise<Planner> {
  monitoringOptions({ ...flags, timeout: DEFAULT_GATE_TIMEOUT }, verb);
  const [{ planMonitoring }, { loadCalicoDashboards }] = await Promise.all([
    import('./monitoring/plan.js'),
    import('./kube/files.js'),
  ]);
  const dashboards = flags.dashboards ? await loadCalicoDashboards() : undefined;
  return (s, timeout) =>
    planMonitoring(s, monitoringOptions({ ...flags, timeout }, verb, dashboards?.(s.calico.version?.minor)));
}
