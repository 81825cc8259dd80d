import { Flags } from '@oclif/core';
import { planFlags, PlanCommand, type PlanResult } from '../plan-command.js';
import { usageError } from '../errors.js';

export default class Apply extends PlanCommand {
  static override summary = 'Apply a saved plan, or resume / roll back the unfinished one in the cluster';
  static override description = `Applies a plan saved with -o yaml|json (rr promote/demote/replace, migrate plan). Before the first write it must be
intact (its digest), made for this cluster (the kube-system UID), current (else refused as stale), and every step
must verify on the live state (preconditions, and the BGP model at every intermediate state); with --snapshot the
same checks run offline. Progress is recorded in a Lease, so --resume continues and --rollback undoes.`;
  static override examples = [
    'kubectl calico-tune apply -f plan.yaml',
    'kubectl calico-tune apply -f plan.yaml --dry-run=server',
    'kubectl calico-tune apply -f plan.yaml --snapshot cluster.yaml    # review offline: the same checks, no cluster',
    'kubectl calico-tune apply --resume',
    'kubectl calico-tune apply --rollback --yes',
  ];
  static override flags = {
    ...planFlags,
    filename: Flags.string({
      char: 'f',
      description: 'The plan file (YAML or JSON; - for stdin)',
      helpValue: 'FILE',
    }),
  };

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(Apply);
    this.setup(flags);
    const recorded = flags.resume || flags.rollback;
    if (!flags.filename && !recorded)
      throw usageError(
        'nothing to apply',
        'pass -f PLAN_FILE, or --resume / --rollback for the unfinished plan',
      );
    if (flags.filename && recorded)
      throw usageError(
        '-f and --resume/--rollback exclude each other: the unfinished plan is in the cluster',
      );
    if (flags.snapshot && !flags.filename)
      throw usageError('--snapshot checks a saved plan offline: pass -f too');
    return this.runPlan(flags, { file: flags.filename ?? '' });
  }
}
