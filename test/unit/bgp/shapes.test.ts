/**
 * The peering shapes of the example generator at a few hundred nodes: the same sessions written as one
 * BGPPeer per node, per rack or per zone must give the same model (sessions, verdicts, N-1) and, because
 * the model groups nodes by the sets they peer with rather than by BGPPeer object, the same small number of
 * classes: that is what keeps the verifier linear in every shape (bench/growth.ts measures it).
 */
import assert from 'node:assert/strict';
import { bgpFindings } from '../../../src/bgp/findings.js';
import { bgpStateFromSnapshot } from '../../../src/bgp/state.js';
import { computeTopology, expectedPeers, meshDuplicates, sessionCount } from '../../../src/bgp/topology.js';
import { verifyTopology } from '../../../src/bgp/verify.js';
import type { ClusterSpec } from '../../fixtures/generate.js';
import { snap } from '../helpers.js';

const base: ClusterSpec = { nodes: 300, zones: 3, rrs: 6, mesh: false };

function model(spec: ClusterSpec) {
  const s = snap(spec);
  const t = computeTopology(bgpStateFromSnapshot(s));
  return { s, t, v: verifyTopology(t, { n1: true, maxExamples: 3 }) };
}

describe('bgp model: peering shapes (BGPPeer per node, per rack, per zone)', () => {
  const zone = model({ ...base, peering: 'per-zone' });

  for (const peering of ['per-node', 'per-rack'] as const) {
    it(`${peering} BGPPeers give the sessions, verdicts and classes of the per-zone selectors`, () => {
      const m = model({ ...base, peering });
      assert.ok(m.s.bgpPeers.length > zone.s.bgpPeers.length, 'more BGPPeer objects than the per-zone shape');
      assert.equal(sessionCount(m.t), sessionCount(zone.t));
      assert.equal(m.t.classes.length, zone.t.classes.length);
      assert.deepEqual(
        { ...m.v, n1: { ...m.v.n1, failures: m.v.n1!.failures.map((f) => f.unreachablePairs) } },
        { ...zone.v, n1: { ...zone.v.n1, failures: zone.v.n1!.failures.map((f) => f.unreachablePairs) } },
      );
      assert.ok(m.v.ok && m.v.n1!.ok, 'two reflectors per zone, each zone its cluster ID: N-1 holds');
      // every node's expected sessions are the same peers, owed to its own BGPPeer
      for (const name of ['node-a-004', 'node-b-050', 'node-c-099']) {
        const got = expectedPeers(m.t, name).map((p) => `${p.peerName} ${p.kind} ${p.peerIsClient}`);
        const want = expectedPeers(zone.t, name).map((p) => `${p.peerName} ${p.kind} ${p.peerIsClient}`);
        assert.deepEqual(got, want);
        const via = expectedPeers(m.t, name).map((p) => p.via.join(','));
        const rack = m.s.nodes.find((n) => n.name === name)!.labels['rack'];
        assert.deepEqual(new Set(via), new Set([peering === 'per-node' ? `peer-${name}` : `rack-${rack}`]));
      }
    });
  }

  it('per-node BGPPeers that duplicate mesh sessions are named one by one', () => {
    const m = model({ nodes: 60, zones: 3, rrs: 6, mesh: true, peering: 'per-node', calico: 'v3.27.3' });
    const dups = meshDuplicates(m.t);
    // v3.27: reflectors leave the mesh, so no client-to-reflector pair duplicates a Mesh_ session
    assert.equal(dups.size, 0);
    const s = snap({ nodes: 60, zones: 3, rrs: 6, mesh: true, peering: 'per-node' }, (objs) => {
      for (const o of objs)
        if (o.kind === 'BGPPeer' && o.metadata.name.startsWith('peer-'))
          o.spec = {
            ...o.spec,
            peerSelector: "!has(route-reflector) && topology.kubernetes.io/zone == 'eu-west-1a'",
          };
    });
    const t = computeTopology(bgpStateFromSnapshot(s));
    const byName = new Map([...meshDuplicates(t)].map(([j, d]) => [t.peers[j]!.name, d]));
    // a zone-b client's own BGPPeer duplicates its mesh sessions to every zone-a client
    const zoneA = s.nodes.filter(
      (n) =>
        n.labels['topology.kubernetes.io/zone'] === 'eu-west-1a' && n.labels['route-reflector'] === undefined,
    );
    const first = s.nodes.find(
      (n) =>
        n.labels['route-reflector'] === undefined && n.labels['topology.kubernetes.io/zone'] === 'eu-west-1b',
    )!;
    assert.equal(byName.get(`peer-${first.name}`)?.pairs, zoneA.length);
    assert.ok(byName.get(`peer-${first.name}`)!.example.includes(t.nodeIndex.get(first.name)!));
    const findings = bgpFindings(s).filter((f) => f.code === 'BGP_PEER_DUPLICATES_MESH');
    assert.ok(findings.some((f) => f.message.includes(`BGPPeer peer-${first.name} `)));
  });

  it('ToR peers by peerIP and an AS per zone: external sessions counted per node, eBGP between zones', () => {
    const m = model({ ...base, peering: 'per-node', torPeers: true, asPerZone: true, rackSize: 10 });
    assert.equal(m.t.classes.length, zone.t.classes.length);
    assert.equal(sessionCount(m.t), sessionCount(zone.t) + 300);
    assert.ok(m.v.ok && m.v.n1!.ok);
    const rows = expectedPeers(m.t, 'node-b-050');
    assert.ok(rows.some((r) => r.peerIP.startsWith('172.31.') && !r.ibgp && r.via[0] === 'tor-node-b-050'));
  });
});
