/**
 * `migrate apply` killed (SIGKILL, through the CALICO_TUNE_TEST_CRASH hook) at every step, before and after the
 * step is recorded, then `--resume` or `--rollback`, on the real control plane with the calico-node stand-in:
 * the model is run on the live state after each kill, resume reaches the plan's target, rollback the start.
 */
import assert from 'node:assert/strict';
import {
  controlPlane,
  loadFixture,
  runCli,
  startSimulator,
  type ControlPlane,
  type Simulator,
} from '../harness/index.js';
import { endState, journal, journalPlan, liveVerdict, rrs, spawnCli, world } from './plan-helpers.js';

describe('migrate: SIGKILL at every step, then --resume or --rollback', function () {
  this.timeout(1_800_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  const spec = { nodes: 12, zones: 3 } as const;
  before(async () => {
    cp = await controlPlane();
  });
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('converges on resume and returns to the start on rollback, never cutting routes', async () => {
    await loadFixture(cp, spec);
    const start = await world(cp);
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 150 } });
    const probe = await runCli(
      ['migrate', 'plan', '--to', 'route-reflectors', '--rr-count', '3', '-o', 'json'],
      { kubeconfig: cp.kubeconfig('plugin') },
    );
    const total = probe.json<{ steps: unknown[] }>().steps.length;
    // Each step k in turn: killed right after its write (before it is recorded) or right after it is recorded,
    // alternately; then resumed, and (a separate run) rolled back. The kill is a real SIGKILL, placed
    // deterministically with CALICO_TUNE_TEST_CRASH (external kills at a polled step are in rr.test.ts).
    for (let k = 1; k < total; k++) {
      const crash = `${k % 2 ? 'mid-step' : 'after-step'}:${k}`;
      for (const mode of ['resume', 'rollback'] as const) {
        await sim.stop();
        await loadFixture(cp, spec);
        sim = await startSimulator(cp, { knobs: { establishDelayMs: 150 } });
        const s = spawnCli(
          ['migrate', 'apply', '--to', 'route-reflectors', '--rr-count', '3', '--yes'],
          cp.kubeconfig('plugin'),
          { CALICO_TUNE_TEST_CRASH: crash },
        );
        const code = await s.done;
        assert.equal(code, null, `${crash}: the run should have been killed: ${s.out()}`);
        const lease = (await world(cp)).lease;
        const j = journal(lease);
        assert.ok(j, `${crash}: the journal survives`);
        const planned = (journalPlan(lease)?.summary.routeReflectors ?? []).map((r) => r.name).sort();
        assert.equal(planned.length, 3);
        assert.equal(j.done.length, crash.startsWith('mid') ? k - 1 : k, `${crash}: steps recorded`);
        const mid = await liveVerdict(cp);
        assert.equal(mid.ok, true, `${crash}: ${mid.unreachablePairs} pairs have no routes`);
        const r = await runCli(['migrate', 'apply', `--${mode}`, '--yes'], {
          kubeconfig: cp.kubeconfig('plugin'),
          timeoutMs: 300_000,
        });
        assert.equal(r.code, 0, `${mode} after ${crash}: ${r.stderr}`);
        const w = await world(cp);
        assert.equal(w.lease, undefined);
        assert.equal((await liveVerdict(cp)).ok, true);
        if (mode === 'rollback') assert.deepEqual(endState(w), endState(start), `rollback after ${crash}`);
        else {
          // converged to the plan's end state
          assert.deepEqual(rrs(w), planned, `resume after ${crash}: the planned reflectors`);
          assert.equal(w.meshEnabled, false);
          assert.ok(
            w.nodes.every((n) => !n.unschedulable && !n.cordonedBy),
            `resume after ${crash}: all uncordoned`,
          );
          assert.deepEqual(
            w.peers.map((p) => p.name),
            ['peer-with-route-reflectors'],
          );
          assert.deepEqual(w.nodeStatuses, []);
        }
      }
    }
  });
});
