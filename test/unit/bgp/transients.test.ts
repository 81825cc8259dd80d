import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BgpState } from '../../../src/bgp/state.js';
import { computeTopology, expectedPeers, type Topology } from '../../../src/bgp/topology.js';
import { flappingNodes } from '../../../src/bgp/transients.js';
import { verifyZoneLoss } from '../../../src/bgp/verify.js';
import { bgpStateArb, shapeStateArb } from './arbitrary.js';
import { demote, node, nodes, promote, rrCluster, rrPeer, state } from './helpers.js';

/** The definition, node by node: a node flaps when it had established sessions and keeps none unchanged. */
function naiveFlapping(before: Topology, after: Topology): Flat {
  const sessions = (t: Topology, name: string): Map<string, string> =>
    new Map(
      expectedPeers(t, name)
        .filter((p) => p.established)
        .map((p) => [p.peerIP, `${p.kind}|${p.remoteAS}|${p.peerIsClient}|${p.weAreClient}`]),
    );
  const out: string[] = [];
  for (const n of before.state.nodes) {
    const i = before.nodeIndex.get(n.name);
    const j = after.nodeIndex.get(n.name);
    if (i === undefined || j === undefined || before.participates[i] !== 1 || after.participates[j] !== 1)
      continue;
    const was = sessions(before, n.name);
    const now = sessions(after, n.name);
    if (was.size > 0 && ![...was].some(([ip, sig]) => now.get(ip) === sig)) out.push(n.name);
  }
  return { nodes: out.sort(), count: out.length };
}
type Flat = { nodes: string[]; count: number };

/** A random step: mesh toggled, a node promoted/demoted, a BGPPeer removed, a node down. */
function stepOf(s: BgpState, kind: number, pick: number): BgpState {
  const n = s.nodes[pick % s.nodes.length]!;
  switch (kind) {
    case 0:
      return { ...s, meshEnabled: !s.meshEnabled };
    case 1:
      return n.clusterId ? demote(s, n.name) : promote(s, n.name, '244.0.0.9');
    case 2:
      return { ...s, peers: s.peers.filter((_, i) => i !== pick % Math.max(1, s.peers.length)) };
    default:
      return { ...s, nodes: s.nodes.map((x) => (x === n ? { ...x, participates: false } : x)) };
  }
}

const flap = (a: Parameters<typeof computeTopology>[0], b: Parameters<typeof computeTopology>[0]) =>
  flappingNodes(computeTopology(a), computeTopology(b));

describe('bgp/transients: which nodes re-form every session in a step', () => {
  it('the class-level comparison equals the node-by-node definition (random states and steps)', () => {
    fc.assert(
      fc.property(
        fc.oneof(bgpStateArb(), shapeStateArb()),
        fc.integer({ min: 0, max: 3 }),
        fc.nat(),
        (s, kind, pick) => {
          const before = computeTopology(s);
          const after = computeTopology(stepOf(s, kind, pick));
          assert.deepEqual(flappingNodes(before, after, 1000), naiveFlapping(before, after));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('a node promoted out of the mesh flaps; the other mesh members keep their other sessions', () => {
    const s0 = state({ nodes: nodes('n', 6, { zone: 'a' }), peers: [rrPeer()] });
    const s1 = promote(s0, 'n2', '244.0.0.1');
    assert.deepEqual(flap(s0, s1), { nodes: ['n2'], count: 1 });
  });

  it('turning the mesh off flaps nobody when every node keeps its reflector sessions', () => {
    const s0 = rrCluster({ rrs: 2, clients: 6, zones: 2, mesh: true });
    const s1 = { ...s0, meshEnabled: false };
    assert.deepEqual(flap(s0, s1), { nodes: [], count: 0 });
  });

  it('turning the mesh off without reflectors flaps every node (all sessions gone)', () => {
    const s0 = state({ nodes: nodes('n', 4) });
    const s1 = { ...s0, meshEnabled: false };
    assert.equal(flap(s0, s1).count, 4);
  });

  it('demoting a reflector flaps that reflector, not its clients (they keep the other reflector)', () => {
    const s0 = rrCluster({ rrs: 2, clients: 6, zones: 2, mesh: false });
    const rr = s0.nodes.find((n) => n.clusterId !== undefined)!.name;
    const r = flap(s0, demote(s0, rr));
    assert.deepEqual(r.nodes, [rr]);
  });

  it('an unchanged state flaps nobody; a node with no session before does not count', () => {
    const s0 = state({ nodes: [node('x', { ip: null }), ...nodes('n', 3)] });
    assert.deepEqual(flap(s0, s0), { nodes: [], count: 0 });
  });

  it('names at most `max` nodes but counts them all', () => {
    const s0 = state({ nodes: nodes('n', 30) });
    const r = flappingNodes(computeTopology(s0), computeTopology({ ...s0, meshEnabled: false }), 5);
    assert.equal(r.count, 30);
    assert.equal(r.nodes.length, 5);
  });
});

describe('bgp/verify: zone loss', () => {
  it('reflectors spread over zones survive the loss of any one zone', () => {
    const s = rrCluster({ rrs: 3, clients: 9, zones: 3, mesh: false });
    assert.equal(verifyZoneLoss(s).ok, true);
  });

  it('two reflectors in one zone: that zone’s outage cuts every pair', () => {
    const s0 = state({
      nodes: [
        node('rr1', { zone: 'a', cluster: '244.0.0.1' }),
        node('rr2', { zone: 'a', cluster: '244.0.0.1' }),
        ...nodes('a', 3, { zone: 'a' }),
        ...nodes('b', 3, { zone: 'b' }),
      ],
      peers: [rrPeer()],
      mesh: false,
    });
    const v = verifyZoneLoss(s0);
    assert.equal(v.ok, false);
    assert.equal(v.failures[0]!.zone, 'a');
    assert.deepEqual(v.failures[0]!.routeReflectors.sort(), ['rr1', 'rr2']);
    assert.ok(v.failures[0]!.unreachablePairs > 0);
    // with the mesh still on, the same outage cuts nothing
    assert.equal(verifyZoneLoss({ ...s0, meshEnabled: true }).ok, true);
  });

  it('does not apply with one zone; a single reflector with the mesh off fails it (its zone takes every route)', () => {
    assert.equal(verifyZoneLoss(rrCluster({ rrs: 3, clients: 6, zones: 1, mesh: false })).ok, null);
    assert.equal(verifyZoneLoss(rrCluster({ rrs: 1, clients: 6, zones: 3, mesh: false })).ok, false);
    assert.equal(verifyZoneLoss(rrCluster({ rrs: 1, clients: 6, zones: 3, mesh: true })).ok, true);
  });
});
