/**
 * What a plan's remaining steps rely on, checked on the live state (or a snapshot), in one place: the BGP
 * model's verdicts (plan/preflight.ts `verifySteps`) and every encapsulation switch (encap/plan.ts
 * `encapRefusals`). The executor runs it before a fresh run's first write, when it resumes, and after every
 * answered prompt; `apply -f --snapshot` runs it offline.
 */
import { encapRefusals } from '../encap/plan.js';
import type { ClusterSnapshot } from '../model/types.js';
import { checkFresh, checkIdentity, refusal, verifySteps } from '../plan/preflight.js';
import type { Reverification } from '../plan/reverify.js';
import type { Plan } from '../plan/types.js';

const ENCAP_HINT = 'kubectl calico-tune encap report shows what each mode would do';

/** The steps of `plan` from index `from` on, on `live`; throws the refusal (exit 2), prefixed with `what`. */
export function verifyRest(plan: Plan, from: number, live: ClusterSnapshot, what: string): Reverification {
  const rest = plan.steps.slice(from);
  const r = verifySteps(plan, rest, from, live, what);
  const encap = encapRefusals(rest, live, from);
  if (encap.length) throw refusal(`${what}: on the live state, ${encap.join('; ')}`, [ENCAP_HINT]);
  return r;
}

/** Everything before a fresh run's first write: the plan as it was made, for this cluster, still true. */
export function preflight(plan: Plan, live: ClusterSnapshot): Reverification {
  checkIdentity(plan, live);
  checkFresh(plan, live);
  return verifyRest(plan, 0, live, 'refusing to apply');
}
