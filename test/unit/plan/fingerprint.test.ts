import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/model/types.js';
import {
  digest,
  digestFull,
  entryOf,
  fingerprint,
  nodeSetHash,
  staleness,
} from '../../../src/plan/fingerprint.js';
import { planDemote, planPromote } from '../../../src/rr/plan.js';
import { snap } from '../helpers.js';
import { edited, migrateOpts, OPTS, RR_ANN } from './helpers.js';
import { planMigration } from '../../../src/migrate/plan.js';

/** 12 nodes in 3 zones, 3 reflectors (node-a-002, node-b-002, node-c-002), mesh off; every object at resourceVersion 1. */
const base = edited(snap({ nodes: 12, zones: 3, rrs: 3 }), (objs) => {
  for (const o of objs) o.metadata.resourceVersion = '1';
});
const NEW = 'node-a-003';
const plan = planPromote(base, [NEW], OPTS);

function nodeObj(objs: KubeObject[], name: string): KubeObject {
  const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === name);
  assert.ok(n, name);
  return n;
}
function bump(o: KubeObject): void {
  o.metadata.resourceVersion = String(Number(o.metadata.resourceVersion ?? '1') + 1);
}
function stale(edit: (objs: KubeObject[]) => KubeObject[] | void): string[] {
  return staleness(plan, edited(base, edit));
}

describe('plan/fingerprint: what a plan was built from, and staleness', () => {
  it('records the BGP configuration, every BGPPeer, the IP pools and Installation, every reflector and the nodes steps touch', () => {
    assert.deepEqual(
      plan.metadata.cluster.fingerprint.map((e) => `${e.kind}/${e.name}@${e.resourceVersion}`),
      [
        'BGPConfiguration/default@1',
        'BGPPeer/peer-with-route-reflectors@1',
        'IPPool/default-ipv4-ippool@1',
        'Installation/default@1',
        'Node/node-a-002@1',
        'Node/node-a-003@1',
        'Node/node-b-002@1',
        'Node/node-c-002@1',
      ],
    );
    for (const e of plan.metadata.cluster.fingerprint) assert.match(e.digest, /^[0-9a-f]{16}$/);
    assert.equal(plan.metadata.cluster.nodeCount, 12);
    assert.equal(plan.metadata.cluster.nodeSetHash, nodeSetHash(base));
  });

  it('a Deployment is fingerprinted without its replicas (an autoscaler scaling Typha does not make a monitoring plan stale), with its pod template', () => {
    const dep = (replicas: number, image: string): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'calico-typha', namespace: 'kube-system', resourceVersion: String(replicas) },
      spec: { replicas, template: { spec: { containers: [{ name: 'calico-typha', image }] } } },
    });
    assert.equal(entryOf(dep(1, 'typha:v3.31.3')).digest, entryOf(dep(3, 'typha:v3.31.3')).digest);
    assert.notEqual(entryOf(dep(1, 'typha:v3.31.3')).digest, entryOf(dep(1, 'typha:v3.31.3-hotfix')).digest);
  });

  it('a node that gains the label a BGPPeer peerSelector selects makes the plan stale (every node would peer with it)', () => {
    // found by trying the tool: `kubectl label node X route-reflector=true` after `migrate plan --save` went
    // unnoticed; the apply promised 84 sessions and made 110
    const changes = stale((objs) => {
      const n = nodeObj(objs, 'node-b-004');
      n.metadata.labels = { ...n.metadata.labels, 'route-reflector': 'true' };
      bump(n);
    });
    assert.deepEqual(changes, [
      "Node/node-b-004 is now selected by a BGPPeer's peerSelector (its labels changed): every node that BGPPeer serves would peer with it",
    ]);
    // the same for a BGPPeer the plan creates: mesh -> reflectors, a node labelled after the plan was made
    const mesh = edited(snap({ nodes: 12, zones: 3, mesh: true }), () => undefined);
    const m = planMigration(mesh, migrateOpts('route-reflectors'));
    const later = edited(mesh, (objs) => {
      const n = nodeObj(objs, 'node-c-004');
      n.metadata.labels = { ...n.metadata.labels, 'route-reflector': 'true' };
    });
    assert.match(
      staleness(m, later).join('\n'),
      /Node\/node-c-004 is now selected by a BGPPeer's peerSelector/,
    );
    assert.deepEqual(staleness(m, mesh), []);
  });

  it('a node a peerSelector selects: only its labels count (an annotation added by a CSI driver is no change), and a new one is said to be new', () => {
    // (a review: every annotation change of such a node made the plan stale, as "no longer a route reflector")
    const zoneC = edited(base, (objs) => {
      objs.push({
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'BGPPeer',
        metadata: { name: 'zone-c', resourceVersion: '1' },
        spec: {
          nodeSelector: "topology.kubernetes.io/zone == 'eu-west-1c'",
          peerSelector: "topology.kubernetes.io/zone == 'eu-west-1c'",
        },
      });
    });
    const p = planPromote(zoneC, [NEW], OPTS);
    assert.ok(p.metadata.cluster.fingerprint.some((e) => e.name === 'node-c-004' && e.selected));
    const annotated = edited(zoneC, (objs) => {
      const n = nodeObj(objs, 'node-c-004');
      n.metadata.annotations = { ...n.metadata.annotations, 'csi.volume.kubernetes.io/nodeid': '{"x":"y"}' };
      bump(n);
    });
    assert.deepEqual(staleness(p, annotated), []);
    const relabelled = edited(zoneC, (objs) => {
      const n = nodeObj(objs, 'node-c-004');
      n.metadata.labels = { ...n.metadata.labels, 'topology.kubernetes.io/zone': 'eu-west-1a' };
    });
    assert.deepEqual(staleness(p, relabelled), [
      "Node/node-c-004 is no longer selected by a BGPPeer's peerSelector (its labels changed)",
    ]);
  });

  it('the plan is current on its own snapshot', () => {
    assert.deepEqual(staleness(plan, base), []);
  });

  it('status-only changes (resourceVersion, heartbeats, conditions) do not make a plan stale', () => {
    const changes = stale((objs) => {
      for (const o of objs) {
        bump(o);
        const st = o.status as
          { conditions?: { lastHeartbeatTime?: string; status?: string; type?: string }[] } | undefined;
        for (const c of st?.conditions ?? []) c.lastHeartbeatTime = '2027-01-01T00:00:00Z';
      }
      (nodeObj(objs, NEW).status as { capacity: Record<string, string> }).capacity['pods'] = '250';
    });
    assert.deepEqual(changes, []);
  });

  it('a label changed on a node a step touches', () => {
    assert.deepEqual(
      stale((objs) => {
        const n = nodeObj(objs, NEW);
        n.metadata.labels!['team'] = 'x';
        bump(n);
      }),
      ['Node/node-a-003 changed (resourceVersion 1 → 2)'],
    );
  });

  it('a node the plan touches was cordoned by someone else', () => {
    assert.deepEqual(
      stale((objs) => {
        const n = nodeObj(objs, NEW);
        n.spec!['unschedulable'] = true;
        bump(n);
      }),
      ['Node/node-a-003 changed (resourceVersion 1 → 2)'],
    );
  });

  it('a label changed on a node the plan does not touch (and that is no reflector) does not matter', () => {
    assert.deepEqual(
      stale((objs) => {
        nodeObj(objs, 'node-b-004').metadata.labels!['team'] = 'x';
      }),
      [],
    );
  });

  it('a reflector removed (its cluster ID gone) or deleted', () => {
    // a reflector the plan also writes: only "changed"
    const demote = planDemote(base, ['node-b-002'], OPTS);
    assert.deepEqual(
      staleness(
        demote,
        edited(base, (objs) => {
          delete nodeObj(objs, 'node-b-002').metadata.annotations![RR_ANN];
        }),
      ),
      ['Node/node-b-002 changed (resourceVersion 1 → 1)'],
    );
    assert.deepEqual(
      stale((objs) => {
        const n = nodeObj(objs, 'node-b-002');
        delete n.metadata.annotations![RR_ANN];
        bump(n);
      }),
      ['Node/node-b-002 is no longer a route reflector (resourceVersion 1 → 2)'],
    );
    assert.deepEqual(
      stale((objs) => objs.filter((o) => !(o.kind === 'Node' && o.metadata.name === 'node-b-002'))),
      ['Node/node-b-002 was deleted', 'nodes: 12 when planned, 11 now (1 removed)'],
    );
  });

  it('a node became a reflector', () => {
    assert.deepEqual(
      stale((objs) => {
        nodeObj(objs, 'node-c-004').metadata.annotations![RR_ANN] = '244.0.0.1';
      }),
      ['Node/node-c-004 became a route reflector'],
    );
  });

  it('a BGPPeer edited, created or deleted; the BGPConfiguration edited', () => {
    assert.deepEqual(
      stale((objs) => {
        const p = objs.find((o) => o.kind === 'BGPPeer')!;
        p.spec!['peerSelector'] = "rr == 'yes'";
        p.metadata.resourceVersion = '9';
      }),
      ['BGPPeer/peer-with-route-reflectors changed (resourceVersion 1 → 9)'],
    );
    assert.deepEqual(
      stale((objs) => [
        ...objs,
        {
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'BGPPeer',
          metadata: { name: 'extra', resourceVersion: '5' },
          spec: { peerIP: '10.9.9.9', asNumber: 65000 },
        },
      ]),
      ['BGPPeer/extra was created'],
    );
    assert.deepEqual(
      stale((objs) => objs.filter((o) => o.kind !== 'BGPPeer')),
      ['BGPPeer/peer-with-route-reflectors was deleted'],
    );
    assert.deepEqual(
      stale((objs) => {
        const c = objs.find((o) => o.kind === 'BGPConfiguration')!;
        c.spec!['nodeToNodeMeshEnabled'] = true;
        bump(c);
      }),
      ['BGPConfiguration/default changed (resourceVersion 1 → 2)'],
    );
  });

  it('a node added, or the set of nodes changed at the same size', () => {
    assert.deepEqual(
      stale((objs) => {
        const n = structuredClone(nodeObj(objs, 'node-c-004'));
        n.metadata.name = 'node-c-099';
        objs.push(n);
      }),
      ['nodes: 12 when planned, 13 now (1 added)'],
    );
    assert.deepEqual(
      stale((objs) => {
        nodeObj(objs, 'node-c-004').metadata.name = 'node-c-099';
      }),
      ['the set of nodes changed (still 12 nodes)'],
    );
  });

  describe('digests', () => {
    it('canonical: key order and undefined fields do not matter, values do', () => {
      assert.equal(digest({ a: 1, b: { c: [1, 2], d: 'x' } }), digest({ b: { d: 'x', c: [1, 2] }, a: 1 }));
      assert.equal(digest({ a: 1, u: undefined }), digest({ a: 1 }));
      assert.equal(
        digest({ a: 1, u: undefined }),
        digest(JSON.parse(JSON.stringify({ a: 1, u: undefined }))),
      );
      assert.notEqual(digest({ a: 1 }), digest({ a: '1' }));
      assert.notEqual(digest({ a: [1, 2] }), digest({ a: [2, 1] }));
      assert.notEqual(digest({ a: null }), digest({}));
      assert.match(digest(undefined), /^[0-9a-f]{16}$/);
      assert.match(digestFull({ a: 1 }), /^[0-9a-f]{64}$/);
      assert.ok(digestFull({ a: 1 }).startsWith(digest({ a: 1 })));
    });
    it('a node entry covers labels, annotations and unschedulable only', () => {
      const n = structuredClone(nodeObj(base.objects, NEW));
      const e = entryOf(n);
      assert.deepEqual(
        { ...e, digest: '' },
        { kind: 'Node', name: NEW, namespace: undefined, resourceVersion: '1', digest: '' },
      );
      n.status = { changed: true };
      n.metadata.resourceVersion = '2';
      n.spec!['providerID'] = 'other';
      assert.equal(entryOf(n).digest, e.digest);
      n.spec!['unschedulable'] = true;
      assert.notEqual(entryOf(n).digest, e.digest);
      const cfg = nodeObj(base.objects, NEW);
      const other: KubeObject = { apiVersion: 'x/v1', kind: 'BGPPeer', metadata: { name: 'p' } };
      assert.equal(entryOf(other).resourceVersion, '');
      assert.equal(entryOf(other).digest, digest({}));
      assert.ok(cfg);
    });
    it('the node set hash ignores order', () => {
      const reversed = edited(base, (objs) => [...objs].reverse());
      assert.equal(nodeSetHash(reversed), nodeSetHash(base));
      assert.deepEqual(
        fingerprint(base, [])
          .filter((e) => e.kind === 'Node')
          .map((e) => e.name),
        ['node-a-002', 'node-b-002', 'node-c-002'],
      );
    });
  });
});
