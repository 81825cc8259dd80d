import type { Plan } from '../../plan/types.js';
import type { ApplyResult } from '../../plan-command.js';
import { Args, Flags } from '@oclif/core';
import { planFlags, PlanCommand } from '../../plan-command.js';

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
  static override args = { nodes: Args.string({ description: 'Reflectors to demote', required: true }) };
  static override flags = {
    ...planFlags,
    label: Flags.string({ description: 'The reflector label to remove', default: 'route-reflector=true' }),
    'allow-zone-loss': Flags.boolean({
      description: 'Accept a result where one zone outage (all its reflectors down) would cut nodes off',
    }),
    drain: Flags.boolean({
      default: true,
      allowNo: true,
      description:
        "Evict the node's pods (Eviction API, PodDisruptionBudgets respected) before it changes role: every BGP session of a node that changes role re-forms, and its pods would lose traffic for a few seconds (default; --no-drain keeps them there)",
    }),
    force: Flags.boolean({
      description: 'Allow fewer than 2 reflectors with the mesh off (never allows cutting nodes off)',
    }),
  };

  async run(): Promise<Plan | ApplyResult> {
    const { flags, argv } = await this.parse(RrDemote);
    this.setup(flags);
    const { planDemote } = await import('../../rr/plan.js');
    return this.runPlan(flags, (s, timeout) =>
      planDemote(s, argv as string[], {
        label: flags.label,
        drain: flags.drain,
        force: flags.force,
        timeout,
        allowZoneLoss: flags['allow-zone-loss'],
      }),
    );
  }
}
