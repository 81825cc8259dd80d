/**
 * Scenario 2 of issue 12 on the real-BGP rig: with 3 reflectors and the mesh off, `rr replace` (same zone),
 * `rr promote` of a fourth, `rr demote` of one of the original three. Same assertions as the migration, and one
 * known bug, pinned so that its fix shows up: `rr demote`'s last gate ("Wait until X is back as a client")
 * passes on the CalicoNodeStatus report from before the cluster ID was removed (X's peers are the same before
 * and after: the reflectors), the plan ends and uncordons X, and only then do X's sessions restart: X loses
 * traffic with every other node for ~2 s after the plan said it was done (docs/fabric.md).
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
import type { FabricReport } from './scenario.js';
import { rrOps } from './scenarios.js';

describe(`fabric: rr replace, promote, demote with the mesh off on real BIRD (K=${FABRIC_NODES})`, function () {
  this.timeout(900_000);
  let r: FabricReport;
  let demoted: string;

  before(async () => {
    r = await runForTest(rrOps);
    demoted = r.commands.find((c) => c.label === 'demote')?.args[2] ?? '?';
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

  it('KNOWN BUG: rr demote ends on a stale report; the demoted node loses traffic after the plan ended', () => {
    // rr replace ends with the same gate for the old reflector and leaks the same way when the report it reads
    // already shows the expected peers (in some runs it waits long enough): not pinned, only allowed above
    const mine = splitLeaks(r).trailing.filter((o) => o.src === demoted || o.dst === demoted);
    assert.ok(
      mine.length > 0,
      `${demoted} lost nothing after \`rr demote\` ended: the stale-gate bug looks fixed; make this test assert ` +
        'that no loss outlives the run',
    );
    const peers = new Set(mine.map((o) => (o.src === demoted ? o.dst : o.src)));
    assert.equal(
      peers.size,
      FABRIC_NODES - 1,
      `pairs of ${demoted} cut after the plan: ${[...peers].join(' ')}`,
    );
  });
});
