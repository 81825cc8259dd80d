/**
 * The Plan document (apiVersion calico-tune/v1, kind Plan): what every mutating command builds, prints
 * (table | yaml | json | script), saves and applies. Documented in docs/plan-format.md.
 */
import type { KubeObject } from '../model/types.js';

export const PLAN_API_VERSION = 'calico-tune/v1';

export interface PlanObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
}

export type StepAction = 'patch' | 'create' | 'delete' | 'cordon' | 'uncordon' | 'drain' | 'wait';

/**
 * What must become true before the plan goes on.
 * `bgp-established`: every session the BGP model expects on each observed node is Established (and, with
 * `exact`, no other session exists). Observing route reflectors covers every client: an RR lists all its peers.
 */
export interface Gate {
  type: 'bgp-established';
  /** Nodes whose BGP status is read (at most a handful: CalicoNodeStatus is meant for few nodes at once). */
  nodes: string[];
  /**
   * Expected sessions per observed node, computed from the model for the state after the step: the peer
   * addresses and, in the same order, their CalicoNodeStatus types (NodeMesh, NodePeer, GlobalPeer).
   * The executor recomputes them from the live state before it writes; these are for review and `-o script`.
   */
  expect: Record<string, GateExpectation>;
  /** Also require that no unexpected session exists (e.g. leftover mesh sessions). */
  exact: boolean;
  /** Go-style duration, e.g. `10m`. */
  timeout: string;
}

export interface GateExpectation {
  count: number;
  peerIPs?: string[] | undefined;
  peerTypes?: PeerType[] | undefined;
}

/** CalicoNodeStatus peer types (BIRD protocol prefixes Mesh_, Node_, Global_). */
export type PeerType = 'NodeMesh' | 'NodePeer' | 'GlobalPeer';

/** The model's session kinds as CalicoNodeStatus types. */
export const PEER_TYPE = {
  mesh: 'NodeMesh',
  node: 'NodePeer',
  global: 'GlobalPeer',
} as const satisfies Record<string, PeerType>;

/** What the object must look like before the step runs. */
export interface Precondition {
  /** The object must exist (true) or must not (false). */
  exists?: boolean | undefined;
  /**
   * Values at paths (segments, e.g. ['metadata','annotations','projectcalico.org/RouteReflectorClusterID']); null =
   * absent; an array or object is compared as canonical JSON (e.g. the container list a patch replaces).
   */
  fields?:
    | { path: string[]; equals: string | number | boolean | null | unknown[] | Record<string, unknown> }[]
    | undefined;
}

export interface Step {
  id: string;
  title: string;
  why: string;
  action: StepAction;
  object?: PlanObjectRef | undefined;
  /** RFC 7386 JSON merge patch, for `patch`. */
  patch?: Record<string, unknown> | undefined;
  /** Full object, for `create`. */
  manifest?: KubeObject | undefined;
  gate?: Gate | undefined;
  precondition?: Precondition | undefined;
  /** Ask for confirmation before this step when a person is at the terminal. */
  checkpoint?: boolean | undefined;
  /** On gate timeout: roll back what was done, or stop and leave it paused for --resume. */
  onTimeout?: 'rollback' | 'pause' | undefined;
  /** How to reverse this step (run in order). */
  undo: Step[];
  /** The BGP model's verdict on the cluster state after this step. */
  verdict?: StepVerdict | undefined;
}

export interface StepVerdict {
  ok: boolean;
  unreachablePairs: number;
  /** With any single route reflector down; null where there are fewer than 2 RRs (N-1 not applicable). */
  n1Ok: boolean | null;
  /** With every reflector of any one zone down; null where nodes span fewer than 2 zones or no RR exists. */
  zoneLossOk?: boolean | null | undefined;
  /**
   * Nodes whose every BGP session re-forms in this step (src/bgp/transients.ts): their pods' traffic is
   * expected to drop for a few seconds while BIRD re-establishes them. Absent when none.
   */
  transient?: { nodes: string[]; count: number } | undefined;
  sessions: number;
  example?: string | undefined;
}

export interface FingerprintEntry {
  kind: string;
  name: string;
  namespace?: string | undefined;
  resourceVersion: string;
  /**
   * Digest of what matters to the plan: the spec of Calico objects; labels, annotations and
   * `spec.unschedulable` of Nodes (node status heartbeats change resourceVersion but not the digest).
   */
  digest: string;
  /**
   * A node fingerprinted only because a BGPPeer's peerSelector selects it: its digest covers the labels BGPPeer
   * selectors see (labels and `projectcalico.org/labels`), not every annotation.
   */
  selected?: true | undefined;
}

export interface PlanMetadata {
  name: string;
  createdAt: string;
  /** The command that built it. */
  command: string;
  /** sha256 over the steps and the verification summary (docs/plan-format.md): an edited or truncated file is refused. */
  digest?: string | undefined;
  cluster: {
    server: string | null;
    /** UID of the kube-system namespace: the cluster's identity (a plan applies only to the cluster it was made for). */
    uid?: string | null | undefined;
    /** The objects the plan was built from, with their resourceVersions (stale-plan detection). */
    fingerprint: FingerprintEntry[];
    /** Node names the plan was built on (a node added or removed makes the plan stale). */
    nodeSetHash: string;
    nodeCount: number;
  };
}

export interface PlanSummary {
  description: string;
  changes: string[];
  sessions: { before: number; after: number; fullMesh: number };
  verification: {
    ok: boolean;
    n1Ok: boolean | null;
    /** Steps in which some nodes' BGP sessions all re-form (their pods' traffic drops for a few seconds). */
    transient?:
      { step: number; title: string; nodes: string[]; count: number; drained: boolean }[] | undefined;
    /** Losing every reflector of one zone keeps every surviving pair reachable (null: fewer than 2 zones or no RR). */
    zoneLoss?: { ok: boolean | null; allowed?: boolean | undefined; reason?: string | undefined } | undefined;
    failedStep?: string | undefined;
    reason?: string | undefined;
  };
  warnings: string[];
  routeReflectors?:
    { name: string; zone: string | null; clusterId: string; clients: number; sessions: number }[] | undefined;
}

export interface Plan {
  apiVersion: typeof PLAN_API_VERSION;
  kind: 'Plan';
  metadata: PlanMetadata;
  summary: PlanSummary;
  steps: Step[];
}
