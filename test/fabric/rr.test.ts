/**
 * Scenario 2 of issue 12 on the real-BGP rig: with 3 reflectors and the mesh off, `rr replace` (same zone),
 * `rr promote` of a fourth, `rr demote` of one of the original three. Same assertions as the migration, and one
 * known bug, characterised: the last gate of a demotion ("Wait until X is back as a client") can pass on the
 * CalicoNodeStatus report from before the cluster ID was removed (X's peers are the same reflectors before and
 * after), the plan ends and uncordons X, and only then do X's sessions restart: X loses traffic with the other
 * nodes for ~2 s after the plan said it was done (docs/fabric.md).
 */
import assert from 'node:assert/strict';
import {
  assertProbesRan,
  assertStablePairsLossless,
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
    for (const c of ['replace', 'promote', 'demote']) assert.equal(exitOf(r, c), 0, c);
    assert.equal(r.roleChanged.length, 4, `replace (2 nodes), promote, demote: ${r.roleChanged.join(' ')}`);
  });

  it('probes ran between every pair for the whole run', () => assertProbesRan(r));

  it('no probe is lost between nodes that keep their role', () => assertStablePairsLossless(r));

  it('every loss of a node that changes role starts while a run that changes it is running', () => {
    assert.deepEqual(splitLeaks(r).others, []);
  });

  it('KNOWN BUG: a loss that outlives its run follows a cluster-ID removal whose plan ended on a stale gate', () => {
    // Whether it shows depends on the report the last gate reads (in 4 of 5 runs at least one of the two
    // demotions leaked 1.9-2.5 s); what it always is: the outage of a node whose cluster ID a run removed, that
    // run ending on "Wait until <node> is back as a client" before the node's sessions had restarted.
    for (const o of splitLeaks(r).trailing) {
      const cause = r.writes.find(
        (w) =>
          w.role?.includes('cluster ID null') &&
          [o.src, o.dst].includes(w.what.split(' ').pop()!) &&
          o.from >= w.at &&
          o.from <= w.at + 1000,
      );
      assert.ok(cause, `${describeOutage(o)}: outlives its run, but no cluster-ID removal caused it`);
      const run = r.commands.find((c) => cause.at >= c.startedAt && cause.at <= c.endedAt)!;
      const node = cause.what.split(' ').pop()!;
      assert.match(
        run.stderr,
        new RegExp(
          `\\] Wait until ${node} is back as a client ✔ \\S+\\n(.*\\n)?\\[\\d+/\\d+\\] Uncordon ${node} ✔`,
        ),
      );
    }
  });
});
