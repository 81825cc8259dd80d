import type { Plan } from '../../plan/types.js';
import type { ApplyResult } from '../../plan-command.js';
import { Args, Flags } from '@oclif/core';
import { planFlags, PlanCommand } from '../../plan-command.js';

export default class RrReplace extends PlanCommand {
  static override summary = 'Replace a route reflector with another node without losing routes';
  static override description = `Promotes NEW, waits until every client has NEW Established, then demotes OLD. The BGP model verifies every
intermediate state, including the loss of any single reflector where there are at least two.`;
  static override examples = [
    'kubectl calico-tune rr replace node-a-004 node-a-007 --dry-run',
    'kubectl calico-tune rr replace node-a-004 node-a-007 --yes',
  ];
  static override args = {
    old: Args.string({ description: 'The reflector to retire', required: true }),
    new: Args.string({ description: 'The node that takes over', required: true }),
  };
  static override flags = {
    ...planFlags,
    'cluster-id': Flags.string({ description: "Cluster ID for NEW (default: OLD's)" }),
    label: Flags.string({
      description: 'Label that BGPPeer selectors use to find reflectors',
      default: 'route-reflector=true',
    }),
    'allow-zone-loss': Flags.boolean({
      description: 'Accept a result where one zone outage (all its reflectors down) would cut nodes off',
    }),
    drain: Flags.boolean({
      default: true,
      allowNo: true,
      description:
        "Evict the node's pods (Eviction API, PodDisruptionBudgets respected) before it changes role: every BGP session of a node that changes role re-forms, and its pods would lose traffic for a few seconds (default; --no-drain keeps them there)",
    }),
  };

  async run(): Promise<Plan | ApplyResult> {
    const { flags, args } = await this.parse(RrReplace);
    this.setup(flags);
    const { planReplace } = await import('../../rr/plan.js');
    return this.runPlan(flags, (s, timeout) =>
      planReplace(s, args.old, args.new, {
        clusterId: flags['cluster-id'],
        label: flags.label,
        drain: flags.drain,
        timeout,
        allowZoneLoss: flags['allow-zone-loss'],
      }),
    );
  }
}
