/**
 * PLAN_UNFINISHED: a plan recorded in the cluster's journal Lease (paused, failed, rolling back, or running
 * elsewhere). `status` says so first, with the exact commands that continue or undo it, because until then
 * the cluster is between two topologies (a node may be cordoned, the mesh half-way).
 */
import type { Finding } from '../model/finding.js';
import type { ClusterSnapshot } from '../model/types.js';
import { CORDON_ANNOTATION } from '../plan/simulate.js';

export function journalFindings(s: ClusterSnapshot): Finding[] {
  const j = s.journal;
  if (!j) {
    // cordoned by a run whose record is gone (deleted while the run was dead): nothing will uncordon them, and
    // `rr promote` finds nothing to do (a review)
    const left = s.nodes.filter((n) => n.unschedulable && n.annotations[CORDON_ANNOTATION] !== undefined);
    if (!left.length) return [];
    const names = left.map((n) => n.name);
    return [
      {
        code: 'NODE_CORDONED_WITHOUT_PLAN',
        severity: 'warning',
        message: `${left.length === 1 ? `node ${names[0]} is` : `${left.length} nodes are`} cordoned by kubectl calico-tune (annotation ${CORDON_ANNOTATION}) but no plan is recorded (no Lease calico-tune): a run stopped and its record was deleted, so nothing will uncordon ${left.length === 1 ? 'it' : 'them'}; no new pod is scheduled there${left.length > 1 ? ` (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''})` : ''}`,
        objects: left.slice(0, 5).map((n) => ({ kind: 'Node', name: n.name })),
        fix: `check the node${left.length > 1 ? 's' : ''} (kubectl calico-tune rr list), then: ${names
          .slice(0, 3)
          .map((n) => `kubectl uncordon ${n} && kubectl annotate node ${n} ${CORDON_ANNOTATION}-`)
          .join('; ')}${names.length > 3 ? '; ...' : ''}`,
      },
    ];
  }
  const renewed = j.renewedAt ? Date.parse(j.renewedAt) : NaN;
  // held while renewed within the Lease's duration, as the executor judges a holder (kube/journal.ts)
  // (and not a process of this machine that is gone: a run killed or hung up)
  const running =
    j.phase === 'running' &&
    j.holder !== undefined &&
    !j.holderGone &&
    Date.now() - renewed < (j.leaseSeconds ?? 30) * 1000;
  const undone = j.undone ?? 0;
  const progress = `step ${j.done}${j.steps !== undefined ? ` of ${j.steps}` : ''}${undone ? `, ${undone} of them undone by a rollback` : ''}`;
  const writing = j.inFlight && !j.inFlight.startsWith('wait-');
  const where = j.undoing
    ? `the cluster is part-way (the undo of step ${j.undoing} was being written when the rollback stopped: it may have landed)`
    : j.done - undone <= 0 && !writing
      ? undone
        ? 'none of its steps is applied now'
        : 'none of its steps has been applied'
      : `the cluster is part-way between the state before the plan and the one it leads to${writing ? ` (step ${j.inFlight} was in flight: its write may have landed)` : ''}`;
  const cmd = (j.command ?? '').startsWith('kubectl calico-tune migrate')
    ? 'kubectl calico-tune migrate apply'
    : 'kubectl calico-tune apply';
  return [
    {
      code: 'PLAN_UNFINISHED',
      severity: running ? 'warning' : 'critical',
      message: running
        ? `plan ${j.plan} is running (${progress} done), held by ${j.holder} (Lease ${j.namespace}/calico-tune)`
        : `plan ${j.plan} is unfinished: ${j.phase === 'running' ? (j.holderGone ? 'stopped (its run no longer runs)' : 'stopped (its run no longer renews the lock)') : j.phase} after ${progress}${j.message ? ` (${j.message})` : ''}; ${where} (Lease ${j.namespace}/calico-tune)`,
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
