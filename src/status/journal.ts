/**
 * PLAN_UNFINISHED: a plan recorded in the cluster's journal Lease (paused, failed, rolling back, or running
 * elsewhere). `status` says so first, with the exact commands that continue or undo it, because until then
 * the cluster is between two topologies (a node may be cordoned, the mesh half-way).
 */
import type { Finding } from '../model/finding.js';
import type { ClusterSnapshot } from '../model/types.js';

export function journalFindings(s: ClusterSnapshot): Finding[] {
  const j = s.journal;
  if (!j) return [];
  const renewed = j.renewedAt ? Date.parse(j.renewedAt) : NaN;
  // held while renewed within the Lease's duration, as the executor judges a holder (kube/journal.ts)
  const running =
    j.phase === 'running' && j.holder !== undefined && Date.now() - renewed < (j.leaseSeconds ?? 30) * 1000;
  const progress = `step ${j.done}${j.steps !== undefined ? ` of ${j.steps}` : ''}`;
  const cmd = (j.command ?? '').startsWith('kubectl calico-tune migrate')
    ? 'kubectl calico-tune migrate apply'
    : 'kubectl calico-tune apply';
  return [
    {
      code: 'PLAN_UNFINISHED',
      severity: running ? 'warning' : 'critical',
      message: running
        ? `plan ${j.plan} is running (${progress} done), held by ${j.holder} (Lease ${j.namespace}/calico-tune)`
        : `plan ${j.plan} is unfinished: ${j.phase === 'running' ? 'stopped (its run no longer renews the lock)' : j.phase} after ${progress}${j.message ? ` (${j.message})` : ''}; ${j.done === 0 && (!j.inFlight || j.inFlight.startsWith('wait-')) ? 'none of its steps has been applied' : `the cluster is part-way between the state before the plan and the one it leads to${j.inFlight && !j.inFlight.startsWith('wait-') ? ` (step ${j.inFlight} was in flight: its write may have landed)` : ''}`} (Lease ${j.namespace}/calico-tune)`,
      objects: [{ kind: 'Lease', name: 'calico-tune', namespace: j.namespace }],
      fix: running
        ? 'wait for it to finish (kubectl calico-tune status shows its progress)'
        : `continue it: ${cmd} --resume   or undo it: ${cmd} --rollback`,
    },
  ];
}

/** While a plan is unfinished, fixes that would start another plan come after it. */
export function deferToUnfinishedPlan(findings: Finding[], s: ClusterSnapshot): Finding[] {
  if (!s.journal) return findings;
  return findings.map((f) =>
    f.code !== 'PLAN_UNFINISHED' && /kubectl calico-tune (migrate|rr (promote|demote|replace))/.test(f.fix)
      ? { ...f, fix: `after the unfinished plan ${s.journal!.plan} is resumed or rolled back: ${f.fix}` }
      : f,
  );
}
