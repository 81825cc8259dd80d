import { Flags } from '@oclif/core';
import { monitoringFlags, monitoringPlanner } from '../../monitoring-flags.js';
import { planFlags, PlanCommand, type PlanResult } from '../../plan-command.js';

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

  protected override applyCommand = 'kubectl calico-tune monitoring apply';

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(MonitoringApply);
    this.setup(flags);
    return this.applyPlan(flags, {}, () => monitoringPlanner(flags, 'apply'));
  }
}
