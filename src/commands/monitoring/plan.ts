import { monitoringFlags, monitoringPlanner } from '../../monitoring-flags.js';
import { planOnlyFlags, PlanCommand, saveFlags, type PlanResult } from '../../plan-command.js';

export default class MonitoringPlan extends PlanCommand {
  static override summary =
    "Plan the guide's monitoring set-up: metrics switches, Services, ServiceMonitors, alerts";
  static override description = `Turns on the metrics of Felix (Installation spec.nodeMetricsPort on operator installs, FelixConfiguration
default elsewhere), Typha (Installation spec.typhaMetricsPort, or the Deployment's TYPHA_PROMETHEUSMETRICS* env)
and kube-controllers (KubeControllersConfiguration default prometheusMetricsPort); creates a Service for each
component that none exposes (port names felix-metrics, typha-metrics, kube-controllers-metrics; never one the
operator creates itself); and, when the monitoring.coreos.com CRDs are served, ServiceMonitors (15s, /metrics)
in a namespace and with labels an existing Prometheus selects, and with --alerts a PrometheusRule.
Every step has an undo. Nothing is changed: save with --save FILE and apply with 'monitoring apply -f FILE'.`;
  static override examples = [
    'kubectl calico-tune monitoring plan',
    'kubectl calico-tune monitoring plan --namespace monitoring --service-monitor-labels release=prometheus --save plan.yaml',
    'kubectl calico-tune monitoring plan --alerts -o yaml',
  ];
  // only plans: the apply-time flags (--yes, --on-timeout, --resume, --rollback) belong to monitoring apply
  static override flags = {
    ...planOnlyFlags,
    ...monitoringFlags,
    ...saveFlags('monitoring plan', 'monitoring apply'),
  };

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(MonitoringPlan);
    this.setup(flags);
    return this.showPlan(flags, flags.save ?? flags.filename, () => monitoringPlanner(flags, 'plan'));
  }
}
