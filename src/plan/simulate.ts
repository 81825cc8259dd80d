/**
 * Plans applied to a snapshot, without a cluster: the state after each step, and the BGP model's verdict
 * on every intermediate state (docs/architecture.md: a plan that fails this check is not executed). Pure.
 */
import { bgpStateFromSnapshot } from '../bgp/state.js';
import { computeTopology, sessionCount, type Topology } from '../bgp/topology.js';
import { flappingNodes } from '../bgp/transients.js';
import { verifyTopology, verifyZoneLoss } from '../bgp/verify.js';
import { parseSnapshot } from '../model/parse.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import { applyMergePatch } from './merge-patch.js';
import type { PlanObjectRef, Step, StepVerdict } from './types.js';

function sameObject(o: KubeObject, ref: PlanObjectRef): boolean {
  return (
    o.kind === ref.kind &&
    o.metadata.name === ref.name &&
    (o.metadata.namespace ?? '') === (ref.namespace ?? '')
  );
}

/** Annotation marking a cordon the tool made (so eligibility and uncordon can tell it from the operator's). */
export const CORDON_ANNOTATION = 'calico-tune.io/cordoned-by';

/** The merge patch of a cordon (`on`) or uncordon. */
export function cordonPatch(on: boolean): Record<string, unknown> {
  return {
    spec: { unschedulable: on ? true : null },
    metadata: { annotations: { [CORDON_ANNOTATION]: on ? 'kubectl-calico-tune' : null } },
  };
}

/** The objects after one step. Steps that do not change objects (wait, drain) return the input. */
export function applyStepToObjects(objects: KubeObject[], step: Step): KubeObject[] {
  const ref = step.object;
  switch (step.action) {
    case 'patch':
      if (!ref || !step.patch) return objects;
      return objects.map((o) => (sameObject(o, ref) ? applyMergePatch(o, step.patch) : o));
    case 'cordon':
    case 'uncordon':
      if (!ref) return objects;
      return objects.map((o) =>
        sameObject(o, ref) ? applyMergePatch(o, cordonPatch(step.action === 'cordon')) : o,
      );
    case 'create': {
      const m = step.manifest;
      if (!m) return objects;
      const key: PlanObjectRef = {
        apiVersion: m.apiVersion,
        kind: m.kind,
        name: m.metadata.name,
        namespace: m.metadata.namespace,
      };
      return [...objects.filter((o) => !sameObject(o, key)), m];
    }
    case 'delete':
      return ref ? objects.filter((o) => !sameObject(o, ref)) : objects;
    default:
      return objects;
  }
}

/** Whether a step can change BGP behaviour (so its state needs verifying). */
export function touchesBgp(step: Step): boolean {
  if (
    step.action === 'wait' ||
    step.action === 'drain' ||
    step.action === 'cordon' ||
    step.action === 'uncordon'
  )
    return false;
  const kind = step.object?.kind ?? step.manifest?.kind;
  return kind === 'Node' || kind === 'BGPConfiguration' || kind === 'BGPPeer';
}

export function reparse(base: ClusterSnapshot, objects: KubeObject[]): ClusterSnapshot {
  return parseSnapshot(objects, base.source);
}

export function verdictOf(s: ClusterSnapshot, n1: boolean): StepVerdict {
  return verdictWithTopology(s, n1).verdict;
}

/** The verdict and the topology it was computed on (simulate reuses it for the transition of the next step). */
export function verdictWithTopology(
  s: ClusterSnapshot,
  n1: boolean,
): { verdict: StepVerdict; topology: Topology } {
  const state = bgpStateFromSnapshot(s);
  const topology = computeTopology(state);
  const rrCount = state.nodes.filter((n) => n.participates && n.clusterId !== undefined).length;
  const v = verifyTopology(topology, { n1: n1 && rrCount >= 2, maxExamples: 1 });
  const ex = v.examples[0];
  const zone = n1 ? verifyZoneLoss(state, { baseUnreachable: v.unreachablePairs }) : { ok: null };
  return {
    topology,
    verdict: {
      ok: v.ok,
      unreachablePairs: v.unreachablePairs,
      n1Ok: v.n1 ? v.n1.ok : null,
      zoneLossOk: zone.ok,
      sessions: sessionCount(topology),
      example: ex ? `${ex.from} does not learn ${ex.to}'s routes: ${ex.reason}` : undefined,
    },
  };
}

export interface SimulatedStep {
  step: Step;
  snapshot: ClusterSnapshot;
  verdict: StepVerdict;
}

/**
 * Runs the steps on the snapshot, verifying each state that changes BGP. `n1` asks for the N-1 check
 * (only meaningful where at least two reflectors exist). Verdicts are also written onto the steps.
 */
export function simulate(
  base: ClusterSnapshot,
  steps: Step[],
  opts: {
    n1?: boolean;
    /**
     * The objects and snapshot after steps, when the caller (PlanBuilder) already applied and parsed them:
     * not parsed again, and the BGP state and topology cached on them are reused.
     */
    after?: ReadonlyMap<Step, { objects: KubeObject[]; snapshot: ClusterSnapshot }>;
  } = {},
): { initial: StepVerdict; states: SimulatedStep[] } {
  const first = verdictWithTopology(base, opts.n1 ?? true);
  const initial = first.verdict;
  let objects = base.objects;
  let snapshot = base;
  let verdict = initial;
  let topo: Topology = first.topology;
  const states: SimulatedStep[] = [];
  for (const step of steps) {
    const known = opts.after?.get(step);
    const next = known ? known.objects : applyStepToObjects(objects, step);
    if (next !== objects) {
      objects = next;
      snapshot = known ? known.snapshot : reparse(base, objects);
      if (touchesBgp(step)) {
        const before = topo;
        const next = verdictWithTopology(snapshot, opts.n1 ?? true);
        verdict = next.verdict;
        topo = next.topology;
        const flap = flappingNodes(before, topo);
        if (flap.count) verdict = { ...verdict, transient: flap };
      } else if (verdict.transient) verdict = { ...verdict, transient: undefined };
    } else if (verdict.transient) verdict = { ...verdict, transient: undefined };
    step.verdict = verdict;
    states.push({ step, snapshot, verdict });
  }
  return { initial, states };
}
