import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag } from '../base-command.js';
import type { MetricsReport } from '../monitoring/metrics.js';
import { usageError } from '../errors.js';

export default class Metrics extends BaseCommand {
  static override summary = "The guide's Table 4 live, per node, worst first; Typha's connection balance";
  static override description = `Reads the Prometheus /metrics of every calico-node (Felix), Typha and kube-controllers pod through the API
server's pod proxy (no port-forward, nothing installed; RBAC: get pods/proxy), all within one --timeout, and shows
per node, worst first: felix_ipset_errors, felix_iptables_restore_calls, felix_iptables_restore_errors,
felix_iptables_save_calls, felix_iptables_save_errors, felix_log_errors (Felix), ipam_allocations_per_node and
ipam_blocks_per_node (kube-controllers); and Typha's active connections per pod (max/mean). Pods that did not
answer are named with why (partial results). --watch redraws every --interval until Ctrl-C.
Components whose metrics are off are skipped (kubectl calico-tune monitoring plan turns them on).`;
  static override examples = [
    'kubectl calico-tune metrics',
    'kubectl calico-tune metrics --component felix --node node-a-004',
    'kubectl calico-tune metrics --watch --interval 10s',
    'kubectl calico-tune metrics -o json',
  ];
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    component: Flags.string({
      description: 'Only these components (comma-separated)',
      helpValue: 'felix|typha|kube-controllers',
    }),
    node: Flags.string({ description: "Only this node's row (and only its calico-node pod is read)" }),
    timeout: Flags.string({ description: 'Time allowed for the whole fan-out', default: '5s' }),
    watch: Flags.boolean({ char: 'w', description: 'Redraw every --interval until Ctrl-C' }),
    interval: Flags.string({ description: 'With --watch: time between reads', default: '5s' }),
  };

  async run(): Promise<MetricsReport> {
    const { flags } = await this.parse(Metrics);
    this.setup(flags);
    const timeoutMs = this.durationFlag('timeout', flags.timeout, { examples: '5s, 1m' });
    const intervalMs = this.durationFlag('interval', flags.interval, { examples: '5s, 1m' });
    const { buildMetricsReport, metricsSources, parseMetricsComponents } =
      await import('../monitoring/metrics.js');
    const wanted = parseMetricsComponents(flags.component);

    const snapshot = await this.loadSnapshot(undefined);
    // as rr promote and bgp peers: a node that does not exist is bad input, not "no per-node figures" (a review)
    if (flags.node !== undefined && !snapshot.nodes.some((n) => n.name === flags.node))
      throw usageError(`node "${flags.node}" does not exist`, 'list them: kubectl get nodes');
    const [{ detectMonitoring }, { readCalicoMetrics }, { renderMetrics }, api] = await Promise.all([
      import('../monitoring/detect.js'),
      import('../kube/calico-metrics.js'),
      import('../render/metrics.js'),
      this.kube(),
    ]);
    const { sources, off } = metricsSources(detectMonitoring(snapshot), wanted);
    for (const x of off)
      this.warnLine(
        `${x.component} metrics are off (${x.switch.kind} ${x.switch.name} ${x.switch.field}): not read; kubectl calico-tune monitoring plan`,
      );
    const read = async (): Promise<MetricsReport> => {
      const raw = await this.withProgress('Reading metrics', () =>
        readCalicoMetrics(api, sources, { timeoutMs, node: flags.node }),
      );
      return buildMetricsReport(raw, { capturedAt: new Date().toISOString(), timeoutMs, node: flags.node });
    };
    const show = (r: MetricsReport): void => {
      this.emit(flags.output, r, () => renderMetrics(r, { wide: flags.output === 'wide' }));
      if (this.machineOutput && r.unread.length)
        this.warnLine(
          `${r.unread.length} pod(s) not read: ${r.unread
            .slice(0, 3)
            .map((u) => `${u.pod} (${u.error})`)
            .join('; ')}`,
        );
    };
    if (!flags.watch) {
      const report = await read();
      show(report);
      return report;
    }
    // --watch: redraw a terminal, else print one report after the other
    const tty = process.stdout.isTTY === true && !this.machineOutput;
    let last!: MetricsReport;
    await this.repeatUntilSignal(intervalMs, async () => {
      last = await read();
      if (tty) process.stdout.write('\u001b[H\u001b[2J');
      show(last);
    });
    return last;
  }
}
