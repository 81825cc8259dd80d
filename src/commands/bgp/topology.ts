import { Flags } from '@oclif/core';
import type { BgpTopologyReport } from '../../bgp/topology-report.js';
import { BaseCommand, outputFlag, snapshotFlag } from '../../base-command.js';
import { ExitCode, usageError } from '../../errors.js';

export default class BgpTopology extends BaseCommand {
  static override summary = 'The BGP sessions Calico configures: kinds, counts, RR clients, graph';
  static override description = `Computes, from the cluster's configuration (no calico-node is asked), the BGP sessions Calico sets up on every
node: the full mesh, BGPPeers expanded per node with their automatic reverse peerings, global peers, iBGP and eBGP,
and which nodes are route-reflector clients of which reflectors. -o dot and -o mermaid draw the graph: node by
node for small clusters, collapsed into groups (reflectors, and clients per zone) for large ones.
Exit code 1 when some node pairs cannot learn each other's routes, as for status.`;
  static override examples = [
    'kubectl calico-tune bgp topology',
    'kubectl calico-tune bgp topology --proposed-rrs 3',
    'kubectl calico-tune bgp topology -o dot | dot -Tsvg > bgp.svg',
    'kubectl calico-tune bgp topology -o mermaid --snapshot examples/cluster-rr-broken.yaml',
  ];
  static override flags = {
    output: outputFlag(['table', 'json', 'yaml', 'dot', 'mermaid'] as const),
    'proposed-rrs': Flags.integer({
      description: 'Also count the sessions with this many route reflectors',
      min: 1,
    }),
    ...snapshotFlag,
  };

  async run(): Promise<BgpTopologyReport['doc']> {
    const { flags } = await this.parse(BgpTopology);
    this.setup(flags);
    const s = await this.loadSnapshot(flags.snapshot, { report: true });
    const proposed = flags['proposed-rrs'];
    if (proposed !== undefined && proposed > s.nodes.length)
      throw usageError(
        `--proposed-rrs ${proposed}: the cluster has ${s.nodes.length} node(s); reflectors are some of them`,
      );
    const [{ bgpTopologyReport }, { renderTopologyReport }] = await Promise.all([
      import('../../bgp/topology-report.js'),
      import('../../render/topology.js'),
    ]);
    const report = bgpTopologyReport(s, { proposedRRs: flags['proposed-rrs'] });
    // as status does: exit 1 when the model finds node pairs that cannot reach each other
    if (report.verdict.unreachablePairs > 0) this.setExitCode(ExitCode.FINDINGS);
    return this.emit(flags.output, report.doc, () =>
      renderTopologyReport(report, flags.output, { proposedRRs: flags['proposed-rrs'] }),
    );
  }
}
