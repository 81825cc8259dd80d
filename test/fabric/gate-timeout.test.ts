/**
 * Scenario 4 of issue 12 on the real-BGP rig: a client's BIRD is stopped on purpose, then `rr promote` of
 * another client, whose gate waits for a session with the stopped node. The gate must time out and the plan roll
 * back (exit 4), not pass; nodes that are neither promoted nor stopped lose nothing.
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
import { gateTimeout } from './scenarios.js';

describe(`fabric: a gate that times out because a BIRD is stopped (K=${FABRIC_NODES})`, function () {
  this.timeout(900_000);
  let r: FabricReport;

  before(async () => {
    r = await runForTest(gateTimeout);
  });

  it('rr promote stops at the gate and rolls back (exit 4), never reports success', () => {
    assert.equal(exitOf(r, 'promote'), 4);
    const c = r.commands.find((x) => x.label === 'promote')!;
    assert.match(
      c.stderr,
      /gate "Wait until \S+ has all its BGP sessions Established" timed out after 20s: rolling back/,
    );
    assert.match(c.stderr, /undone: Make \S+ a route reflector/);
    assert.doesNotMatch(c.stdout + c.stderr, /all \d+ steps done/);
    assert.equal(r.disturbed.length, 1);
    assert.equal(r.roleChanged.length, 1);
    const roleWrites = r.writes.filter((w) => w.role);
    assert.deepEqual(
      roleWrites.map((w) => w.role),
      // a cluster ID of its own: the rig's 3 reflectors have 244.0.0.1-3
      ['label route-reflector="true", cluster ID "244.0.0.4"', 'label route-reflector=null, cluster ID null'],
      'promoted, then the promotion undone',
    );
  });

  it('probes ran between every pair for the whole run', () => assertProbesRan(r));

  it('nodes neither promoted nor stopped keep their routes: probes lost only at kernel route replaces', () =>
    assertStablePairsKeepRoutes(r));

  it("the promoted node's loss (with running BIRDs) starts while its run is running", () => {
    assert.deepEqual(splitLeaks(r).others, []);
  });
});
