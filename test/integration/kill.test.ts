/**
 * `kill -9` from outside at random moments of `migrate apply` on the real API server (seeded; the seed is
 * printed, set CALICO_TUNE_FAULT_SEED to replay), alternately followed by `--resume` and `--rollback`. Every
 * end state must be fully reachable by the project's BGP model, and resume / rollback must converge.
 */
import assert from 'node:assert/strict';
import {
  controlPlane,
  sleep,
  loadFixture,
  runCli,
  startSimulator,
  type ControlPlane,
  type Simulator,
} from '../harness/index.js';
import {
  endState,
  journal,
  journalPlan,
  liveVerdict,
  spawnCli,
  world,
  type BgpWorld,
} from './plan-helpers.js';
import { SPEC, SIM, APPLY, assertTarget, show, prng } from './fault-helpers.js';

describe('kill -9 from outside at random moments of migrate apply, then --resume or --rollback', function () {
  this.timeout(3_600_000);
  const RUNS = Number(process.env['CALICO_TUNE_KILL_RUNS'] ?? 20);
  const seed = Number(process.env['CALICO_TUNE_FAULT_SEED'] ?? Date.now() % 2 ** 31);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  before(async () => {
    cp = await controlPlane();
    console.log(`      kill -9 runs: seed ${seed} (replay with CALICO_TUNE_FAULT_SEED=${seed})`);
  });
  after(async () => {
    await sim?.stop();
  });

  it(`${RUNS} runs: every end state fully reachable; resume reaches the plan's target, rollback the start`, async () => {
    const random = prng(seed);
    const kc = cp.kubeconfig('plugin');
    const fresh = async (): Promise<BgpWorld> => {
      await sim?.stop();
      await loadFixture(cp, SPEC);
      sim = await startSimulator(cp, { knobs: SIM });
      return world(cp);
    };
    // how long an undisturbed run takes, and what it does
    let start = await fresh();
    let t0 = Date.now();
    const full = await runCli(APPLY, { kubeconfig: kc, timeoutMs: 300_000 });
    const duration = Date.now() - t0;
    assert.equal(full.code, 0, show(full));
    assertTarget(await world(cp), undefined, 'the undisturbed run');
    const outcomes: string[] = [];
    const tally: Record<string, number> = {};
    for (let i = 0; i < RUNS; i++) {
      const mode = i % 2 ? 'rollback' : 'resume';
      start = await fresh();
      // node start-up is part of the run: kill anywhere from the first millisecond to just past the end
      const delay = Math.round(random() * duration * 1.1);
      t0 = Date.now();
      const s = spawnCli(APPLY, kc);
      const exited = await Promise.race([s.done.then(() => true), sleep(delay).then(() => false)]);
      if (!exited) {
        process.kill(-s.child.pid!, 'SIGKILL');
        await s.done;
      }
      const what = `run ${i + 1} (seed ${seed}, kill at ${delay} ms${exited ? ', after it had exited' : ''})`;
      const mid = await world(cp);
      const j = journal(mid.lease);
      const v = await liveVerdict(cp);
      assert.equal(v.ok, true, `${what}: ${v.unreachablePairs} pairs without routes right after the kill`);
      let landed: string;
      if (exited) {
        assert.equal(s.child.exitCode, 0, `${what}: ${s.out().slice(-2000)}`);
        assertTarget(mid, undefined, what);
        landed = 'after the end';
      } else if (!j) {
        // no journal: killed before the lock was taken (nothing may have changed) or after it was released
        const unchanged = JSON.stringify(endState(mid)) === JSON.stringify(endState(start));
        if (!unchanged) assertTarget(mid, undefined, `${what}: no journal, so the plan must have finished`);
        landed = unchanged ? 'before the first write' : 'after the release';
      } else {
        landed = `after ${j.done.length} steps${(j as { current?: string }).current ? ' (one in flight)' : ''}`;
        const planned = (journalPlan(mid.lease)?.summary.routeReflectors ?? []).map((x) => x.name).sort();
        const r = await runCli(['migrate', 'apply', `--${mode}`, '--yes'], {
          kubeconfig: kc,
          timeoutMs: 300_000,
        });
        const w = await world(cp);
        const v2 = await liveVerdict(cp);
        assert.equal(
          v2.ok,
          true,
          `${mode} after ${what}: ${v2.unreachablePairs} pairs without routes (${show(r)})`,
        );
        assert.equal(r.code, 0, `${mode} after ${what}, ${landed}: ${show(r)}`);
        if (mode === 'rollback') assert.deepEqual(endState(w), endState(start), `rollback after ${what}`);
        else assertTarget(w, planned, `resume after ${what}`);
      }
      const bucket = landed.replace(/ \(one in flight\)/, '');
      tally[bucket] = (tally[bucket] ?? 0) + 1;
      outcomes.push(`${what}: ${landed}${j ? `, then --${mode}` : ''} (${Date.now() - t0} ms)`);
    }
    console.log(`      undisturbed run: ${duration} ms`);
    for (const o of outcomes) console.log(`      ${o}`);
    console.log(`      kills landed: ${JSON.stringify(tally)}`);
    assert.ok(
      Object.keys(tally).filter((k) => k.startsWith('after ') && k !== 'after the end').length >= 3,
      `the kills should spread over the run: ${JSON.stringify(tally)}`,
    );
  });
});
