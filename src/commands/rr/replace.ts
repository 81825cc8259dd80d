import { Args, Flags } from '@oclif/core';
import { usageError } from '../../errors.js';
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
    old: Args.string({ description: 'The reflector to retire (none with --resume or --rollback)' }),
    new: Args.string({ description: 'The node that takes over' }),
  };
  static override flags = {
    ...planFlags,
    ...roleFlags,
    'cluster-id': Flags.string({
      description: 'Cluster ID for NEW (default: one of its own, the lowest unused 244.0.0.N)',
    }),
    label: Flags.string({
      description:
        'Label that BGPPeer selectors use to find reflectors (default: the one the existing reflectors carry and a BGPPeer selects, else route-reflector=true)',
    }),
  };

  async run(): Promise<PlanResult> {
    const { flags, args } = await this.parse(RrReplace);
    this.setup(flags);
    const named = [args.old, args.new].filter((x): x is string => x !== undefined);
    this.planArgs(flags, named, 'OLD and NEW');
    if (!flags.resume && !flags.rollback && named.length < 2)
      throw usageError('name OLD and NEW: the reflector to retire and the node that takes over');
    const { planReplace } = await import('../../rr/plan.js');
    return this.runPlan(flags, (s, timeout) =>
      planReplace(s, args.old!, args.new!, {
        clusterId: flags['cluster-id'],
        label: flags.label,
        ...roleOptions(flags, timeout),
      }),
    );
  }
}
