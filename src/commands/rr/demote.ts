import { Args, Flags } from '@oclif/core';
import { planFlags, PlanCommand, roleFlags, roleOptions, type PlanResult } from '../../plan-command.js';
import type { CompletionHints } from '../../cli/complete.js';

export default class RrDemote extends PlanCommand {
  static override summary =
    'Turn route reflectors back into ordinary nodes, refusing when that would cut nodes off';
  static override description = `Refuses when the BGP model shows that demoting would leave any pair of nodes without routes (for example the
last reflector with the mesh off), or would leave fewer than 2 reflectors with the mesh off (unless --force,
which still refuses to cut nodes off). Then: cordon, drain (unless --no-drain), remove the reflector label (clients
drop their sessions), wait, remove the cluster ID, wait until it is back as a client or mesh member, uncordon.`;
  static override examples = [
    'kubectl calico-tune rr demote node-a-004 --dry-run',
    'kubectl calico-tune rr demote node-a-004 --yes',
  ];
  static override strict = false;
  /** Shell completion of the arguments (src/cli/complete.ts). */
  static completion: CompletionHints = { args: { nodes: 'reflectors' } };
  static override args = {
    nodes: Args.string({ description: 'Reflectors to demote (none with --resume or --rollback)' }),
  };
  static override flags = {
    ...planFlags,
    ...roleFlags,
    label: Flags.string({
      description:
        'The reflector label to remove (default: the one the reflectors carry and a BGPPeer selects, else route-reflector=true)',
    }),
    force: Flags.boolean({
      description: 'Allow fewer than 2 reflectors with the mesh off (never allows cutting nodes off)',
    }),
  };

  async run(): Promise<PlanResult> {
    const { flags, argv } = await this.parse(RrDemote);
    this.setup(flags);
    this.planArgs(flags, argv as string[], 'the reflectors to demote');
    const { planDemote } = await import('../../rr/plan.js');
    return this.runPlan(flags, (s, timeout) =>
      planDemote(s, argv as string[], {
        label: flags.label,
        force: flags.force,
        ...roleOptions(flags, timeout),
      }),
    );
  }
}
