import assert from 'node:assert/strict';
import { nodeIPv4 } from '../../../src/bgp/state.js';
import { listRouteReflectors } from '../../../src/rr/list.js';
import { snap } from '../helpers.js';
import { edited, node, RR_ANN } from '../plan/helpers.js';

describe('rr/list: the route reflectors and what is wrong with them', () => {
  it('every reflector with its zone, clients, sessions, labels and the BGPPeers that select it', () => {
    const s = snap({ nodes: 12, zones: 3, rrs: 3, unschedulable: 0 });
    const l = listRouteReflectors(s);
    assert.equal(l.apiVersion, 'calico-tune/v1');
    assert.equal(l.kind, 'RouteReflectorList');
    assert.equal(l.meshEnabled, false);
    assert.deepEqual(l.clusterIds, ['244.0.0.1']);
    assert.deepEqual(
      l.routeReflectors,
      [
        ['node-a-002', 'eu-west-1a'],
        ['node-b-002', 'eu-west-1b'],
        ['node-c-002', 'eu-west-1c'],
      ].map(([name, zone]) => ({
        node: name,
        clusterId: '244.0.0.1',
        zone,
        ready: true,
        schedulable: true,
        clients: 9,
        sessions: 11,
        labels: { 'route-reflector': 'true' },
        selectedBy: ['peer-with-route-reflectors'],
      })),
    );
    assert.deepEqual(l.problems, []);
    assert.ok(nodeIPv4(node(s, 'node-a-002')));
  });

  it('a mesh without reflectors: an empty list', () => {
    const l = listRouteReflectors(snap({ nodes: 6, zones: 1 }));
    assert.equal(l.meshEnabled, true);
    assert.deepEqual(l.routeReflectors, []);
    assert.deepEqual(l.clusterIds, []);
    assert.deepEqual(l.problems, []);
  });

  it('problems: an invalid cluster ID, a label without a cluster ID, a reflector no BGPPeer selects', async () => {
    const s = edited(snap({ nodes: 12, zones: 3, rrs: 2, rrPeering: false }), (objs) => {
      const n = (name: string) => objs.find((o) => o.kind === 'Node' && o.metadata.name === name)!;
      n('node-c-003').metadata.annotations![RR_ANN] = '288.0.4.5';
      n('node-c-004').metadata.labels!['route-reflector'] = 'true';
      n('node-b-002').spec!['unschedulable'] = true;
    });
    const l = listRouteReflectors(s);
    assert.deepEqual(l.problems.map((p) => [p.code, p.node]).sort(), [
      ['RR_CLUSTER_ID_INVALID', 'node-c-003'],
      ['RR_LABEL_WITHOUT_CLUSTER_ID', 'node-c-004'],
      ['RR_NOT_PEERED', 'node-a-002'],
      ['RR_NOT_PEERED', 'node-b-002'],
    ]);
    assert.match(l.problems.find((p) => p.code === 'RR_CLUSTER_ID_INVALID')!.message, /288\.0\.4\.5/);
    // the severity status gives the same finding (a review: ▲ in rr list, CRIT in status)
    const { configFindings } = await import('../../../src/status/checks.js');
    for (const p of l.problems)
      assert.equal(
        p.severity,
        configFindings(s).find((f) => f.code === p.code && f.objects[0]?.name === p.node)!.severity,
        p.code,
      );
    const b = l.routeReflectors.find((r) => r.node === 'node-b-002')!;
    assert.equal(b.schedulable, false);
    assert.deepEqual(b.selectedBy, []);
    assert.deepEqual(
      l.routeReflectors.map((r) => r.node),
      ['node-a-002', 'node-b-002'],
    );
  });
});
