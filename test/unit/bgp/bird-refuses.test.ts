/**
 * What real BIRD does not do although the configuration names it (a review against confd's templates and
 * BIRD 1.6's source, reproduced with `bird -p` and two network namespaces; test/integration/confd.test.ts
 * runs BIRD's parser on confd's own rendering):
 * - eBGP in the node-to-node mesh: confd renders `Mesh_` protocols without `multihop`, and BIRD's eBGP waits
 *   for a directly connected neighbour (proto/bgp/bgp.c), so nodes of different AS numbers on different
 *   subnets never peer. The model said "established".
 * - a peerIP BGPPeer without asNumber: `neighbor X as 0;` makes BIRD refuse the whole bird.cfg of every node
 *   the BGPPeer selects; the model said "one external peer down".
 * - two mesh nodes with one IPv4Address: every other mesh node renders `protocol bgp Mesh_<ip>` twice, which
 *   BIRD refuses ("Symbol already defined"); the model kept the first node and said nothing.
 */
import assert from 'node:assert/strict';
import { bgpFindings } from '../../../src/bgp/findings.js';
import { computeTopology } from '../../../src/bgp/topology.js';
import { learnsRoutes, verify } from '../../../src/bgp/verify.js';
import type { BgpNode } from '../../../src/bgp/state.js';
import { snap } from '../helpers.js';
import { edited } from '../plan/helpers.js';
import { node, peer, rrPeer, state } from './helpers.js';

const withNet = (n: BgpNode, net: string): BgpNode => ({ ...n, net });

describe('BGP model: what BIRD refuses or never brings up', () => {
  describe('eBGP in the node-to-node mesh needs a directly connected neighbour', () => {
    /** Rack A (AS 65001, 10.0.1.0/24) and rack B (AS 65002), in `rackB`'s subnet, all in the mesh. */
    const racks = (rackB: string, ipB: (i: number) => string) =>
      state({
        mesh: true,
        nodes: [
          withNet(node('a1', { ip: '10.0.1.11', as: 65001 }), '10.0.1.0/24'),
          withNet(node('a2', { ip: '10.0.1.12', as: 65001 }), '10.0.1.0/24'),
          withNet(node('b1', { ip: ipB(1), as: 65002 }), rackB),
          withNet(node('b2', { ip: ipB(2), as: 65002 }), rackB),
        ],
      });

    it('racks on different subnets: no session across them, no routes, and status says why', () => {
      const s = racks('10.0.2.0/24', (i) => `10.0.2.1${i}`);
      assert.equal(learnsRoutes(s, 'a1', 'b1'), false);
      assert.equal(learnsRoutes(s, 'a1', 'a2'), true, 'inside a rack: iBGP, multihop by default');
      assert.equal(verify(s).ok, false);
      const f = bgpFindings(snap({ nodes: 3 }), s).find((x) => x.code === 'BGP_MESH_EBGP_NOT_CONNECTED');
      assert.ok(
        f,
        bgpFindings(snap({ nodes: 3 }), s)
          .map((x) => x.code)
          .join(', '),
      );
      assert.match(f.message, /^4 node pairs/);
      assert.equal(computeTopology(s).meshNotConnected.pairs, 4);
    });

    it('racks on one subnet (a /16 both see as connected): the eBGP mesh comes up', () => {
      const s = state({
        mesh: true,
        nodes: [
          withNet(node('a1', { ip: '10.0.1.11', as: 65001 }), '10.0.0.0/16'),
          withNet(node('b1', { ip: '10.0.2.11', as: 65002 }), '10.0.0.0/16'),
        ],
      });
      assert.equal(learnsRoutes(s, 'a1', 'b1'), true);
      assert.equal(verify(s).ok, true);
      assert.equal(computeTopology(s).meshNotConnected.pairs, 0);
    });

    it('one AS number across subnets: iBGP mesh sessions are multihop, nothing changes', () => {
      const s = state({
        mesh: true,
        nodes: [
          withNet(node('a1', { ip: '10.0.1.11' }), '10.0.1.0/24'),
          withNet(node('b1', { ip: '10.0.2.11' }), '10.0.2.0/24'),
        ],
      });
      assert.equal(verify(s).ok, true);
    });
  });

  it('a peerIP BGPPeer without asNumber: the nodes it selects run no BGP in the model, BGP_CONFIG_REFUSED names it', () => {
    const s = state({
      mesh: true,
      nodes: [node('n1', { ip: '10.7.0.1' }), node('n2', { ip: '10.7.0.2' }), node('n3', { ip: '10.7.0.3' })],
      peers: [peer('tor-no-as', { node: 'n1', peerIP: '192.0.2.1' })],
    });
    const t = computeTopology(s);
    assert.deepEqual(
      t.refused.map((r) => [r.kind, r.cause, r.nodes]),
      [['peer-as', 'tor-no-as', ['n1']]],
    );
    assert.equal(learnsRoutes(s, 'n2', 'n1'), false);
    assert.equal(learnsRoutes(s, 'n2', 'n3'), true);
    const f = bgpFindings(snap({ nodes: 3 }), s).filter((x) => x.code === 'BGP_CONFIG_REFUSED');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.severity, 'critical');
    assert.match(f[0]!.message, /BGPPeer tor-no-as has peerIP 192\.0\.2\.1 and no asNumber/);
    // with its AS number the configuration loads
    const ok = state({ ...s, peers: [peer('tor', { node: 'n1', peerIP: '192.0.2.1', asNumber: 65000 })] });
    assert.deepEqual(computeTopology(ok).refused, []);
  });

  it('two mesh nodes with one IPv4Address: every other mesh node has its config refused', () => {
    const s = state({
      mesh: true,
      nodes: [
        node('n1', { ip: '10.8.0.1' }),
        node('n2', { ip: '10.8.0.2' }),
        node('n3', { ip: '10.8.0.3' }),
        node('n4', { ip: '10.8.0.3' }),
      ],
    });
    assert.deepEqual(
      computeTopology(s).refused.map((r) => [r.kind, r.cause, r.nodes, r.sharing]),
      [['duplicate-ip', '10.8.0.3', ['n1', 'n2'], ['n3', 'n4']]],
    );
    assert.equal(verify(s).ok, false);
    const f = bgpFindings(snap({ nodes: 3 }), s).find((x) => x.code === 'BGP_CONFIG_REFUSED');
    assert.match(f?.message ?? '', /nodes n3 and n4 have the same IPv4Address 10\.8\.0\.3/);
    // mesh off (reflectors, BGPPeers keyed by IP in confd): no duplicate protocol, nothing refused
    const rr = state({
      mesh: false,
      nodes: [node('rr', { ip: '10.8.0.9', cluster: '244.0.0.1' }), ...s.nodes],
      peers: [rrPeer()],
    });
    assert.deepEqual(computeTopology(rr).refused, []);
  });
});

describe('BGPPeer with both node and nodeSelector (validation forbids it; a crd.projectcalico.org write is not validated)', () => {
  it('the nodeSelector decides, as confd reads it first (a review: the model took node)', () => {
    const s = state({
      mesh: false,
      nodes: [
        node('rr', { ip: '10.6.0.1', cluster: '244.0.0.1' }),
        node('a', { ip: '10.6.0.2', labels: { rack: 'r1' } }),
        node('b', { ip: '10.6.0.3', labels: { rack: 'r2' } }),
      ],
      peers: [
        peer('both', { node: 'a', nodeSelector: "rack == 'r2'", peerSelector: "route-reflector == 'true'" }),
      ],
    });
    assert.equal(learnsRoutes(s, 'b', 'rr'), true, 'b is selected');
    assert.equal(learnsRoutes(s, 'a', 'rr'), false, 'a is not');
  });
});

describe('route policy the model does not evaluate is said, not assumed away', () => {
  it('BGPFilters, disableBGPExport and well-known communities: BGP_ROUTE_POLICY_NOT_MODELLED (warning)', () => {
    const plain = snap({ nodes: 9, zones: 3, rrs: 3 });
    assert.ok(!bgpFindings(plain).some((f) => f.code === 'BGP_ROUTE_POLICY_NOT_MODELLED'));
    const s = edited(plain, (objs) => {
      const p = objs.find((o) => o.kind === 'BGPPeer')!;
      (p.spec as Record<string, unknown>)['filters'] = ['reject-pods'];
      const pool = objs.find((o) => o.kind === 'IPPool')!;
      (pool.spec as Record<string, unknown>)['disableBGPExport'] = true;
    });
    const f = bgpFindings(s).find((x) => x.code === 'BGP_ROUTE_POLICY_NOT_MODELLED');
    assert.ok(
      f,
      bgpFindings(s)
        .map((x) => x.code)
        .join(', '),
    );
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /applies BGPFilter reject-pods/);
    assert.match(f.message, /disableBGPExport/);
    const local = edited(plain, (objs) => {
      (objs.find((o) => o.kind === 'BGPPeer')!.spec as Record<string, unknown>)['localASNumber'] = 65000;
    });
    assert.match(
      bgpFindings(local).find((x) => x.code === 'BGP_ROUTE_POLICY_NOT_MODELLED')?.message ?? '',
      /sets localASNumber 65000/,
    );
  });
});

describe('reversePeering: Manual before Calico v3.30', () => {
  it('confd before v3.30 gives every BGPPeer its automatic reverse peering: the session is up (a review: reported one-sided)', () => {
    const mk = (minor: number) =>
      state({
        minor,
        mesh: false,
        nodes: [node('rr', { ip: '10.5.0.1', cluster: '244.0.0.1' }), node('c', { ip: '10.5.0.2' })],
        peers: [
          peer('c-to-rr', { node: 'c', peerIP: '10.5.0.1', asNumber: 64512, reversePeering: 'Manual' }),
        ],
      });
    assert.equal(learnsRoutes(mk(27), 'rr', 'c'), true, 'v3.27: the reverse is rendered anyway');
    assert.equal(learnsRoutes(mk(31), 'rr', 'c'), false, 'v3.31: Manual, and no mirror BGPPeer');
  });
});

describe('many BGPPeers that select nothing are one finding', () => {
  it('8 BGPPeers whose selectors match no node: one BGP_PEER_SELECTOR_MATCHES_NOTHING naming the count (a review: 50 warnings)', () => {
    const s = edited(snap({ nodes: 9, zones: 3, rrs: 3 }), (objs) => {
      for (let i = 0; i < 8; i++)
        objs.push({
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'BGPPeer',
          metadata: { name: `stale-${i}` },
          spec: { node: `gone-${i}`, peerSelector: "route-reflector == 'true'" },
        });
    });
    const f = bgpFindings(s).filter((x) => x.code === 'BGP_PEER_SELECTOR_MATCHES_NOTHING');
    assert.equal(f.length, 1);
    assert.match(f[0]!.message, /^8 BGPPeers create no BGP sessions/);
    assert.equal(f[0]!.objects.length, 8);
  });
});
