import { Args, Flags } from '@oclif/core';
import type { PeersReport } from '../../bgp/peers-report.js';
import { BaseCommand, outputFlag } from '../../base-command.js';
import { ExitCode } from '../../errors.js';
import { nodeNamed } from '../../model/names.js';
import { num } from '../../model/format.js';

export default class BgpPeers extends BaseCommand {
  static override summary =
    'Show the live BGP sessions of nodes (like calicoctl node status, from your workstation)';
  static override description = `Reads each node's BGP sessions from a CalicoNodeStatus (created for the run and deleted afterwards; the Calico
docs advise against many at once, so by default only the route reflectors are read: an RR lists every client),
falling back to birdcl in the node's calico-node pod through the exec API. Each session is compared with what the
BGP model expects. Exit code 1 when a node reports a missing, unexpected or not Established session.`;
  static override examples = [
    'kubectl calico-tune bgp peers',
    'kubectl calico-tune bgp peers node-a-004 node-b-004 -o json',
    'kubectl calico-tune bgp peers --source birdcl',
    'kubectl calico-tune bgp peers --wait --wait-timeout 10m',
  ];
  static override strict = false;
  static override args = {
    nodes: Args.string({
      description: 'Nodes to read (default: the route reflectors, else one node per zone)',
    }),
  };
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    source: Flags.string({
      description: 'Where to read sessions from',
      options: ['auto', 'caliconodestatus', 'birdcl'],
      default: 'auto',
    }),
    timeout: Flags.string({ description: 'How long to wait for the nodes to report', default: '30s' }),
    wait: Flags.boolean({
      description:
        'Read again until every node matches the model, or --wait-timeout passes (then exit 1 with the last reading), like cilium status --wait',
    }),
    'wait-timeout': Flags.string({
      description: 'With --wait: how long to keep reading (default 5m)',
      helpValue: 'DURATION',
      // (alone it would be ignored: a review)
      dependsOn: ['wait'],
    }),
  };

  async run(): Promise<PeersReport> {
    const { flags, argv } = await this.parse(BgpPeers);
    this.setup(flags);
    const timeoutMs = this.durationFlag('timeout', flags.timeout);
    const waitMs = this.durationFlag('wait-timeout', flags['wait-timeout'] ?? '5m');
    const s = await this.loadSnapshot(undefined);
    const [{ defaultObservedNodes, peersReport }, { observePeers }, { renderPeers }] = await Promise.all([
      import('../../bgp/peers-report.js'),
      import('../../kube/bgp-status.js'),
      import('../../render/peers.js'),
    ]);
    // (a node named twice is read once)
    const named = [...new Set(argv as string[])];
    for (const n of named) nodeNamed(s, n);
    const nodes = named.length ? named : defaultObservedNodes(s);
    if (nodes.length > 10)
      this.warnLine(
        `reading ${num(nodes.length)} nodes at once; CalicoNodeStatus is meant for a few nodes at a time`,
      );
    const api = await this.kube();
    const read = async (round: number): Promise<PeersReport> => {
      const observed = await this.withProgress(
        round === 1
          ? `Reading BGP sessions of ${nodes.length} node(s)`
          : `Waiting until every node matches the model (reading ${round})`,
        () =>
          observePeers(api, s.calico.apiMode, nodes, {
            timeoutMs,
            source: flags.source as 'auto',
            namespace: s.calico.nodeNamespace,
          }),
      );
      return peersReport(s, observed, nodes);
    };
    // --wait: read again every 2 s until every node matches the model or the wait is over
    const deadline = Date.now() + waitMs;
    let report = await read(1);
    for (let round = 2; flags.wait && !allMatch(report) && Date.now() < deadline; round++) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(2_000, Math.max(0, deadline - Date.now()))),
      );
      report = await read(round);
    }
    if (flags.wait && !allMatch(report))
      this.warnLine(
        `--wait: ${report.summary.ok}/${report.summary.nodes} node(s) match the model after ${flags['wait-timeout'] ?? '5m'}`,
      );
    this.emit(flags.output, report, () => renderPeers(report, flags.output === 'wide'));
    for (const n of report.nodes) if (n.error) this.warnLine(`${n.node}: ${n.error}`);
    if (!allMatch(report)) this.setExitCode(ExitCode.FINDINGS);
    return report;
  }
}

/** Every node read reports the sessions the model expects. */
function allMatch(r: PeersReport): boolean {
  return r.summary.ok === r.summary.nodes;
}
