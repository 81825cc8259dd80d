import { Flags } from '@oclif/core';
import { monitoringFlags, monitoringOptions } from '../../monitoring-flags.js';
import { planFlags, PlanCommand, type PlanResult } from '../../plan-command.js';
import { usageError } from '../../errors.js';

export default class MonitoringApply extends PlanCommand {
  static override summary = 'Apply the monitoring set-up (from a file, or planned now) through the executor';
  static override description = `With -f, applies a saved monitoring plan after checking that the cluster did not change since it was made.
Without -f, plans now (the same flags as 'monitoring plan') and applies. Progress is recorded in the cluster:
--resume continues after a crash or Ctrl-C, --rollback restores every switch and deletes what the plan created.
A second run when everything is in place says "nothing to do" (exit 0).`;
  static override examples = [
    'kubectl calico-tune monitoring apply --yes',
    'kubectl calico-tune monitoring apply --dry-run=server',
    'kubectl calico-tune monitoring apply -f plan.yaml',
    'kubectl calico-tune monitoring apply --rollback --yes',
  ];
  static override flags = {
    ...planFlags,
    ...monitoringFlags,
    filename: Flags.string({ char: 'f', description: 'The plan to apply (YAML or JSON)', helpValue: 'FILE' }),
  };

  protected override resumeHint(): string {
    return super.resumeHint().replace('kubectl calico-tune apply', 'kubectl calico-tune monitoring apply');
  }

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(MonitoringApply);
    this.setup(flags);
    if (flags.resume || flags.rollback) {
      if (flags.filename)
        throw usageError('--resume/--rollback read the unfinished plan from the cluster; drop -f');
      return this.runPlan(flags, { file: '' });
    }
    if (flags.filename) return this.runPlan(flags, { file: flags.filename });
    const options = (timeout: string, dashboards?: Record<string, unknown>) =>
      monitoringOptions({ ...flags, timeout }, 'apply', dashboards);
    options('10m');
    const [{ planMonitoring }, { loadCalicoDashboards }] = await Promise.all([
      import('../../monitoring/plan.js'),
      import('../../kube/files.js'),
    ]);
    const dashboards = flags.dashboards ? await loadCalicoDashboards() : undefined;
    return this.runPlan(flags, (s, timeout) =>
      planMonitoring(s, options(timeout, dashboards?.(s.calico.version?.minor))),
    );
  }
}
