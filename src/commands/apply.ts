import type { Plan } from '../plan/types.js';
import type { ApplyResult } from '../plan-command.js';
import { Flags } from '@oclif/core';
import { planFlags, PlanCommand } from '../plan-command.js';
import { usageError } from '../errors.js';

export default class Apply extends PlanCommand {
  static override summary =
    'Apply a saved plan, or resume / roll back the unfinished one recorded in the cluster';
  static override description = `Applies a plan saved with -o yaml|json (from rr promote/demote/replace or migrate plan). Before the first write
the plan is checked against the live cluster: it must be intact (its digest), made for this cluster (the
kube-system UID), current (a node added, a reflector removed, a BGPPeer edited: refused as stale), and every step
must verify on the live state (preconditions, and the BGP model at every intermediate state). With --snapshot
the same checks run offline against a saved snapshot (nothing is written). Progress is recorded in a Lease (calico-tune in calico-system,
else kube-system), so --resume continues after a crash or Ctrl-C and --rollback undoes what was done.`;
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

  async run(): Promise<Plan | ApplyResult> {
    const { flags } = await this.parse(Apply);
    this.setup(flags);
    if (!flags.filename && !flags.resume && !flags.rollback)
      throw usageError(
        'nothing to apply',
        'pass -f PLAN_FILE, or --resume / --rollback for the unfinished plan in the cluster',
      );
    if (flags.filename && (flags.resume || flags.rollback))
      throw usageError(
        '-f and --resume/--rollback exclude each other: the unfinished plan is read from the cluster',
      );
    if (flags.snapshot && !flags.filename)
      throw usageError('--snapshot checks a saved plan offline: pass -f PLAN_FILE too');
    return this.runPlan(flags, { file: flags.filename ?? '' });
  }
}
