import { Flags } from '@oclif/core';
import { migrateFlags, migrationPlanner } from '../../migrate-flags.js';
import { planFlags, PlanCommand, type PlanResult } from '../../plan-command.js';
import { usageError } from '../../errors.js';
import type { CompletionHints } from '../../cli/complete.js';

export default class MigrateApply extends PlanCommand {
  static override summary = 'Apply a migration plan (from a file, or built now), with checkpoints, resumable';
  static override description = `With -f, applies a saved plan after checking that the cluster did not change since it was made (a node added,
a reflector removed, a BGPPeer edited: refused as stale, with what changed). With --to, builds the plan now and
applies it. Progress is recorded in the cluster: --resume continues after a crash or Ctrl-C, --rollback undoes.`;
  static override examples = [
    'kubectl calico-tune migrate apply -f plan.yaml',
    'kubectl calico-tune migrate apply --to route-reflectors --rr-count 3 --yes',
    'kubectl calico-tune migrate apply --resume',
    'kubectl calico-tune migrate apply --rollback',
  ];
  /** Shell completion of the arguments (src/cli/complete.ts). */
  static completion: CompletionHints = { flags: { rr: 'nodes' } };
  static override flags = {
    ...planFlags,
    ...migrateFlags,
    filename: Flags.string({
      char: 'f',
      description: 'The plan to apply (YAML or JSON)',
      helpValue: 'FILE',
      exclusive: ['to'],
    }),
  };

  protected override applyCommand = 'kubectl calico-tune migrate apply';

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(MigrateApply);
    this.setup(flags);
    return this.applyPlan(flags, { to: flags.to }, () => {
      if (!flags.to)
        throw usageError('pass -f PLAN_FILE, or --to route-reflectors|mesh to plan and apply now');
      return migrationPlanner(flags, flags.to, 'apply');
    });
  }
}
