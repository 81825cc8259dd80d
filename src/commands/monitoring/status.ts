import { BaseCommand, outputFlag, snapshotFlag } from '../../base-command.js';
import type { MonitoringReport } from '../../monitoring/report.js';

export default class MonitoringStatus extends BaseCommand {
  static override summary =
    "What is enabled, exposed, scraped and selected for Calico's metrics; each gap with its fix";
  static override description = `Reads the cluster (or a snapshot file) and reports, for Felix, Typha and kube-controllers: where each runs,
its metrics switch (Installation on operator installs, FelixConfiguration / the Typha Deployment's env on manifest
installs, KubeControllersConfiguration) and port, the Service that exposes it (or the one the operator creates),
the ServiceMonitors that scrape it and the Prometheus objects that select those; whether the
monitoring.coreos.com CRDs are served; and where 'monitoring plan' would put ServiceMonitors.

Exit codes: 0 read (gaps are findings, not failures); 2 bad input; 3 the cluster could not be read.`;
  static override examples = [
    'kubectl calico-tune monitoring status',
    'kubectl calico-tune monitoring status -o json',
    'kubectl calico-tune monitoring status --snapshot examples/cluster-150.yaml',
  ];
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    ...snapshotFlag,
  };

  async run(): Promise<MonitoringReport> {
    const { flags } = await this.parse(MonitoringStatus);
    this.setup(flags);
    const snapshot = await this.loadSnapshot(flags.snapshot);
    const [{ buildMonitoringReport }, { renderMonitoring }] = await Promise.all([
      import('../../monitoring/report.js'),
      import('../../render/monitoring.js'),
    ]);
    const report = buildMonitoringReport(snapshot);
    return this.emit(flags.output, report, () => renderMonitoring(report, flags.output === 'wide'));
  }
}
