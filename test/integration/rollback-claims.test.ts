/**
 * What a rollback says it undid is what it undid (found by a review, each a failing test first): after a
 * promotion whose Node patch the API server refused (an admission policy), `apply --rollback` printed
 * "undone: Make X a route reflector" and waited on a BGP gate for it, though no such write ever landed.
 * And the reason to replace a reflector, its death, must not make the replacement time out and roll back.
 */
import assert from 'node:assert/strict';
import {
  controlPlane,
  loadFixture,
  runCli,
  startSimulator,
  USERS,
  waitFor,
  type ControlPlane,
  type Simulator,
} from '../harness/index.js';
import { journal, nodeNames, rrs, spawnCli, world } from './plan-helpers.js';

describe('rollback claims', function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  before(async () => {
    cp = await controlPlane({ calico: 'v3.31.3' });
  });
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('a step the server refused is "nothing to undo", never "undone", and no gate waits for it', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const node = (await nodeNames(cp))[3]!;
    const admin = cp.client('admin');
    const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
    const BINDING = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
    await admin.request('POST', VAP, {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: 'no-reflector-label' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['nodes'] },
            ],
          },
          validations: [
            {
              expression: `!(object.metadata.name == '${node}' && has(object.metadata.labels) && 'route-reflector' in object.metadata.labels)`,
              message: 'no route reflector on this node',
            },
          ],
        },
      },
    });
    await admin.request('POST', BINDING, {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: 'no-reflector-label' },
        spec: { policyName: 'no-reflector-label', validationActions: ['Deny'] },
      },
    });
    try {
      // the policy takes a moment to be in force: a server dry run of the label shows when
      await waitFor(
        async () => {
          const r = await admin.request<{ code?: number }>('PATCH', `/api/v1/nodes/${node}`, {
            query: { dryRun: 'All' },
            body: { metadata: { labels: { 'route-reflector': 'true' } } },
            contentType: 'application/merge-patch+json',
            okStatuses: [403, 422],
          });
          return r.code === 403 || r.code === 422;
        },
        { timeoutMs: 30_000, what: 'the admission policy to be in force' },
      );
      const before = await world(cp);
      const kc = cp.kubeconfig('plugin');
      const p = await runCli(['rr', 'promote', node, '--yes'], { kubeconfig: kc });
      assert.equal(p.code, 3, p.stderr);
      assert.match(p.stderr, /no route reflector on this node/);
      const mark = cp.audit.mark();
      const rb = await runCli(['apply', '--rollback', '--yes'], { kubeconfig: kc });
      const out = `${rb.stdout}\n${rb.stderr}`;
      assert.equal(rb.code, 0, out);
      assert.doesNotMatch(out, /undone: Make .* a route reflector/, 'the refused step is not "undone"');
      // (the forward run knew the write was refused: the step is not applied, and the rollback leaves it out)
      assert.match(p.stderr, /step \d+ was not written/);
      assert.doesNotMatch(out, /wait for BGP sessions/i, 'no gate waits for a write that never landed');
      const after = await world(cp);
      assert.deepEqual(after.nodes, before.nodes, 'the node as before (uncordoned)');
      assert.equal(after.lease, undefined);
      // its writes: the uncordon, the BGPPeer's delete if one was created, the journal; no patch of the label
      const writes = await cp.audit.writesSince(mark, { user: USERS.plugin.name, onlySucceeded: true });
      const labelPatches = writes.filter(
        (e) =>
          e.objectRef?.resource === 'nodes' &&
          e.verb === 'patch' &&
          JSON.stringify(e.requestObject ?? {}).includes('RouteReflectorClusterID'),
      );
      assert.deepEqual(labelPatches, [], 'no undo of a patch that never landed');
    } finally {
      await admin.request('DELETE', `${BINDING}/no-reflector-label`, { okStatuses: [404] });
      await admin.request('DELETE', `${VAP}/no-reflector-label`, { okStatuses: [404] });
    }
  });

  it('a step refused by its precondition mid-plan: exit 3 (steps were applied), the step not counted, and the rollback neither calls it "changed by someone else" nor "undone"', async () => {
    // found by a review: exit 2 ("bad input, nothing changed") with 11 of 19 steps applied; then the rollback
    // stopped on "changed by someone else since the plan set it" for an annotation the plan never set, and,
    // once that was removed by hand, said "undone: Make node-c-003 a route reflector" for a step never written
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const [a, b] = (await nodeNames(cp)).slice(3, 5) as [string, string];
    const admin = cp.client('admin');
    const kc = cp.kubeconfig('plugin');
    sim.setKnobs({ stuck: [{ node: a }] });
    const run = spawnCli(['rr', 'promote', a, b, '--yes', '--timeout', '60s'], kc);
    await waitFor(
      async () =>
        (journal((await world(cp)).lease) as { current?: string } | undefined)?.current === `wait-${a}`,
      { timeoutMs: 60_000, what: `the gate of ${a}` },
    );
    // someone makes b a reflector by hand while the plan waits for a
    await admin.request('PATCH', `/api/v1/nodes/${b}`, {
      body: { metadata: { annotations: { 'projectcalico.org/RouteReflectorClusterID': '244.0.0.9' } } },
      contentType: 'application/merge-patch+json',
    });
    sim.setKnobs({ stuck: [] });
    const code = await run.done;
    const out = run.out();
    assert.equal(code, 3, out);
    assert.match(out, /step 9\/11 \(.*\) failed: .*RouteReflectorClusterID/);
    assert.match(out, /8 of 11 steps were applied/);
    const j = JSON.parse((await world(cp)).lease!.metadata.annotations!['calico-tune.io/state']!) as {
      current?: string;
      done: { id: string }[];
    };
    assert.equal(j.current, undefined, 'the refused step is not recorded as in flight');
    assert.equal(j.done.length, 8);

    // (while b keeps its hand-made cluster ID, undoing the BGPPeer would leave b with no session: the rollback
    // is refused for that, rightly; its owner takes it back first)
    await admin.request('PATCH', `/api/v1/nodes/${b}`, {
      body: { metadata: { annotations: { 'projectcalico.org/RouteReflectorClusterID': null } } },
      contentType: 'application/merge-patch+json',
    });
    const rb = await runCli(['apply', '--rollback', '--yes'], { kubeconfig: kc });
    const rout = `${rb.stdout}\n${rb.stderr}`;
    assert.doesNotMatch(rout, /changed by someone else since the plan set/, 'the plan never set it');
    assert.doesNotMatch(rout, new RegExp(`undone: Make ${b}`));
    // eight applied: one is a wait, two are drains, which cannot be undone (the evicted pods are gone) and are
    // not called undone (a review: "undone: Drain X" and "as before" with a pod missing)
    assert.match(rout, /rolling back 5 step\(s\)/, rout);
    assert.match(rout, new RegExp(`not undone: Drain ${a}: the pods it evicted are not put back`));
    assert.doesNotMatch(rout, / {2}undone: Drain/);
    assert.match(
      rout,
      new RegExp(`the drain of ${b}, ${a} is not undone \\(pods it evicted are not put back`),
    );
    const after = await world(cp);
    const node = (n: string) => after.nodes.find((x) => x.name === n)!;
    assert.deepEqual([node(a).clusterId, node(a).unschedulable], [null, false]);
    assert.deepEqual([node(b).clusterId, node(b).unschedulable], [null, false]);
    assert.equal(rb.code, 0, rout);
    assert.equal(after.lease, undefined);
  });

  it('rr replace of a dead reflector (NotReady, calico-node silent) completes: no gate waits for it', async () => {
    await loadFixture(cp, { nodes: 9, zones: 3, rrs: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const w0 = await world(cp);
    const [dead, ...others] = rrs(w0) as [string, ...string[]];
    const fresh = (await nodeNames(cp)).find((n) => !rrs(w0).includes(n))!;
    // the node dies: its kubelet stops (NotReady) and its calico-node reports nothing more
    const admin = cp.client('admin');
    const node = await admin.get(`/api/v1/nodes/${dead}`);
    const conds = (node.status as { conditions: { type: string; status: string }[] }).conditions;
    conds.find((c) => c.type === 'Ready')!.status = 'False';
    await admin.request('PUT', `/api/v1/nodes/${dead}/status`, { body: node });
    sim.setKnobs({ silent: [dead] });
    const r = await runCli(['rr', 'replace', dead, fresh, '--yes', '--timeout', '40s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${dead} is not Ready: watched from`));
    const w = await world(cp);
    assert.deepEqual(rrs(w), [...others, fresh].sort());
    assert.equal(w.nodes.find((n) => n.name === dead)!.clusterId, null, 'the dead node is no reflector now');
    assert.equal(w.lease, undefined);
  });

  it('a rollback after two promotions leaves both nodes uncordoned (the cordon of the first is undone too)', async () => {
    // a first version of "nothing to undo" judged every step on the cluster before the rollback: the first
    // node's cordon looked undone already (its uncordon had run), so the uncordon's undo cordoned it again
    // and nothing uncordoned it
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const [a, b] = (await nodeNames(cp)).slice(3, 5) as [string, string];
    sim.setKnobs({ stuck: [{ node: b }] });
    const before = await world(cp);
    const run = spawnCli(['rr', 'promote', a, b, '--yes', '--timeout', '5s'], cp.kubeconfig('plugin'));
    // once the rollback starts, b's sessions may come up again (its rollback gate needs them)
    await waitFor(async () => journal((await world(cp)).lease)?.phase === 'rolling-back', {
      timeoutMs: 60_000,
      what: 'the rollback to start',
    });
    sim.setKnobs({ stuck: [] });
    const code = await run.done;
    assert.equal(code, 4, run.out());
    assert.match(run.out(), /rolled back/);
    const after = await world(cp);
    assert.deepEqual(after.nodes, before.nodes, 'both nodes as before: uncordoned, no reflector');
    assert.equal(after.lease, undefined);
  });

  it('a rollback retried after its gate timed out observes that gate again before going on (not "nothing to undo")', async () => {
    // found by trying the tool: the retry called the step "not applied (the cluster does not hold its change)"
    // because its undo had landed, skipped its gate, uncordoned the node and said "as before"
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const node = (await nodeNames(cp))[3]!;
    const kc = cp.kubeconfig('plugin');
    // the node's sessions do not come up: the promotion's gate times out, then its undo's
    sim.setKnobs({ stuck: [{ node }] });
    const first = await runCli(['rr', 'promote', node, '--yes', '--timeout', '3s'], { kubeconfig: kc });
    assert.equal(first.code, 4, first.stderr);
    assert.match(first.stderr, /the undo of "Make .* a route reflector.*" was written but not confirmed/);
    assert.equal(journal((await world(cp)).lease)?.phase, 'paused');
    // while they still do not come up, the retry waits and does not say "as before"
    const stuck = await runCli(['rr', 'promote', '--rollback', '--yes', '--timeout', '3s'], {
      kubeconfig: kc,
    });
    assert.equal(stuck.code, 4, stuck.stderr);
    assert.doesNotMatch(stuck.stderr, /nothing to undo: Make/);
    assert.doesNotMatch(stuck.stderr, /matches the state before the plan/);
    assert.equal((await world(cp)).nodes.find((n) => n.name === node)?.unschedulable, true, 'still cordoned');
    // once they do, the retry observes them (a CalicoNodeStatus made for the gate), then finishes
    sim.setKnobs({ stuck: [] });
    const mark = cp.audit.mark();
    const second = await runCli(['rr', 'promote', '--rollback', '--yes', '--timeout', '60s'], {
      kubeconfig: kc,
    });
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /nothing to undo: Make/);
    const made = (await cp.audit.writesSince(mark, { user: USERS.plugin.name })).filter(
      (e) => e.verb === 'create' && e.objectRef?.resource === 'caliconodestatuses',
    );
    assert.ok(made.length > 0, 'the gate of the unconfirmed undo was observed');
    const after = await world(cp);
    assert.equal(after.nodes.find((n) => n.name === node)?.unschedulable, false);
    assert.equal(after.lease, undefined);
  });

  it('an interrupted rollback says how many steps are still applied, as its journal holds them', async () => {
    // found by trying the tool: "rollback interrupted after undoing 2 of 14 step(s); 5/19 steps applied", with
    // 13 applied (the 2 were waits)
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const [a, b] = (await nodeNames(cp)).slice(3, 5) as [string, string];
    sim.setKnobs({ stuck: [{ node: b }] });
    const run = spawnCli(['rr', 'promote', a, b, '--yes', '--timeout', '4s'], cp.kubeconfig('plugin'));
    await waitFor(async () => journal((await world(cp)).lease)?.phase === 'rolling-back', {
      timeoutMs: 60_000,
      what: 'the rollback to start',
    });
    process.kill(-run.child.pid!, 'SIGINT');
    const code = await run.done;
    const out = run.out();
    const m = /rollback interrupted after undoing (\d+) of (\d+) step\(s\); (\d+)\/(\d+) steps applied/.exec(
      out,
    );
    assert.ok(m, `${code}: ${out.slice(-1500)}`);
    const j = JSON.parse((await world(cp)).lease!.metadata.annotations!['calico-tune.io/state']!) as {
      done: { id: string }[];
      undone?: { id: string }[];
      current?: string;
      undoing?: string;
    };
    const undone = new Set((j.undone ?? []).map((u) => u.id));
    const applied = new Set([...j.done.map((d) => d.id), ...(j.current ? [j.current] : [])]);
    const still = [...applied].filter((id) => !undone.has(id) || id === j.undoing).length;
    assert.equal(Number(m[3]), still, `the count said, against the journal: ${JSON.stringify(j)}`);
  });

  it('a pause after a short --timeout says to resume with a longer one, and a resume keeps --on-timeout pause', async () => {
    // found by trying the tool: the resume met the plan's 1s gates again, and rolled back instead of pausing
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const node = (await nodeNames(cp))[3]!;
    const kc = cp.kubeconfig('plugin');
    sim.setKnobs({ stuck: [{ node }] });
    const first = await runCli(['rr', 'promote', node, '--yes', '--timeout', '2s', '--on-timeout', 'pause'], {
      kubeconfig: kc,
    });
    assert.equal(first.code, 4, first.stderr);
    assert.match(first.stderr + first.stdout, /--resume --timeout 5m/);
    const again = await runCli(['rr', 'promote', '--resume', '--yes', '--timeout', '2s'], { kubeconfig: kc });
    assert.equal(again.code, 4, again.stderr);
    assert.doesNotMatch(again.stderr, /rolling back/);
    assert.equal(journal((await world(cp)).lease)?.phase, 'paused', 'paused again, as the plan was started');
    sim.setKnobs({ stuck: [] });
    const done = await runCli(['rr', 'promote', '--resume', '--yes', '--timeout', '60s'], { kubeconfig: kc });
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(rrs(await world(cp)), [node]);
  });
});
