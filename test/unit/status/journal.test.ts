/**
 * PLAN_UNFINISHED (found by a review: a killed run was "running ... wait for it to finish" for 60 s while its
 * 30 s Lease had lapsed and `apply` already treated it as stopped; any unfinished plan, even one with no step
 * applied or an encap or monitoring plan, was said to leave "the cluster between two BGP topologies").
 */
import assert from 'node:assert/strict';
import { journalFindings } from '../../../src/status/journal.js';
import type { ClusterSnapshot, JournalInfo } from '../../../src/model/types.js';
import { snap } from '../helpers.js';

function withJournal(j: Partial<JournalInfo>): ClusterSnapshot {
  const s = snap({ nodes: 3, zones: 1 });
  s.journal = { namespace: 'kube-system', plan: 'p', phase: 'running', done: 0, steps: 4, ...j };
  return s;
}
const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

describe('status: PLAN_UNFINISHED', () => {
  it('a holder that has not renewed the Lease within its duration is not running', () => {
    const live = journalFindings(withJournal({ holder: 'h', renewedAt: ago(5_000), leaseSeconds: 30 }))[0]!;
    assert.equal(live.severity, 'warning');
    assert.match(live.message, /is running/);
    const gone = journalFindings(
      withJournal({ holder: 'h', renewedAt: ago(40_000), leaseSeconds: 30, done: 2 }),
    )[0]!;
    assert.equal(gone.severity, 'critical');
    assert.match(gone.message, /stopped \(its run no longer renews the lock\) after step 2 of 4/);
    assert.match(gone.fix, /--resume.*--rollback/);
  });

  it('says what is true of the cluster: nothing applied yet, or part-way; never "BGP topologies"', () => {
    const none = journalFindings(withJournal({ phase: 'paused', done: 0 }))[0]!;
    assert.match(none.message, /none of its steps has been applied/);
    const some = journalFindings(withJournal({ phase: 'failed', done: 2 }))[0]!;
    assert.match(some.message, /part-way between the state before the plan and the one it leads to/);
    for (const f of [none, some]) assert.doesNotMatch(f.message, /BGP topologies/);
    // killed after the first step's write, before it was recorded done: not "none applied" (a review)
    const mid = journalFindings(withJournal({ phase: 'paused', done: 0, inFlight: 'cordon-node-a-001' }))[0]!;
    assert.doesNotMatch(mid.message, /none of its steps/);
    assert.match(mid.message, /step cordon-node-a-001 was in flight: its write may have landed/);
    // a gate in flight writes nothing (a review found "wait-3-nodes was in flight: its write may have landed")
    const gate = journalFindings(withJournal({ phase: 'paused', done: 5, inFlight: 'wait-3-nodes' }))[0]!;
    assert.doesNotMatch(gate.message, /in flight/);
    assert.match(gate.message, /part-way/);
    const first = journalFindings(withJournal({ phase: 'paused', done: 0, inFlight: 'wait-node-a-002' }))[0]!;
    assert.match(first.message, /none of its steps has been applied/);
  });

  it('a holder on this machine whose process is gone is not running (a review: "wait for it to finish" after SIGHUP)', () => {
    const f = journalFindings(
      withJournal({ holder: 'h', renewedAt: ago(1_000), leaseSeconds: 30, holderGone: true, done: 3 }),
    )[0]!;
    assert.equal(f.severity, 'critical');
    assert.match(f.message, /stopped \(its run no longer runs\)/);
  });

  it('counts what a rollback undid (a review: "failed after step 4 of 19" with 3 of the 4 undone)', () => {
    const part = journalFindings(withJournal({ phase: 'failed', done: 4, steps: 19, undone: 3 }))[0]!;
    assert.match(part.message, /after step 4 of 19, 3 of them undone by a rollback/);
    assert.match(part.message, /part-way/);
    const all = journalFindings(withJournal({ phase: 'paused', done: 4, steps: 19, undone: 4 }))[0]!;
    assert.match(all.message, /4 of them undone by a rollback; none of its steps is applied now/);
    // the undo of a step written, not yet confirmed: that step's state is not known
    const undoing = journalFindings(
      withJournal({ phase: 'paused', done: 4, steps: 19, undone: 3, undoing: 'patch-node-a-002' }),
    )[0]!;
    assert.match(undoing.message, /the undo of step patch-node-a-002 was being written/);
  });

  it('NODE_CORDONED_WITHOUT_PLAN: a node cordoned by the tool with no plan recorded (a review: nothing could uncordon it)', () => {
    const s = snap({ nodes: 3, zones: 1 });
    assert.deepEqual(journalFindings(s), []);
    const n = s.nodes[1]!;
    n.unschedulable = true;
    n.annotations = { ...n.annotations, 'calico-tune.io/cordoned-by': 'kubectl-calico-tune' };
    const f = journalFindings(s);
    assert.deepEqual(
      f.map((x) => [x.code, x.severity]),
      [['NODE_CORDONED_WITHOUT_PLAN', 'warning']],
    );
    assert.match(
      f[0]!.fix,
      new RegExp(`kubectl uncordon ${n.name} && kubectl annotate node ${n.name} calico-tune.io/cordoned-by-`),
    );
    // with a plan recorded, its cordons are the plan's (PLAN_UNFINISHED says how to go on)
    s.journal = { namespace: 'kube-system', plan: 'p', phase: 'paused', done: 2, steps: 4 };
    assert.deepEqual(
      journalFindings(s).map((x) => x.code),
      ['PLAN_UNFINISHED'],
    );
    // someone else's cordon (no annotation) is not the tool's
    const m = snap({ nodes: 3, zones: 1 });
    m.nodes[0]!.unschedulable = true;
    assert.deepEqual(journalFindings(m), []);
  });
});
