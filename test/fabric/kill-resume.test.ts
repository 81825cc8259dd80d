/**
 * Scenario 3 of issue 12 on the real-BGP rig: `migrate apply --to route-reflectors` SIGKILLed right after the
 * write that makes the first reflector (the executor's CALICO_TUNE_TEST_CRASH hook), then `--rollback`; killed
 * again after the second reflector's write, then `--resume`. Nodes that keep their role keep their routes; the
 * reflector-to-be written by a killed run loses traffic while nothing runs (measured, in the report): a killed
 * run's plan lasts until the run that resumes or rolls it back.
 */
import assert from 'node:assert/strict';
import {
  assertProbesRan,
  assertStablePairsKeepRoutes,
  exitOf,
  FABRIC_NODES,
  runForTest,
  splitLeaks,
} from './helpers.js';
import type { FabricReport } from './scenario.js';
import { killResume } from './scenarios.js';

describe(`fabric: migrate apply killed mid-plan, then --rollback and --resume (K=${FABRIC_NODES})`, function () {
  this.timeout(900_000);
  let r: FabricReport;

  before(async () => {
    r = await runForTest(killResume);
  });

  it('the killed runs die after their write; --rollback and --resume succeed', () => {
    assert.equal(exitOf(r, 'to-rr (killed at step 4)'), null);
    assert.equal(exitOf(r, 'rollback'), 0);
    assert.equal(exitOf(r, 'to-rr (killed at step 8)'), null);
    assert.equal(exitOf(r, 'resume'), 0);
    // promote (killed), its undo (rollback); promote, promote (killed), and after --resume only the third: the
    // resumed step's write had been made before the kill, its precondition says so and it is not written twice
    const roles = r.writes.filter((w) => w.role).map((w) => w.role);
    // a cluster ID each (244.0.0.1, .2, .3): the rolled-back promotion frees 244.0.0.1 for the next plan
    const on = (id: number): string => `label route-reflector="true", cluster ID "244.0.0.${id}"`;
    assert.deepEqual(roles, [on(1), 'label route-reflector=null, cluster ID null', on(1), on(2), on(3)]);
  });

  it('probes ran between every pair for the whole run', () => assertProbesRan(r));

  it("nodes that keep their role keep their routes: probes lost only at BIRD's kernel route replaces", () =>
    assertStablePairsKeepRoutes(r));

  it('every loss of a node that changes role starts while a run that changes it is running', () => {
    assert.deepEqual(splitLeaks(r).others, []);
  });
});
