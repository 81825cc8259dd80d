import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag, snapshotFlag } from '../../base-command.js';
import type { MonitoringReport, ProbeRun } from '../../monitoring/report.js';

export default class MonitoringStatus extends BaseCommand {
  static override summary =
    "What is enabled, exposed, scraped and selected for Calico's metrics; each gap with its fix";
  static override description = `Reads the cluster (or a snapshot file) and reports, for Felix, Typha and kube-controllers: where each runs,
its metrics switch (Installation on operator installs, FelixConfiguration / the Typha Deployment's env on manifest
installs, KubeControllersConfiguration) and port, the Service that exposes it (or the one the operator creates),
the ServiceMonitors that scrape it and the Prometheus objects that select those; whether the
monitoring.coreos.com CRDs are served; and where 'monitoring plan' would put ServiceMonitors.

For each component whose metrics are on it then checks that they are actually served: it reads /metrics of up
to 2 running pods per component through the API server's pod proxy (RBAC: get pods/proxy), all within one
--timeout, and reports "serving: yes (pod, N metric families)" or "no" with the reason (connection refused, the
proxy's error, no running pod). A user without pods/proxy (the read-only role) gets "not checked: forbidden",
not a failure. With --snapshot the probe is not run.

Exit codes: 0 read (gaps are findings, not failures); 2 bad input; 3 the cluster could not be read.`;
  static override examples = [
    'kubectl calico-tune monitoring status',
    'kubectl calico-tune monitoring status -o json',
    'kubectl calico-tune monitoring status --snapshot examples/cluster-150.yaml',
  ];
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    ...snapshotFlag,
    timeout: Flags.string({
      description: "Time allowed for the whole probe of the pods' /metrics (live only)",
      default: '5s',
    }),
  };

  async run(): Promise<MonitoringReport> {
    const { flags } = await this.parse(MonitoringStatus);
    this.setup(flags);
    const timeoutMs = this.durationFlag('timeout', flags.timeout, { examples: '5s, 1m' });
    const snapshot = await this.loadSnapshot(flags.snapshot);
    const [{ buildMonitoringReport }, { renderMonitoring }] = await Promise.all([
      import('../../monitoring/report.js'),
      import('../../render/monitoring.js'),
    ]);
    let probe: ProbeRun = { ran: false, reason: 'offline (--snapshot): the /metrics probe was not run' };
    if (!flags.snapshot) {
      const [{ detectMonitoring }, { metricsSources }, { probeCalicoMetrics }, api] = await Promise.all([
        import('../../monitoring/detect.js'),
        import('../../monitoring/metrics.js'),
        import('../../kube/calico-metrics.js'),
        this.kube(),
      ]);
      const { sources } = metricsSources(detectMonitoring(snapshot), ['felix', 'typha', 'kube-controllers']);
      const inputs = await this.withProgress('Probing /metrics', () =>
        probeCalicoMetrics(api, sources, { timeoutMs }),
      );
      probe = { ran: true, timeoutMs, inputs };
    }
    const report = buildMonitoringReport(snapshot, probe);
    return this.emit(flags.output, report, () => renderMonitoring(report, flags.output === 'wide'));
  }
}
