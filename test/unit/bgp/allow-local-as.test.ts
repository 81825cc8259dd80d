/**
 * BGPPeer `numAllowedLocalASNumbers`. confd (v3.31, client.go updatePeersV1) renders `allow local as N` only on
 * the protocols of a peerIP BGPPeer, on the nodes it selects: not for a peerSelector BGPPeer, not on reverse
 * peerings (test/integration/confd.test.ts checks confd's output). A review reported the AS-path finding as a
 * false positive with the field set on a peerSelector BGPPeer; confd shows it is not: Calico ignores it there.
 */
import assert from 'node:assert/strict';
import { learnedMatrix, propagate } from '../../../src/bgp/propagate.js';
import { computeTopology } from '../../../src/bgp/topology.js';
import type { BgpPeerInfo } from '../../../src/model/types.js';
import { node, peer, RR_SELECTOR, state } from './helpers.js';
import { naivePropagate } from './reference.js';
import { bgpFindings } from '../../../src/bgp/findings.js';
import { snap } from '../helpers.js';
import { edited } from '../plan/helpers.js';

describe('BGPPeer numAllowedLocalASNumbers (allow local as)', () => {
  const nodes = () => [
    node('rr1', { ip: '10.9.0.1', cluster: '244.0.0.1' }),
    node('c1', { ip: '10.9.0.2' }),
    node('c2', { ip: '10.9.0.3', as: 64513 }),
    node('c3', { ip: '10.9.0.4', as: 64513 }),
  ];
  const withAllow = (p: BgpPeerInfo, allow: number | undefined): BgpPeerInfo => {
    if (allow !== undefined) p.spec['numAllowedLocalASNumbers'] = allow;
    return p;
  };
  /** Every node peers with rr1 through one selector BGPPeer. */
  const bySelector = (allow?: number) =>
    state({
      mesh: false,
      nodes: nodes(),
      peers: [withAllow(peer('to-rr', { nodeSelector: 'all()', peerSelector: RR_SELECTOR }), allow)],
    });
  /** c2 and c3 peer with rr1 by its IP (the reflector's side is confd's automatic reverse peering). */
  const byIp = (allow?: number) =>
    state({
      mesh: false,
      nodes: nodes(),
      peers: [
        peer('c1-to-rr', { node: 'c1', peerSelector: RR_SELECTOR }),
        withAllow(
          peer('as64513-to-rr', {
            nodeSelector: "kubernetes.io/hostname in {'c2', 'c3'}",
            peerIP: '10.9.0.1',
            asNumber: 64512,
          }),
          allow,
        ),
      ],
    });
  const missing = (s: ReturnType<typeof bySelector>): string[] => {
    const t = computeTopology(s);
    const m = learnedMatrix(t, propagate(t));
    const out: string[] = [];
    s.nodes.forEach((a, y) =>
      s.nodes.forEach((b, x) => {
        if (x !== y && !m[y]![x]) out.push(`${a.name} <- ${b.name}`);
      }),
    );
    return out;
  };

  it('without it: c2 and c3 (AS 64513 behind the AS 64512 reflector) drop each other’s routes (AS-path loop)', () => {
    for (const s of [bySelector(), byIp()]) {
      assert.deepEqual(missing(s), ['c2 <- c3', 'c3 <- c2']);
      assert.equal(naivePropagate(s).get('c2')!.has('c3'), false);
    }
  });

  it('on a peerIP BGPPeer: allow local as 1 on c2 and c3, which then keep the routes', () => {
    assert.deepEqual(missing(byIp(1)), []);
    assert.equal(naivePropagate(byIp(1)).get('c2')!.has('c3'), true);
    assert.deepEqual(missing(byIp(0)), ['c2 <- c3', 'c3 <- c2'], '0 is the default');
  });

  it('on a peerSelector BGPPeer: confd ignores it, and so does the model (still an AS-path loop)', () => {
    assert.deepEqual(missing(bySelector(1)), ['c2 <- c3', 'c3 <- c2']);
  });

  it('status says when the field is set where confd ignores it (BGP_PEER_ALLOW_LOCAL_AS_IGNORED)', () => {
    const s = edited(snap({ nodes: 9, zones: 3, rrs: 3 }), (objs) => {
      const p = objs.find((o) => o.kind === 'BGPPeer')!;
      (p.spec as Record<string, unknown>)['numAllowedLocalASNumbers'] = 1;
    });
    const f = bgpFindings(s).filter((x) => x.code === 'BGP_PEER_ALLOW_LOCAL_AS_IGNORED');
    assert.equal(f.length, 1);
    assert.match(f[0]!.message, /renders `allow local as` only for BGPPeers with a peerIP/);
    assert.deepEqual(
      bgpFindings(snap({ nodes: 9, zones: 3, rrs: 3 })).filter(
        (x) => x.code === 'BGP_PEER_ALLOW_LOCAL_AS_IGNORED',
      ),
      [],
    );
  });
});
