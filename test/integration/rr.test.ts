/**
 * Route-reflector lifecycle on the real control plane with the calico-node stand-in: happy paths on both
 * Calico versions, every refusal, a gate timeout, SIGKILL + resume/rollback, server dry run, permissions,
 * prompts in a pseudo-terminal.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  controlPlane,
  loadFixture,
  runCli,
  startSimulator,
  USERS,
  waitFor,
  type ControlPlane,
  type Obj,
  type Simulator,
} from '../harness/index.js';
import {
  journal,
  journalPlan,
  liveVerdict,
  killAfterSteps,
  nodeNames,
  rrs,
  runInPty,
  spawnCli,
  world,
  RR_ANN,
} from './plan-helpers.js';

const FAST = { establishDelayMs: 200 };

async function setup(cp: ControlPlane, spec: Parameters<typeof loadFixture>[1]): Promise<Simulator> {
  await loadFixture(cp, spec);
  return startSimulator(cp, { knobs: FAST });
}

for (const calico of ['v3.27.3', 'v3.31.3'] as const) {
  describe(`rr lifecycle (Calico ${calico})`, function () {
    this.timeout(180_000);
    let cp: ControlPlane;
    let sim: Simulator | undefined;
    let kc: string;
    before(async () => {
      cp = await controlPlane({ calico });
      kc = cp.kubeconfig('plugin');
    });
    afterEach(async () => {
      await sim?.stop();
      sim = undefined;
    });

    it('recommends one reflector per zone, promotes, lists, replaces and demotes @matrix', async () => {
      sim = await setup(cp, { nodes: 12, zones: 3, calico });
      const rec = await runCli(['rr', 'recommend', '--min-cpu', '1', '--min-memory', '1Gi', '-o', 'json'], {
        kubeconfig: kc,
      });
      assert.equal(rec.code, 0, rec.stderr);
      const chosen = rec.json<{ chosen: { node: string; zone: string }[] }>().chosen;
      assert.equal(chosen.length, 3);
      assert.equal(new Set(chosen.map((c) => c.zone)).size, 3);
      const [a, b, c] = chosen.map((x) => x.node) as [string, string, string];

      const mark = cp.audit.mark();
      const p = await runCli(['rr', 'promote', a, b, '--yes', '-o', 'json'], { kubeconfig: kc });
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.json<{ outcome: string }>().outcome, 'done');
      // every field of an ApplyResult is there, null when it does not apply (docs/json-output.md; an operator
      // trial: differences was missing unless there was nothing to do)
      const doc = p.json<Record<string, unknown>>();
      for (const k of ['apiVersion', 'kind', 'outcome', 'plan', 'steps', 'done', 'message', 'differences'])
        assert.ok(k in doc, `${k} is missing: ${Object.keys(doc).join(', ')}`);
      assert.equal(doc['differences'], null, 'not a rollback: nothing was compared');
      let w = await world(cp);
      assert.deepEqual(rrs(w), [a, b].sort());
      const promoted = w.nodes.filter((x) => [a, b].includes(x.name));
      assert.deepEqual(
        promoted.map((n) => n.clusterId).sort(),
        ['244.0.0.1', '244.0.0.2'],
        'a cluster ID each',
      );
      for (const n of promoted) {
        assert.equal(n.rrLabel, 'true');
        assert.equal(n.unschedulable, false, 'uncordoned at the end');
        assert.equal(n.cordonedBy, null);
      }
      assert.deepEqual(
        w.peers.map((x) => x.name),
        ['peer-with-route-reflectors'],
      );
      assert.deepEqual(w.nodeStatuses, [], 'CalicoNodeStatus objects are deleted after the gates');
      assert.equal(w.lease, undefined, 'the lock is released');
      // label and annotation were set in one patch
      const writes = await cp.audit.writesSince(mark, { user: USERS.plugin.name });
      const rrPatch = writes.filter(
        (e) =>
          e.verb === 'patch' &&
          e.objectRef?.name === a &&
          JSON.stringify(e.requestObject ?? {}).includes(RR_ANN),
      );
      assert.equal(rrPatch.length, 1);
      assert.match(JSON.stringify(rrPatch[0]!.requestObject), /route-reflector/);

      const list = await runCli(['rr', 'list', '-o', 'json'], { kubeconfig: kc });
      const entries = list.json<{ routeReflectors: { node: string; clients: number }[] }>().routeReflectors;
      assert.deepEqual(
        entries.map((e) => e.node),
        [a, b].sort(),
      );
      assert.ok(
        entries.every((e) => e.clients >= 9),
        JSON.stringify(entries),
      );

      const r = await runCli(['rr', 'replace', a, c, '--yes'], { kubeconfig: kc });
      assert.equal(r.code, 0, r.stderr);
      w = await world(cp);
      assert.deepEqual(rrs(w), [b, c].sort());
      assert.equal(w.nodes.find((n) => n.name === a)!.rrLabel, null);

      const d = await runCli(['rr', 'demote', b, '--yes'], { kubeconfig: kc });
      assert.equal(d.code, 0, d.stderr);
      w = await world(cp);
      assert.deepEqual(rrs(w), [c]);
      assert.ok(w.nodes.every((n) => !n.unschedulable));
    });

    it('refuses bad requests with exit 2 and writes nothing', async () => {
      sim = await setup(cp, { nodes: 9, zones: 3, rrs: 2, calico, notReady: 1 });
      const names = await nodeNames(cp);
      const w0 = await world(cp);
      const [r1, r2] = rrs(w0) as [string, string];
      const notReady = (await cp.client('admin').list('/api/v1/nodes')).items.find((n) =>
        ((n.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some(
          (c) => c.type === 'Ready' && c.status !== 'True',
        ),
      )!.metadata.name;
      const plain = names.find((n) => n !== notReady && !rrs(w0).includes(n))!;
      const mark = cp.audit.mark();
      const cases: [string[], RegExp][] = [
        [
          ['rr', 'promote', plain, '--cluster-id', '288.0.4.5', '--yes'],
          /invalid cluster ID "288.0.4.5".*octet above 255/,
        ],
        [['rr', 'promote', plain, '--cluster-id', 'fd10::10', '--yes'], /invalid cluster ID "fd10::10"/],
        [['rr', 'promote', 'no-such-node', '--yes'], /node "no-such-node" does not exist/],
        [['rr', 'promote', notReady, '--yes'], /cannot be a route reflector: not Ready/],
        [['rr', 'demote', r1, '--yes'], /leaves 1 route reflector/],
        [['rr', 'demote', r1, r2, '--yes', '--force'], /would leave \d+ node pairs without routes/],
        [['rr', 'demote', r1, plain, '--yes'], /node \S+ is not a route reflector/],
        [['rr', 'promote', plain], /no one is at a terminal.*|pass --yes/],
        // bad input says so first, before the terminal check (found by a review)
        [['rr', 'replace', r1, r1], /OLD and NEW are the same node/],
        [['rr', 'promote'], /name the nodes to promote/],
        [
          ['rr', 'demote', r1, '--resume'],
          /--resume acts on the plan recorded in the cluster; it takes no node names/,
        ],
        [['rr', 'promote', plain, '--timeout', 'soon', '--yes'], /invalid --timeout/],
        [['rr', 'promote', plain, '-o', 'xml'], /Expected --output=xml to be one of/],
      ];
      for (const [args, msg] of cases) {
        const r = await runCli(args, { kubeconfig: cp.kubeconfig('plugin') });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, msg, args.join(' '));
        assert.equal(r.stderr.trim().split('\n')[0]!.startsWith('error: '), true, r.stderr);
      }
      const writes = (await cp.audit.writesSince(mark, { user: USERS.plugin.name })).filter(
        (e) => e.objectRef?.resource !== 'selfsubjectaccessreviews',
      );
      assert.deepEqual(writes, [], 'refusals write nothing');
      // run again after it succeeded (a script's retry): nothing to do, exit 0, with or without a terminal
      for (const args of [
        ['rr', 'promote', r1, '--yes'],
        ['rr', 'demote', plain, '--yes'],
        ['rr', 'demote', plain],
      ]) {
        const r = await runCli(args, { kubeconfig: cp.kubeconfig('plugin') });
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /nothing to do: .*(already|not a route reflector)/, args.join(' '));
      }
      // with --force, demoting one of two leaves a single reflector that still serves everyone, but whose zone's
      // outage (or its own loss) would cut every client off: refused until that is accepted too, and said so
      const nf = await runCli(['rr', 'demote', r1, '--yes', '--force'], { kubeconfig: kc });
      assert.equal(nf.code, 2, nf.stderr);
      assert.match(nf.stderr, /an outage of one zone .* would cut nodes off.*--allow-zone-loss/);
      const f = await runCli(['rr', 'demote', r1, '--yes', '--force', '--allow-zone-loss'], {
        kubeconfig: kc,
      });
      assert.equal(f.code, 0, f.stderr);
      assert.doesNotMatch(f.stderr, /any single reflector can fail/);
      assert.deepEqual(rrs(await world(cp)), [r2]);
    });

    it('refuses when another run holds the lock, naming the holder', async () => {
      sim = await setup(cp, { nodes: 6, zones: 3, calico });
      const now = new Date().toISOString().replace('Z', '000Z'); // MicroTime
      await cp.apply([
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'calico-tune', namespace: 'calico-system' },
          spec: {
            holderIdentity: 'alice@laptop (pid 42)',
            leaseDurationSeconds: 30,
            acquireTime: now,
            renewTime: now,
          },
        },
      ]);
      const node = (await nodeNames(cp))[3]!;
      const r = await runCli(['rr', 'promote', node, '--yes'], { kubeconfig: kc });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /another run holds the lock: alice@laptop \(pid 42\), since/);
      assert.equal(rrs(await world(cp)).length, 0);
    });

    it('refuses a saved plan when the cluster changed since, saying what changed', async () => {
      sim = await setup(cp, { nodes: 6, zones: 3, calico });
      const node = (await nodeNames(cp))[3]!;
      const plan = await runCli(['rr', 'promote', node, '--dry-run', '-o', 'yaml'], { kubeconfig: kc });
      assert.equal(plan.code, 0, plan.stderr);
      const file = `${cp.dir}/promote-plan.yaml`;
      (await import('node:fs')).writeFileSync(file, plan.stdout);
      const extra = (await import('../fixtures/generate.js'))
        .generateCluster({ nodes: 1, zones: 1, prefix: 'late', calico })
        .filter((o) => o.kind === 'Node');
      await cp.apply(extra);
      const r = await runCli(['apply', '-f', file, '--yes'], { kubeconfig: kc });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /the plan is stale.*nodes: 6 when planned, 7 now \(1 added\)/);
      assert.equal(rrs(await world(cp)).length, 0);
    });

    it('rolls back when a gate times out', async () => {
      sim = await setup(cp, { nodes: 6, zones: 3, calico });
      const node = (await nodeNames(cp))[3]!;
      sim.setKnobs({ stuck: [{ node }] });
      const before = await world(cp);
      const run = spawnCli(['rr', 'promote', node, '--yes', '--timeout', '4s'], kc);
      // once the rollback starts, the node's sessions may come up again (its mesh sessions must, for the
      // rollback's own gate to pass)
      await waitFor(async () => journal((await world(cp)).lease)?.phase === 'rolling-back', {
        timeoutMs: 60_000,
        what: 'the rollback to start',
      });
      sim.setKnobs({ stuck: [] });
      const code = await run.done;
      assert.equal(code, 4, run.out());
      assert.match(run.out(), /timed out after 4s.*rolled back/s);
      const after = await world(cp);
      assert.deepEqual(after.nodes, before.nodes, 'node labels, annotations and cordon restored');
      assert.deepEqual(after.peers, before.peers, 'the BGPPeer it created is gone');
      assert.equal(after.lease, undefined);
      assert.deepEqual(after.nodeStatuses, []);
    });

    it('pauses a rollback whose own gate times out, and finishes it later', async () => {
      sim = await setup(cp, { nodes: 6, zones: 3, calico });
      const node = (await nodeNames(cp))[3]!;
      sim.setKnobs({ stuck: [{ node }] });
      const before = await world(cp);
      const r = await runCli(['rr', 'promote', node, '--yes', '--timeout', '3s'], {
        kubeconfig: kc,
        timeoutMs: 120_000,
      });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /rollback gate .* timed out/);
      const mid = await world(cp);
      assert.equal(
        mid.nodes.find((n) => n.name === node)!.clusterId,
        null,
        'the reflector patch was undone before the paused gate',
      );
      assert.ok(journal(mid.lease), 'the paused rollback is recorded');
      sim.setKnobs({ stuck: [] });
      const rb = await runCli(['apply', '--rollback', '--yes'], { kubeconfig: kc, timeoutMs: 120_000 });
      assert.equal(rb.code, 0, rb.stderr);
      const after = await world(cp);
      assert.deepEqual(after.nodes, before.nodes);
      assert.deepEqual(after.peers, before.peers);
      assert.equal(after.lease, undefined);
    });

    it('resumes and rolls back after SIGKILL in the middle @matrix', async () => {
      sim = await setup(cp, { nodes: 6, zones: 3, calico });
      const names = await nodeNames(cp);
      const targets = [names[3]!, names[4]!];
      const before = await world(cp);
      sim.setKnobs({ establishDelayMs: 1500 });
      const s1 = spawnCli(['rr', 'promote', ...targets, '--yes'], kc);
      const k1 = await killAfterSteps(cp, s1, 3);
      assert.ok(k1.done < k1.total, 'killed before the end');
      const mid = await world(cp);
      assert.ok(mid.lease, 'the journal survives the kill');
      sim.setKnobs(FAST);
      // the killed run's holder (this host, a dead pid) no longer holds the lock
      const resumed = await runCli(['apply', '--resume', '--yes', '-o', 'json'], {
        kubeconfig: kc,
        timeoutMs: 120_000,
      });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.json<{ outcome: string }>().outcome, 'done');
      let w = await world(cp);
      assert.deepEqual(rrs(w), [...targets].sort());
      assert.ok(w.nodes.every((n) => !n.unschedulable));
      assert.equal(w.lease, undefined);

      // roll back an interrupted promotion
      await loadFixture(cp, { nodes: 6, zones: 3, calico });
      await sim.stop();
      sim = await startSimulator(cp, { knobs: { establishDelayMs: 1500 } });
      const s2 = spawnCli(['rr', 'promote', ...targets, '--yes'], kc);
      await killAfterSteps(cp, s2, 4);
      sim.setKnobs(FAST);
      const rb = await runCli(['apply', '--rollback', '--yes'], { kubeconfig: kc, timeoutMs: 120_000 });
      assert.equal(rb.code, 0, rb.stderr);
      w = await world(cp);
      assert.deepEqual(w.nodes, before.nodes);
      assert.deepEqual(w.peers, before.peers);
      assert.equal(w.lease, undefined);
    });

    if (calico === 'v3.31.3')
      it("RR_NOT_PEERED's fix works: rr promote of an unpeered reflector re-creates the peering", async () => {
        // (an operator trial: the printed fix said "already a route reflector", exit 2, during an outage)
        sim = await setup(cp, { nodes: 9, zones: 3, calico, rrs: 3, mesh: false });
        const admin = cp.client('admin');
        const peers = (await world(cp)).peers.map((p) => p.name);
        for (const p of peers) await admin.request('DELETE', `/apis/crd.projectcalico.org/v1/bgppeers/${p}`);
        const st = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
        const f = st
          .json<{ findings: { code: string; fix: string }[] }>()
          .findings.find((x) => x.code === 'RR_NOT_PEERED');
        assert.ok(f, st.stdout.slice(0, 500));
        const cmd = /kubectl calico-tune (rr promote \S+)/.exec(f.fix)![1]!.split(' ');
        const r = await runCli([...cmd, '--yes'], { kubeconfig: kc, timeoutMs: 120_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await liveVerdict(cp)).ok, true, 'every node pair reachable again');
        const after = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
        assert.ok(
          !after.json<{ findings: { code: string }[] }>().findings.some((x) => x.code === 'RR_NOT_PEERED'),
          after.stdout.slice(0, 500),
        );
      });

    it('--dry-run=server sends every write with dryRun=All and changes nothing @matrix', async () => {
      sim = await setup(cp, { nodes: 6, zones: 3, calico });
      const node = (await nodeNames(cp))[3]!;
      const before = await world(cp);
      const mark = cp.audit.mark();
      const r = await runCli(['rr', 'promote', node, '--dry-run=server'], { kubeconfig: kc });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, /nothing was written/);
      const writes = (await cp.audit.writesSince(mark, { user: USERS.plugin.name })).filter(
        (e) => e.objectRef?.resource !== 'selfsubjectaccessreviews',
      );
      assert.ok(writes.length >= 2, 'the writes were sent');
      for (const e of writes) assert.match(e.requestURI, /dryRun=All/, `${e.verb} ${e.requestURI}`);
      assert.deepEqual(await world(cp), before);
    });

    it('a user without permission gets a clear error before any write @matrix', async () => {
      sim = await setup(cp, { nodes: 6, zones: 3, calico });
      const node = (await nodeNames(cp))[3]!;
      const mark = cp.audit.mark();
      const r = await runCli(['rr', 'promote', node, '--yes'], { kubeconfig: cp.kubeconfig('readonly') });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /may not .*patch nodes/);
      assert.match(r.stderr, /nothing was changed/);
      const writes = (await cp.audit.writesSince(mark, { user: USERS.readonly.name })).filter(
        (e) => e.objectRef?.resource !== 'selfsubjectaccessreviews',
      );
      assert.deepEqual(writes, []);
    });
  });
}

describe('rr prompts in a terminal', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  before(async () => {
    cp = await controlPlane();
  });
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('applies when the answer is yes', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    sim = await startSimulator(cp, { knobs: FAST });
    const node = (await nodeNames(cp))[3]!;
    const r = await runInPty(['rr', 'promote', node], cp.kubeconfig('plugin'), [
      { when: /Step 1\/\d+: .*Continue\?/, send: 'y\r' },
      { when: /Step \d+\/\d+: Make .* a route reflector.*Continue\?/, send: 'y\r' },
    ]);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(rrs(await world(cp)), [node]);
  });

  it('changes nothing when the answer is no at the first checkpoint', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    sim = await startSimulator(cp, { knobs: FAST });
    const node = (await nodeNames(cp))[3]!;
    const before = await world(cp);
    const r = await runInPty(['rr', 'promote', node], cp.kubeconfig('plugin'), [
      { when: /Continue\?/, send: 'n\r' },
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /declined; nothing was changed/);
    assert.doesNotMatch(
      r.out,
      /✔ Step \d+\/\d+:[^✔]*?Continue\? No/,
      'no green tick beside the declined prompt',
    );
    assert.match(r.out, /· Step 1\/\d+:[^✔]*?Continue\? No/);
    assert.deepEqual(await world(cp), before);
  });

  it('pauses on Ctrl-C at a later checkpoint, and can be rolled back', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    sim = await startSimulator(cp, { knobs: FAST });
    const node = (await nodeNames(cp))[3]!;
    const before = await world(cp);
    const r = await runInPty(['rr', 'promote', node], cp.kubeconfig('plugin'), [
      { when: /Step 1\/\d+: .*Continue\?/, send: 'y\r' },
      { when: /Step \d+\/\d+: Make .* a route reflector.*Continue\?/, send: '\u0003' },
    ]);
    assert.equal(r.code, 130, r.out);
    assert.match(r.out, /interrupted before step \d+ \(Make .* a route reflector.*--resume/s);
    const mid = await world(cp);
    assert.ok(mid.lease, 'paused plan recorded');
    const rb = await runCli(['apply', '--rollback', '--yes'], { kubeconfig: cp.kubeconfig('plugin') });
    assert.equal(rb.code, 0, rb.stderr);
    assert.deepEqual(await world(cp), before);
  });

  it('a gate timeout at a terminal offers wait, pause or roll back; "wait longer" then passes', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    // calico-node answers nothing until the person has chosen to wait longer
    sim = await startSimulator(cp, { knobs: { ...FAST, paused: true } });
    const node = (await nodeNames(cp))[3]!;
    const r = await runInPty(['rr', 'promote', node, '--timeout', '4s'], cp.kubeconfig('plugin'), [
      { when: /Step 1\/\d+: .*Continue\?/, send: 'y\r' },
      { when: /Step \d+\/\d+: Make .* a route reflector.*Continue\?/, send: 'y\r' },
      {
        when: /What now\?.*Wait longer.*Pause.*Roll back/,
        send: '\u001b[A\r', // up from the default (Pause) to "Wait longer"
        then: () => sim!.setKnobs({ paused: false }),
      },
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /timed out\s+after 4s/);
    assert.deepEqual(rrs(await world(cp)), [node]);
    assert.equal((await world(cp)).lease, undefined, 'the plan finished and released its Lease');
  });

  it('choosing "pause" at a gate timeout exits 5 with the plan recorded; a rollback asks too, and no keeps it', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    sim = await startSimulator(cp, { knobs: { ...FAST, paused: true } });
    const node = (await nodeNames(cp))[3]!;
    const before = await world(cp);
    const r = await runInPty(['rr', 'promote', node, '--timeout', '3s'], cp.kubeconfig('plugin'), [
      { when: /Step 1\/\d+: .*Continue\?/, send: 'y\r' },
      { when: /Step \d+\/\d+: Make .* a route reflector.*Continue\?/, send: 'y\r' },
      { when: /What now\?.*Wait longer.*Pause.*Roll back/, send: '\r' }, // the default: Pause
    ]);
    assert.equal(r.code, 5, r.out);
    assert.match(r.out, /--resume.*--rollback/s);
    const mid = await world(cp);
    assert.ok(mid.lease, 'the paused plan stays recorded');
    assert.deepEqual(rrs(mid), [node], 'paused as it was: the label stays');

    sim.setKnobs({ paused: false });
    const no = await runInPty(['apply', '--rollback'], cp.kubeconfig('plugin'), [
      { when: /Roll back \d+ step\(s\) of .*\?/, send: 'n\r' },
    ]);
    assert.equal(no.code, 0, no.out);
    assert.match(no.out, /nothing was changed; the plan stays recorded/);
    // declining changes nothing: the cluster as it was, and the record as it was (only the lock's own times
    // moved: the run took the lock to ask)
    const declined = await world(cp);
    const record = (l: Obj | undefined): unknown => {
      const { updatedAt: _u, ...rest } = journal(l) as { updatedAt?: string };
      return { ...rest, plan: journalPlan(l) };
    };
    assert.deepEqual({ ...declined, lease: undefined }, { ...mid, lease: undefined });
    assert.deepEqual(record(declined.lease), record(mid.lease), 'the recorded plan, phase and message');
    assert.match(JSON.stringify(journal(declined.lease)), /timed out after 3s/, 'the reason it paused');

    const yes = await runInPty(['apply', '--rollback'], cp.kubeconfig('plugin'), [
      { when: /Roll back \d+ step\(s\) of .*\?/, send: 'y\r' },
    ]);
    assert.equal(yes.code, 0, yes.out);
    assert.deepEqual(await world(cp), before);
  });

  it('prompts on the terminal while standard output goes to a file (as with | tee)', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    sim = await startSimulator(cp, { knobs: FAST });
    const node = (await nodeNames(cp))[3]!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-pty-'));
    const log = path.join(dir, 'out.log');
    try {
      const r = await runInPty(
        ['rr', 'promote', node],
        cp.kubeconfig('plugin'),
        [
          { when: /Step 1\/\d+: .*Continue\?/, send: 'y\r' },
          { when: /Step \d+\/\d+: Make .* a route reflector.*Continue\?/, send: 'y\r' },
        ],
        90_000,
        { stdoutTo: log },
      );
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(rrs(await world(cp)), [node]);
      assert.match(fs.readFileSync(log, 'utf8'), /steps done/, 'the result went to standard output');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rr promote --drain', function () {
  // a control plane may take over 2 min to start while a 5,000-node fixture loads beside it (CI)
  this.timeout(300_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  before(async () => {
    cp = await controlPlane();
  });
  after(async () => {
    await sim?.stop();
  });

  it('--drain of a node that runs Typha while its PodDisruptionBudget allows no disruption: refused before any write', async () => {
    // (an operator trial: the drain waited 5 minutes on the PDB, then failed half-way with the node cordoned)
    await loadFixture(cp, { nodes: 6, zones: 3 });
    sim = await startSimulator(cp, { knobs: FAST });
    const admin = cp.client('admin');
    const typha = (await admin.list('/api/v1/pods?labelSelector=k8s-app%3Dcalico-typha')).items;
    const node = (typha[0]!.spec as { nodeName: string }).nodeName;
    const ns = typha[0]!.metadata.namespace!;
    await admin.request(
      'PATCH',
      `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/calico-typha/status`,
      {
        body: { status: { disruptionsAllowed: 0 } },
        contentType: 'application/merge-patch+json',
      },
    );
    const before = await world(cp);
    const mark = cp.audit.mark();
    const r = await runCli(['rr', 'promote', node, '--drain', '--yes'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /PodDisruptionBudget .*calico-typha allows no disruption now/);
    assert.match(r.stderr, /nothing was changed/);
    const writes = (await cp.audit.writesSince(mark, { user: USERS.plugin.name })).filter(
      (e) => e.objectRef?.resource !== 'selfsubjectaccessreviews' && e.objectRef?.resource !== 'leases',
    );
    assert.deepEqual(
      writes.map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`),
      [],
    );
    assert.deepEqual(await world(cp), before);
  });

  it('evicts the node’s pods through the Eviction API, leaving DaemonSet and other nodes’ pods alone', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    sim = await startSimulator(cp, { knobs: FAST });
    const [node, other] = [(await nodeNames(cp))[3]!, (await nodeNames(cp))[4]!];
    const pod = (name: string, nodeName: string, daemonSet = false): Obj => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: 'default',
        // (a controller recreates them elsewhere: kubectl drain evicts such pods without --force)
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: daemonSet ? 'DaemonSet' : 'ReplicaSet',
            name: daemonSet ? 'ds' : 'app',
            uid: `6a4b9d0e-0000-4000-8000-00000000000${daemonSet ? 1 : 2}`,
            controller: true,
          },
        ],
      },
      spec: { nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
    });
    await cp.apply([
      pod('app-1', node),
      pod('app-2', node),
      pod('ds-1', node, true),
      pod('elsewhere', other),
    ]);
    const mark = cp.audit.mark();
    const r = await runCli(['rr', 'promote', node, '--drain', '--yes'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(r.code, 0, r.stderr);
    // every pod on the node but the DaemonSet's: ours, and a Typha pod if one runs there (its PDB allows one)
    const evictions = (
      await cp.audit.writesSince(mark, { user: USERS.plugin.name, verbs: ['create'] })
    ).filter((e) => e.objectRef?.subresource === 'eviction' && e.responseStatus?.code === 201);
    const evicted = evictions.map((e) => e.objectRef?.name ?? '').sort();
    assert.ok(evicted.includes('app-1') && evicted.includes('app-2'), evicted.join(', '));
    assert.ok(!evicted.includes('ds-1') && !evicted.includes('elsewhere'), evicted.join(', '));
    assert.ok(
      evicted.every((n) => ['app-1', 'app-2'].includes(n) || n.startsWith('calico-typha-')),
      evicted.join(', '),
    );
    assert.match(
      r.stderr,
      new RegExp(`drained ${node}: evicted ${evicted.length} pod\\(s\\), all gone after`),
    );
    assert.deepEqual(rrs(await world(cp)), [node]);
    // the step waited until they were gone (the simulator plays the kubelet), as kubectl drain does: before,
    // the reflector patch came 45 ms after the evictions, with the pods still Terminating (a review)
    const left = (
      (await cp.client('admin').get(`/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`)) as {
        items: { metadata: { name: string } }[];
      }
    ).items.map((p) => p.metadata.name);
    assert.deepEqual(
      left.filter((n) => n === 'app-1' || n === 'app-2'),
      [],
    );
  });

  it("refuses, before any write, a node with a pod no controller recreates or with emptyDir data (kubectl drain's rule)", async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    await sim?.stop();
    sim = await startSimulator(cp, { knobs: FAST });
    const node = (await nodeNames(cp))[3]!;
    const before = await world(cp);
    await cp.apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'bare-debug-pod', namespace: 'default' },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'cache',
          namespace: 'default',
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: 'cache',
              uid: '6a4b9d0e-0000-4000-8000-000000000003',
              controller: true,
            },
          ],
        },
        spec: {
          nodeName: node,
          containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }],
          volumes: [{ name: 'scratch', emptyDir: {} }],
        },
      },
    ]);
    const mark = cp.audit.mark();
    const r = await runCli(['rr', 'promote', node, '--yes'], { kubeconfig: cp.kubeconfig('plugin') });
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /default\/bare-debug-pod \(no controller would recreate it\)/);
    assert.match(r.stderr, /default\/cache \(its emptyDir data would be lost\)/);
    assert.match(r.stderr, /nothing was changed/);
    const writes = (await cp.audit.writesSince(mark, { user: USERS.plugin.name })).filter(
      (e) => e.objectRef?.resource !== 'leases' && e.objectRef?.resource !== 'selfsubjectaccessreviews',
    );
    assert.deepEqual(
      writes.map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`),
      [],
      'no cordon, no eviction',
    );
    assert.deepEqual((await world(cp)).nodes, before.nodes);
    await cp
      .client('admin')
      .request('DELETE', '/api/v1/namespaces/default/pods/bare-debug-pod', { okStatuses: [404] });
    await cp
      .client('admin')
      .request('DELETE', '/api/v1/namespaces/default/pods/cache', { okStatuses: [404] });
  });

  it('stops when a PodDisruptionBudget keeps blocking, and the recorded plan can be rolled back', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    await sim?.stop();
    sim = await startSimulator(cp, { knobs: FAST });
    const node = (await nodeNames(cp))[4]!;
    const before = await world(cp);
    await cp.apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'precious',
          namespace: 'default',
          labels: { app: 'precious' },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: 'precious',
              uid: '6a4b9d0e-0000-4000-8000-000000000004',
              controller: true,
            },
          ],
        },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
        // a running, ready pod: pending or unready pods may be evicted whatever the budget says
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      },
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'precious', namespace: 'default' },
        spec: { minAvailable: 1, selector: { matchLabels: { app: 'precious' } } },
        status: {
          observedGeneration: 1,
          disruptionsAllowed: 0,
          currentHealthy: 1,
          desiredHealthy: 1,
          expectedPods: 1,
        },
      },
    ]);
    const r = await runCli(['rr', 'promote', node, '--drain', '--yes', '--timeout', '3s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /evicting default\/precious is blocked by a PodDisruptionBudget/);
    assert.match(r.stderr, /--rollback/);
    const rb = await runCli(['apply', '--rollback', '--yes'], { kubeconfig: cp.kubeconfig('plugin') });
    assert.equal(rb.code, 0, rb.stderr);
    const after = await world(cp);
    assert.deepEqual(after.nodes, before.nodes);
    assert.deepEqual(after.peers, before.peers);
  });
});
