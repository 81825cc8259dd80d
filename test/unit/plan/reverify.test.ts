import assert from 'node:assert/strict';
import { bgpStateFromSnapshot } from '../../../src/bgp/state.js';
import { computeTopology } from '../../../src/bgp/topology.js';
import { CliError, ExitCode } from '../../../src/errors.js';
import { planMigration } from '../../../src/migrate/plan.js';
import type { ClusterSnapshot, KubeObject } from '../../../src/model/types.js';
import { PlanBuilder } from '../../../src/plan/builder.js';
import {
  checkFresh,
  checkIdentity,
  describeFailure,
  refusal,
  verifySteps,
} from '../../../src/plan/preflight.js';
import { preflight } from '../../../src/executor/checks.js';
import {
  alreadyDone,
  expectedSessions,
  findObject,
  firstNotLive,
  policyOf,
  preconditionProblem,
  reverify,
} from '../../../src/plan/reverify.js';
import { applyStep, CORDON_ANNOTATION, verdictOf } from '../../../src/plan/simulate.js';
import type { Plan, Step } from '../../../src/plan/types.js';
import { planDemote, planPromote, planReplace } from '../../../src/rr/plan.js';
import { snap } from '../helpers.js';
import { edited, migrateOpts, OPTS, object, refuses, RR_ANN, rrNames, stateAfter } from './helpers.js';

const CALICO = 'crd.projectcalico.org/v1';
const ACCEPT_NOTHING = { acceptN1: false, acceptZoneLoss: false };

/** 12 nodes in 3 zones, full mesh, with a cluster identity. */
const mesh = edited(snap({ nodes: 12, zones: 3 }), () => undefined);
mesh.source.server = 'https://10.0.0.1:6443';
mesh.source.clusterUID = 'uid-1';
const toRR = planMigration(mesh, migrateOpts('route-reflectors'));
const meshOffIdx = toRR.steps.findIndex((s) => s.object?.kind === 'BGPConfiguration');
const meshOff = toRR.steps[meshOffIdx]!;
const createPeerIdx = toRR.steps.findIndex((s) => s.action === 'create');

function nodeEdit(s: ClusterSnapshot, name: string, f: (n: KubeObject) => void): ClusterSnapshot {
  return edited(s, (objs) => {
    f(objs.find((o) => o.kind === 'Node' && o.metadata.name === name)!);
  });
}

describe('plan/reverify: the steps re-run on the live state', () => {
  it('a planner’s plan re-verifies on its own snapshot, with a live gate per wait step', () => {
    const r = reverify(toRR.steps, mesh, policyOf(toRR));
    assert.equal(r.ok, true, r.ok ? '' : describeFailure(r, toRR.steps.length));
    assert.equal(r.failure, undefined);
    assert.equal(r.initial.unreachablePairs, 0);
    const waits = toRR.steps.filter((s) => s.action === 'wait');
    assert.deepEqual(
      [...r.gates.keys()],
      waits.map((s) => s.id),
    );
    assert.deepEqual(rrNames(r.final).sort(), toRR.summary.routeReflectors!.map((x) => x.name).sort());
    assert.equal(r.final.bgpConfigurations[0]!.nodeToNodeMeshEnabled, false);
  });

  it('gate expectations equal the builder’s, peer for peer and type for type', () => {
    const r = reverify(toRR.steps, mesh, policyOf(toRR));
    let compared = 0;
    for (const s of toRR.steps.filter((x) => x.action === 'wait')) {
      const live = r.gates.get(s.id)!;
      assert.deepEqual([...live.sessions.keys()], s.gate!.nodes);
      for (const n of s.gate!.nodes) {
        const want = s.gate!.expect[n]!;
        const got = live.sessions.get(n)!;
        assert.equal(got.length, want.count, `${s.id} ${n}`);
        assert.deepEqual(
          got.map((x) => x.peerIP),
          want.peerIPs,
        );
        assert.deepEqual(
          got.map((x) => x.type),
          want.peerTypes,
        );
        compared++;
      }
      assert.equal(live.nodes, 12);
    }
    assert.ok(compared >= 9, `${compared}`);
    // before the mesh goes off, the reflectors are the 3 promoted nodes
    const gateBeforeOff = r.gates.get(toRR.steps[meshOffIdx - 1]!.id)!;
    assert.deepEqual([...gateBeforeOff.reflectors].sort(), rrNames(r.final).sort());
  });

  it('a ToR BGPPeer (peerIP) added since the plan, selecting only the reflectors: a demotion that leaves it no session fails', () => {
    // (a review: the external-peer check ran only when planning; a rollback or apply-time re-verification let
    // the last reflector's label go while a ToR peered with it alone)
    const three = edited(snap({ nodes: 12, zones: 3, rrs: 3 }), () => undefined);
    const p = planDemote(three, rrNames(three).slice(0, 1), { ...OPTS, allowZoneLoss: true });
    assert.equal(reverify(p.steps, three, policyOf(p)).ok, true);
    const [first] = rrNames(three) as [string];
    const withTor = edited(three, (objs) => {
      objs.push({
        apiVersion: CALICO,
        kind: 'BGPPeer',
        metadata: { name: 'tor-of-one' },
        spec: { node: first, peerIP: '10.99.0.1', asNumber: 65000 },
      });
    });
    // a node BGPPeer keeps its session whatever the role: not cut
    assert.equal(reverify(p.steps, withTor, policyOf(p)).ok, true);
    const byLabel = edited(three, (objs) => {
      objs.push({
        apiVersion: CALICO,
        kind: 'BGPPeer',
        metadata: { name: 'tor-of-rrs' },
        spec: {
          nodeSelector: `route-reflector == 'true' && kubernetes.io/hostname == '${first}'`,
          peerIP: '10.99.0.1',
          asNumber: 65000,
        },
      });
    });
    const r = reverify(p.steps, byLabel, policyOf(p));
    assert.equal(r.ok, false);
    assert.match(
      r.failure!.reason,
      /external peer 10\.99\.0\.1 \(BGPPeer tor-of-rrs\) has no BGP session left/,
    );
  });

  it('only the mesh-off step (the rest deleted): fails at it, naming node pairs', () => {
    const r = reverify([meshOff], mesh, ACCEPT_NOTHING);
    assert.equal(r.ok, false);
    assert.equal(r.failure!.index, 0);
    assert.equal(r.failure!.step, meshOff);
    assert.equal(r.failure!.reason, 'the BGP model finds 66 node pairs without routes after it (0 now)');
    assert.ok(r.failure!.pairs.length >= 1 && r.failure!.pairs.length <= 5);
    for (const p of r.failure!.pairs) assert.match(p, /^node-\S+ ↛ node-\S+: .*mesh is off/);
    assert.match(
      describeFailure(r, 16, 3),
      /^step 4\/16 \(Turn the full mesh off .*\): the BGP model finds 66 node pairs without routes after it \(0 now\); e\.g\. node-\S+ ↛ node-\S+: /,
    );
  });

  it('the BGPPeer kept but no promotion: fails at the mesh-off step (index 1)', () => {
    const r = reverify([toRR.steps[createPeerIdx]!, meshOff], mesh, ACCEPT_NOTHING);
    assert.equal(r.failure!.index, 1);
    assert.match(r.failure!.reason, /66 node pairs/);
  });

  it('reordered: the mesh-off step moved first fails at index 0', () => {
    const reordered = [meshOff, ...toRR.steps.filter((s) => s !== meshOff)];
    const r = reverify(reordered, mesh, policyOf(toRR));
    assert.equal(r.failure!.index, 0);
  });

  it('a precondition that no longer holds: the node got a cluster ID meanwhile', () => {
    const target = toRR.steps.find((s) => s.action === 'patch' && s.object?.kind === 'Node')!;
    const live = nodeEdit(mesh, target.object!.name, (n) => (n.metadata.annotations![RR_ANN] = '244.0.0.9'));
    const r = reverify(toRR.steps, live, policyOf(toRR));
    assert.equal(r.failure!.index, toRR.steps.indexOf(target));
    assert.equal(r.failure!.reason, `Node ${target.object!.name}: ${RR_ANN} is "244.0.0.9", expected unset`);
  });

  it('a node cordoned when planned (no cordon step) but uncordoned since: its promotion is refused', () => {
    // (the plan would promote it with pods scheduled on it: a cordon is what keeps them off for the ~2 s)
    const name = 'node-b-002';
    // cordoned by calico-tune (a stopped run's): rr promote refuses a node someone else cordoned
    const cordoned = nodeEdit(mesh, name, (n) => {
      (n.spec as Record<string, unknown>)['unschedulable'] = true;
      n.metadata.annotations![CORDON_ANNOTATION] = 'kubectl-calico-tune';
    });
    const plan = planPromote(cordoned, [name], OPTS);
    assert.ok(!plan.steps.some((s) => s.action === 'cordon'), 'no cordon step for a cordoned node');
    assert.equal(reverify(plan.steps, cordoned, policyOf(plan)).ok, true);
    const r = reverify(plan.steps, mesh, policyOf(plan));
    assert.equal(r.failure?.reason, `Node ${name}: unschedulable is unset, expected true`);
  });

  it('a BGPPeer that must not exist exists with another spec; with the planned spec it counts as done', () => {
    const peer = toRR.steps[createPeerIdx]!;
    const other = edited(mesh, (objs) => [
      ...objs,
      { ...structuredClone(peer.manifest!), spec: { nodeSelector: 'all()', peerSelector: 'x == "y"' } },
    ]);
    const r = reverify(toRR.steps, other, policyOf(toRR));
    assert.equal(r.failure!.index, createPeerIdx);
    assert.equal(r.failure!.reason, 'BGPPeer peer-with-route-reflectors: the object already exists');
    const same = edited(mesh, (objs) => [...objs, structuredClone(peer.manifest!)]);
    assert.equal(reverify(toRR.steps, same, policyOf(toRR)).ok, true);
  });

  it('a resumed run: steps whose effect already holds are skipped, the rest verified from there', () => {
    for (const k of [1, 3, meshOffIdx, meshOffIdx + 1, toRR.steps.length]) {
      const live = stateAfter(mesh, toRR.steps.slice(0, k));
      assert.equal(reverify(toRR.steps.slice(k), live, policyOf(toRR)).ok, true, `remaining after ${k}`);
      assert.equal(reverify(toRR.steps, live, policyOf(toRR)).ok, true, `all steps again after ${k}`);
    }
  });

  it('a gate naming a node that does not exist; a cordon, drain or patch of a missing node', () => {
    const wait: Step = {
      ...toRR.steps.find((s) => s.action === 'wait')!,
      gate: {
        type: 'bgp-established',
        nodes: ['ghost', 'node-a-003'],
        expect: {},
        exact: true,
        timeout: '1m',
      },
    };
    assert.equal(
      reverify([wait], mesh, ACCEPT_NOTHING).failure!.reason,
      'the gate waits for node(s) that do not exist: ghost',
    );
    const ghost = { apiVersion: 'v1', kind: 'Node', name: 'ghost' };
    for (const action of ['cordon', 'uncordon', 'drain'] as const) {
      const r = reverify(
        [{ id: 'x', title: 't', why: 'w', action, object: ghost, undo: [] }],
        mesh,
        ACCEPT_NOTHING,
      );
      assert.equal(r.failure!.reason, 'node ghost does not exist', action);
    }
    const patch: Step = {
      id: 'p',
      title: 't',
      why: 'w',
      action: 'patch',
      object: ghost,
      patch: { metadata: { labels: { 'route-reflector': 'true' } } },
      undo: [],
    };
    assert.equal(reverify([patch], mesh, ACCEPT_NOTHING).failure!.reason, 'Node ghost does not exist');
    assert.equal(
      reverify([{ ...patch, precondition: { exists: true } }], mesh, ACCEPT_NOTHING).failure!.reason,
      'Node ghost: the object does not exist',
    );
    // a drain of an existing node changes nothing the model sees
    const drain: Step = {
      id: 'd',
      title: 't',
      why: 'w',
      action: 'drain',
      object: { ...ghost, name: 'node-a-003' },
      undo: [],
    };
    assert.equal(reverify([drain], mesh, ACCEPT_NOTHING).ok, true);
  });

  describe('N-1 and zone loss follow the plan’s policy', () => {
    const two = snap({ nodes: 8, zones: 1, rrs: 2 });
    const narrow: Step = {
      id: 'narrow',
      title: 'narrow',
      why: 'w',
      action: 'patch',
      object: { apiVersion: CALICO, kind: 'BGPPeer', name: 'peer-with-route-reflectors' },
      patch: { spec: { peerSelector: `kubernetes.io/hostname == '${rrNames(two)[0]}'` } },
      undo: [],
    };
    it('losing N-1 fails unless the plan accepted it', () => {
      const r = reverify([narrow], two, ACCEPT_NOTHING);
      assert.equal(r.failure!.reason, 'after it, the loss of one route reflector would cut nodes off (N-1)');
      assert.equal(reverify([narrow], two, { acceptN1: true, acceptZoneLoss: false }).ok, true);
      // a live state that already fails N-1 does not make every later step fail
      assert.equal(reverify([narrow], stateAfter(two, [narrow]), ACCEPT_NOTHING).ok, true);
    });
    it('policyOf reads the plan’s summary', () => {
      const b = new PlanBuilder(two, { timeout: '1m' });
      b.add({ ...narrow, undoGateNodes: undefined });
      const p = b.finish({ name: 'n', command: 'c', description: 'd', changes: [], warnings: [] });
      assert.deepEqual(policyOf(p), { acceptN1: true, acceptZoneLoss: false, acceptRecorded: true });
      assert.equal(reverify(p.steps, two, policyOf(p)).ok, true);
    });
    it('zone loss: a plan made with allowZoneLoss re-verifies; the same steps without it fail at the mesh-off step', () => {
      const s = snap({ nodes: 15, zones: 3 });
      const p = planMigration(
        s,
        migrateOpts('route-reflectors', { rr: ['node-a-003', 'node-a-004'], allowZoneLoss: true }),
      );
      assert.deepEqual(policyOf(p), { acceptN1: false, acceptZoneLoss: true, acceptRecorded: true });
      assert.equal(reverify(p.steps, s, policyOf(p)).ok, true);
      const r = reverify(p.steps, s, ACCEPT_NOTHING);
      assert.equal(
        r.failure!.index,
        p.steps.findIndex((x) => x.object?.kind === 'BGPConfiguration'),
      );
      assert.equal(
        r.failure!.reason,
        'after it, an outage of one zone (all its route reflectors) would cut nodes off',
      );
    });
  });

  describe('preconditions and done steps', () => {
    const n = object(mesh.objects, 'Node', 'node-a-003')!;
    it('preconditionProblem', () => {
      assert.equal(preconditionProblem(n, undefined), undefined);
      assert.equal(preconditionProblem(undefined, { exists: true }), 'the object does not exist');
      assert.equal(preconditionProblem(n, { exists: false }), 'the object already exists');
      assert.equal(preconditionProblem(undefined, { exists: false }), undefined);
      assert.equal(
        preconditionProblem(n, {
          fields: [{ path: ['metadata', 'labels', 'kubernetes.io/os'], equals: 'linux' }],
        }),
        undefined,
      );
      assert.equal(
        preconditionProblem(n, {
          fields: [{ path: ['metadata', 'labels', 'kubernetes.io/os'], equals: 'windows' }],
        }),
        'kubernetes.io/os is "linux", expected "windows"',
      );
      assert.equal(
        preconditionProblem(n, { fields: [{ path: ['metadata', 'labels', 'x'], equals: 'y' }] }),
        'x is unset, expected "y"',
      );
      assert.equal(
        preconditionProblem(n, { fields: [{ path: ['spec', 'providerID', 'deeper'], equals: null }] }),
        undefined,
      );
      assert.equal(
        preconditionProblem(n, { fields: [{ path: ['metadata', 'name'], equals: null }] }),
        'name is "node-a-003", expected unset',
      );
      // a list or object (the container list a Typha patch replaces): canonical JSON, key order not counted
      const labels = n.metadata.labels!;
      const reordered = Object.fromEntries(Object.entries(labels).reverse());
      assert.equal(
        preconditionProblem(n, { fields: [{ path: ['metadata', 'labels'], equals: reordered }] }),
        undefined,
      );
      assert.equal(
        preconditionProblem(n, {
          fields: [{ path: ['metadata', 'labels'], equals: { ...labels, extra: 'x' } }],
        }),
        'labels changed since the plan was made',
      );
      assert.equal(
        preconditionProblem(n, { fields: [{ path: ['spec', 'containers'], equals: [{ name: 'a' }] }] }),
        'containers is unset',
      );
    });
    it('alreadyDone, per action', () => {
      const ref = { apiVersion: 'v1', kind: 'Node', name: 'node-a-003' };
      const st = (o: Partial<Step>): Step => ({
        id: 'x',
        title: '',
        why: '',
        action: 'patch',
        object: ref,
        undo: [],
        ...o,
      });
      const cordoned = stateAfter(mesh, [st({ action: 'cordon' })]);
      const cn = object(cordoned.objects, 'Node', 'node-a-003');
      assert.equal(alreadyDone(st({ action: 'cordon' }), n), false);
      assert.equal(alreadyDone(st({ action: 'cordon' }), cn), true);
      assert.equal(alreadyDone(st({ action: 'uncordon' }), n), true);
      assert.equal(alreadyDone(st({ action: 'uncordon' }), cn), false);
      assert.equal(alreadyDone(st({ action: 'cordon' }), undefined), false);
      assert.equal(
        alreadyDone(st({ patch: { metadata: { labels: { 'kubernetes.io/os': 'linux' } } } }), n),
        true,
      );
      assert.equal(
        alreadyDone(st({ patch: { metadata: { labels: { 'kubernetes.io/os': 'x' } } } }), n),
        false,
      );
      assert.equal(alreadyDone(st({ patch: {} }), undefined), false);
      const peer: KubeObject = {
        apiVersion: CALICO,
        kind: 'BGPPeer',
        metadata: { name: 'p' },
        spec: { peerIP: '1.1.1.1' },
      };
      assert.equal(alreadyDone(st({ action: 'create', manifest: peer }), peer), true);
      assert.equal(
        alreadyDone(st({ action: 'create', manifest: { ...peer, spec: { peerIP: '2.2.2.2' } } }), peer),
        false,
      );
      assert.equal(alreadyDone(st({ action: 'create', manifest: peer }), undefined), false);
      // a ConfigMap has no spec: someone else's of the same name is not ours done (a review: "✔ done", and its
      // undo a delete of their ConfigMap)
      const cm = (labels: Record<string, string>, data: Record<string, string>): KubeObject => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'calico-grafana-dashboards', namespace: 'monitoring', labels },
        data,
      });
      const ours = cm(
        { 'app.kubernetes.io/managed-by': 'kubectl-calico-tune', grafana_dashboard: '1' },
        { 'a.json': '{}' },
      );
      const create = st({ action: 'create', manifest: ours });
      assert.equal(alreadyDone(create, ours), true);
      assert.equal(
        alreadyDone(create, cm({ 'app.kubernetes.io/managed-by': 'me' }, { 'a.json': '{}' })),
        false,
      );
      assert.equal(alreadyDone(create, cm(ours.metadata.labels!, { 'a.json': '{"edited":1}' })), false);
      assert.equal(alreadyDone(st({ action: 'delete' }), undefined), true);
      assert.equal(alreadyDone(st({ action: 'delete' }), peer), false);
      assert.equal(alreadyDone(st({ action: 'wait' }), n), false);
      assert.equal(alreadyDone(st({ action: 'drain' }), n), false);
    });
    it('findObject by kind, name and namespace (object or manifest)', () => {
      const objs: KubeObject[] = [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'y' } },
        { apiVersion: CALICO, kind: 'BGPPeer', metadata: { name: 'a' } },
      ];
      const st = (o: Partial<Step>): Step => ({
        id: 'x',
        title: '',
        why: '',
        action: 'delete',
        undo: [],
        ...o,
      });
      assert.equal(
        findObject(objs, st({ object: { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', namespace: 'y' } })),
        objs[1],
      );
      assert.equal(findObject(objs, st({ action: 'create', manifest: objs[2] })), objs[2]);
      assert.equal(
        findObject(objs, st({ object: { apiVersion: 'v1', kind: 'ConfigMap', name: 'a' } })),
        undefined,
      );
    });
    it('expectedSessions: the model’s established peers with their types', () => {
      const t = computeTopology(bgpStateFromSnapshot(mesh));
      const e = expectedSessions(t, 'node-a-003');
      assert.equal(e.length, 11);
      assert.ok(e.every((x) => x.type === 'NodeMesh'));
      assert.deepEqual(expectedSessions(t, 'ghost'), []);
    });
  });

  describe('firstNotLive: done steps checked against the cluster', () => {
    const rr3 = snap({ nodes: 12, zones: 3, rrs: 3 });
    const promote = planPromote(rr3, ['node-a-003'], OPTS);
    const [cordon, patch, wait] = promote.steps;
    const done = (...steps: Step[]): Set<string> => new Set(steps.map((s) => s.id));

    it('the promote plan has the expected shape', () => {
      assert.deepEqual(
        promote.steps.map((s) => s.action),
        ['cordon', 'patch', 'wait', 'uncordon'],
      );
    });
    it('every done step live: nothing to report', () => {
      assert.equal(
        firstNotLive(promote, done(cordon!, patch!, wait!), stateAfter(rr3, [cordon!, patch!])),
        undefined,
      );
      assert.equal(firstNotLive(promote, new Set(), rr3), undefined);
    });
    it('a cordon then an uncordon of the same node: only the net effect (uncordoned) is expected', () => {
      const live = stateAfter(rr3, promote.steps);
      assert.equal(firstNotLive(promote, done(...promote.steps), live), undefined);
      // the node still cordoned although the uncordon is recorded done
      const stillCordoned = stateAfter(rr3, [cordon!, patch!]);
      const f = firstNotLive(promote, done(...promote.steps), stillCordoned)!;
      assert.equal(f.index, 0);
      assert.equal(f.reason, 'Node/node-a-003 no longer has what the done steps wrote');
    });
    it('a done label patch that was reverted is found, reported at the node’s first done step', () => {
      const reverted = stateAfter(rr3, [cordon!, patch!, patch!.undo[0]!]);
      const f = firstNotLive(promote, done(cordon!, patch!, wait!), reverted)!;
      assert.equal(f.index, 0);
      assert.equal(f.step, cordon);
      assert.equal(f.reason, 'Node/node-a-003 no longer has what the done steps wrote');
      // without the cordon recorded, the patch step is the node's first done step
      assert.equal(firstNotLive(promote, done(patch!), reverted)!.index, 1);
    });
    it('of several objects not live, the earliest index is reported', () => {
      const steps = toRR.steps;
      const firstNode = steps.findIndex((s) => s.object?.kind === 'Node');
      const upTo = steps.slice(0, firstNode + 3);
      const live = stateAfter(mesh, upTo);
      assert.equal(firstNotLive(toRR, done(...upTo), live), undefined);
      // the BGPPeer deleted and the node's promotion undone
      const broken = edited(stateAfter(mesh, [...upTo, steps[firstNode + 1]!.undo[0]!]), (objs) =>
        objs.filter((o) => o.kind !== 'BGPPeer'),
      );
      const f = firstNotLive(toRR, done(...upTo), broken)!;
      assert.equal(f.index, createPeerIdx);
      assert.equal(f.reason, 'BGPPeer/peer-with-route-reflectors does not exist');
      // only the node broken
      const nodeOnly = stateAfter(mesh, [...upTo, steps[firstNode + 1]!.undo[0]!]);
      assert.equal(firstNotLive(toRR, done(...upTo), nodeOnly)!.index, firstNode);
    });
    it('a deleted object that exists again', () => {
      const rr = snap({ nodes: 12, zones: 3, rrs: 3 });
      const back = planMigration(rr, migrateOpts('mesh'));
      const del = back.steps.find((s) => s.action === 'delete')!;
      const f = firstNotLive(back, done(del), rr)!;
      assert.equal(f.index, back.steps.indexOf(del));
      assert.equal(f.reason, 'BGPPeer/peer-with-route-reflectors exists again');
      assert.equal(firstNotLive(back, done(...back.steps), stateAfter(rr, back.steps)), undefined);
    });
  });
});

describe('plan/preflight: refusals before the first write', () => {
  function expectRefusal(fn: () => unknown, re: RegExp): CliError {
    const e = refuses(fn, re);
    assert.equal(e.changed, 'nothing was changed');
    return e;
  }
  it('an intact plan on its own cluster passes every check', () => {
    const r = preflight(toRR, mesh);
    assert.equal(r.ok, true);
    assert.equal(r.gates.size, toRR.steps.filter((s) => s.action === 'wait').length);
  });
  it('refusal(): a usage error that changed nothing', () => {
    const e = refusal('no', ['a hint']);
    assert.equal(e.exitCode, ExitCode.USAGE);
    assert.deepEqual(e.hints, ['a hint']);
  });
  it('an edited plan: refused, with up to 3 problems and a count of the rest', () => {
    const p = structuredClone(toRR);
    p.steps[0]!.title = 'edited';
    for (const s of p.steps.slice(1, 5))
      s.object = { apiVersion: 'v1', kind: 'Secret', name: 'x', namespace: 'y' };
    const e = expectRefusal(
      () => checkIdentity(p, mesh),
      /^refusing the plan: the plan was edited or truncated.*; and \d+ more$/,
    );
    assert.deepEqual(e.hints, ['build a new plan (migrate plan, rr … --dry-run -o yaml) and review it']);
    const rec = expectRefusal(
      () => checkIdentity(p, mesh, true),
      /^refusing the plan recorded in the cluster: /,
    );
    assert.deepEqual(rec.hints, []);
  });
  it('a plan for another cluster', () => {
    const other = edited(mesh, () => undefined);
    other.source.clusterUID = 'uid-2';
    expectRefusal(
      () => preflight(toRR, other),
      /^refusing the plan: the plan was made for another cluster \(kube-system UID uid-1; this cluster's is uid-2/,
    );
  });
  it('a stale plan, saying what changed', () => {
    const live = nodeEdit(mesh, 'node-c-004', (n) => (n.metadata.annotations![RR_ANN] = '244.0.0.1'));
    const e = expectRefusal(
      () => checkFresh(toRR, live),
      /^the plan is stale: the cluster changed since it was built \(Node\/node-c-004 became a route reflector\)$/,
    );
    assert.deepEqual(e.hints, ['build a new plan and review it']);
    expectRefusal(() => preflight(toRR, live), /stale/);
  });
  it('steps that would cut nodes off on the live state: refused with the step k/n and example pairs', () => {
    // a plan file holding only the mesh-off step, with a valid digest and fingerprint
    const b = new PlanBuilder(mesh, { timeout: '10m' });
    b.add({
      title: meshOff.title,
      why: meshOff.why,
      action: 'patch',
      object: meshOff.object,
      patch: meshOff.patch,
    });
    const p: Plan = b.finish({
      name: 'only-mesh-off',
      command: 'c',
      description: 'd',
      changes: [],
      warnings: [],
    });
    assert.equal(p.summary.verification.ok, false);
    expectRefusal(
      () => verifySteps(p, p.steps, 0, mesh, 'refusing to apply'),
      /^refusing to apply: on the live state, step 1\/1 \(Turn the full mesh off.*\): the BGP model finds 66 node pairs without routes after it \(0 now\); e\.g\. /,
    );
    // (a mesh turned off with no gate before it is refused already as a plan no planner makes)
    expectRefusal(
      () => preflight(p, mesh),
      /^refusing the plan: step 1 \(patch-default\) turns the full mesh off, but not right after a gate/,
    );
    // resuming at step 5 of 16: the numbering stays the plan's
    expectRefusal(
      () => verifySteps(toRR, [meshOff], 4, mesh, 'refusing to resume'),
      new RegExp(`^refusing to resume: on the live state, step 5/${toRR.steps.length} `),
    );
    assert.equal(verifySteps(toRR, toRR.steps, 0, mesh, 'x').ok, true);
  });
});

describe('plan/reverify: resuming a plan that passes through a safer state than it started from', () => {
  it('rr replace with a single reflector in 2 zones, stopped after the promotion, resumes', () => {
    // one reflector (zone a), the mesh off: zone loss already fails; the replacement in zone b makes it pass for
    // a while (two reflectors in two zones), and demoting the old one brings the start's state back
    const s = snap({ nodes: 8, zones: 2, rrs: 1 });
    const [old] = rrNames(s);
    const fresh = s.nodes.find((n) => n.zone === 'eu-west-1b' && !n.controlPlane)!.name;
    const p = planReplace(s, old!, fresh, OPTS);
    assert.equal(p.summary.verification.ok, true);
    const k = p.steps.findIndex((x) => x.action === 'uncordon' && x.object?.name === fresh) + 1;
    const mid = stateAfter(s, p.steps.slice(0, k));
    assert.equal(
      reverify(p.steps.slice(k), mid, policyOf(p)).initial.zoneLossOk,
      true,
      'the stop (two reflectors in two zones) is safer than the start (one reflector: zone loss does not apply)',
    );
    const r = reverify(p.steps.slice(k), mid, policyOf(p));
    assert.equal(r.ok, true, r.failure?.reason);
  });
});

describe('a route reflector that is not Ready carries no routes in any verification', () => {
  // a review: a `migrate --to mesh` run stopped with one zone's reflector NotReady; `--rollback` turned the mesh
  // off again (its re-verification counted the dead reflector) and printed "the BGP model finds every node pair
  // reachable" while a third of the nodes had no route. Clients peer only with their own zone's reflector.
  const zonal = snap({ nodes: 12, zones: 3, rrs: 3, peering: 'per-zone', mesh: false });
  const notReady = (s: ClusterSnapshot, name: string): ClusterSnapshot =>
    edited(s, (objs) => {
      const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === name)!;
      const conds = (n.status as { conditions: { type: string; status: string }[] }).conditions;
      for (const c of conds) if (c.type === 'Ready') c.status = 'False';
    });
  const deadRr = rrNames(zonal)[1]!;

  it('a rollback that would turn the mesh off behind a dead zone reflector is refused (its undo sequence is re-verified)', () => {
    const [first] = rrNames(zonal);
    const toMesh = planMigration(zonal, migrateOpts('mesh'));
    // the run: the mesh turned on, node-a-002 demoted; then node-b-002 dies and the operator rolls back
    const k =
      toMesh.steps.findIndex(
        (st) => st.action === 'patch' && st.object?.kind === 'Node' && st.object.name === first,
      ) + 1;
    let live = notReady(zonal, deadRr);
    for (const st of toMesh.steps.slice(0, k)) live = applyStep(live, st);
    const undo = toMesh.steps
      .slice(0, k)
      .reverse()
      .flatMap((st) => st.undo);
    assert.ok(
      undo.some((u) => u.object?.kind === 'BGPConfiguration'),
      'the undo turns the mesh off',
    );
    const r = reverify(undo, live, { acceptN1: true, acceptZoneLoss: true });
    assert.equal(r.ok, false, 'the dead reflector would leave its zone without routes');
    assert.match(r.failure!.reason, /node pairs without routes/);
    // with the reflector Ready the same rollback verifies
    let healthy = zonal;
    for (const st of toMesh.steps.slice(0, k)) healthy = applyStep(healthy, st);
    assert.equal(reverify(undo, healthy, { acceptN1: true, acceptZoneLoss: true }).ok, true);
  });

  it('a plan verdict (the "rolled back ... every node pair reachable" claim) counts the pairs a dead reflector cuts off', () => {
    assert.equal(verdictOf(zonal, false).unreachablePairs, 0);
    const v = verdictOf(notReady(zonal, deadRr), false);
    assert.ok(v.unreachablePairs > 0, `unreachable pairs with ${deadRr} NotReady: ${v.unreachablePairs}`);
  });

  it('a saved plan that drains a node which has gone NotReady since is refused, not run into a 40 s drain (a review)', () => {
    const [rr] = rrNames(zonal);
    const p = planDemote(snap({ nodes: 12, zones: 3, rrs: 3 }), [rr!], { ...OPTS, drain: true });
    assert.ok(p.steps.some((st) => st.action === 'drain' && st.object?.name === rr));
    const live = notReady(snap({ nodes: 12, zones: 3, rrs: 3 }), rr!);
    const r = reverify(p.steps, live, policyOf(p));
    assert.equal(r.ok, false);
    assert.match(r.failure!.reason, new RegExp(`node ${rr} is not Ready now`));
  });
});
