import { Flags } from '@oclif/core';
import { BaseCommand, clusterFlagNames, outputFlag, snapshotFlag } from '../../base-command.js';
import { usageError } from '../../errors.js';
import type { TyphaLiveMetrics } from '../../typha/metrics.js';
import {
  parseNodeCount,
  type TyphaMetricsReader,
  type TyphaReport as TyphaReportDoc,
} from '../../typha/report.js';

export default class TyphaReport extends BaseCommand {
  static override summary =
    'Size Typha: install mode, node counts, recommended vs running replicas, load, growth and findings';
  static override description = `Reads the cluster (or a snapshot file) and reports:
- how Typha is installed (operator, manifest or none), and any calico-typha-horizontal-autoscaler;
- the nodes as the operator counts them (schedulable, not an AKS virtual node), and the Linux ones;
- the recommended replicas: the operator's formula, and the manifest guidance as a range;
- what runs: pods, nodes, zones, PodDisruptionBudget, anti-affinity, requests, metrics;
- the load: estimated from the node count, and live from each Typha's metrics (read through the
  API server's pod proxy when metrics are enabled, within --metrics-timeout);
- growth: a what-if table and chart of replicas vs nodes;
- findings, each with a fix.

With --nodes N it reads no cluster and shows the recommendation for N nodes.

Exit codes: 0 no critical finding; 1 a critical finding (or a warning with --strict);
2 bad input; 3 the cluster could not be read.`;
  static override examples = [
    'kubectl calico-tune typha report',
    'kubectl calico-tune typha report --context prod -o json',
    'kubectl calico-tune typha report --snapshot examples/cluster-150.yaml',
    'kubectl calico-tune typha report --nodes 1200',
  ];
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    nodes: Flags.string({
      description: 'What-if: the recommendation for this many nodes, without reading a cluster',
      helpValue: 'N',
    }),
    install: Flags.option({
      description: 'With --nodes: which rule applies (default operator)',
      options: ['operator', 'manifest'] as const,
    })(),
    'metrics-timeout': Flags.string({
      description: "Time allowed for reading every Typha's metrics (0 = do not read them)",
      default: '3s',
      helpValue: 'DURATION',
    }),
    strict: Flags.boolean({ description: 'Exit 1 on warnings too, not only on critical findings' }),
    ...snapshotFlag,
  };

  async run(): Promise<TyphaReportDoc> {
    const { flags } = await this.parse(TyphaReport);
    this.setup(flags);
    const whatIfNodes = flags.nodes === undefined ? undefined : parseNodeCount(flags.nodes);
    if (whatIfNodes !== undefined) {
      const given = flags as Record<string, unknown>;
      const conflicting = clusterFlagNames.find((f) => given[f] !== undefined && given[f] !== false);
      if (conflicting) {
        throw usageError(
          `--nodes is a what-if without a cluster: it cannot be combined with --${conflicting}`,
          'drop --nodes to report on a cluster, or drop the cluster flags for a what-if',
        );
      }
    } else if (flags.install !== undefined) {
      throw usageError(
        '--install only applies to a what-if (--nodes N): a cluster says how Typha is installed',
      );
    }
    const metricsTimeoutMs = this.durationFlag('metrics-timeout', flags['metrics-timeout'], {
      examples: '3s, 500ms, 0',
      zeroOk: true,
    });

    const [{ typhaClusterReport, typhaExitCode, typhaWhatIfReport }, { renderTyphaReport }] =
      await Promise.all([import('../../typha/report.js'), import('../../render/typha.js')]);
    const report =
      whatIfNodes !== undefined
        ? typhaWhatIfReport(whatIfNodes, flags.install ?? 'operator')
        : await typhaClusterReport(
            await this.loadSnapshot(flags.snapshot, { report: true }),
            metricsTimeoutMs,
            this.typhaMetricsReader(metricsTimeoutMs),
          );
    if (this.machineOutput) for (const w of report.source.warnings) this.warnLine(w);
    this.setExitCode(typhaExitCode(report, flags.strict));
    return this.emit(flags.output, report, () => renderTyphaReport(report, flags.output === 'wide'));
  }

  /** Reads each Typha's metrics through the API server's pod proxy (with -o json|yaml, a failure is a warning). */
  private typhaMetricsReader(timeoutMs: number): TyphaMetricsReader {
    return async (target): Promise<TyphaLiveMetrics> => {
      const [{ readTyphaMetrics }, api] = await Promise.all([
        import('../../kube/typha-metrics.js'),
        this.kube(),
      ]);
      const live = await this.withProgress('Reading Typha metrics', () =>
        readTyphaMetrics(api, target, { timeoutMs }),
      );
      if (live.reason && this.machineOutput) this.warnLine(`Typha metrics: ${live.reason}`);
      return live;
    };
  }
}
