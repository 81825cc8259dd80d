/**
 * The plan's record (the Lease) under someone else's hands, found by a review: an annotation added to the
 * Lease during a run stopped a healthy migration as "lost the lock"; a Lease deleted during a run (to "break
 * a stale lock") left a half-done change that "apply --resume" and "--rollback" could not find, while the
 * tool said it was "recorded in Lease".
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
  waitFor,
  type ControlPlane,
  type Simulator,
} from '../harness/index.js';
import { journal, nodeNames, spawnCli, world } from './plan-helpers.js';

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/calico-system/leases/calico-tune';

describe('the plan record (Lease) under outside writes', function () {
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

  /** Starts `rr promote <node>` with its gate held, and waits until the run waits at that gate. */
  async function promoteHeld(node: string) {
    sim!.setKnobs({ stuck: [{ node }] });
    const run = spawnCli(['rr', 'promote', node, '--yes', '--timeout', '60s'], cp.kubeconfig('plugin'));
    await waitFor(
      async () =>
        (journal((await world(cp)).lease) as { current?: string } | undefined)?.current === `wait-${node}`,
      { timeoutMs: 60_000, what: `the gate of ${node}` },
    );
    return run;
  }

  it('an annotation on the Lease does not stop the run: the lock is ours while it names us', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const node = (await nodeNames(cp))[3]!;
    const run = await promoteHeld(node);
    await cp.client('admin').request('PATCH', LEASE, {
      body: { metadata: { annotations: { someone: 'touched' } } },
      contentType: 'application/merge-patch+json',
    });
    sim.setKnobs({ stuck: [] });
    const code = await run.done;
    assert.equal(code, 0, run.out());
    assert.doesNotMatch(run.out(), /lost the lock/);
    const w = await world(cp);
    assert.ok(w.nodes.find((n) => n.name === node)!.clusterId, 'promoted');
    assert.equal(w.lease, undefined, 'the record is removed at the end');
  });

  it("a Lease deleted during the run is written again with the run's progress, and said so", async () => {
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const node = (await nodeNames(cp))[3]!;
    const run = await promoteHeld(node);
    const before = journal((await world(cp)).lease)!;
    await cp.client('admin').request('DELETE', LEASE);
    // the next write of the record (a renewal, at most 10 s later) finds it gone and writes it again
    await waitFor(async () => (await world(cp)).lease !== undefined, {
      timeoutMs: 30_000,
      what: 'the record written again',
    });
    const again = journal((await world(cp)).lease)!;
    assert.deepEqual(
      again.done.map((d) => d.id),
      before.done.map((d) => d.id),
      'the same progress',
    );
    assert.equal(again.plan, before.plan);
    sim.setKnobs({ stuck: [] });
    const code = await run.done;
    assert.equal(code, 0, run.out());
    assert.match(
      run.out(),
      /Lease calico-system\/calico-tune was deleted during the run: this run's record is written again/,
    );
    assert.equal((await world(cp)).lease, undefined);
  });

  it('a saved plan applied while another run holds the lock is refused for the lock, not as "stale"', async () => {
    // (a review: "the plan is stale ... build a new plan", and the new plan was made on the half-way state)
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const [a, b] = (await nodeNames(cp)).slice(3, 5) as [string, string];
    const kc = cp.kubeconfig('plugin');
    const file = path.join(os.tmpdir(), `calico-tune-lock-${process.pid}.yaml`);
    const saved = await runCli(['rr', 'promote', b, '--dry-run', '-o', 'yaml'], { kubeconfig: kc });
    assert.equal(saved.code, 0, saved.stderr);
    fs.writeFileSync(file, saved.stdout);
    const run = await promoteHeld(a);
    try {
      const r = await runCli(['apply', '-f', file, '--yes'], { kubeconfig: kc });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /another run holds the lock/);
      assert.doesNotMatch(r.stderr, /stale/);
    } finally {
      sim.setKnobs({ stuck: [] });
      await run.done;
      fs.rmSync(file, { force: true });
    }
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const)
    it(`${signal} during a gate pauses the plan as Ctrl-C does: exit 130, the record paused, no CalicoNodeStatus left`, async () => {
      // (a review: closing the terminal killed the run; its record said "running" and its gate objects stayed)
      await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
      sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
      const node = (await nodeNames(cp))[3]!;
      const run = await promoteHeld(node);
      process.kill(-run.child.pid!, signal);
      const code = await run.done;
      assert.equal(code, 130, run.out());
      const w = await world(cp);
      const j = journal(w.lease) as { phase: string; message?: string } | undefined;
      assert.equal(j?.phase, 'paused', run.out());
      assert.match(j?.message ?? '', /interrupted/);
      assert.deepEqual(w.nodeStatuses, []);
    });
});
