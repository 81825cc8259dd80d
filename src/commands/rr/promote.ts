import { Args, Flags } from '@oclif/core';
import { planFlags, PlanCommand, roleFlags, roleOptions, type PlanResult } from '../../plan-command.js';
import type { CompletionHints } from '../../cli/complete.js';

export default class RrPromote extends PlanCommand {
  static override summary =
    'Make nodes route reflectors, safely (cordon, label + cluster ID, wait for sessions, uncordon)';
  static override description = `Builds a plan and applies it with the executor: makes sure a BGPPeer peers every node with the reflectors
(creating peer-with-route-reflectors if needed), then for each node: cordon, drain (unless --no-drain), set the
label and the projectcalico.org/RouteReflectorClusterID annotation in one patch, wait until all its BGP sessions
are Established, uncordon. Every intermediate state is checked with the BGP model first.`;
  static override examples = [
    'kubectl calico-tune rr promote node-a-004 --dry-run',
    'kubectl calico-tune rr promote node-a-004 node-b-004 node-c-004 --cluster-id 244.0.0.1 --yes',
    'kubectl calico-tune rr promote node-a-004 -o script > promote.sh',
  ];
  static override strict = false;
  /** Shell completion of the arguments (src/cli/complete.ts). */
  static completion: CompletionHints = { args: { nodes: 'non-reflectors' } };
  static override args = {
    nodes: Args.string({ description: 'Nodes to promote (none with --resume or --rollback)' }),
  };
  static override flags = {
    ...planFlags,
    ...roleFlags,
    'cluster-id': Flags.string({
      description:
        'Route-reflector cluster ID, a bare IPv4 address, shared by the nodes promoted (default: one of its own for each, the lowest unused 244.0.0.N)',
    }),
    label: Flags.string({
      description:
        'Label that BGPPeer selectors use to find reflectors (default: the one the existing reflectors carry and a BGPPeer selects, else route-reflector=true)',
    }),
  };

  async run(): Promise<PlanResult> {
    const { flags, argv } = await this.parse(RrPromote);
    this.setup(flags);
    this.planArgs(flags, argv as string[], 'the nodes to promote');
    const { planPromote } = await import('../../rr/plan.js');
    return this.runPlan(flags, (s, timeout) =>
      planPromote(s, argv as string[], {
        clusterId: flags['cluster-id'],
        label: flags.label,
        ...roleOptions(flags, timeout),
      }),
    );
  }
}
