/**
 * Scenario 5 of issue 12 on the real-BGP rig: the calico#2735 trap. Three reflectors share cluster ID 244.0.0.1;
 * the zone-a clients peer only with the zone-a reflector, the others only with the zone-b/c reflectors. A
 * reflector drops routes that carry its own cluster ID, so zone-a clients and zone-b/c clients cannot reach each
 * other. The rig must show exactly the pairs the model (src/bgp) says are cut: this validates the model against
 * real BIRD in the other direction (the loss it predicts is real, the pairs it says are fine are fine).
 */
import assert from 'node:assert/strict';
import { assertProbesRan, FABRIC_NODES, runForTest } from './helpers.js';
import { pairsCutDuring } from './report.js';
import type { FabricReport } from './scenario.js';
import { trap2735, type TrapResult } from './scenarios.js';

describe(`fabric: the calico#2735 trap on real BIRD (K=${FABRIC_NODES})`, function () {
  this.timeout(900_000);
  let r: FabricReport;
  let trap: TrapResult;

  before(async () => {
    r = await runForTest(trap2735);
    trap = r.extra['trap'] as TrapResult;
  });

  it('probes ran between every pair for the whole run', () => assertProbesRan(r));

  it('the model predicts cut pairs in the trap state', () => {
    assert.ok(trap.modelCut.length > 0, 'the trap cuts some pairs in the model');
    assert.ok(trap.modelCut.length < r.totals.pairs, 'and not all of them');
  });

  it('in steady state, exactly the pairs the model predicts are cut, the others lose nothing', () => {
    const steady = r.steps.find((s) => s.label === trap.steadyLabel);
    assert.ok(steady, `no phase "${trap.steadyLabel}"`);
    const seen = pairsCutDuring(steady, r.outages, r.periodMs);
    assert.deepEqual(seen.partial, [], 'no pair with partial loss in steady state');
    assert.deepEqual(seen.cut, trap.modelCut);
  });

  it('no loss before the trap is set and after it is undone', () => {
    for (const s of r.steps.filter((x) => x.kind === 'baseline' || x.kind === 'after'))
      assert.equal(s.lost, 0, `${s.label}: ${s.lost} lost`);
  });
});
