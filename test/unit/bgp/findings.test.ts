import assert from 'node:assert/strict';
import { bgpFindings } from '../../../src/bgp/findings.js';
import type { Finding } from '../../../src/model/finding.js';
import type { ClusterSnapshot, KubeObject } from '../../../src/model/types.js';
import type { ClusterSpec } from '../../fixtures/generate.js';
import { snap } from '../helpers.js';

const API = 'crd.projectcalico.org/v1';

function bgpPeer(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: API, kind: 'BGPPeer', metadata: { name }, spec };
}

function withPeers(spec: ClusterSpec, ...peers: KubeObject[]): ClusterSnapshot {
  return snap(spec, (objs) => [...objs, ...peers]);
}

function codes(s: ClusterSnapshot): string[] {
  return bgpFindings(s).map((f) => `${f.code}:${f.severity}`);
}

function only(s: ClusterSnapshot, code: string): Finding {
  const fs = bgpFindings(s).filter((f) => f.code === code);
  assert.equal(fs.length, 1, `expected one ${code}, got ${codes(s).join(', ')}`);
  return fs[0]!;
}

const ZONE = 'topology.kubernetes.io/zone';

describe('bgp/findings', () => {
  it('finds nothing on healthy clusters (3 RRs with the docs BGPPeer; a 40-node mesh)', () => {
    assert.deepEqual(codes(snap({ nodes: 150, zones: 3, rrs: 3 })), []);
    assert.deepEqual(codes(snap({ nodes: 40, zones: 3 })), []);
    assert.deepEqual(
      codes(snap({ nodes: 30, rrs: 2, mesh: true })),
      [],
      'mesh on + RRs selected only as peers: no duplicates',
    );
  });

  it('BGP_RR_SINGLE_POINT_OF_FAILURE: one route reflector, mesh off', () => {
    const f = only(snap({ nodes: 20, rrs: 1 }), 'BGP_RR_SINGLE_POINT_OF_FAILURE');
    assert.equal(f.severity, 'warning');
    assert.match(
      f.message,
      /^if route reflector node-a-\d+ \(zone eu-west-1a\) fails or restarts, 171 node pairs lose routes to each other/,
    );
    assert.match(f.fix, /kubectl calico-tune rr promote/);
    assert.equal(f.objects[0]!.kind, 'Node');
  });

  it('BGP_NODES_UNREACHABLE: mesh off without any peering', () => {
    const f = only(snap({ nodes: 12, rrs: 0, mesh: false }), 'BGP_NODES_UNREACHABLE');
    assert.equal(f.severity, 'critical');
    assert.match(f.message, /^66 node pairs of 12 BGP nodes cannot reach each other/);
    assert.match(f.message, /12 nodes have no BGP session at all/);
    assert.match(f.message, /the node-to-node mesh is off and no BGPPeer peers it/);
    assert.match(f.fix, /nodeToNodeMeshEnabled":true/);
    assert.ok(f.objects.length > 0 && f.objects.length <= 20);
  });

  it('BGP_NODES_UNREACHABLE: shared cluster ID with per-zone peering (projectcalico/calico#2735)', () => {
    const perZone = ['eu-west-1a', 'eu-west-1b'].map((z) =>
      bgpPeer(`zone-${z}`, {
        nodeSelector: `${ZONE} == '${z}' && !has(route-reflector)`,
        peerSelector: `${ZONE} == '${z}' && route-reflector == 'true'`,
      }),
    );
    const rrMesh = bgpPeer('rr-mesh', {
      nodeSelector: "route-reflector == 'true'",
      peerSelector: "route-reflector == 'true'",
    });
    const s = withPeers({ nodes: 20, zones: 2, rrs: 2, rrPeering: false }, ...perZone, rrMesh);
    const f = only(s, 'BGP_NODES_UNREACHABLE');
    assert.equal(f.severity, 'critical');
    assert.match(f.message, /CLUSTER_LIST/);
    assert.match(f.message, /shared-cluster-ID partial peering of projectcalico\/calico#2735/);
    assert.match(f.fix, /RouteReflectorClusterID=<unused IPv4> --overwrite/);
    // With distinct cluster IDs the same peering works.
    const distinct = snap({ nodes: 20, zones: 2, rrs: 2, rrPeering: false }, (objs) => {
      let n = 0;
      for (const o of objs) {
        const ann = o.metadata.annotations;
        if (o.kind === 'Node' && ann?.['projectcalico.org/RouteReflectorClusterID'])
          ann['projectcalico.org/RouteReflectorClusterID'] = `244.0.0.${++n}`;
      }
      return [...objs, ...perZone, rrMesh];
    });
    assert.deepEqual(
      codes(distinct).filter((c) => c.startsWith('BGP_NODES')),
      [],
    );
  });

  it('BGP_PEER_SELECTOR_INVALID: with the parse position; the BGPPeer creates nothing', () => {
    const s = withPeers(
      { nodes: 10, rrs: 2 },
      bgpPeer('typo', { nodeSelector: "zone = 'a'", peerSelector: 'all()' }),
    );
    const f = only(s, 'BGP_PEER_SELECTOR_INVALID');
    assert.equal(f.severity, 'critical');
    assert.match(
      f.message,
      /^BGPPeer typo has an invalid nodeSelector "zone = 'a'" \(error at position \d+: expected/,
    );
    assert.match(f.fix, /^kubectl edit bgppeers\.crd\.projectcalico\.org typo/);
    assert.deepEqual(f.objects, [{ kind: 'BGPPeer', name: 'typo' }]);
  });

  it('BGP_PEER_SELECTOR_MATCHES_NOTHING: selectors and node names that select no node', () => {
    const s = withPeers(
      { nodes: 10, rrs: 2 },
      bgpPeer('racks', { nodeSelector: "rack == 'r9'", peerSelector: "route-reflector == 'true'" }),
      bgpPeer('gone', { node: 'node-z-999', peerIP: '192.0.2.1', asNumber: 65001 }),
    );
    const fs = bgpFindings(s).filter((f) => f.code === 'BGP_PEER_SELECTOR_MATCHES_NOTHING');
    assert.deepEqual(
      fs.map((f) => f.message),
      [
        'BGPPeer gone: spec.node "node-z-999" names no node, so it creates no BGP sessions',
        `BGPPeer racks: nodeSelector "rack == 'r9'" matches no node, so it creates no BGP sessions`,
      ],
    );
    assert.match(fs[1]!.fix, /^compare with the node labels: kubectl get nodes -L rack;/);
  });

  it('BGP_PEER_DUPLICATES_MESH: a BGPPeer between mesh members while the mesh is on', () => {
    const s = withPeers(
      { nodes: 20, rrs: 0, mesh: true },
      bgpPeer('everyone', { nodeSelector: 'all()', peerSelector: 'all()' }),
    );
    const f = only(s, 'BGP_PEER_DUPLICATES_MESH');
    assert.equal(f.severity, 'warning');
    assert.match(
      f.message,
      /^BGPPeer everyone adds Node_ sessions between 190 node pairs that already have node-to-node mesh sessions/,
    );
    assert.equal(f.objects[0]!.name, 'everyone');
    assert.deepEqual(
      codes(s).filter((c) => c.startsWith('BGP_NODES')),
      [],
      'duplicates do not hurt reachability',
    );
  });

  it('nothing when BIRD does not run (VXLAN backend)', () => {
    const s = snap({ nodes: 12, rrs: 0, mesh: false });
    const vx = { ...s, calico: { ...s.calico, networkingBackend: 'vxlan' as const } };
    assert.deepEqual(codes(vx), []);
  });

  it('external peers that might relay make the unreachable finding informational', () => {
    const s = withPeers(
      { nodes: 6, rrs: 0, mesh: false },
      bgpPeer('tor', { peerIP: '192.0.2.1', asNumber: 65100 }),
    );
    const f = only(s, 'BGP_NODES_UNREACHABLE');
    assert.equal(f.severity, 'info');
    assert.match(f.message, /external BGP peers, which may relay routes/);
  });

  it('a healthy 5,000-node snapshot has no findings (its speed is measured in bench/bgp-verify.ts)', () => {
    const s = snap({ nodes: 5000, zones: 3, rrs: 3 });
    assert.deepEqual(codes(s), []);
  });
});
