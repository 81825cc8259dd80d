import assert from 'node:assert/strict';
import {
  clientsOf,
  computeTopology,
  expectedPeers,
  meshDuplicates,
  routeReflectors,
  sessionCount,
  sessionsOfNode,
} from '../../../src/bgp/topology.js';
import { bgpStateFromSnapshot } from '../../../src/bgp/state.js';
import { snap } from '../helpers.js';
import { GLOBAL_AS, node, nodes, peer, rrCluster, rrPeer, state } from './helpers.js';

function rows(s: ReturnType<typeof state>, name: string, includeDown = false): string[] {
  return expectedPeers(computeTopology(s), name, { includeDown }).map(
    (p) =>
      `${p.peerName ?? p.peerIP} ${p.kind}${p.ibgp ? '' : ' ebgp'}${p.peerIsClient ? ' client' : ''}${p.weAreClient ? ' we-client' : ''}${p.established ? '' : ' DOWN'}`,
  );
}

describe('bgp/topology: sessions Calico configures', () => {
  it('full mesh: n(n-1)/2 sessions, n-1 per node, all Mesh_', () => {
    const s = state({ nodes: nodes('n', 6) });
    const t = computeTopology(s);
    assert.equal(sessionCount(t), 15);
    assert.equal(sessionsOfNode(t, 0), 5);
    assert.equal(t.classes.length, 1, 'one class: the mesh is a clique, not 15 stored sessions');
    assert.deepEqual(rows(s, 'n0'), ['n1 mesh', 'n2 mesh', 'n3 mesh', 'n4 mesh', 'n5 mesh']);
  });

  it('route reflectors with the docs BGPPeer: R(n-R) + R(R-1)/2 sessions, clients marked on the RR side only', () => {
    const s = rrCluster({ clients: 10, rrs: 3 });
    const t = computeTopology(s);
    assert.equal(sessionCount(t), 3 * 10 + 3);
    assert.deepEqual(rows(s, 'c0'), ['rr0 node we-client', 'rr1 node we-client', 'rr2 node we-client']);
    // RRs sharing a cluster ID are plain iBGP peers of each other; clients are rr clients.
    const rr0 = expectedPeers(t, 'rr0');
    assert.equal(rr0.length, 12);
    assert.deepEqual(
      rr0.filter((p) => p.peerName?.startsWith('rr')).map((p) => [p.peerName, p.peerIsClient]),
      [
        ['rr1', false],
        ['rr2', false],
      ],
    );
    assert.ok(
      rr0.filter((p) => p.peerName?.startsWith('c')).every((p) => p.peerIsClient && p.kind === 'node'),
    );
    assert.deepEqual(
      routeReflectors(t).map((r) => [r.name, r.clients, r.sessions, r.zone]),
      [
        ['rr0', 10, 12, 'zone-a'],
        ['rr1', 10, 12, 'zone-b'],
        ['rr2', 10, 12, 'zone-c'],
      ],
    );
    assert.equal(clientsOf(t, 'rr1').length, 10);
    assert.equal(t.classes.length, 2, 'RRs and clients: two classes');
  });

  it('distinct cluster IDs: route reflectors treat each other as clients', () => {
    const s = rrCluster({ clients: 2, rrs: 2, clusterIds: ['244.0.0.1', '244.0.0.2'] });
    assert.deepEqual(rows(s, 'rr0'), ['rr1 node client we-client', 'c0 node client', 'c1 node client']);
  });

  it('mesh on: a node with a cluster ID leaves the mesh (v3.21+), and stays in it before v3.21', () => {
    const ns = [...nodes('n', 3), node('rr', { cluster: '244.0.0.1' })];
    const s = state({ nodes: ns, mesh: true });
    assert.deepEqual(rows(s, 'n0'), ['n1 mesh', 'n2 mesh']);
    assert.deepEqual(rows(s, 'rr'), [], 'no clients, no BGPPeer: no sessions at all (notes 3.v)');
    const old = state({ nodes: ns, mesh: true, minor: 20 });
    assert.deepEqual(
      rows(old, 'rr'),
      ['n0 mesh', 'n1 mesh', 'n2 mesh'],
      'v3.13-v3.20: RRs stay in the mesh, never rr client',
    );
  });

  it('golden mesh/route-reflector-mesh-enabled: Mesh_ to the other client, Node_ to the RR (no rr client on the client side)', () => {
    const s = state({
      nodes: [node('a'), node('b'), node('rr', { cluster: '244.0.0.1' })],
      peers: [peer('to-rr', { nodeSelector: '!has(route-reflector)', peerSelector: 'has(route-reflector)' })],
      mesh: true,
    });
    assert.deepEqual(rows(s, 'a'), ['b mesh', 'rr node we-client']);
    assert.deepEqual(
      rows(s, 'rr'),
      ['a node client', 'b node client'],
      'reverse peerings give the RR its sessions',
    );
  });

  it('skips itself when a node matches both selectors', () => {
    const s = state({
      nodes: [node('rr0', { cluster: '1.1.1.1' }), node('rr1', { cluster: '1.1.1.1' })],
      peers: [rrPeer()],
      mesh: false,
    });
    assert.deepEqual(rows(s, 'rr0'), ['rr1 node']);
  });

  it('a global BGPPeer with a peerSelector: Global_ to the selected nodes, Node_ back (reverse pass)', () => {
    const s = state({
      nodes: [node('a'), node('b'), node('rr', { cluster: '244.0.0.1' })],
      peers: [peer('global-to-rr', { peerSelector: RR_SEL })],
      mesh: false,
    });
    assert.deepEqual(rows(s, 'a'), ['rr global we-client']);
    assert.deepEqual(rows(s, 'rr'), ['a node client', 'b node client']);
  });

  it('peerIP to a node: a session with that node, automatic reverse unless reversePeering: Manual', () => {
    const a = node('a', { ip: '10.9.0.1' });
    const b = node('b', { ip: '10.9.0.2' });
    const auto = state({
      nodes: [a, b],
      peers: [peer('p', { node: 'a', peerIP: '10.9.0.2', asNumber: GLOBAL_AS })],
      mesh: false,
    });
    assert.deepEqual(rows(auto, 'a'), ['b node']);
    assert.deepEqual(rows(auto, 'b'), ['a node']);
    const manual = state({
      nodes: [a, b],
      peers: [peer('p', { node: 'a', peerIP: '10.9.0.2', asNumber: GLOBAL_AS, reversePeering: 'Manual' })],
      mesh: false,
    });
    assert.deepEqual(rows(manual, 'a'), []);
    assert.deepEqual(rows(manual, 'a', true), ['b node DOWN']);
    assert.match(
      expectedPeers(computeTopology(manual), 'a', { includeDown: true })[0]!.problem!,
      /one-sided/,
    );
  });

  it('peerIP peers always count as clients on an RR, even another RR with the same cluster ID', () => {
    const rr0 = node('rr0', { ip: '10.9.0.1', cluster: '244.0.0.1' });
    const rr1 = node('rr1', { ip: '10.9.0.2', cluster: '244.0.0.1' });
    const s = state({
      nodes: [rr0, rr1],
      peers: [peer('p', { node: 'rr0', peerIP: '10.9.0.2', asNumber: GLOBAL_AS })],
      mesh: false,
    });
    assert.deepEqual(rows(s, 'rr0'), ['rr1 node client'], 'peerIP: no cluster ID known, so rr client');
    assert.deepEqual(
      rows(s, 'rr1'),
      ['rr0 node we-client'],
      'reverse peer is selector-derived: same cluster ID, plain',
    );
  });

  it('the AS numbers must agree on both sides (iBGP vs eBGP)', () => {
    const a = node('a', { ip: '10.9.0.1', as: 65001 });
    const b = node('b', { ip: '10.9.0.2' });
    const ok = state({ nodes: [a, b], mesh: true });
    assert.deepEqual(rows(ok, 'a'), ['b mesh ebgp'], 'mesh uses the peer node AS: eBGP between different AS');
    const wrong = state({
      nodes: [a, b],
      peers: [peer('p', { node: 'a', peerIP: '10.9.0.2', asNumber: 65002 })],
      mesh: false,
    });
    assert.deepEqual(rows(wrong, 'a', true), ['b node ebgp DOWN']);
    assert.match(
      expectedPeers(computeTopology(wrong), 'a', { includeDown: true })[0]!.problem!,
      /remote AS 65002/,
    );
  });

  it('external peers: counted, listed, not nodes', () => {
    const s = state({
      nodes: nodes('n', 3),
      peers: [
        peer('tor', { peerIP: '192.0.2.1', asNumber: 65100 }),
        peer('n0-extra', { node: 'n0', peerIP: '192.0.2.9:1790', asNumber: 65101 }),
      ],
      mesh: true,
    });
    const t = computeTopology(s);
    assert.equal(sessionCount(t), 3 + 3 + 1);
    assert.equal(sessionsOfNode(t, 0), 4);
    const ext = expectedPeers(t, 'n0').filter((p) => p.peerName === undefined);
    assert.deepEqual(
      ext.map((p) => [p.peerIP, p.kind, p.ibgp, p.port]),
      [
        ['192.0.2.1', 'global', false, undefined],
        ['192.0.2.9', 'node', false, 1790],
      ],
    );
  });

  it('first wins: a global key blocks node keys for the same IP; forward peerings win over reverse ones', () => {
    const a = node('a', { ip: '10.9.0.1' });
    const b = node('b', { ip: '10.9.0.2' });
    const s = state({
      nodes: [a, b],
      peers: [
        peer('1-node', { node: 'a', peerIP: '10.9.0.2', asNumber: 65099 }),
        peer('2-global', { peerIP: '10.9.0.2', asNumber: GLOBAL_AS }),
      ],
      mesh: false,
    });
    const r = expectedPeers(computeTopology(s), 'a', { includeDown: true });
    assert.deepEqual(
      r.map((p) => [p.kind, p.remoteAS, p.via]),
      [['global', GLOBAL_AS, ['2-global', '1-node']]],
    );
  });

  it('mesh + a BGPPeer between mesh members: duplicate protocols that never come up', () => {
    const s = state({
      nodes: nodes('n', 4),
      peers: [peer('all-to-all', { nodeSelector: 'all()', peerSelector: 'all()' })],
      mesh: true,
    });
    const t = computeTopology(s);
    assert.equal(sessionCount(t), 6, 'still one session per pair');
    assert.deepEqual(rows(s, 'n0', true), [
      'n1 mesh',
      'n1 node DOWN',
      'n2 mesh',
      'n2 node DOWN',
      'n3 mesh',
      'n3 node DOWN',
    ]);
    const d = meshDuplicates(t);
    assert.equal(d.get(0)?.pairs, 6);
  });

  it('nodes without BIRD are configured by the others but never come up', () => {
    const s = state({ nodes: [node('a'), node('b'), node('win', { participates: false })], mesh: true });
    assert.deepEqual(rows(s, 'a', true), ['b mesh', 'win mesh DOWN']);
    assert.deepEqual(rows(s, 'win', true), []);
    assert.equal(sessionCount(computeTopology(s)), 1);
  });

  it('an invalid selector makes confd skip the BGPPeer', () => {
    const s = state({
      nodes: nodes('n', 3),
      peers: [peer('bad', { nodeSelector: "zone = 'a'", peerSelector: 'all()' })],
      mesh: false,
    });
    const t = computeTopology(s);
    assert.equal(sessionCount(t), 0);
    assert.equal(t.peers[0]!.selectorProblem?.field, 'nodeSelector');
    assert.equal(typeof t.peers[0]!.selectorProblem?.position, 'number');
  });

  it('duplicate node IPs: the later node is left out; in the mesh every other node renders Mesh_<ip> twice, which BIRD refuses', () => {
    const s = state({
      nodes: [node('a', { ip: '10.9.0.1' }), node('b', { ip: '10.9.0.1' }), node('c', { ip: '10.9.0.3' })],
    });
    const t = computeTopology(s);
    assert.equal(
      sessionCount(t),
      0,
      "c's bird.cfg is refused: no session a-c (was 1 before confd's rendering was checked)",
    );
    assert.deepEqual(
      t.refused.map((r) => r.nodes),
      [['c']],
    );
    assert.match(t.problems.join('\n'), /same IP/);
    // reflectors and BGPPeers instead of the mesh: confd keys peers by IP, nothing is rendered twice
    const viaRr = computeTopology(
      state({
        mesh: false,
        nodes: [...s.nodes, node('rr', { ip: '10.9.0.9', cluster: '244.0.0.1' })],
        peers: [rrPeer()],
      }),
    );
    assert.deepEqual(viaRr.refused, []);
    assert.equal(sessionCount(viaRr), 2, 'a-rr and c-rr');
  });

  it('from a snapshot: IPs from the IPv4Address annotation, Windows and virtual-kubelet nodes do not run BIRD', () => {
    const s = bgpStateFromSnapshot(snap({ nodes: 12, rrs: 2, windows: 1, virtualKubelet: 1 }));
    assert.equal(s.nodes.length, 12);
    assert.equal(s.meshEnabled, false);
    assert.equal(s.calicoMinor, 31);
    assert.equal(s.nodes.filter((n) => n.participates).length, 10);
    assert.equal(s.nodes.filter((n) => n.clusterId).length, 2);
    assert.ok(s.nodes.every((n) => !n.participates || /^10\.20\./.test(n.ip!)));
    const t = computeTopology(s);
    assert.equal(sessionCount(t), 2 * 8 + 1);
  });

  it('stays compact at 5,000 nodes (no n^2 structures)', () => {
    const s = rrCluster({ clients: 4995, rrs: 5 });
    const t = computeTopology(s);
    assert.equal(t.classes.length, 2);
    assert.equal(t.pairs.size, 3, 'RR-RR, RR-client, client-RR (mesh off: no client-client)');
    assert.equal(sessionCount(t), 5 * 4995 + 10);
    const mesh = state({ nodes: nodes('m', 5000) });
    assert.equal(sessionCount(computeTopology(mesh)), (5000 * 4999) / 2);
  });
});

const RR_SEL = "route-reflector == 'true'";
