/**
 * The checks a plan passes before it touches a cluster (or, offline, a snapshot of it): integrity (digest,
 * step shapes), the cluster it was made for, staleness, and the live re-verification of its steps.
 * Failures are refusals: exit 2, nothing written. Pure; the executor and `apply --snapshot` share it.
 */
import { CliError, ExitCode } from '../errors.js';
import type { ClusterSnapshot } from '../model/types.js';
import { staleness } from './fingerprint.js';
import { clusterMismatch, integrityProblems } from './integrity.js';
import { policyOf, reverify, type Reverification } from './reverify.js';
import type { Plan, Step } from './types.js';

export function refusal(what: string, hints: string[] = []): CliError {
  return new CliError(what, ExitCode.USAGE, { changed: 'nothing was changed', hints });
}

function some(list: string[], n: number): string {
  return `${list.slice(0, n).join('; ')}${list.length > n ? `; and ${list.length - n} more` : ''}`;
}

/** Integrity and identity: the plan is as it was made, for this cluster. `recorded`: the plan comes from the journal. */
export function checkIdentity(plan: Plan, live: ClusterSnapshot, recorded = false): void {
  const problems = integrityProblems(plan, live, recorded);
  if (problems.length)
    throw refusal(
      `refusing the ${recorded ? 'plan recorded in the cluster' : 'plan'}: ${some(problems, 3)}`,
      recorded ? [] : ['build a new plan (migrate plan, rr … --dry-run -o yaml) and review it'],
    );
  const other = clusterMismatch(plan, live.source);
  if (other) throw refusal(`refusing the plan: ${other}`);
}

export function checkFresh(plan: Plan, live: ClusterSnapshot): void {
  const changes = staleness(plan, live);
  if (changes.length)
    throw refusal(`the plan is stale: the cluster changed since it was built (${some(changes, 5)})`, [
      'build a new plan and review it',
    ]);
}

export function describeFailure(r: Reverification, total: number, offset = 0): string {
  const f = r.failure!;
  const pairs = f.pairs.length ? `; e.g. ${f.pairs.slice(0, 3).join('; ')}` : '';
  return `step ${f.index + 1 + offset}/${total} (${f.step.title}): ${f.reason}${pairs}`;
}

/** Runs `steps` (the plan's from index `offset`) on the live state; refuses when any of them fails. */
export function verifySteps(
  plan: Plan,
  steps: Step[],
  offset: number,
  live: ClusterSnapshot,
  what: string,
): Reverification {
  const r = reverify(steps, live, policyOf(plan));
  if (!r.ok)
    throw refusal(`${what}: on the live state, ${describeFailure(r, plan.steps.length, offset)}`, [
      'build a new plan from the current state',
    ]);
  return r;
}
