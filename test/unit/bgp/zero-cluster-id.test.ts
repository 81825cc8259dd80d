/**
 * `projectcalico.org/RouteReflectorClusterID: 0.0.0.0`. Calico accepts it (a valid IPv4 address), confd renders
 * `rr cluster id 0.0.0.0;` and compares the strings to decide which peers are rr clients, and BIRD reads 0 as "no
 * cluster ID" and uses its router ID (the node's IPv4 address) in CLUSTER_LIST and its loop checks.
 *
 * Found by the real-BGP rig (test/fabric, the differential check with 0.0.0.0 cluster IDs): n3 and n4 both say
 * 0.0.0.0; n3 peers with n4 by peerIP, so n3's protocol to n4 is `rr client` (confd does not know a peerIP
 * peer's cluster ID) while n4's reverse protocol to n3 is not. n4 reflects n1's routes to n3 with its own ID in
 * CLUSTER_LIST; n3 checks the list against its own router ID, not 0.0.0.0, and keeps them. The model took both
 * IDs as the same 0.0.0.0 and said n3 never learns n1 or n2.
 */
import assert from 'node:assert/strict';
import { computeTopology } from '../../../src/bgp/topology.js';
import { learnedMatrix, propagate } from '../../../src/bgp/propagate.js';
import { birdClusterId } from '../../../src/bgp/state.js';
import { validateClusterId } from '../../../src/rr/plan.js';
import { ExitCode } from '../../../src/errors.js';
import { node, peer, state } from './helpers.js';
import { naivePropagate } from './reference.js';

describe('a route-reflector cluster ID of 0.0.0.0 (BIRD: the router ID)', () => {
  // the rig's topology (seed 3826345031 of a 0.0.0.0 run), with its addresses
  const s = state({
    mesh: true,
    nodes: [
      node('n1', { ip: '198.18.0.11', labels: { dgroup: 'red' } }),
      node('n2', { ip: '198.18.0.12', cluster: '244.0.0.2', labels: { dgroup: 'red' } }),
      node('n3', { ip: '198.18.0.13', cluster: '0.0.0.0', labels: { dgroup: 'red' } }),
      node('n4', { ip: '198.18.0.14', cluster: '0.0.0.0', labels: { dgroup: 'blue' } }),
    ],
    peers: [
      peer('p0', { node: 'n1', peerIP: '198.18.0.14', asNumber: 64512 }),
      peer('p1', { nodeSelector: 'all()', peerIP: '198.18.0.14', asNumber: 64512 }),
      peer('p2', {
        nodeSelector: "dgroup == 'red' && !has(route-reflector)",
        peerIP: '198.18.0.14',
        asNumber: 64512,
      }),
    ],
  });

  it('what real BIRD installed: every node learns every other (the model said n3 never learns n1, n2)', () => {
    const t = computeTopology(s);
    const m = learnedMatrix(t, propagate(t));
    const missing: string[] = [];
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) if (x !== y && !m[y]![x]) missing.push(`n${y + 1} <- n${x + 1}`);
    assert.deepEqual(missing, []);
    // the naive reference (BIRD's rules one session at a time) agrees
    const naive = naivePropagate(s);
    for (const a of s.nodes)
      for (const b of s.nodes)
        if (a !== b) assert.ok(naive.get(a.name)!.has(b.name), `${a.name} <- ${b.name}`);
  });

  it('a real shared cluster ID in the same place still drops the routes (the loop check BIRD makes)', () => {
    const shared = {
      ...s,
      nodes: s.nodes.map((n) => (n.clusterId === '0.0.0.0' ? { ...n, clusterId: '244.0.0.1' } : n)),
    };
    const t = computeTopology(shared);
    const m = learnedMatrix(t, propagate(t));
    assert.equal(m[2]![0], false, 'n3 <- n1');
    assert.equal(naivePropagate(shared).get('n3')!.has('n1'), false);
  });

  it('birdClusterId: 0.0.0.0 is the node address; any other ID is itself', () => {
    assert.equal(birdClusterId({ name: 'a', ip: '10.0.0.1', clusterId: '0.0.0.0' }), '10.0.0.1');
    assert.equal(birdClusterId({ name: 'a', ip: '10.0.0.1', clusterId: '244.0.0.1' }), '244.0.0.1');
    assert.equal(birdClusterId({ name: 'a', ip: '10.0.0.1', clusterId: undefined }), undefined);
  });

  it('the tool never writes 0.0.0.0: rr promote --cluster-id 0.0.0.0 is refused (exit 2)', () => {
    assert.throws(
      () => validateClusterId('0.0.0.0'),
      (e: Error & { exitCode?: number }) => e.exitCode === ExitCode.USAGE && /router ID/.test(e.message),
    );
    assert.equal(validateClusterId('244.0.0.1'), '244.0.0.1');
  });
});
