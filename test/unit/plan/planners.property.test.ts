/**
 * Property: on random small clusters, every plan a planner returns is one the executor accepts: intact
 * (digest, step shapes), and its own verdict agrees with the live re-verification on the snapshot it was
 * made from (a plan marked verified re-verifies; one marked failed does not).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { integrityProblems, stepShapeProblems } from '../../../src/plan/integrity.js';
import { firstNotLive, policyOf, reverify } from '../../../src/plan/reverify.js';
import { verdictOf } from '../../../src/plan/simulate.js';
import type { KubeObject } from '../../../src/model/types.js';
import type { ClusterSpec } from '../../fixtures/generate.js';
import { snap } from '../helpers.js';
import { allPlans, stateAfter } from './helpers.js';

function sorted(objs: KubeObject[]): KubeObject[] {
  return [...objs].sort((a, b) =>
    `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`),
  );
}

const RUNS = Number(process.env['CALICO_TUNE_PROPERTY_RUNS'] ?? 30);

const cluster: fc.Arbitrary<ClusterSpec> = fc.record({
  nodes: fc.integer({ min: 2, max: 30 }),
  zones: fc.integer({ min: 1, max: 3 }),
  rrs: fc.integer({ min: 0, max: 3 }),
  mesh: fc.boolean(),
  calico: fc.constantFrom('v3.27.3' as const, 'v3.31.3' as const),
  seed: fc.integer({ min: 1, max: 10_000 }),
  defaultBgpConfig: fc.boolean(),
  notReady: fc.integer({ min: 0, max: 1 }),
  unschedulable: fc.integer({ min: 0, max: 1 }),
  windows: fc.integer({ min: 0, max: 1 }),
  rrPeering: fc.boolean(),
  controlPlane: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
});

describe('planners: property over random clusters', () => {
  it(`stopped after any step, a verified plan resumes and rolls back safely (${RUNS} clusters)`, function () {
    this.timeout(60_000);
    fc.assert(
      fc.property(cluster, fc.array(fc.nat(), { minLength: 12, maxLength: 12 }), (spec, cuts) => {
        // the generator places no reflector without a BGPConfiguration to turn the mesh off in
        const s = snap(spec.defaultBgpConfig ? spec : { ...spec, rrs: 0, mesh: true });
        const healthy = verdictOf(s, false).unreachablePairs === 0;
        allPlans(s).forEach(({ what, plan }, j) => {
          if (!plan.summary.verification.ok) return;
          const k = cuts[j % cuts.length]! % (plan.steps.length + 1);
          const where = `${what} on ${JSON.stringify(spec)}, stopped after ${k} of ${plan.steps.length} steps`;
          const done = plan.steps.slice(0, k);
          const mid = stateAfter(s, done);
          // --resume: the done steps are live, the rest re-verifies from here
          assert.equal(firstNotLive(plan, new Set(done.map((x) => x.id)), mid), undefined, where);
          const r = reverify(plan.steps.slice(k), mid, policyOf(plan));
          assert.equal(r.ok, true, `${where}: ${r.failure?.reason}`);
          // --rollback: the undo steps, last step first, re-verify and give back the objects as they were. From a
          // start that already cut pairs off, a rollback that returns there is refused by design (reverify never
          // accepts more unreachable pairs than the live state has), so only healthy starts are rolled back here.
          if (!healthy) return;
          const undo = [...done].reverse().flatMap((x) => x.undo);
          const u = reverify(undo, mid, { acceptN1: true, acceptZoneLoss: true });
          assert.equal(u.ok, true, `${where}: undo ${u.failure?.index}: ${u.failure?.reason}`);
          assert.deepEqual(sorted(stateAfter(mid, undo).objects), sorted(s.objects), where);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it(`every plan is intact, and re-verifies exactly when the planner says it is verified (${RUNS} clusters)`, function () {
    this.timeout(60_000);
    let verified = 0;
    fc.assert(
      fc.property(cluster, (spec) => {
        // the generator places no reflector without a BGPConfiguration to turn the mesh off in
        const s = snap(spec.defaultBgpConfig ? spec : { ...spec, rrs: 0, mesh: true });
        for (const { what, plan } of allPlans(s)) {
          const where = `${what} on ${JSON.stringify(spec)}`;
          assert.deepEqual(integrityProblems(plan), [], where);
          plan.steps.forEach((st, i) => assert.deepEqual(stepShapeProblems(st, `step ${i + 1}`), [], where));
          const r = reverify(plan.steps, s, policyOf(plan));
          assert.equal(
            r.ok,
            plan.summary.verification.ok,
            `${where}: plan says ${plan.summary.verification.reason ?? 'ok'}, reverify says ${r.failure?.reason ?? 'ok'}`,
          );
          if (plan.summary.verification.ok) verified++;
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(verified > RUNS, `${verified} verified plans`);
  });
});
