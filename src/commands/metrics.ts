import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag } from '../base-command.js';
import { usageError } from '../errors.js';
import type { MetricsComponent } from '../model/monitoring.js';
import type { MetricsReport } from '../monitoring/metrics.js';

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
    const { parseDurationMs } = await import('../model/duration.js');
    const timeoutMs = parseDurationMs(flags.timeout);
    if (timeoutMs === undefined || timeoutMs <= 0)
      throw usageError(`invalid --timeout "${flags.timeout}" (examples: 5s, 1m)`);
    const intervalMs = parseDurationMs(flags.interval);
    if (intervalMs === undefined || intervalMs <= 0)
      throw usageError(`invalid --interval "${flags.interval}" (examples: 5s, 1m)`);
    const all: MetricsComponent[] = ['felix', 'typha', 'kube-controllers'];
    const wanted = flags.component
      ? flags.component
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : all;
    const bad = wanted.filter((w) => !all.includes(w as MetricsComponent));
    if (bad.length) throw usageError(`unknown --component "${bad[0]}" (felix, typha, kube-controllers)`);

    const snapshot = await this.loadSnapshot(undefined);
    const [{ detectMonitoring }, { buildMetricsReport }, { readCalicoMetrics }, { renderMetrics }, api] =
      await Promise.all([
        import('../monitoring/detect.js'),
        import('../monitoring/metrics.js'),
        import('../kube/calico-metrics.js'),
        import('../render/metrics.js'),
        this.kube(),
      ]);
    const st = detectMonitoring(snapshot);
    const sources = st.components
      .filter((x) => x.present && wanted.includes(x.component))
      .filter((x) => {
        if (!x.enabled)
          this.warnLine(
            `${x.component} metrics are off (${x.switch.kind} ${x.switch.name} ${x.switch.field}): not read; kubectl calico-tune monitoring plan`,
          );
        return x.enabled;
      })
      .map((x) => ({ component: x.component, namespace: x.namespace, port: x.port }));
    const once = async (): Promise<MetricsReport> => {
      const stop = this.progress('Reading metrics');
      const raw = await readCalicoMetrics(api, sources, { timeoutMs, node: flags.node }).finally(stop);
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
    let report = await once();
    if (!flags.watch) {
      show(report);
      return report;
    }
    const tty = process.stdout.isTTY === true && !this.machineOutput;
    let stopped = false;
    const onInt = (): void => {
      stopped = true;
    };
    process.once('SIGINT', onInt);
    try {
      for (;;) {
        if (tty) process.stdout.write('\u001b[H\u001b[2J');
        show(report);
        const until = Date.now() + intervalMs;
        while (!stopped && Date.now() < until)
          await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
        if (stopped) break;
        report = await once();
      }
    } finally {
      process.off('SIGINT', onInt);
    }
    return report;
  }
}
