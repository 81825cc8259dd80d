/**
 * PlanBuilder: planners add steps one at a time; the builder applies each to a copy of the cluster state,
 * derives its undo (inverse merge patch, delete for create, ...), computes gate expectations from the BGP
 * model on the state the gate waits for, and finally verifies every intermediate state. Pure.
 */
import { bgpStateFromSnapshot, nodeIPv4 } from '../bgp/state.js';
import {
  computeTopology,
  expectedPeers,
  routeReflectors,
  sessionsOfNode,
  type Topology,
} from '../bgp/topology.js';
import { objectsNamed } from '../model/parse.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import { fullMeshSessions } from '../model/calico.js';
import { createdPeerSelectors, fingerprint, nodeSetHash, writtenObjects } from './fingerprint.js';
import { planDigest } from './integrity.js';
import { inverseMergePatch } from './merge-patch.js';
import { applyStep, Simulation, verdictOf } from './simulate.js';
import {
  PEER_TYPE,
  PLAN_API_VERSION,
  type Gate,
  type Plan,
  type PlanObjectRef,
  type Precondition,
  type Step,
} from './types.js';

/** Above this many expected peers a gate stores only the count; the executor asks the model for the list. */
const MAX_GATE_IPS = 1000;

export interface StepInput {
  title: string;
  why: string;
  action: Step['action'];
  object?: PlanObjectRef | undefined;
  patch?: Record<string, unknown> | undefined;
  manifest?: KubeObject | undefined;
  precondition?: Precondition | undefined;
  checkpoint?: boolean | undefined;
  /** Nodes whose sessions to wait for after undoing this step (on the state before it). */
  undoGateNodes?: string[] | undefined;
}

function refOf(o: KubeObject): PlanObjectRef {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace };
}

function serverFieldsStripped(o: KubeObject): KubeObject {
  const {
    resourceVersion: _rv,
    uid: _uid,
    creationTimestamp: _ct,
    generation: _g,
    ...meta
  } = o.metadata as KubeObject['metadata'] & { generation?: unknown };
  const out: KubeObject = { ...o, metadata: meta };
  delete out.status;
  return out;
}

export class PlanBuilder {
  readonly base: ClusterSnapshot;
  readonly steps: Step[] = [];
  private snap: ClusterSnapshot;
  private topo?: Topology;
  /**
   * Verifies each state as its step is added (while its topology is at hand: gates need the same one), so
   * no intermediate snapshot is kept for finish(). Made at the first step.
   */
  private sim?: Simulation;
  private ids = new Set<string>();
  readonly touchedNodes = new Set<string>();
  readonly timeout: string;

  constructor(base: ClusterSnapshot, opts: { timeout: string }) {
    this.base = base;
    this.snap = base;
    this.timeout = opts.timeout;
  }

  /** The cluster state after the steps so far. */
  get state(): ClusterSnapshot {
    return this.snap;
  }

  topology(): Topology {
    if (!this.topo) this.topo = computeTopology(bgpStateFromSnapshot(this.snap));
    return this.topo;
  }

  find(kind: string, name: string, namespace?: string): KubeObject | undefined {
    return objectsNamed(this.snap, kind, name, namespace)[0];
  }

  private id(action: string, name: string): string {
    const base = `${action}-${name}`.replace(/[^a-zA-Z0-9.-]/g, '-').slice(0, 60);
    let id = base;
    for (let i = 2; this.ids.has(id); i++) id = `${base}-${i}`;
    this.ids.add(id);
    return id;
  }

  /** Gate expectations for `nodes` on the current state. */
  private gateFor(nodes: string[], exact: boolean, timeout = this.timeout): Gate {
    const t = this.topology();
    const expect: Gate['expect'] = {};
    // sessions with nodes that are not Ready are not waited for (LiveGate.excused, as the executor does)
    const down = new Set(this.snap.nodes.filter((n) => !n.ready).flatMap((n) => nodeIPv4(n) ?? []));
    for (const n of nodes) {
      // the count comes from the class graph; the rows only when they are listed (a mesh node has n-1)
      const i = t.nodeIndex.get(n);
      const count = i === undefined ? 0 : sessionsOfNode(t, i);
      const listed = count <= MAX_GATE_IPS;
      const peers = listed ? expectedPeers(t, n).filter((p) => p.established && !down.has(p.peerIP)) : [];
      expect[n] = {
        count: listed ? peers.length : count,
        peerIPs: listed ? peers.map((p) => p.peerIP) : undefined,
        peerTypes: listed ? peers.map((p) => PEER_TYPE[p.kind]) : undefined,
      };
    }
    return { type: 'bgp-established', nodes, expect, exact, timeout };
  }

  /**
   * Whether applying `patch` to an object now would leave more node pairs without routes than the current
   * state, or lose the N-1 property (any one reflector can fail) that the current state has. Planners use it
   * to choose between orders of steps.
   */
  wouldWeaken(object: PlanObjectRef, patch: Record<string, unknown>): boolean {
    const probe: Step = { id: 'probe', title: '', why: '', action: 'patch', object, patch, undo: [] };
    const next = verdictOf(applyStep(this.snap, probe), true);
    const now = verdictOf(this.snap, true);
    return next.unreachablePairs > now.unreachablePairs || (now.n1Ok === true && next.n1Ok === false);
  }

  /** Adds a write step, applies it, and derives its undo. */
  add(input: StepInput): Step {
    const before = input.object
      ? this.find(input.object.kind, input.object.name, input.object.namespace)
      : undefined;
    const name = input.object?.name ?? input.manifest?.metadata.name ?? 'step';
    const step: Step = {
      id: this.id(input.action, name),
      title: input.title,
      why: input.why,
      action: input.action,
      object: input.object ?? (input.manifest ? refOf(input.manifest) : undefined),
      patch: input.patch,
      manifest: input.manifest,
      precondition: input.precondition,
      checkpoint: input.checkpoint,
      undo: [],
    };
    const undoTitle = (t: string): string => `undo: ${t}`;
    switch (input.action) {
      case 'patch':
        step.undo.push({
          id: `${step.id}-undo`,
          title: undoTitle(input.title),
          why: 'restore the fields this step changed',
          action: 'patch',
          object: step.object,
          patch: inverseMergePatch(before, input.patch),
          undo: [],
        });
        break;
      case 'cordon':
        step.undo.push({
          id: `${step.id}-undo`,
          title: `uncordon ${name}`,
          why: 'undo the cordon',
          action: 'uncordon',
          object: step.object,
          undo: [],
        });
        break;
      case 'uncordon':
        step.undo.push({
          id: `${step.id}-undo`,
          title: `cordon ${name}`,
          why: 'undo the uncordon',
          action: 'cordon',
          object: step.object,
          undo: [],
        });
        break;
      case 'create':
        step.undo.push({
          id: `${step.id}-undo`,
          title: `delete ${input.manifest!.kind} ${name}`,
          why: 'remove what this step created',
          action: 'delete',
          object: step.object,
          undo: [],
        });
        break;
      case 'delete':
        if (before)
          step.undo.push({
            id: `${step.id}-undo`,
            title: `re-create ${before.kind} ${name}`,
            why: 'restore what this step deleted',
            action: 'create',
            manifest: serverFieldsStripped(before),
            undo: [],
          });
        break;
      default:
        break;
    }
    if (input.undoGateNodes?.length) {
      // the state before this step is the current one: that is what the undo must get back to
      step.undo.push({
        id: `${step.id}-undo-wait`,
        title: `wait for BGP sessions of ${input.undoGateNodes.join(', ')} after undoing`,
        why: 'the rolled-back state must be Established before the next undo',
        action: 'wait',
        gate: this.gateFor(input.undoGateNodes, false),
        undo: [],
      });
    }
    if (step.object?.kind === 'Node') this.touchedNodes.add(step.object.name);
    this.steps.push(step);
    const next = applyStep(this.snap, step);
    if (next !== this.snap) {
      this.snap = next;
      this.topo = undefined;
    }
    this.simulation().push(step, next);
    return step;
  }

  /** Adds a gate on the current state: every session the model expects on `nodes` must be Established. */
  wait(
    title: string,
    why: string,
    nodes: string[],
    opts: { exact?: boolean; onTimeout?: 'rollback' | 'pause'; timeout?: string } = {},
  ): Step {
    const step: Step = {
      id: this.id('wait', nodes.length === 1 ? nodes[0]! : `${nodes.length}-nodes`),
      title,
      why,
      action: 'wait',
      gate: this.gateFor(nodes, opts.exact ?? false, opts.timeout),
      onTimeout: opts.onTimeout ?? 'rollback',
      undo: [],
    };
    this.steps.push(step);
    this.simulation().push(step, this.snap);
    return step;
  }

  private simulation(): Simulation {
    return (this.sim ??= new Simulation(this.base, true));
  }

  /** Verifies every intermediate state and assembles the plan. */
  finish(meta: {
    name: string;
    command: string;
    description: string;
    changes: string[];
    warnings: string[];
    createdAt?: string;
    /** Accept a plan after which one zone's outage would cut nodes off (--allow-zone-loss). */
    allowZoneLoss?: boolean | undefined;
  }): Plan {
    const sim = this.simulation();
    const { initial } = sim;
    const states = sim.verdicts;
    const verdicts = states.map((s) => s.verdict);
    // A step fails when it cuts pairs that were reachable before the plan (a cluster that is already
    // partly cut off may still be repaired by a plan): compare with the initial state.
    const worse = (v: (typeof verdicts)[number]): boolean => v.unreachablePairs > initial.unreachablePairs;
    const failed = states.find((s) => worse(s.verdict));
    const n1Failed = states.find((s) => s.verdict.n1Ok === false && initial.n1Ok !== false);
    const anyN1 = [initial, ...verdicts].some((v) => v.n1Ok !== null);
    const zoneFailed = states.find((s) => s.verdict.zoneLossOk === false && initial.zoneLossOk !== false);
    const anyZone = [initial, ...verdicts].some((v) => v.zoneLossOk !== null && v.zoneLossOk !== undefined);
    const zoneReason = zoneFailed
      ? `after step ${states.indexOf(zoneFailed) + 1} (${zoneFailed.step.title}) an outage of one zone (all its route reflectors) would cut nodes off`
      : undefined;
    // (a cluster already cut off is not kept from a repair by zone redundancy: said as a warning instead)
    // (only a cluster with no reflector to lose and pairs already cut off: the repair of a mesh-off cluster
    // without peering; a review found the exception far wider with `unreachablePairs > 0` alone)
    const cutOffRepair = initial.unreachablePairs > 0 && (initial.zoneLossOk ?? null) === null;
    const zoneBlocks = !!zoneFailed && !meta.allowZoneLoss && !cutOffRepair;
    const zoneWarning =
      zoneFailed && !zoneBlocks && !meta.allowZoneLoss
        ? [`${zoneReason}; not refused, because the cluster is already partly cut off`]
        : [];
    // a router outside the cluster (a ToR peered by peerIP) that loses its every session stops learning the
    // pod routes: the node-pair verdicts do not see it
    const cut = sim.externalsCut[0];
    const cutReason = cut
      ? `after step ${cut.step} (${this.steps[cut.step - 1]!.title}) the external peer ${cut.address} (BGPPeer ${cut.peer}) has no BGP session left (${cut.before} before): it stops learning the cluster's pod routes; make BGPPeer ${cut.peer} select nodes that keep their role (for example nodeSelector: all()) and plan again`
      : undefined;
    const fewer = [...sim.externalsBefore]
      .filter(([key, e]) => sim.externalsNow.has(key) && sim.externalsNow.get(key)!.sessions < e.sessions)
      .map(
        ([key, e]) =>
          `external peer ${e.address} (BGPPeer ${e.peer}): ${e.sessions} → ${sim.externalsNow.get(key)!.sessions} sessions after the plan`,
      );
    const drainedBefore = (i: number, node: string): boolean =>
      this.steps.slice(0, i).some((x) => x.action === 'drain' && x.object?.name === node);
    const transient = states.flatMap((st, i) =>
      st.step.verdict?.transient
        ? [
            {
              step: i + 1,
              title: st.step.title,
              nodes: st.step.verdict.transient.nodes,
              count: st.step.verdict.transient.count,
              drained: st.step.verdict.transient.nodes.every((n) => drainedBefore(i, n)),
            },
          ]
        : [],
    );
    const finalTopo = this.topology();
    const participating = finalTopo.state.nodes.filter((n) => n.participates).length;
    const rrs = routeReflectors(finalTopo).filter((r) => r.participates);
    const plan: Plan = {
      apiVersion: PLAN_API_VERSION,
      kind: 'Plan',
      metadata: {
        name: meta.name,
        createdAt: meta.createdAt ?? new Date().toISOString(),
        command: meta.command,
        cluster: {
          server: this.base.source.server ?? null,
          uid: this.base.source.clusterUID ?? null,
          fingerprint: fingerprint(
            this.base,
            [...this.touchedNodes],
            writtenObjects(this.steps),
            createdPeerSelectors(this.steps),
          ),
          nodeSetHash: nodeSetHash(this.base),
          nodeCount: this.base.nodes.length,
        },
      },
      summary: {
        description: meta.description,
        changes: withPeerChanges(meta.changes, this.steps),
        sessions: {
          before: initial.sessions,
          after: verdicts.length ? verdicts[verdicts.length - 1]!.sessions : initial.sessions,
          fullMesh: fullMeshSessions(participating),
        },
        verification: {
          ok: !failed && !zoneBlocks && !cut,
          // claims hold for every state, the start included (from a single reflector the plan cannot claim
          // "any single reflector can fail at every step"); the refusal and the reason are about regressions
          n1Ok: anyN1 ? ![initial, ...verdicts].some((v) => v.n1Ok === false) : null,
          ...(transient.length ? { transient } : {}),
          zoneLoss: {
            ok: anyZone ? ![initial, ...verdicts].some((v) => v.zoneLossOk === false) : null,
            ...(zoneFailed && meta.allowZoneLoss ? { allowed: true } : {}),
            ...(zoneReason ? { reason: zoneReason } : {}),
          },
          failedStep: failed
            ? `${states.indexOf(failed) + 1} (${failed.step.title})`
            : zoneBlocks
              ? `${states.indexOf(zoneFailed) + 1} (${zoneFailed.step.title})`
              : cut
                ? `${cut.step} (${this.steps[cut.step - 1]!.title})`
                : undefined,
          reason: failed
            ? `${failed.verdict.unreachablePairs} node pairs cannot reach each other${failed.verdict.example ? `, e.g. ${failed.verdict.example}` : ''}`
            : zoneBlocks
              ? `${zoneReason} (pass --allow-zone-loss to accept)`
              : cutReason
                ? cutReason
                : n1Failed
                  ? `after step ${states.indexOf(n1Failed) + 1} (${n1Failed.step.title}) the loss of one route reflector would cut nodes off`
                  : undefined,
        },
        warnings: [
          ...(initial.ok
            ? []
            : [
                `before the plan ${initial.unreachablePairs} node pairs already cannot reach each other (${initial.example ?? ''})`,
              ]),
          ...(verdicts.length && !verdicts[verdicts.length - 1]!.ok
            ? [
                `after the plan ${verdicts[verdicts.length - 1]!.unreachablePairs} node pairs still cannot reach each other`,
              ]
            : []),
          ...meta.warnings,
          ...zoneWarning,
          ...fewer,
          ...transient
            .filter((t) => !t.drained)
            .map((t) => {
              // why not: a NotReady node is never drained (its kubelet cannot evict), else --no-drain was given
              const notReady = t.nodes.filter(
                (n) => this.base.nodes.find((x) => x.name === n)?.ready === false,
              );
              const why = notReady.length
                ? `${notReady.join(', ')} ${notReady.length > 1 ? 'are' : 'is'} NotReady, so the plan does not drain ${notReady.length > 1 ? 'them' : 'it'} (a kubelet that is down evicts nothing)`
                : 'it is not drained first (--no-drain)';
              return `step ${t.step} (${t.title}): every BGP session of ${t.nodes.join(', ')}${t.count > t.nodes.length ? ` and ${t.count - t.nodes.length} more` : ''} re-forms and ${why}: its pods' traffic drops while BIRD re-forms its sessions (at least 2 s, up to 15 s measured with real BIRD: docs/fabric.md)`;
            }),
        ],
        routeReflectors: rrs.length
          ? rrs.map((r) => ({
              name: r.name,
              zone: r.zone ?? null,
              clusterId: r.clusterId,
              clients: r.clients,
              sessions: r.sessions,
            }))
          : undefined,
      },
      steps: this.steps,
    };
    plan.metadata.digest = planDigest(plan);
    return plan;
  }
}

/**
 * The change list with every BGPPeer the plan creates or deletes that it does not name yet: a BGPPeer changes
 * who peers with whom across the cluster (a review: `rr promote` on a cluster peered per zone created a global
 * BGPPeer, and the list showed only the node's label).
 */
function withPeerChanges(changes: string[], steps: Step[]): string[] {
  const out = [...changes];
  for (const st of steps) {
    const kind = st.manifest?.kind ?? st.object?.kind;
    if (kind !== 'BGPPeer' || (st.action !== 'create' && st.action !== 'delete')) continue;
    const name = st.manifest?.metadata.name ?? st.object?.name ?? '';
    if (out.some((c) => c.includes(`BGPPeer ${name}`))) continue;
    const spec = (st.manifest?.spec ?? {}) as Record<string, unknown>;
    out.push(
      st.action === 'create'
        ? `BGPPeer ${name}: created (nodeSelector ${String(spec['nodeSelector'] ?? spec['node'] ?? 'all()')}, peerSelector ${String(spec['peerSelector'] ?? spec['peerIP'] ?? '-')})`
        : `BGPPeer ${name}: deleted`,
    );
  }
  return out;
}
