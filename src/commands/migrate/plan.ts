import { migrateFlags, migrationPlanner } from '../../migrate-flags.js';
import { planOnlyFlags, PlanCommand, saveFlags, type PlanResult } from '../../plan-command.js';
import { usageError } from '../../errors.js';
import type { CompletionHints } from '../../cli/complete.js';

export default class MigratePlan extends PlanCommand {
  static override summary =
    'Plan the move from the BGP full mesh to route reflectors (or back), verified step by step';
  static override description = `Calico's no-disruption procedure, made exact: preflight (BGP in use, API mode, the default BGPConfiguration,
mesh password fields, conflicting BGPPeers, node count), choose the reflectors (recommend logic or --rr), create the
BGPPeer that peers every node with them, promote each (cordon, label + cluster ID, wait for its sessions), wait
until every node has every reflector Established, turn the mesh off (clearing the mesh password fields in the same
update), wait until every node has exactly the reflector sessions, uncordon. --to mesh goes back the same way.
The BGP model verifies every intermediate state (reachability, and the loss of any one reflector).
Nothing is changed: save the plan with --save FILE and apply it with 'kubectl calico-tune migrate apply -f FILE'.`;
  static override examples = [
    'kubectl calico-tune migrate plan --to route-reflectors',
    'kubectl calico-tune migrate plan --to route-reflectors --rr-count 3 --save plan.yaml',
    'kubectl calico-tune migrate plan --to route-reflectors --snapshot examples/cluster-1000.json -o script',
    'kubectl calico-tune migrate plan --to mesh',
  ];
  /** Shell completion of the arguments (src/cli/complete.ts). */
  static completion: CompletionHints = { flags: { rr: 'nodes' } };
  // only plans: the apply-time flags (--yes, --on-timeout, --resume, --rollback) belong to migrate apply
  static override flags = {
    ...planOnlyFlags,
    ...migrateFlags,
    ...saveFlags('migrate plan', 'migrate apply'),
  };

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(MigratePlan);
    this.setup(flags);
    if (!flags.to) throw usageError('--to is required: route-reflectors or mesh');
    const to = flags.to;
    return this.showPlan(flags, flags.save ?? flags.filename, () => migrationPlanner(flags, to, 'plan'));
  }
}
