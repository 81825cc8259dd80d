import { Flags } from '@oclif/core';
import { encapFlags, encapPlanner } from '../../encap-flags.js';
import { planFlags, PlanCommand, type PlanResult } from '../../plan-command.js';

export default class EncapApply extends PlanCommand {
  static override summary =
    'Apply an encapsulation plan (from a file, or built now), with a checkpoint and undo';
  static override description = `With -f, applies a saved encap plan after checking that the cluster did not change since it was made. With
--pool and --mode, builds the plan now and applies it. A person at the terminal confirms before the switch;
--rollback undoes an unfinished plan (to go back after it finished, apply the previous mode). Existing pods keep their IPs and need no restart; see the plan's warnings.`;
  static override examples = [
    'kubectl calico-tune encap apply -f plan.yaml',
    'kubectl calico-tune encap apply --pool default-ipv4-ippool --mode vxlan --yes',
    'kubectl calico-tune encap apply --pool default-ipv4-ippool --mode ipip-crosssubnet --dry-run=server',
    'kubectl calico-tune encap apply --rollback',
  ];
  static override flags = {
    ...planFlags,
    ...encapFlags,
    filename: Flags.string({
      char: 'f',
      description: 'The plan to apply (YAML or JSON)',
      helpValue: 'FILE',
      exclusive: ['pool', 'mode'],
    }),
  };

  protected override applyCommand = 'kubectl calico-tune encap apply';

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(EncapApply);
    this.setup(flags);
    return this.applyPlan(flags, { pool: flags.pool, mode: flags.mode }, () => encapPlanner(flags, 'apply'));
  }
}
