/**
 * Plans applied to a snapshot, without a cluster: the state after each step, and the BGP model's verdict
 * on every intermediate state (docs/architecture.md: a plan that fails this check is not executed). Pure.
 */
import { bgpStateFromSnapshot, withoutDeadReflectors } from '../bgp/state.js';
import {
  computeTopology,
  externalSessionsByPeer,
  sessionCount,
  type ExternalSessions,
  type Topology,
} from '../bgp/topology.js';
import { flappingNodes } from '../bgp/transients.js';
import { verifyTopology, verifyZoneLoss } from '../bgp/verify.js';
import { objectsNamed, parseSnapshot, snapshotWithChange } from '../model/parse.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import { applyMergePatch } from './merge-patch.js';
import type { PlanObjectRef, Step, StepVerdict } from './types.js';

function sameObject(o: KubeObject, ref: PlanObjectRef): boolean {
  return (
    o.metadata.name === ref.name &&
    o.kind === ref.kind &&
    (o.metadata.namespace ?? '') === (ref.namespace ?? '')
  );
}

/** Annotation marking a cordon the tool made (so eligibility and uncordon can tell it from the operator's). */
export const CORDON_ANNOTATION = 'calico-tune.io/cordoned-by';

/**
 * A node cordoned, but not by calico-tune (no calico-tune.io/cordoned-by): someone else's maintenance, which a
 * plan's cordon never takes over and its uncordon (or a rollback's) never lifts (kube/executor).
 */
export function cordonedByOthers(node: KubeObject | undefined): boolean {
  const spec = node?.['spec'] as { unschedulable?: unknown } | undefined;
  return spec?.unschedulable === true && node?.metadata.annotations?.[CORDON_ANNOTATION] === undefined;
}

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

/** The object a step writes (kind, name, namespace), or undefined for steps that write none. */
function writtenRef(step: Step): PlanObjectRef | undefined {
  switch (step.action) {
    case 'patch':
      return step.patch ? step.object : undefined;
    case 'cordon':
    case 'uncordon':
    case 'delete':
      return step.object;
    case 'create': {
      const m = step.manifest;
      return m
        ? { apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name, namespace: m.metadata.namespace }
        : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The snapshot after one step: `s` itself when the step changes no object (wait, drain), else the same as
 * `reparse(s, applyStepToObjects(s.objects, step))`, computed from the one object that changes when it is a
 * Node, BGPPeer or BGPConfiguration (what plans write), so that a plan of n steps on a large cluster does not
 * parse the cluster n times.
 */
export function applyStep(s: ClusterSnapshot, step: Step): ClusterSnapshot {
  const ref = writtenRef(step);
  if (!ref) return s;
  const found = objectsNamed(s, ref.kind, ref.name, ref.namespace);
  const matches = found.length;
  const before = found[0];
  let after: KubeObject | undefined;
  if (step.action === 'create') after = step.manifest;
  else if (step.action === 'delete') after = undefined;
  else if (before) after = applyStepToObjects([before], step)[0];
  // no object to patch or delete, or several of one name: what parsing everything does
  const quick =
    (matches === 1 || (matches === 0 && step.action === 'create')) && snapshotWithChange(s, before, after);
  return quick || reparse(s, applyStepToObjects(s.objects, step));
}

export function verdictOf(s: ClusterSnapshot, n1: boolean): StepVerdict {
  return verdictWithTopology(s, n1).verdict;
}

/** The verdict and the topology it was computed on (simulate reuses it for the transition of the next step). */
export function verdictWithTopology(
  s: ClusterSnapshot,
  n1: boolean,
): { verdict: StepVerdict; topology: Topology } {
  // a reflector whose node is not Ready carries no routes (calico-node there is most likely down, as status'
  // RR_NOT_READY reads it): every verdict (a plan's steps, their re-verification at apply time and in a
  // rollback, and the "as before" claim after it) counts the pairs it would leave without routes
  const state = bgpStateFromSnapshot(withoutDeadReflectors(s));
  const topology = computeTopology(state);
  const rrCount = state.nodes.filter((n) => n.participates && n.clusterId !== undefined).length;
  // one reflector counts too: with the mesh off, losing it cuts every client (calico#2733)
  const v = verifyTopology(topology, { n1: n1 && rrCount >= 1, maxExamples: 1 });
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
 * The verdicts of a plan's states, one step at a time: each state that changes BGP is verified, with the
 * nodes whose sessions re-form in the transition from the state verified before it. PlanBuilder runs it as
 * it adds steps, while the topology of the state it just made is at hand, and keeps no snapshot but the last.
 * Verdicts are also written onto the steps.
 */
export class Simulation {
  readonly initial: StepVerdict;
  readonly verdicts: { step: Step; verdict: StepVerdict }[] = [];
  /** External peers (routers outside the cluster) that had sessions before the plan and have none after a step. */
  readonly externalsCut: { step: number; peer: string; address: string; key: string; before: number }[] = [];
  /** Sessions per external peer before the plan, and now. */
  readonly externalsBefore: Map<string, ExternalSessions>;
  externalsNow: Map<string, ExternalSessions>;
  private verdict: StepVerdict;
  private topo: Topology;
  private snapshot: ClusterSnapshot;

  /** `n1` asks for the N-1 check (only meaningful where at least two reflectors exist). */
  constructor(
    base: ClusterSnapshot,
    private readonly n1: boolean,
  ) {
    const first = verdictWithTopology(base, n1);
    this.initial = first.verdict;
    this.verdict = first.verdict;
    this.topo = first.topology;
    this.snapshot = base;
    this.externalsBefore = this.externalsNow = externalSessionsByPeer(first.topology);
  }

  /** Records `step`, after which the cluster is `next` (the same snapshot object when it changed no object). */
  push(step: Step, next: ClusterSnapshot): StepVerdict {
    if (next !== this.snapshot && touchesBgp(step)) {
      const before = this.topo;
      const v = verdictWithTopology(next, this.n1);
      this.verdict = v.verdict;
      this.topo = v.topology;
      const flap = flappingNodes(before, this.topo);
      if (flap.count) this.verdict = { ...this.verdict, transient: flap };
      this.externalsNow = externalSessionsByPeer(this.topo);
      for (const [key, e] of this.externalsBefore)
        if (!this.externalsNow.has(key) && !this.externalsCut.some((c) => c.key === key))
          this.externalsCut.push({
            step: this.verdicts.length + 1,
            peer: e.peer,
            address: e.address,
            key,
            before: e.sessions,
          });
    } else if (this.verdict.transient) this.verdict = { ...this.verdict, transient: undefined };
    this.snapshot = next;
    step.verdict = this.verdict;
    this.verdicts.push({ step, verdict: this.verdict });
    return this.verdict;
  }
}

/** Runs the steps on the snapshot, verifying each state that changes BGP (see Simulation). */
export function simulate(
  base: ClusterSnapshot,
  steps: Step[],
  opts: { n1?: boolean } = {},
): { initial: StepVerdict; states: SimulatedStep[] } {
  const sim = new Simulation(base, opts.n1 ?? true);
  let snapshot = base;
  const states: SimulatedStep[] = [];
  for (const step of steps) {
    snapshot = applyStep(snapshot, step);
    states.push({ step, snapshot, verdict: sim.push(step, snapshot) });
  }
  return { initial: sim.initial, states };
}
