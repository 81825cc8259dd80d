import { Args, Flags } from '@oclif/core';
import { planFlags, PlanCommand, roleFlags, roleOptions, type PlanResult } from '../../plan-command.js';
import type { CompletionHints } from '../../cli/complete.js';

export default class RrReplace extends PlanCommand {
  static override summary = 'Replace a route reflector with another node without losing routes';
  static override description = `Promotes NEW, waits until every client has NEW Established, then demotes OLD. The BGP model verifies every
intermediate state, including the loss of any single reflector where there are at least two.`;
  static override examples = [
    'kubectl calico-tune rr replace node-a-004 node-a-007 --dry-run',
    'kubectl calico-tune rr replace node-a-004 node-a-007 --yes',
  ];
  /** Shell completion of the arguments (src/cli/complete.ts). */
  static completion: CompletionHints = { args: { old: 'reflectors', new: 'non-reflectors' } };
  static override args = {
    old: Args.string({ description: 'The reflector to retire', required: true }),
    new: Args.string({ description: 'The node that takes over', required: true }),
  };
  static override flags = {
    ...planFlags,
    ...roleFlags,
    'cluster-id': Flags.string({ description: "Cluster ID for NEW (default: OLD's)" }),
    label: Flags.string({
      description: 'Label that BGPPeer selectors use to find reflectors',
      default: 'route-reflector=true',
    }),
  };

  async run(): Promise<PlanResult> {
    const { flags, args } = await this.parse(RrReplace);
    this.setup(flags);
    const { planReplace } = await import('../../rr/plan.js');
    return this.runPlan(flags, (s, timeout) =>
      planReplace(s, args.old, args.new, {
        clusterId: flags['cluster-id'],
        label: flags.label,
        ...roleOptions(flags, timeout),
      }),
    );
  }
}
