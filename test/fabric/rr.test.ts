/**
 * Scenario 2 of issue 12 on the real-BGP rig: with 3 reflectors and the mesh off, `rr replace` (same zone),
 * `rr promote` of a fourth, `rr demote` of one of the original three. Same assertions as the migration, and the
 * regression test of a bug the rig found: the last gate of a demotion ("Wait until X is back as a client")
 * passed on the CalicoNodeStatus report from before the cluster ID was removed (X's peers are the same reflectors
 * before and after), the plan ended and uncordoned X, and only then did X's sessions restart (docs/fabric.md).
 */
import assert from 'node:assert/strict';
import {
  assertProbesRan,
  assertStablePairsKeepRoutes,
  assertTransientsMatchPackets,
  exitOf,
  FABRIC_NODES,
  runForTest,
  splitLeaks,
} from './helpers.js';
import { describeOutage } from './report.js';
import type { FabricReport } from './scenario.js';
import { rrOps } from './scenarios.js';

describe(`fabric: rr replace, promote, demote with the mesh off on real BIRD (K=${FABRIC_NODES})`, function () {
  this.timeout(900_000);
  let r: FabricReport;

  before(async () => {
    r = await runForTest(rrOps);
  });

  it('the three commands succeed', () => {
    for (const c of ['replace', 'promote', 'demote'])
      assert.equal(exitOf(r, c), 0, `${c}: ${r.commands.find((x) => x.label === c)?.stderr.slice(-3000)}`);
    assert.equal(r.roleChanged.length, 4, `replace (2 nodes), promote, demote: ${r.roleChanged.join(' ')}`);
  });

  it('probes ran between every pair for the whole run', () => assertProbesRan(r));

  it("nodes that keep their role keep their routes: probes lost only at BIRD's kernel route replaces", () =>
    assertStablePairsKeepRoutes(r));

  it('the nodes the plans mark ⚡ (every session re-forms) are exactly the nodes the probes see cut off', () =>
    assertTransientsMatchPackets(r));

  it('every loss of a node that changes role starts while a run that changes it is running', () => {
    assert.deepEqual(splitLeaks(r).others, []);
  });

  it('no loss outlives its run: every gate waits for sessions that re-formed after the write', () => {
    // The rig found this bug in the executor before issue 10's gates (docs/fabric.md): the last gate of a
    // demotion passed on a report made before BIRD restarted the node's sessions, the plan ended, and the node
    // lost traffic for ~2 s afterwards. Gates now read new CalicoNodeStatus objects made after the write and
    // need the sessions to hold over 2 s of the node's own reports.
    const { trailing } = splitLeaks(r);
    assert.deepEqual(
      trailing.map((o) => describeOutage(o)),
      [],
      'outages that started with a role write and ended after the run that made it',
    );
  });
});
