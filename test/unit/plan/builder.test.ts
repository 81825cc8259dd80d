import assert from 'node:assert/strict';
import { renderPlan } from '../../../src/render/plan.js';
import { planPromote } from '../../../src/rr/plan.js';
import fc from 'fast-check';
import { nodeIPv4 } from '../../../src/bgp/state.js';
import { fullMeshSessions, reflectorSessions } from '../../../src/model/calico.js';
import type { KubeObject } from '../../../src/model/types.js';
import { PlanBuilder } from '../../../src/plan/builder.js';
import { planDigest } from '../../../src/plan/integrity.js';
import { applyMergePatch } from '../../../src/plan/merge-patch.js';
import type { Plan } from '../../../src/plan/types.js';
import { planMigration } from '../../../src/migrate/plan.js';
import { snap, snapshotOf, objects } from '../helpers.js';
import { CORDON_ANN, edited, migrateOpts, node, object, objectsAfter, rrNames, RR_ANN } from './helpers.js';

const CALICO = 'crd.projectcalico.org/v1';
const NODE = (name: string) => ({ apiVersion: 'v1', kind: 'Node', name });
const DEFAULT_CFG = { apiVersion: CALICO, kind: 'BGPConfiguration', name: 'default' };
const META = { name: 'p', command: 'test', description: 'd', changes: [], warnings: [] };
const MESH_OFF = { spec: { nodeToNodeMeshEnabled: false } };

function ipsOf(s: ReturnType<typeof snap>, names: string[]): string[] {
  return names.map((n) => nodeIPv4(node(s, n))!).sort();
}

describe('plan/builder: PlanBuilder', () => {
  const mesh = snap({ nodes: 12, zones: 3 }); // mesh on, no reflector
  const rr3 = snap({ nodes: 12, zones: 3, rrs: 3 }); // mesh off, 3 reflectors, peer-with-route-reflectors
  const worker = 'node-a-003';

  describe('undo derivation', () => {
    it('patch: the inverse merge patch, which restores the node exactly', () => {
      const b = new PlanBuilder(mesh, { timeout: '10m' });
      const before = object(mesh.objects, 'Node', worker)!;
      const st = b.add({
        title: 'label',
        why: 'w',
        action: 'patch',
        object: NODE(worker),
        patch: {
          metadata: {
            labels: { 'route-reflector': 'true', 'kubernetes.io/os': null },
            annotations: { [RR_ANN]: '244.0.0.1' },
          },
        },
      });
      assert.equal(st.undo.length, 1);
      const undo = st.undo[0]!;
      assert.equal(undo.id, `${st.id}-undo`);
      assert.equal(undo.action, 'patch');
      assert.deepEqual(undo.object, NODE(worker));
      assert.deepEqual(undo.patch, {
        metadata: {
          labels: { 'route-reflector': null, 'kubernetes.io/os': 'linux' },
          annotations: { [RR_ANN]: null },
        },
      });
      const after = object(b.state.objects, 'Node', worker)!;
      assert.equal(after.metadata.labels!['route-reflector'], 'true');
      assert.equal(node(b.state, worker).bgp.rrClusterId, '244.0.0.1', 'the builder state is reparsed');
      assert.deepEqual(object(objectsAfter(b.state.objects, [undo]), 'Node', worker), before);
      assert.equal(
        object(mesh.objects, 'Node', worker)!.metadata.labels!['route-reflector'],
        undefined,
        'the base is untouched',
      );
    });

    it('property: for random label and annotation maps, patch then undo gives back the node', () => {
      const base = objects({ nodes: 4, zones: 1 });
      const keys = fc.constantFrom(
        'route-reflector',
        'calico-route-reflector',
        'team',
        'a/b',
        RR_ANN,
        CORDON_ANN,
      );
      const vals = fc.constantFrom('true', '244.0.0.1', '10.0.0.1', '', 'x');
      const map = fc.dictionary(keys, vals, { maxKeys: 4, noNullPrototype: true });
      const patchMap = fc.dictionary(keys, fc.option(vals, { nil: null }), {
        maxKeys: 4,
        noNullPrototype: true,
      });
      fc.assert(
        fc.property(
          fc.option(map, { nil: undefined }),
          fc.option(map, { nil: undefined }),
          patchMap,
          patchMap,
          (labels, annotations, pl, pa) => {
            const items = structuredClone(base);
            const n = items.find((o) => o.kind === 'Node' && o.metadata.name === 'node-a-002')!;
            if (labels) n.metadata.labels = { ...labels };
            else delete n.metadata.labels;
            if (annotations) n.metadata.annotations = { ...annotations };
            else delete n.metadata.annotations;
            const s = snapshotOf(items);
            const original = structuredClone(object(s.objects, 'Node', 'node-a-002'));
            const b = new PlanBuilder(s, { timeout: '1m' });
            const st = b.add({
              title: 't',
              why: 'w',
              action: 'patch',
              object: NODE('node-a-002'),
              patch: { metadata: { labels: pl, annotations: pa } },
            });
            const applied = object(b.state.objects, 'Node', 'node-a-002')!;
            assert.deepEqual(applied, applyMergePatch(original, st.patch));
            assert.deepEqual(object(objectsAfter(b.state.objects, st.undo), 'Node', 'node-a-002'), original);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('cordon ↔ uncordon; the pair restores the node, annotation included', () => {
      const b = new PlanBuilder(mesh, { timeout: '10m' });
      const c = b.add({ title: 'c', why: 'w', action: 'cordon', object: NODE(worker) });
      assert.deepEqual(
        c.undo.map((u) => [u.id, u.action, u.object?.name, u.title]),
        [[`${c.id}-undo`, 'uncordon', worker, `uncordon ${worker}`]],
      );
      const cordoned = object(b.state.objects, 'Node', worker)!;
      assert.equal(cordoned.spec!['unschedulable'], true);
      assert.equal(cordoned.metadata.annotations![CORDON_ANN], 'kubectl-calico-tune');
      assert.equal(node(b.state, worker).unschedulable, true);
      assert.deepEqual(
        object(objectsAfter(b.state.objects, c.undo), 'Node', worker),
        object(mesh.objects, 'Node', worker),
      );
      const u = b.add({ title: 'u', why: 'w', action: 'uncordon', object: NODE(worker) });
      assert.equal(u.id, `uncordon-${worker}`);
      assert.deepEqual(
        u.undo.map((x) => [x.action, x.title]),
        [['cordon', `cordon ${worker}`]],
      );
      assert.deepEqual(object(b.state.objects, 'Node', worker), object(mesh.objects, 'Node', worker));
    });

    it('create → delete of the same object; delete → re-create without server fields', () => {
      const peer = {
        apiVersion: CALICO,
        kind: 'BGPPeer',
        metadata: {
          name: 'p1',
          resourceVersion: '77',
          uid: 'u-1',
          creationTimestamp: '2026-01-01T00:00:00Z',
          generation: 3,
          labels: { a: 'b' },
        },
        spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" },
        status: { x: 1 },
      } as unknown as KubeObject;
      const s = edited(mesh, (objs) => [...objs, peer]);
      const b = new PlanBuilder(s, { timeout: '10m' });
      const del = b.add({
        title: 'd',
        why: 'w',
        action: 'delete',
        object: { apiVersion: CALICO, kind: 'BGPPeer', name: 'p1' },
      });
      assert.equal(object(b.state.objects, 'BGPPeer', 'p1'), undefined);
      assert.equal(del.undo.length, 1);
      assert.equal(del.undo[0]!.action, 'create');
      assert.equal(del.undo[0]!.title, 're-create BGPPeer p1');
      assert.deepEqual(del.undo[0]!.manifest, {
        apiVersion: CALICO,
        kind: 'BGPPeer',
        metadata: { name: 'p1', labels: { a: 'b' } },
        spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" },
      });
      const cr = b.add({ title: 'c', why: 'w', action: 'create', manifest: del.undo[0]!.manifest! });
      assert.deepEqual(cr.object, { apiVersion: CALICO, kind: 'BGPPeer', name: 'p1', namespace: undefined });
      assert.deepEqual(
        cr.undo.map((u) => [u.action, u.object?.name, u.title]),
        [['delete', 'p1', 'delete BGPPeer p1']],
      );
      assert.deepEqual(object(b.state.objects, 'BGPPeer', 'p1')!.spec, peer.spec);
      // deleting what does not exist: nothing to re-create
      const gone = b.add({
        title: 'd',
        why: 'w',
        action: 'delete',
        object: { apiVersion: CALICO, kind: 'BGPPeer', name: 'nope' },
      });
      assert.deepEqual(gone.undo, []);
    });

    it('undoGateNodes: a gate on the state before the step, after the inverse', () => {
      const b = new PlanBuilder(mesh, { timeout: '7m' });
      const st = b.add({
        title: 'promote',
        why: 'w',
        action: 'patch',
        object: NODE(worker),
        patch: {
          metadata: { labels: { 'route-reflector': 'true' }, annotations: { [RR_ANN]: '244.0.0.1' } },
        },
        undoGateNodes: [worker],
      });
      assert.equal(st.undo.length, 2);
      const w = st.undo[1]!;
      assert.equal(w.action, 'wait');
      assert.equal(w.id, `${st.id}-undo-wait`);
      const others = mesh.nodes.map((n) => n.name).filter((n) => n !== worker);
      // before the step the node is a mesh member: a NodeMesh session with every other node
      assert.deepEqual(w.gate, {
        type: 'bgp-established',
        nodes: [worker],
        expect: {
          [worker]: {
            count: 11,
            peerIPs: w.gate!.expect[worker]!.peerIPs,
            peerTypes: Array(11).fill('NodeMesh'),
          },
        },
        exact: false,
        timeout: '7m',
      });
      assert.deepEqual([...w.gate!.expect[worker]!.peerIPs!].sort(), ipsOf(mesh, others));
    });
  });

  describe('gate expectations (the state after the preceding steps)', () => {
    it('mesh: every other node, NodeMesh', () => {
      const b = new PlanBuilder(mesh, { timeout: '10m' });
      const w = b.wait('w', 'why', [worker], { exact: true, onTimeout: 'pause', timeout: '3m' });
      assert.equal(w.id, `wait-${worker}`);
      assert.equal(w.onTimeout, 'pause');
      assert.equal(w.gate!.exact, true);
      assert.equal(w.gate!.timeout, '3m');
      const e = w.gate!.expect[worker]!;
      assert.equal(e.count, 11);
      assert.deepEqual(e.peerTypes, Array(11).fill('NodeMesh'));
      assert.deepEqual(
        [...e.peerIPs!].sort(),
        ipsOf(
          mesh,
          mesh.nodes.map((n) => n.name).filter((n) => n !== worker),
        ),
      );
    });

    it('route reflectors: a client expects the reflectors, a reflector every node, NodePeer', () => {
      const rrs = rrNames(rr3);
      const client = rr3.nodes.find((n) => !rrs.includes(n.name))!.name;
      const b = new PlanBuilder(rr3, { timeout: '10m' });
      const w = b.wait('w', 'why', [client, rrs[0]!]);
      assert.equal(w.id, 'wait-2-nodes');
      assert.equal(w.onTimeout, 'rollback');
      assert.equal(w.gate!.exact, false);
      assert.deepEqual([...w.gate!.expect[client]!.peerIPs!].sort(), ipsOf(rr3, rrs));
      assert.deepEqual(w.gate!.expect[client]!.peerTypes, ['NodePeer', 'NodePeer', 'NodePeer']);
      assert.equal(w.gate!.expect[rrs[0]!]!.count, 11);
      assert.deepEqual(w.gate!.expect[rrs[0]!]!.peerTypes, Array(11).fill('NodePeer'));
    });

    it('a global BGPPeer (no node, no nodeSelector) gives GlobalPeer sessions', () => {
      const s = edited(rr3, (objs) => [
        ...objs.filter((o) => o.metadata.name !== 'peer-with-route-reflectors'),
        {
          apiVersion: CALICO,
          kind: 'BGPPeer',
          metadata: { name: 'global' },
          spec: { peerSelector: "route-reflector == 'true'" },
        },
      ]);
      const rrs = rrNames(s);
      const client = s.nodes.find((n) => !rrs.includes(n.name))!.name;
      const w = new PlanBuilder(s, { timeout: '10m' }).wait('w', 'why', [client]);
      assert.deepEqual([...w.gate!.expect[client]!.peerIPs!].sort(), ipsOf(s, rrs));
      assert.deepEqual(w.gate!.expect[client]!.peerTypes, ['GlobalPeer', 'GlobalPeer', 'GlobalPeer']);
    });

    it('follows the steps: after the mesh goes off, a client of 3 reflectors expects 3 sessions', () => {
      const s = edited(rr3, (objs) => {
        (objs.find((o) => o.kind === 'BGPConfiguration')!.spec as Record<string, unknown>)[
          'nodeToNodeMeshEnabled'
        ] = true;
      });
      const client = 'node-a-003';
      const b = new PlanBuilder(s, { timeout: '10m' });
      const before = b.wait('w', 'why', [client]);
      // mesh on: 8 other mesh members (12 - 3 reflectors - itself) and the 3 reflectors
      assert.equal(before.gate!.expect[client]!.count, 11);
      assert.equal(before.gate!.expect[client]!.peerTypes!.filter((t) => t === 'NodeMesh').length, 8);
      b.add({ title: 'mesh off', why: 'w', action: 'patch', object: DEFAULT_CFG, patch: MESH_OFF });
      const after = b.wait('w', 'why', [client]);
      assert.equal(after.id, `wait-${client}-2`, 'ids are unique');
      assert.equal(after.gate!.expect[client]!.count, 3);
    });

    it('above 1,000 peers only the count is stored', () => {
      const big = snap({ nodes: 1003, zones: 3 });
      const w = new PlanBuilder(big, { timeout: '10m' }).wait('w', 'why', ['node-a-010']);
      assert.deepEqual(w.gate!.expect['node-a-010'], {
        count: 1002,
        peerIPs: undefined,
        peerTypes: undefined,
      });
    });
  });

  describe('wouldWeaken', () => {
    it('removing the label of the only reflector with the mesh off weakens; of one of three does not', () => {
      const one = snap({ nodes: 12, zones: 3, rrs: 1 });
      const b1 = new PlanBuilder(one, { timeout: '1m' });
      const drop = { metadata: { labels: { 'route-reflector': null } } };
      assert.equal(b1.wouldWeaken(NODE(rrNames(one)[0]!), drop), true);
      const b3 = new PlanBuilder(rr3, { timeout: '1m' });
      assert.equal(b3.wouldWeaken(NODE(rrNames(rr3)[0]!), drop), false);
      assert.equal(b3.steps.length, 0, 'a probe adds no step');
    });
  });

  describe('finish()', () => {
    it('a plan that turns the mesh off with no reflector fails verification at that step', () => {
      // unreachablePairs counts unordered pairs: 12 nodes, all cut off = 66
      const b = new PlanBuilder(mesh, { timeout: '10m' });
      b.add({ title: 'Cordon', why: 'w', action: 'cordon', object: NODE(worker) });
      b.add({ title: 'Mesh off', why: 'w', action: 'patch', object: DEFAULT_CFG, patch: MESH_OFF });
      const p = b.finish(META);
      assert.equal(p.summary.verification.ok, false);
      assert.equal(p.summary.verification.failedStep, '2 (Mesh off)');
      assert.match(
        p.summary.verification.reason!,
        /^66 node pairs cannot reach each other, e\.g\. \S+ does not learn \S+'s routes/,
      );
      assert.equal(p.steps[0]!.verdict!.unreachablePairs, 0);
      assert.equal(p.steps[1]!.verdict!.unreachablePairs, 66);
      assert.equal(p.steps[1]!.verdict!.ok, false);
      assert.match(
        p.summary.warnings.join('\n'),
        /after the plan 66 node pairs still cannot reach each other/,
      );
      assert.equal(p.summary.verification.n1Ok, null, 'no reflector anywhere: N-1 does not apply');
    });

    it('a plan that repairs a cut-off cluster passes, with a warning about the start', () => {
      const cut = snap({ nodes: 6, zones: 1, mesh: false });
      const b = new PlanBuilder(cut, { timeout: '10m' });
      b.add({
        title: 'Mesh on',
        why: 'w',
        action: 'patch',
        object: DEFAULT_CFG,
        patch: { spec: { nodeToNodeMeshEnabled: true } },
      });
      const p = b.finish({ ...META, warnings: ['mine'] });
      assert.equal(p.summary.verification.ok, true);
      assert.equal(p.summary.verification.failedStep, undefined);
      assert.deepEqual(p.summary.warnings, [
        'before the plan 15 node pairs already cannot reach each other (' +
          p.summary.warnings[0]!.split('(')[1],
        'mine',
      ]);
      assert.match(p.summary.warnings[0]!, /does not learn/);
      assert.deepEqual(p.summary.sessions, { before: 0, after: 15, fullMesh: 15 });
    });

    it('n1Ok: true while any reflector can fail; false (with the reason) when one reflector carries everyone', () => {
      const ok = new PlanBuilder(rr3, { timeout: '10m' });
      ok.add({ title: 'Cordon', why: 'w', action: 'cordon', object: NODE(worker) });
      const pOk = ok.finish(META);
      assert.equal(pOk.summary.verification.n1Ok, true);
      assert.equal(pOk.summary.verification.zoneLoss!.ok, true);

      const two = snap({ nodes: 8, zones: 1, rrs: 2 });
      const [a] = rrNames(two);
      const b = new PlanBuilder(two, { timeout: '10m' });
      b.add({
        title: 'Narrow the peering',
        why: 'w',
        action: 'patch',
        object: { apiVersion: CALICO, kind: 'BGPPeer', name: 'peer-with-route-reflectors' },
        patch: { spec: { peerSelector: `kubernetes.io/hostname == '${a}'` } },
      });
      const p = b.finish(META);
      assert.equal(p.summary.verification.ok, true, 'N-1 alone does not fail a plan');
      assert.equal(p.summary.verification.n1Ok, false);
      assert.equal(
        p.summary.verification.reason,
        'after step 1 (Narrow the peering) the loss of one route reflector would cut nodes off',
      );
      assert.equal(p.summary.verification.zoneLoss!.ok, null, 'one zone: zone loss does not apply');
      assert.equal(p.steps[0]!.verdict!.n1Ok, false);
    });

    it('n1Ok false from the cluster as found, not from a step: the plan says so (an operator trial: "some step depends")', () => {
      // a second reflector for a cluster that has one: every state of the plan has two
      const one = snap({ nodes: 8, zones: 1, rrs: 1 });
      const worker = one.nodes.find((n) => !n.bgp.rrClusterId && n.os === 'linux' && !n.unschedulable)!.name;
      const p = planPromote(one, [worker], { timeout: '10m' });
      assert.equal(p.summary.verification.n1Ok, false);
      const text = renderPlan(p, false);
      assert.doesNotMatch(text, /some step depends on a single route reflector/);
      assert.match(text, /the cluster before the plan already depends on a single route reflector/);
    });

    it('zone loss: reflectors in one zone of three are refused, or accepted with allowZoneLoss', () => {
      const s = snap({ nodes: 15, zones: 3 });
      const rr = ['node-a-003', 'node-a-004'];
      const refused = planMigration(s, migrateOpts('route-reflectors', { rr }));
      const v = refused.summary.verification;
      const meshOff = refused.steps.findIndex((st) => st.object?.kind === 'BGPConfiguration');
      assert.equal(v.ok, false);
      assert.equal(v.failedStep, `${meshOff + 1} (${refused.steps[meshOff]!.title})`);
      assert.equal(v.zoneLoss!.ok, false);
      assert.equal(v.zoneLoss!.allowed, undefined);
      assert.match(
        v.reason!,
        /an outage of one zone \(all its route reflectors\) would cut nodes off \(pass --allow-zone-loss to accept\)$/,
      );
      assert.equal(refused.steps[meshOff]!.verdict!.zoneLossOk, false);
      assert.equal(
        refused.steps[meshOff - 1]!.verdict!.zoneLossOk,
        true,
        'with the mesh on, losing zone a cuts nobody off',
      );

      const allowed = planMigration(s, migrateOpts('route-reflectors', { rr, allowZoneLoss: true }));
      assert.equal(allowed.summary.verification.ok, true);
      assert.equal(allowed.summary.verification.failedStep, undefined);
      assert.deepEqual(allowed.summary.verification.zoneLoss, {
        ok: false,
        allowed: true,
        reason: v.zoneLoss!.reason,
      });
    });

    it('sessions, reflectors after the plan, cluster identity and fingerprint', () => {
      const s = edited(mesh, () => undefined);
      s.source.server = 'https://10.0.0.1:6443';
      s.source.clusterUID = 'uid-1';
      const p = planMigration(s, migrateOpts('route-reflectors'));
      assert.deepEqual(p.summary.sessions, {
        before: fullMeshSessions(12),
        after: reflectorSessions(12, 3),
        fullMesh: fullMeshSessions(12),
      });
      assert.equal(p.summary.routeReflectors!.length, 3);
      assert.deepEqual(
        new Set(p.summary.routeReflectors!.map((r) => r.zone)),
        new Set(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']),
      );
      // a cluster ID each: every other node, the other reflectors included, is a client (confd renders
      // `rr client` on every session whose peer has no cluster ID or another one)
      assert.deepEqual(p.summary.routeReflectors!.map((r) => r.clusterId).sort(), [
        '244.0.0.1',
        '244.0.0.2',
        '244.0.0.3',
      ]);
      for (const r of p.summary.routeReflectors!) {
        assert.equal(r.clients, 11);
        assert.equal(r.sessions, 11);
      }
      const c = p.metadata.cluster;
      assert.equal(c.server, 'https://10.0.0.1:6443');
      assert.equal(c.uid, 'uid-1');
      assert.equal(c.nodeCount, 12);
      const touched = p.summary.routeReflectors!.map((r) => r.name).sort();
      assert.deepEqual(
        c.fingerprint.map((e) => `${e.kind}/${e.name}`).sort(),
        [
          'BGPConfiguration/default',
          ...p.metadata.cluster.fingerprint
            .filter((e) => e.kind === 'IPPool' || e.kind === 'Installation')
            .map((e) => `${e.kind}/${e.name}`),
          ...touched.map((n) => `Node/${n}`),
        ].sort(),
      );
      const none = new PlanBuilder(mesh, { timeout: '1m' }).finish(META);
      assert.equal(none.metadata.cluster.server, null);
      assert.equal(none.metadata.cluster.uid, null);
      assert.equal(none.summary.routeReflectors, undefined);
      assert.deepEqual(none.summary.sessions, { before: 66, after: 66, fullMesh: 66 });
      assert.deepEqual(none.summary.verification, {
        ok: true,
        n1Ok: null,
        zoneLoss: { ok: null },
        failedStep: undefined,
        reason: undefined,
      });
    });

    it('the digest is set, covers the steps, and does not depend on when the plan was made', () => {
      const build = (createdAt: string): Plan => {
        const b = new PlanBuilder(mesh, { timeout: '10m' });
        b.add({ title: 'Cordon', why: 'w', action: 'cordon', object: NODE(worker) });
        b.wait('w', 'w', [worker]);
        return b.finish({ ...META, createdAt });
      };
      const p1 = build('2026-01-01T00:00:00Z');
      const p2 = build('2026-06-01T00:00:00Z');
      assert.match(p1.metadata.digest!, /^sha256:[0-9a-f]{64}$/);
      assert.equal(p1.metadata.digest, planDigest(p1));
      assert.equal(p1.metadata.digest, p2.metadata.digest);
      assert.equal(p1.metadata.createdAt, '2026-01-01T00:00:00Z');
      const b = new PlanBuilder(mesh, { timeout: '10m' });
      b.add({ title: 'Cordon', why: 'w', action: 'cordon', object: NODE('node-b-003') });
      b.wait('w', 'w', ['node-b-003']);
      assert.notEqual(b.finish(META).metadata.digest, p1.metadata.digest);
    });

    it('step ids: action-name, unique, at most 60 characters of safe characters', () => {
      const long = 'n'.repeat(80);
      const s = edited(mesh, (objs) => {
        objs.find((o) => o.metadata.name === worker)!.metadata.name = `${long}_x`;
      });
      const b = new PlanBuilder(s, { timeout: '1m' });
      const a = b.add({ title: 't', why: 'w', action: 'cordon', object: NODE(`${long}_x`) });
      const a2 = b.add({ title: 't', why: 'w', action: 'cordon', object: NODE(`${long}_x`) });
      assert.equal(a.id, `cordon-${long}`.slice(0, 60));
      assert.equal(a2.id, `${a.id}-2`);
      assert.deepEqual([...b.touchedNodes], [`${long}_x`]);
    });
  });
});
