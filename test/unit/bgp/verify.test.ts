import assert from 'node:assert/strict';
import type { BgpState } from '../../../src/bgp/state.js';
import { learnsRoutes, verify, verifySequence } from '../../../src/bgp/verify.js';
import { demote, node, nodes, peer, promote, RR_SELECTOR, rrCluster, rrPeer, state } from './helpers.js';

const C = '244.0.0.1';

/** The docs' starting point: full mesh, 9 workers, 3 of which will become route reflectors. */
function meshCluster(): BgpState {
  return state({
    nodes: [
      ...nodes('w', 6),
      node('rr0', { zone: 'a' }),
      node('rr1', { zone: 'b' }),
      node('rr2', { zone: 'c' }),
    ],
    mesh: true,
  });
}

function withPeers(s: BgpState, ...peers: BgpState['peers']): BgpState {
  return { ...s, peers: [...s.peers, ...peers] };
}

function meshOff(s: BgpState): BgpState {
  return { ...s, meshEnabled: false };
}

/** Issue #2735 (notes scenario i/ii): rr1, rr2 peer each other; a only with rr1, b only with rr2. */
function partial(id1: string, id2: string, extra: BgpState['nodes'] = []): BgpState {
  return state({
    nodes: [
      node('rr1', { cluster: id1, labels: { rr1: '' } }),
      node('rr2', { cluster: id2, labels: { rr2: '' } }),
      node('a', { labels: { 'attach-rr1': '' } }),
      node('a2', { labels: { 'attach-rr1': '' } }),
      node('b', { labels: { 'attach-rr2': '' } }),
      ...extra,
    ],
    peers: [
      peer('a-rr1', { nodeSelector: 'has(attach-rr1)', peerSelector: 'has(rr1)' }),
      peer('b-rr2', { nodeSelector: 'has(attach-rr2)', peerSelector: 'has(rr2)' }),
      peer('rr-mesh', { nodeSelector: 'has(route-reflector)', peerSelector: 'has(route-reflector)' }),
    ],
    mesh: false,
  });
}

describe('bgp/verify', () => {
  describe('mesh to route reflectors (calico-domain.md §3)', () => {
    it('the official no-disruption order keeps every pair reachable at every step, N-1 included at the end', () => {
      let s = meshCluster();
      const steps: { label: string; state: BgpState }[] = [{ label: 'full mesh', state: s }];
      s = withPeers(s, rrPeer());
      steps.push({ label: "BGPPeer all() -> route-reflector == 'true' (matches nothing yet)", state: s });
      for (const rr of ['rr0', 'rr1', 'rr2']) {
        s = promote(s, rr, C);
        steps.push({ label: `${rr}: cluster ID ${C} + label route-reflector=true`, state: s });
      }
      s = meshOff(s);
      steps.push({ label: 'nodeToNodeMeshEnabled: false', state: s });
      const r = verifySequence(steps);
      assert.equal(r.ok, true, JSON.stringify(r.firstFailure, null, 2));
      assert.equal(r.verdicts.length, steps.length);
      assert.ok(r.verdicts.every((v) => v.participating === 9 && v.unreachablePairs === 0));
      const last = verify(s, { n1: true });
      assert.equal(last.n1?.ok, true, JSON.stringify(last.n1));
      assert.equal(last.n1?.routeReflectors, 3);
    });

    it('promoting a node before its BGPPeer exists cuts it off (it leaves the mesh at once)', () => {
      const s = promote(meshCluster(), 'rr0', C);
      const v = verify(s);
      assert.equal(v.ok, false);
      assert.equal(v.unreachablePairs, 8);
      assert.deepEqual(v.isolated, ['rr0']);
      assert.equal(v.examples[0]!.cause, 'isolated');
      assert.match(
        v.examples[0]!.reason,
        /rr0 has no BGP session: its route-reflector cluster ID 244\.0\.0\.1 takes it out of the node-to-node mesh/,
      );
    });

    it('disabling the mesh before the peering exists breaks every pair', () => {
      const s0 = meshCluster();
      const steps = [
        { label: 'full mesh', state: s0 },
        { label: 'mesh off', state: meshOff(s0) },
        {
          label: 'RR peering',
          state: withPeers(meshOff(['rr0', 'rr1', 'rr2'].reduce((x, n) => promote(x, n, C), s0)), rrPeer()),
        },
      ];
      const r = verifySequence(steps);
      assert.equal(r.ok, false);
      assert.equal(r.firstFailure?.index, 1);
      assert.equal(r.firstFailure?.label, 'mesh off');
      assert.equal(r.firstFailure?.verdict.unreachablePairs, 36);
      assert.equal(r.firstFailure?.verdict.isolated.length, 9);
      assert.match(
        r.firstFailure!.verdict.examples[0]!.reason,
        /the node-to-node mesh is off and no BGPPeer peers it/,
      );
      assert.equal(r.verdicts[2]!.ok, true, 'the end state itself is fine: only the order was wrong');
    });

    it('removing route reflectors with the mesh off: fine while one is left, broken when the last goes', () => {
      let s = rrCluster({ clients: 6, rrs: 2 });
      const steps = [{ label: 'two RRs', state: s }];
      s = demote(s, 'rr0');
      steps.push({ label: 'demote rr0', state: s });
      s = demote(s, 'rr1');
      steps.push({ label: 'demote rr1 (the last)', state: s });
      const r = verifySequence(steps);
      assert.equal(r.firstFailure?.index, 2);
      assert.equal(r.firstFailure?.verdict.isolated.length, 8);
      // rr0, demoted, is an ordinary client of rr1 (peers with it through the all() BGPPeer)
      assert.equal(r.verdicts[1]!.ok, true);
    });

    it('N-1: a single route reflector is a single point of failure; two are not', () => {
      const one = verify(rrCluster({ clients: 5, rrs: 1 }), { n1: true });
      assert.equal(one.ok, true);
      assert.equal(one.n1?.ok, false);
      assert.deepEqual(
        one.n1?.failures.map((f) => [f.rr, f.unreachablePairs]),
        [['rr0', 10]],
      );
      assert.match(
        one.n1!.failures[0]!.examples[0]!.reason,
        /its only BGP sessions are to rr0, which is down/,
      );
      const two = verify(rrCluster({ clients: 5, rrs: 2 }), { n1: true });
      assert.equal(two.n1?.ok, true);
      const seq = verifySequence([{ label: 'one RR', state: rrCluster({ clients: 5, rrs: 1 }) }], {
        n1: true,
      });
      assert.equal(seq.firstFailure?.index, 0, 'with n1, a sequence step fails on its N-1 verdict');
    });
  });

  describe('route reflection (research notes §3)', () => {
    it('(i) shared cluster ID with partial peering: clients of different RRs do not see each other (calico#2735)', () => {
      const s = partial(C, C);
      assert.equal(learnsRoutes(s, 'b', 'a'), false);
      assert.equal(learnsRoutes(s, 'a', 'b'), false);
      assert.equal(learnsRoutes(s, 'a2', 'a'), true, 'clients of the same RR see each other');
      assert.equal(learnsRoutes(s, 'rr2', 'a'), true, 'each RR learns every route');
      assert.equal(learnsRoutes(s, 'b', 'rr1'), true, "RR-originated routes cross: b learns rr1's block");
      const v = verify(s);
      assert.equal(v.unreachablePairs, 2);
      assert.equal(v.missingRoutes, 4);
      const ex = v.examples.find((e) => e.from === 'b' && e.to === 'a')!;
      assert.equal(ex.cause, 'shared-cluster-id');
      assert.match(
        ex.reason,
        /rr2 \(cluster ID 244\.0\.0\.1\) has a's routes only with its own cluster ID in CLUSTER_LIST/,
      );
      assert.match(ex.reason, /calico#2735/);
    });

    it('(ii) distinct cluster IDs: the same partial peering works', () => {
      assert.equal(verify(partial('244.0.0.1', '244.0.0.2')).ok, true);
    });

    it('(ii) mixed: rr1/rr2 share C, rr3 has C3: clients of rr1 never reach clients of rr2', () => {
      const s = partial(C, C, [node('rr3', { cluster: '244.0.0.3' })]);
      assert.equal(learnsRoutes(s, 'b', 'a'), false);
      assert.equal(learnsRoutes(s, 'rr3', 'a'), true);
    });

    it('(iii) route reflectors not peered with each other: clients of different RRs are cut off, whatever the IDs', () => {
      for (const [i1, i2] of [
        [C, C],
        ['244.0.0.1', '244.0.0.2'],
      ] as const) {
        const s = partial(i1, i2);
        const unpeered = { ...s, peers: s.peers.filter((p) => p.name !== 'rr-mesh') };
        assert.equal(learnsRoutes(unpeered, 'b', 'a'), false);
        assert.equal(learnsRoutes(unpeered, 'b', 'rr1'), false, "rr1's own routes reach only rr1's clients");
        assert.equal(learnsRoutes(unpeered, 'a', 'rr1'), true);
      }
      const s = partial('244.0.0.1', '244.0.0.2');
      const v = verify({ ...s, peers: s.peers.filter((p) => p.name !== 'rr-mesh') }, { maxExamples: 50 });
      const ex = v.examples.find((e) => e.from === 'b' && e.to === 'a');
      assert.equal(ex?.cause, 'no-path');
      assert.equal(ex?.reason, "no BGP peer of b (rr2) has a's routes; a peers with rr1");
    });

    it('(iv) every client peers with both RRs (shared C), RRs peered: everything works and any RR can fail', () => {
      const v = verify(rrCluster({ clients: 6, rrs: 2 }), { n1: true });
      assert.equal(v.ok, true);
      assert.equal(v.n1?.ok, true);
    });

    it('upstream e2e "clustered route reflectors": !has(RR) -> has(RR) leaves the two RRs unable to reach each other', () => {
      const s = state({
        nodes: [node('rr1', { cluster: C }), node('rr2', { cluster: C }), ...nodes('c', 4)],
        peers: [peer('e2e', { nodeSelector: '!has(route-reflector)', peerSelector: 'has(route-reflector)' })],
        mesh: false,
      });
      const v = verify(s);
      assert.equal(v.unreachablePairs, 1);
      assert.equal(v.examples.length, 1, 'rr1 and rr2 are one class: one example');
      assert.deepEqual([v.examples[0]!.from, v.examples[0]!.to].sort(), ['rr1', 'rr2']);
      assert.equal(v.examples[0]!.cause, 'not-reflected');
      assert.match(
        v.examples[0]!.reason,
        /^c0 learns rr\d's routes from a non-client iBGP peer and rr\d is not its route-reflector client/,
      );
      assert.equal(learnsRoutes(s, 'c0', 'c1'), true, 'clients still see each other');
    });

    it('(v) a node with a cluster ID and no BGPPeer, mesh on: isolated', () => {
      const s = state({ nodes: [...nodes('n', 3), node('rr', { cluster: C })], mesh: true });
      const v = verify(s);
      assert.deepEqual(v.isolated, ['rr']);
      assert.equal(v.unreachablePairs, 3);
    });

    it('RR mesh with distinct cluster IDs and clients peered with one RR each (multi topology): works, and tolerates N-1 only with two attachments', () => {
      const ids = ['244.0.0.1', '244.0.0.2', '244.0.0.3'];
      const rrs = ids.map((id, i) => node(`rr${i}`, { cluster: id, labels: { [`rr${i}`]: '' } }));
      const clients = Array.from({ length: 6 }, (_, i) =>
        node(`c${i}`, { labels: { [`to${i % 3}`]: '', [`to${(i + 1) % 3}`]: '' } }),
      );
      const attach = ids.map((_, i) =>
        peer(`to-rr${i}`, { nodeSelector: `has(to${i})`, peerSelector: `has(rr${i})` }),
      );
      const s = state({
        nodes: [...rrs, ...clients],
        peers: [...attach, peer('rr-mesh', { nodeSelector: RR_SELECTOR, peerSelector: RR_SELECTOR })],
        mesh: false,
      });
      const v = verify(s, { n1: true });
      assert.equal(v.ok, true, JSON.stringify(v.examples));
      assert.equal(v.n1?.ok, true, JSON.stringify(v.n1));
    });
  });

  describe('eBGP', () => {
    it('per-node AS numbers in a mesh: routes cross AS boundaries', () => {
      const s = state({
        nodes: [node('a', { as: 65001 }), node('b', { as: 65002 }), node('c', { as: 65001 })],
        mesh: true,
      });
      const v = verify(s);
      assert.equal(v.ok, true, 'direct sessions between all pairs');
    });

    it("AS-path loop: two nodes of one AS behind a node of another AS don't learn each other (no allowas-in)", () => {
      const s = state({
        nodes: [node('hub', { as: 65000 }), node('x', { as: 65001 }), node('y', { as: 65001 })],
        peers: [peer('spokes', { node: 'hub', peerSelector: 'all()' })],
        mesh: false,
      });
      assert.equal(learnsRoutes(s, 'y', 'x'), false);
      assert.equal(learnsRoutes(s, 'hub', 'x'), true);
      const v = verify(s);
      assert.equal(v.examples.find((e) => e.from === 'y' && e.to === 'x')?.cause, 'as-path-loop');
    });

    it('eBGP-learned routes are passed to iBGP peers (non-RR node relays between AS)', () => {
      const s = state({
        nodes: [
          node('ext', { as: 65009, labels: { edge: '' } }),
          node('gw', { labels: { gw: '' } }),
          node('in1'),
          node('in2'),
        ],
        peers: [
          peer('edge', { nodeSelector: 'has(gw)', peerSelector: 'has(edge)' }),
          peer('inner', { nodeSelector: '!has(edge)', peerSelector: '!has(edge)' }),
        ],
        mesh: false,
      });
      assert.equal(learnsRoutes(s, 'in1', 'ext'), true, 'gw passes the eBGP route to its iBGP peers');
      assert.equal(learnsRoutes(s, 'ext', 'in1'), true, 'and iBGP routes to its eBGP peer');
    });
  });

  describe('external peers', () => {
    it('are not relays: nodes that only peer with a ToR are reported, and counted as such', () => {
      const s = state({
        nodes: nodes('n', 4),
        peers: [peer('tor', { peerIP: '192.0.2.1', asNumber: 65100 })],
        mesh: false,
      });
      const v = verify(s);
      assert.equal(v.unreachablePairs, 6);
      assert.equal(v.unreachableWithExternalPeers, 6);
    });
  });

  it('verifies a 5,000-node cluster with 5 RRs, N-1 included (its speed is measured in bench/bgp-verify.ts)', () => {
    const s = rrCluster({ clients: 4995, rrs: 5 });
    const v = verify(s, { n1: true });
    assert.equal(v.ok, true);
    assert.equal(v.n1?.ok, true);
    assert.equal(v.participating, 5000);
  });
});
