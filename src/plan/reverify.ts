/**
 * Live re-verification: before the executor writes anything (and again on --resume and --rollback) it runs
 * the steps it is about to perform on the state it just read, not on the state the plan was made from:
 * every precondition must hold on the state the step will meet, and the BGP model must find no node pair
 * cut off (nor an N-1 or zone-loss regression the plan did not accept) at any intermediate state. The gate
 * expectations the executor waits for come from the same simulation. Pure.
 */
import { bgpStateFromSnapshot, nodeIPv4 } from '../bgp/state.js';
import { computeTopology, expectedPeers, externalSessionsByPeer, type Topology } from '../bgp/topology.js';
import { verify } from '../bgp/verify.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';

import { contains, createdContent, patchIsNoop } from './merge-patch.js';
import { digestFull } from './fingerprint.js';
import { isCalicoGroup } from '../model/parse.js';
import { applyStep, cordonedByOthers, cordonPatch, touchesBgp, verdictWithTopology } from './simulate.js';
import {
  PEER_TYPE,
  type PeerType,
  type Plan,
  type Precondition,
  type Step,
  type StepVerdict,
} from './types.js';

export interface ExpectedSession {
  peerIP: string;
  type: PeerType;
}

export interface ReverifyFailure {
  /** Index into the steps given. */
  index: number;
  step: Step;
  reason: string;
  /** Example node pairs it would cut ("a ↛ b: why"). */
  pairs: string[];
}

/** What a gate waits for, computed on the state it waits for. */
export interface LiveGate {
  /** The sessions each observed node must have Established. */
  sessions: Map<string, ExpectedSession[]>;
  /** Reflectors at that point, and the number of nodes (to say honestly what a gate samples). */
  reflectors: Set<string>;
  nodes: number;
  /**
   * Addresses of nodes that are not Ready: a session with one is neither required nor, with `exact`, refused
   * (calico-node there is most likely down; a gate waiting for it would only time out and roll back).
   */
  excused: Set<string>;
}

export interface Reverification {
  ok: boolean;
  failure?: ReverifyFailure | undefined;
  initial: StepVerdict;
  /** Per wait step id. */
  gates: Map<string, LiveGate>;
  /** The state after all the steps. */
  final: ClusterSnapshot;
}

export interface ReverifyPolicy {
  /** The plan accepted that some state fails N-1 (its summary said so). */
  acceptN1: boolean;
  /** --allow-zone-loss was given when the plan was made. */
  acceptZoneLoss: boolean;
  /**
   * The plan passed its own verification, so the N-1 and zone-loss verdicts recorded on its steps were accepted
   * (a plan may end where it started, e.g. with one reflector). A run resumed from a safer intermediate state
   * then accepts a step whose recorded verdict already failed them; other steps are still held to the live state.
   */
  acceptRecorded?: boolean | undefined;
}

export function policyOf(plan: Plan): ReverifyPolicy {
  return {
    acceptN1: plan.summary.verification.n1Ok === false,
    acceptZoneLoss: plan.summary.verification.zoneLoss?.allowed === true,
    acceptRecorded: plan.summary.verification.ok,
  };
}

function getPath(o: unknown, path: string[]): unknown {
  let cur: unknown = o;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Why the object does not meet the precondition, or undefined when it does. */
export function preconditionProblem(
  obj: KubeObject | undefined,
  pre: Precondition | undefined,
): string | undefined {
  if (!pre) return undefined;
  if (pre.exists === true && !obj) return 'the object does not exist';
  if (pre.exists === false && obj) return 'the object already exists';
  for (const f of pre.fields ?? []) {
    const v = getPath(obj, f.path);
    const want = f.equals;
    if (want !== null && typeof want === 'object') {
      if (digestFull(v ?? null) !== digestFull(want))
        return `${f.path.slice(-1)[0]} ${v === undefined ? 'is unset' : 'changed since the plan was made'}`;
      continue;
    }
    if (want === null ? v !== undefined && v !== null : v !== want) {
      return `${f.path.slice(-1)[0]} is ${v === undefined ? 'unset' : JSON.stringify(v)}, expected ${want === null ? 'unset' : JSON.stringify(want)}`;
    }
  }
  return undefined;
}

/** Whether the step's effect already holds on the object (so a resumed run can skip it). */
export function alreadyDone(step: Step, obj: KubeObject | undefined): boolean {
  switch (step.action) {
    case 'patch':
      return !!obj && patchIsNoop(obj, step.patch);
    case 'cordon':
      return !!obj && patchIsNoop(obj, cordonPatch(true));
    case 'uncordon':
      return !!obj && patchIsNoop(obj, cordonPatch(false));
    case 'create':
      // exact for Calico objects (as before); server-defaulted kinds (Service, ...) by containment, labels
      // included: a ConfigMap has no spec, and someone else's of the same name is not ours made
      return (
        !!obj &&
        (isCalicoGroup(obj.apiVersion)
          ? JSON.stringify(obj.spec ?? {}) === JSON.stringify(step.manifest?.spec ?? {})
          : contains(obj, createdContent(step.manifest)))
      );
    case 'delete':
      return !obj;
    default:
      return false;
  }
}

export function findObject(objects: KubeObject[], step: Step): KubeObject | undefined {
  const kind = step.object?.kind ?? step.manifest?.kind;
  const name = step.object?.name ?? step.manifest?.metadata.name;
  const ns = step.object?.namespace ?? step.manifest?.metadata.namespace;
  return objects.find(
    (o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? '') === (ns ?? ''),
  );
}

/** The sessions the model expects Established on `node` in topology `t`, with their CalicoNodeStatus types. */
export function expectedSessions(t: Topology, node: string): ExpectedSession[] {
  return expectedPeers(t, node)
    .filter((p) => p.established)
    .map((p) => ({ peerIP: p.peerIP, type: PEER_TYPE[p.kind] }));
}

/**
 * Runs `steps` on `live` in order. A step fails when its precondition does not hold on the state it meets
 * (unless its effect already holds: a resumed step), when a gate names a node that does not exist, or when
 * the state after it cuts more node pairs than the live state, or loses N-1 or zone-loss safety the live
 * state had and the plan did not accept losing.
 */
export function reverify(steps: Step[], live: ClusterSnapshot, policy: ReverifyPolicy): Reverification {
  const first = verdictWithTopology(live, true);
  const initial = first.verdict;
  // routers outside the cluster (BGPPeer peerIP) and their sessions now: a step must not leave one with none
  const externals = externalSessionsByPeer(first.topology);
  let snap = live;
  let topo: Topology | undefined;
  const gates = new Map<string, LiveGate>();
  const fail = (index: number, reason: string, pairs: string[] = []): Reverification => ({
    ok: false,
    failure: { index, step: steps[index]!, reason, pairs },
    initial,
    gates,
    final: snap,
  });
  const nodeNames = (): Set<string> => new Set(snap.nodes.map((n) => n.name));
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.action === 'wait') {
      const g = step.gate!;
      const names = nodeNames();
      const missing = g.nodes.filter((n) => !names.has(n));
      if (missing.length)
        return fail(i, `the gate waits for node(s) that do not exist: ${missing.join(', ')}`);
      topo ??= computeTopology(bgpStateFromSnapshot(snap));
      const excused = new Set(snap.nodes.filter((n) => !n.ready).flatMap((n) => nodeIPv4(n) ?? []));
      gates.set(step.id, {
        excused,
        sessions: new Map(
          g.nodes.map((n) => {
            const all = expectedSessions(topo!, n);
            const live = all.filter((x) => !excused.has(x.peerIP));
            // never a gate that passes on nothing: a node whose every peer is not Ready still waits for them
            // (and times out, and rolls back) rather than reporting the change safe
            return [n, live.length || !all.length ? live : all];
          }),
        ),
        reflectors: new Set(snap.nodes.filter((n) => n.bgp.rrClusterId !== undefined).map((n) => n.name)),
        nodes: snap.nodes.length,
      });
      continue;
    }
    if (step.action === 'drain' || step.action === 'cordon' || step.action === 'uncordon') {
      if (!nodeNames().has(step.object?.name ?? ''))
        return fail(i, `node ${step.object?.name ?? '?'} does not exist`);
      if (step.action === 'drain') {
        // a node that went NotReady since the plan was made: its kubelet cannot evict (the drain would block
        // until it times out), and a plan made now leaves it undrained and watches it from other nodes
        if (snap.nodes.find((n) => n.name === step.object!.name)?.ready === false)
          return fail(
            i,
            `node ${step.object!.name} is not Ready now: its pods cannot be evicted; make the plan again`,
          );
        continue;
      }
    }
    const obj = findObject(snap.objects, step);
    if (!alreadyDone(step, obj)) {
      const problem = preconditionProblem(obj, step.precondition);
      if (problem)
        return fail(
          i,
          `${step.object?.kind ?? step.manifest?.kind} ${step.object?.name ?? step.manifest?.metadata.name}: ${problem}`,
        );
      if (step.action === 'patch' && !obj)
        return fail(i, `${step.object!.kind} ${step.object!.name} does not exist`);
    }
    const next = applyStep(snap, step);
    if (next === snap) continue;
    snap = next;
    topo = undefined;
    if (!touchesBgp(step)) continue;
    const after = verdictWithTopology(snap, true);
    const v = after.verdict;
    if (externals.size) {
      const now = externalSessionsByPeer(after.topology);
      for (const [key, e] of externals)
        if (!now.has(key))
          return fail(
            i,
            `after it the external peer ${e.address} (BGPPeer ${e.peer}) has no BGP session left (${e.sessions} now): it would stop learning the cluster's pod routes`,
          );
    }
    if (v.unreachablePairs > initial.unreachablePairs) {
      const full = verify(bgpStateFromSnapshot(snap), { maxExamples: 5 });
      return fail(
        i,
        `the BGP model finds ${v.unreachablePairs} node pairs without routes after it (${initial.unreachablePairs} now)`,
        full.examples.map((e) => `${e.from} ↛ ${e.to}: ${e.reason}`),
      );
    }
    const recorded = policy.acceptRecorded ? step.verdict : undefined;
    if (v.n1Ok === false && initial.n1Ok !== false && !policy.acceptN1 && recorded?.n1Ok !== false)
      return fail(i, 'after it, the loss of one route reflector would cut nodes off (N-1)');
    if (
      v.zoneLossOk === false &&
      initial.zoneLossOk !== false &&
      !policy.acceptZoneLoss &&
      recorded?.zoneLossOk !== false
    )
      return fail(i, 'after it, an outage of one zone (all its route reflectors) would cut nodes off');
  }
  return { ok: true, initial, gates, final: snap };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** One merge patch with the effect of `a` then `b` (RFC 7386): b's fields win, objects merge. */
export function composeMergePatch(a: unknown, b: unknown): unknown {
  if (!isObj(a) || !isObj(b)) return b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] = isObj(out[k]) && isObj(v) ? composeMergePatch(out[k], v) : v;
  return out;
}

/** The patch a write step applies (cordon and uncordon included), or undefined for create/delete. */
function patchOf(step: Step): Record<string, unknown> | undefined {
  if (step.action === 'patch') return step.patch;
  if (step.action === 'cordon' || step.action === 'uncordon') return cordonPatch(step.action === 'cordon');
  return undefined;
}

export interface NotLive {
  index: number;
  step: Step;
  reason: string;
}

/**
 * Among the steps recorded done, the first whose effect is not live, with why. The steps of one object
 * compose in plan order (a cordon followed by an uncordon expects the node uncordoned), so only the net
 * effect is compared: a label the plan set and a failed rollback removed is found; a cordon the plan itself
 * lifted later is not.
 */
export function firstNotLive(plan: Plan, done: Set<string>, live: ClusterSnapshot): NotLive | undefined {
  interface Expect {
    first: number;
    exists?: boolean;
    patch?: unknown;
  }
  const byObject = new Map<string, Expect>();
  const keyOf = (s: Step): string => {
    const kind = s.object?.kind ?? s.manifest?.kind;
    const name = s.object?.name ?? s.manifest?.metadata.name;
    return `${kind}/${s.object?.namespace ?? s.manifest?.metadata.namespace ?? ''}/${name}`;
  };
  plan.steps.forEach((s, i) => {
    if (!done.has(s.id) || s.action === 'wait' || s.action === 'drain') return;
    // someone else's cordon: the executor left it as it found it, done either way
    if ((s.action === 'cordon' || s.action === 'uncordon') && cordonedByOthers(findObject(live.objects, s)))
      return;
    const k = keyOf(s);
    const e = byObject.get(k) ?? { first: i };
    if (s.action === 'create') {
      e.exists = true;
      e.patch = createdContent(s.manifest);
    } else if (s.action === 'delete') {
      e.exists = false;
      e.patch = undefined;
    } else {
      e.patch = composeMergePatch(e.patch ?? {}, patchOf(s));
    }
    byObject.set(k, e);
  });
  let worst: NotLive | undefined;
  for (const [k, e] of byObject) {
    const step = plan.steps[e.first]!;
    const obj = findObject(live.objects, step);
    let reason: string | undefined;
    if (e.exists === false && obj) reason = `${k.replace(/\/\//, '/')} exists again`;
    else if (e.exists !== false && !obj) reason = `${k.replace(/\/\//, '/')} does not exist`;
    else if (
      e.patch !== undefined &&
      obj &&
      !patchIsNoop(obj, e.patch) &&
      !(e.exists === true && !isCalicoGroup(obj.apiVersion) && contains(obj, e.patch))
    )
      reason = `${k.replace(/\/\//, '/')} no longer has what the done steps wrote`;
    if (reason && (!worst || e.first < worst.index)) worst = { index: e.first, step, reason };
  }
  return worst;
}
