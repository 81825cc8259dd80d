import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag, snapshotFlag } from '../../base-command.js';

export default class BgpTopology extends BaseCommand {
  static override summary =
    'The BGP sessions Calico configures: by kind, counts (full mesh vs now vs proposed), RR clients, graph';
  static override description = `Computes, from the cluster's configuration (no calico-node is asked), the BGP sessions Calico sets up on every
node: the full mesh, BGPPeers expanded per node with their automatic reverse peerings, global peers, iBGP and eBGP,
and which nodes are route-reflector clients of which reflectors. -o dot and -o mermaid draw the graph: node by
node for small clusters, collapsed into groups (reflectors, and clients per zone) for large ones.`;
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

  async run(): Promise<void> {
    const { flags } = await this.parse(BgpTopology);
    this.setup(flags);
    const s = await this.loadSnapshot(flags.snapshot);
    const [{ bgpStateFromSnapshot }, topo, render, { verify }] = await Promise.all([
      import('../../bgp/state.js'),
      import('../../bgp/topology.js'),
      import('../../render/topology.js'),
      import('../../bgp/verify.js'),
    ]);
    const state = bgpStateFromSnapshot(s);
    const t = topo.computeTopology(state);
    const counts = render.topologyCounts(t, { proposedRRs: flags['proposed-rrs'] });
    if (flags.output === 'dot') return void process.stdout.write(`${render.renderDot(t)}\n`);
    if (flags.output === 'mermaid') return void process.stdout.write(`${render.renderMermaid(t)}\n`);
    const v = verify(state, { n1: true, maxExamples: 3 });
    const byKind = topo.nodeSessionsByKind(t);
    const doc = {
      apiVersion: 'calico-tune/v1',
      kind: 'BgpTopology',
      meshEnabled: state.meshEnabled,
      asNumber: state.globalAsNumber,
      counts: {
        ...counts,
        byKind: {
          mesh: byKind.mesh,
          nodePeer: byKind.node,
          globalPeer: byKind.global,
          external: counts.currentExternalSessions,
        },
        routeReflectorClientSessions: byKind.rrClient,
      },
      routeReflectors: topo
        .routeReflectors(t)
        .map((r) => ({ ...r, clientNodes: r.clients <= 50 ? topo.clientsOf(t, r.name) : undefined })),
      reachability: {
        ok: v.ok,
        unreachablePairs: v.unreachablePairs,
        examples: v.examples,
        n1Ok: v.n1?.ok ?? null,
      },
    };
    const n = (x: number): string => x.toLocaleString('en-US');
    this.emit(flags.output, doc, () =>
      render.renderTopologyTable(t, {
        proposedRRs: flags['proposed-rrs'],
        extra: [
          [
            'by kind',
            `mesh ${n(byKind.mesh)} · node-specific ${n(byKind.node)} · global ${n(byKind.global)} · external ${n(counts.currentExternalSessions)} · to RR clients ${n(byKind.rrClient)}`,
          ],
          [
            'routes',
            (v.ok
              ? "every pair of nodes learns each other's routes"
              : `${n(v.unreachablePairs)} node pairs do not learn each other's routes (kubectl calico-tune status explains)`) +
              (v.n1 && topo.routeReflectors(t).length >= 2
                ? v.n1.ok
                  ? '; any one reflector can fail'
                  : '; losing one reflector would cut nodes off'
                : ''),
          ],
        ],
      }),
    );
  }
}
