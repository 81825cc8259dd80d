/**
 * Two BGPPeers that give one node the same peer (IP and port) with different settings. confd (client.go
 * updatePeersV1) keeps the first value emitted for a key, (node, peer IP, port) or (peer IP, port) for global
 * BGPPeers, walking its BGPPeers in Go map order: which one applies is not defined, and can change at every
 * re-render. The model assumes name order; status says the outcome is not defined (BGP_PEER_CONFLICT).
 */
import assert from 'node:assert/strict';
import { bgpFindings } from '../../../src/bgp/findings.js';
import type { KubeObject } from '../../../src/model/types.js';
import { snap } from '../helpers.js';
import { edited } from '../plan/helpers.js';

const ZONE_A = "topology.kubernetes.io/zone == 'eu-west-1a'";
const ZONE_B = "topology.kubernetes.io/zone == 'eu-west-1b'";

function bgpPeer(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'crd.projectcalico.org/v1', kind: 'BGPPeer', metadata: { name }, spec };
}

function conflicts(...peers: KubeObject[]) {
  return conflictsOn('v3.31.3', ...peers);
}

function conflictsOn(calico: 'v3.27.3' | 'v3.31.3', ...peers: KubeObject[]) {
  const s = edited(snap({ nodes: 9, zones: 3, rrs: 3, calico }), (objs) => {
    objs.push(...peers);
  });
  return bgpFindings(s).filter((f) => f.code === 'BGP_PEER_CONFLICT');
}

describe('BGP_PEER_CONFLICT: one (node, peer) from two BGPPeers with different settings', () => {
  it('two peerIP BGPPeers whose nodeSelectors overlap, with different AS numbers: a warning naming both', () => {
    const f = conflicts(
      bgpPeer('tor-all', { nodeSelector: 'all()', peerIP: '10.99.0.1', asNumber: 65001 }),
      bgpPeer('tor-a', { nodeSelector: ZONE_A, peerIP: '10.99.0.1', asNumber: 65002 }),
    );
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0]!.severity, 'warning');
    assert.deepEqual(
      f[0]!.objects.map((o) => `${o.kind}/${o.name}`),
      ['BGPPeer/tor-a', 'BGPPeer/tor-all'],
    );
    assert.match(f[0]!.message, /10\.99\.0\.1/);
    assert.match(f[0]!.message, /3 nodes/);
    assert.match(f[0]!.message, /asNumber/);
    assert.match(f[0]!.message, /Go map order/);
  });

  it('the same settings, disjoint nodeSelectors, or another port: no finding', () => {
    assert.deepEqual(
      conflicts(
        bgpPeer('tor-all', { nodeSelector: 'all()', peerIP: '10.99.0.1', asNumber: 65001 }),
        bgpPeer('tor-a', { nodeSelector: ZONE_A, peerIP: '10.99.0.1', asNumber: 65001 }),
      ),
      [],
    );
    assert.deepEqual(
      conflicts(
        bgpPeer('tor-a', { nodeSelector: ZONE_A, peerIP: '10.99.0.1', asNumber: 65001 }),
        bgpPeer('tor-b', { nodeSelector: ZONE_B, peerIP: '10.99.0.1', asNumber: 65002 }),
      ),
      [],
    );
    assert.deepEqual(
      conflicts(
        bgpPeer('tor-all', { nodeSelector: 'all()', peerIP: '10.99.0.1', asNumber: 65001 }),
        bgpPeer('tor-a', { nodeSelector: ZONE_A, peerIP: '10.99.0.1:1179', asNumber: 65002 }),
      ),
      [],
    );
  });

  it('settings compared as confd renders them: defaults as unset, durations in seconds (a review: false positives)', () => {
    const pair = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      conflicts(
        bgpPeer('tor-all', { nodeSelector: 'all()', peerIP: '10.99.0.1', asNumber: 65001, ...a }),
        bgpPeer('tor-a', { nodeSelector: ZONE_A, peerIP: '10.99.0.1', asNumber: 65001, ...b }),
      );
    assert.deepEqual(pair({ keepOriginalNextHop: false }, {}), []);
    assert.deepEqual(pair({ ttlSecurity: 0, numAllowedLocalASNumbers: 0 }, {}), []);
    assert.deepEqual(pair({ sourceAddress: 'UseNodeIP' }, {}), []);
    assert.deepEqual(pair({ maxRestartTime: '120s' }, { maxRestartTime: '2m0s' }), []);
    assert.equal(pair({ maxRestartTime: '120s' }, { maxRestartTime: '3m' }).length, 1);
    assert.deepEqual(pair({ keepOriginalNextHop: true, nextHopMode: 'Self' }, { nextHopMode: 'Self' }), []);
  });

  it('two global BGPPeers to one IP: every node', () => {
    const f = conflicts(
      bgpPeer('tor-1', { peerIP: '10.99.0.1', asNumber: 65001 }),
      bgpPeer('tor-2', {
        peerIP: '10.99.0.1',
        asNumber: 65001,
        password: { secretKeyRef: { name: 's', key: 'k' } },
      }),
    );
    assert.equal(f.length, 1);
    assert.match(f[0]!.message, /every node/);
    assert.match(f[0]!.message, /password/);
  });

  it('a global and a node BGPPeer to one IP are not a conflict (the global key wins, as in confd)', () => {
    assert.deepEqual(
      conflicts(
        bgpPeer('tor-global', { peerIP: '10.99.0.1', asNumber: 65001 }),
        bgpPeer('tor-a', { nodeSelector: ZONE_A, peerIP: '10.99.0.1', asNumber: 65002 }),
      ),
      [],
    );
  });

  it('peerSelector BGPPeers to the same reflector from overlapping nodes: settings count, asNumber does not', () => {
    const f = conflicts(
      bgpPeer('rr-a', {
        nodeSelector: ZONE_A,
        peerSelector: "route-reflector == 'true'",
        maxRestartTime: '5m',
      }),
    );
    assert.equal(
      f.length,
      1,
      'overlaps the fixture’s peer-with-route-reflectors (all nodes, every reflector)',
    );
    assert.match(f[0]!.message, /maxRestartTime/);
    assert.match(f[0]!.message, / on 3 nodes \(e.g. /, 'each node once, however many reflectors');
    assert.deepEqual(
      conflicts(
        bgpPeer('rr-a', { nodeSelector: ZONE_A, peerSelector: "route-reflector == 'true'", asNumber: 65009 }),
      ),
      [],
      'confd takes a peerSelector peer’s AS from the node',
    );
  });

  it('keepOriginalNextHop counts only where confd renders it: eBGP sessions (a review: false positives)', () => {
    // bird.cfg.template renders `next hop keep` only when the peer's AS differs from the node's
    const rr = (extra: Record<string, unknown>) =>
      bgpPeer('rr-a', { nodeSelector: ZONE_A, peerSelector: "route-reflector == 'true'", ...extra });
    assert.deepEqual(conflicts(rr({ keepOriginalNextHop: true })), [], 'iBGP to the reflectors: no effect');
    const tor = (asNumber: number) => [
      bgpPeer('tor-all', { nodeSelector: 'all()', peerIP: '10.99.0.1', asNumber }),
      bgpPeer('tor-a', { nodeSelector: ZONE_A, peerIP: '10.99.0.1', asNumber, keepOriginalNextHop: true }),
    ];
    assert.equal(conflicts(...tor(65001)).length, 1, 'eBGP to a ToR: it does');
    assert.match(conflicts(...tor(65001))[0]!.message, /keepOriginalNextHop/);
    assert.deepEqual(conflicts(...tor(64512)), [], 'iBGP to a ToR in the cluster’s AS: no effect');
    // the node's effective AS is the BGPPeer's localASNumber when set (a review: both ways wrong)
    const local = (asNumber: number, localASNumber: number) => [
      bgpPeer('tor-all', { nodeSelector: 'all()', peerIP: '10.99.0.1', asNumber, localASNumber }),
      bgpPeer('tor-a', {
        nodeSelector: ZONE_A,
        peerIP: '10.99.0.1',
        asNumber,
        localASNumber,
        keepOriginalNextHop: true,
      }),
    ];
    assert.equal(conflicts(...local(64512, 65000)).length, 1, 'the cluster’s AS seen from 65000: eBGP');
    assert.deepEqual(conflicts(...local(65000, 65000)), [], 'localASNumber equal to the peer’s: iBGP');
  });

  it('global BGPPeers: eBGP is judged per node AS (a review: the cluster AS was used for every node)', () => {
    const s = edited(snap({ nodes: 9, zones: 3, rrs: 3, asPerZone: true }), (objs) => {
      objs.push(
        bgpPeer('g1', { peerIP: '10.99.0.1', asNumber: 64512 }),
        bgpPeer('g2', { peerIP: '10.99.0.1', asNumber: 64512, keepOriginalNextHop: true }),
      );
    });
    const f = bgpFindings(s).filter((x) => x.code === 'BGP_PEER_CONFLICT');
    assert.equal(f.length, 1, JSON.stringify(f.map((x) => x.message)));
    assert.match(f[0]!.message, /keepOriginalNextHop/);
  });

  it('a peerSelector BGPPeer’s next-hop settings count from Calico v3.30.3 on only (confd ignored them before)', () => {
    const rr = bgpPeer('rr-a', {
      nodeSelector: ZONE_A,
      peerSelector: "route-reflector == 'true'",
      nextHopMode: 'Self',
    });
    assert.equal(conflictsOn('v3.31.3', rr).length, 1);
    assert.deepEqual(conflictsOn('v3.27.3', rr), []);
    // the boundary: confd's nodeAsBGPPeers takes them from v3.30.2 (a review: the cutoff said v3.30.3)
    const at = (version: string) =>
      bgpFindings(
        edited(snap({ nodes: 9, zones: 3, rrs: 3 }), (objs) => {
          objs.push(rr);
          const ci = objs.find((o) => o.kind === 'ClusterInformation')!;
          (ci.spec as Record<string, unknown>)['calicoVersion'] = version;
        }),
      ).filter((f) => f.code === 'BGP_PEER_CONFLICT').length;
    assert.equal(at('v3.30.1'), 0);
    assert.equal(at('v3.30.2'), 1);
  });

  it('a BGPPeer per node (node: X + its zone’s reflectors) has no conflict', () => {
    const s = snap({ nodes: 300, zones: 3, rrs: 6, mesh: false, peering: 'per-node' });
    assert.deepEqual(
      bgpFindings(s).filter((f) => f.code === 'BGP_PEER_CONFLICT'),
      [],
    );
  });
});
