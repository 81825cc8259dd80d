/**
 * Route-reflector planners: promote, demote, replace, each (snapshot, options) → Plan, built on a PlanBuilder (which verifies
 * every intermediate state with the BGP model). Pure; refusals are usage errors (exit 2, nothing changed).
 */
import { bgpStateFromSnapshot, runsBird, withoutDeadReflectors } from '../bgp/state.js';
import { computeTopology, hasSession } from '../bgp/topology.js';
import { verify } from '../bgp/verify.js';
import { NothingToDo, usageError } from '../errors.js';
import { calicoApiVersion } from '../model/api-mode.js';
import { clusterIdProblem } from '../model/net.js';
import { ZERO_CLUSTER_ID } from '../bgp/state.js';
import { ANN_RR_CLUSTER_ID, calicoLabels, effectiveBgp } from '../model/parse.js';
import type { BgpPeerInfo, ClusterSnapshot, KubeObject, NodeInfo } from '../model/types.js';
import { SelectorParseError, trySelector } from '../bgp/selector.js';
import { PlanBuilder } from '../plan/builder.js';
import { planName } from '../plan/name.js';
import type { Plan } from '../plan/types.js';
import { applyStep } from '../plan/simulate.js';
import { RR_LABEL_KEYS, SYSTEM_LABEL, isRouteReflector } from '../model/calico.js';
import { cautions, ineligibility } from './recommend.js';
import { nodeNamed } from '../model/names.js';
import { listSome } from '../model/format.js';
import { MANAGED_BY, MANAGED_BY_LABEL, MANAGED_BY_LABELS } from '../model/managed-by.js';
import { labelKeyProblem, labelValueProblem } from '../model/label-syntax.js';

export const DEFAULT_CLUSTER_ID = '244.0.0.1';
export const DEFAULT_RR_LABEL = 'route-reflector=true';

/**
 * The reflector label when --label is not given: the cluster's own convention, a label of RR_LABEL_KEYS that
 * every reflector carries with one value and a BGPPeer's peerSelector uses (Calico's docs use route-reflector,
 * calico-the-hard-way calico-route-reflector); else route-reflector=true. A review found `rr promote` adding a
 * second convention (a new label and BGPPeer) next to hand-made reflectors.
 */
export function conventionLabel(s: ClusterSnapshot): string {
  const rrs = s.nodes.filter(isRouteReflector);
  if (!rrs.length) return DEFAULT_RR_LABEL;
  const selectors = s.bgpPeers.flatMap((p) => {
    const sel = trySelector(p.peerSelector ?? '');
    return p.peerSelector && !(sel instanceof SelectorParseError) ? [sel] : [];
  });
  const keys = new Set(selectors.flatMap((sel) => [...sel.keys]));
  for (const key of RR_LABEL_KEYS) {
    if (!keys.has(key) || rrs.some((n) => n.calicoLabels[key] === undefined)) continue;
    const counts = new Map<string, number>();
    for (const n of rrs) counts.set(n.calicoLabels[key]!, (counts.get(n.calicoLabels[key]!) ?? 0) + 1);
    // one value for all, or the most common one; each reflector its own value (Calico's e2e style, its
    // cluster ID): none of them, only the key
    const [top, shared] = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;
    const value = counts.size === 1 || shared > 1 ? top : '';
    if (!/^[A-Za-z0-9_.-]*$/.test(value)) continue;
    // a convention only where the value does not matter: every selector that mentions the key sees each
    // reflector the same with this value in place of its own
    const same = selectors
      .filter((sel) => sel.keys.includes(key))
      .every((sel) =>
        rrs.every((n) => sel.matches(n.calicoLabels) === sel.matches({ ...n.calicoLabels, [key]: value })),
      );
    if (same) return `${key}=${value}`;
  }
  return DEFAULT_RR_LABEL;
}
export const PEER_NAME = 'peer-with-route-reflectors';
export const PEER_NAME_FALLBACK = 'calico-tune-route-reflectors';

export interface RrOptions {
  clusterId?: string | undefined;
  /** `key=value` label that BGPPeer selectors use to find reflectors. */
  label?: string | undefined;
  drain?: boolean | undefined;
  force?: boolean | undefined;
}

export function parseLabel(s: string): { key: string; value: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9_./-]*)=([A-Za-z0-9_.-]*)$/.exec(s);
  if (!m) throw usageError(`invalid --label "${s}": expected key=value, e.g. ${DEFAULT_RR_LABEL}`);
  // what the API server would refuse with a 422, after the plan's first writes (an operator trial)
  const problem = labelKeyProblem(m[1]!) ?? labelValueProblem(m[2]!);
  if (problem) throw usageError(`invalid --label "${s}": ${problem}`, `e.g. ${DEFAULT_RR_LABEL}`);
  // the plan's own integrity check refuses these at apply time: refuse them here, before a plan is saved
  if (SYSTEM_LABEL.test(m[1]!))
    throw usageError(
      `invalid --label "${s}": ${m[1]} is in Kubernetes' own label domain (kubernetes.io, k8s.io), which the kubelet and controllers own; it cannot mark route reflectors`,
      `use a label of your own, e.g. ${DEFAULT_RR_LABEL}`,
    );
  return { key: m[1]!, value: m[2]! };
}

/** Strict cluster-ID validation: Calico silently ignores anything but a bare dotted-quad IPv4 address. */
export function validateClusterId(id: string): string {
  const problem = clusterIdProblem(id);
  if (id === ZERO_CLUSTER_ID)
    throw usageError(
      `invalid cluster ID "${id}": Calico accepts it, but BIRD reads 0.0.0.0 as no cluster ID and uses each reflector's router ID instead, so reflectors given it do not share one, and confd still treats them as if they did`,
      'use an unused IPv4 address other than 0.0.0.0, e.g. 244.0.0.1',
    );
  if (problem)
    throw usageError(
      `invalid cluster ID "${id}": it ${problem}; ${id.includes('/') ? "BIRD's rr cluster id takes an address (a network is a syntax error there)" : 'Calico would silently ignore it'}`,
      'use a bare IPv4 address, e.g. 244.0.0.1',
    );
  return id;
}

/** Cluster ID per node a plan promotes (node name -> cluster ID). */
export type ClusterIds = ReadonlyMap<string, string>;

/** The k-th cluster ID of the tool's range (1 -> 244.0.0.1). */
function clusterIdAt(k: number): string {
  return `244.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
}

/**
 * The cluster IDs for the nodes a plan promotes. `--cluster-id X`: they all share X. By default each gets a
 * cluster ID of its own, the lowest free one from 244.0.0.1 (free: no node carries it). Measured on real BIRD
 * (docs/fabric.md, "Why a promotion drops traffic"): with a cluster ID of its own only the promoted node's side
 * of its sessions restarts (2.0 s for every route); a shared one also changes the other reflectors' side of
 * their sessions with it (`rr client` goes away), both ends reconnect at once and collide, and the node is cut
 * off for 2-15 s, at times for minutes. Distinct IDs also remove the calico#2735 trap (clients peered with only
 * some reflectors of a shared cluster ID lose routes): reflectors with different IDs reflect to each other.
 */
export function assignClusterIds(s: ClusterSnapshot, names: string[], shared?: string): ClusterIds {
  if (shared !== undefined) {
    const id = validateClusterId(shared);
    return new Map(names.map((n) => [n, id]));
  }
  const used = new Set(s.nodes.map((n) => n.bgp.rrClusterId).filter((x) => x !== undefined));
  const out = new Map<string, string>();
  let k = 1;
  for (const name of names) {
    let id = clusterIdAt(k++);
    while (used.has(id)) id = clusterIdAt(k++);
    out.set(name, id);
  }
  return out;
}

/** "cluster ID 244.0.0.1" or "cluster IDs 244.0.0.1, 244.0.0.2 (one each)". */
export function describeClusterIds(ids: ClusterIds): string {
  const distinct = [...new Set(ids.values())];
  if (distinct.length === 1) return `cluster ID ${distinct[0]}`;
  return distinct.length === ids.size
    ? `one cluster ID each: ${distinct.join(', ')}`
    : `cluster IDs ${distinct.join(', ')}`;
}

function nodeRef(name: string) {
  return { apiVersion: 'v1', kind: 'Node', name };
}

export function requireNodes(s: ClusterSnapshot, names: string[]): NodeInfo[] {
  if (!names.length) throw usageError('name at least one node');
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw usageError(`node ${dup} is named twice`);
  return names.map((name) => nodeNamed(s, name));
}

/** The merge patch that makes a node a reflector: label and cluster ID together (one write). */
function promotePatch(label: { key: string; value: string }, clusterId: string): Record<string, unknown> {
  return {
    metadata: { labels: { [label.key]: label.value }, annotations: { [ANN_RR_CLUSTER_ID]: clusterId } },
  };
}

/** Whether, after promoting `nodes`, every BIRD node has a session with every reflector (existing peers only). */
function peeringCovers(
  s: ClusterSnapshot,
  promote: string[],
  label: { key: string; value: string },
  clusterIds: ClusterIds,
): boolean {
  let after = s;
  for (const name of promote) {
    const clusterId = clusterIds.get(name)!;
    after = applyStep(after, {
      id: 'x',
      title: '',
      why: '',
      action: 'patch',
      object: nodeRef(name),
      patch: promotePatch(label, clusterId),
      undo: [],
    });
  }
  const t = computeTopology(bgpStateFromSnapshot(after));
  const rrIdx: number[] = [];
  t.state.nodes.forEach((n, i) => {
    if (n.clusterId !== undefined && t.participates[i] === 1) rrIdx.push(i);
  });
  for (const r of rrIdx) {
    for (let m = 0; m < t.n; m++) {
      if (m !== r && t.participates[m] === 1 && !hasSession(t, r, m)) return false;
    }
  }
  return true;
}

/**
 * The label as a Calico selector: `key == 'value'`, or `has(key)` when only the key marks reflectors (each has
 * its own value: conventionLabel; `key == ''` would select none of them, a review).
 */
function labelSelector(label: { key: string; value: string }): string {
  return label.value === '' ? `has(${label.key})` : `${label.key} == '${label.value}'`;
}

function labelled(n: NodeInfo, label: { key: string; value: string }): boolean {
  return label.value === '' ? label.key in n.calicoLabels : n.calicoLabels[label.key] === label.value;
}

/** Adds the BGPPeer that peers every node with the reflectors (and reflectors with each other), if needed. */
export function ensurePeering(
  b: PlanBuilder,
  promote: string[],
  label: { key: string; value: string },
  clusterIds: ClusterIds,
  /** `skip`: when ordinary nodes carry the label, add nothing rather than refuse (`migrate --to mesh`). */
  opts: { othersLabelled?: 'refuse' | 'skip' } = {},
): void {
  const s = b.state;
  // the label must mark reflectors only: a BGPPeer selecting it makes every node peer with every node that
  // has it (a review found `--label rr=yes` with two ordinary nodes labelled so, and a plan that said "it
  // selects only reflectors")
  const others = s.nodes
    .filter((n) => labelled(n, label) && !promote.includes(n.name) && !isRouteReflector(n))
    .map((n) => n.name);
  if (others.length && opts.othersLabelled === 'skip') return;
  if (others.length)
    throw usageError(
      `the label ${label.key}=${label.value} is already on ${others.length} node(s) that are not route reflectors (${listSome(others)}): a BGPPeer selecting it would make every node peer with them too`,
      `choose a label no other node has (--label), remove it (kubectl label node ${others[0]} ${label.key}-), or make ${others.length > 1 ? 'them reflectors' : 'it a reflector'} too (kubectl calico-tune rr promote ${others.slice(0, 3).join(' ')})`,
    );
  if (peeringCovers(s, promote, label, clusterIds)) return;
  const taken = s.bgpPeers.some((p) => p.name === PEER_NAME);
  const name = taken ? PEER_NAME_FALLBACK : PEER_NAME;
  if (taken && s.bgpPeers.some((p) => p.name === PEER_NAME_FALLBACK)) {
    throw usageError(
      `BGPPeers ${PEER_NAME} and ${PEER_NAME_FALLBACK} exist but do not peer every node with the reflectors`,
      'fix or delete them, then plan again',
    );
  }
  const apiVersion = calicoApiVersion(s.calico.apiMode);
  const manifest: KubeObject = {
    apiVersion,
    kind: 'BGPPeer',
    metadata: { name, labels: { ...MANAGED_BY_LABELS } },
    spec: { nodeSelector: 'all()', peerSelector: labelSelector(label) },
  };
  b.add({
    title: `Create BGPPeer ${name} (every node peers with the reflectors)`,
    why: `nodeSelector all(), peerSelector ${labelSelector(label)}: every node peers with every reflector and the reflectors with each other. It selects only reflectors, which have left the mesh, so it never duplicates a mesh session.`,
    action: 'create',
    manifest,
    precondition: { exists: false },
  });
}

/**
 * The precondition field of a node the plan does not cordon because it was cordoned when planned: it must
 * still be when its reflector fields change (else pods scheduled on it meanwhile lose traffic for ~2 s).
 */
const STILL_CORDONED = { path: ['spec', 'unschedulable'], equals: true };

/**
 * The steps that make one node a reflector: cordon (unless it already is), drain if asked, label + cluster ID
 * in one patch (a checkpoint), then wait until all its sessions are Established. Returns true when it cordoned
 * the node (the caller uncordons when it sees fit).
 */
export function addPromotion(
  b: PlanBuilder,
  n: NodeInfo,
  label: { key: string; value: string },
  clusterId: string,
  opts: { drain?: boolean | undefined },
): boolean {
  const cordon = !n.unschedulable;
  if (cordon) {
    b.add({
      title: `Cordon ${n.name}`,
      why: 'a cluster ID takes the node out of the full mesh at once (about 2 s without routes for its pods): keep new pods off it meanwhile',
      action: 'cordon',
      object: nodeRef(n.name),
    });
  }
  if (opts.drain) {
    b.add({
      title: `Drain ${n.name}`,
      why: 'move its workloads away before its BGP sessions change (Eviction API, PodDisruptionBudgets respected, DaemonSet pods stay)',
      action: 'drain',
      object: nodeRef(n.name),
    });
  }
  // a cluster ID Calico ignores (288.0.4.5): the node is no reflector, and the promotion replaces it
  const ignored = n.bgp.rrClusterIdRaw;
  b.add({
    title: `Make ${n.name} a route reflector (label ${label.key}=${label.value}, cluster ID ${clusterId}${ignored === undefined ? '' : `, replacing "${ignored}", which Calico ignores`})`,
    why: 'label and annotation in one patch, so no BGPPeer ever selects it before it reflects',
    action: 'patch',
    object: nodeRef(n.name),
    patch: promotePatch(label, clusterId),
    precondition: {
      exists: true,
      fields: [
        { path: ['metadata', 'annotations', ANN_RR_CLUSTER_ID], equals: ignored ?? null },
        // cordoned by someone when planned, so the plan does not cordon it: still so when it is promoted
        ...(cordon ? [] : [STILL_CORDONED]),
      ],
    },
    checkpoint: true,
    undoGateNodes: [n.name],
  });
  b.wait(
    `Wait until ${n.name} has all its BGP sessions Established`,
    'an RR lists every peer, so its status shows every client',
    [n.name],
    { exact: true },
  );
  return cordon;
}

/** Promote: cordon (and drain), label + cluster ID in one patch, wait for the new reflector's sessions, uncordon. */
function buildPromote(
  b: PlanBuilder,
  names: string[],
  opts: RrOptions,
): { clusterIds: ClusterIds; label: { key: string; value: string } } {
  const s = b.state;
  const nodes = requireNodes(s, names);
  const label = parseLabel(opts.label ?? conventionLabel(s));
  const clusterIds = assignClusterIds(s, names, opts.clusterId);
  for (const n of nodes) {
    if (isRouteReflector(n))
      throw usageError(`node ${n.name} is already a route reflector (cluster ID ${n.bgp.rrClusterId})`);
    const why = ineligibility(n);
    if (why.length)
      throw usageError(
        `node ${n.name} cannot be a route reflector: ${why.join('; ')}`,
        'choose another node: kubectl calico-tune rr recommend',
      );
  }
  ensurePeering(
    b,
    nodes.map((n) => n.name),
    label,
    clusterIds,
  );
  for (const n of nodes) {
    if (addPromotion(b, n, label, clusterIds.get(n.name)!, { drain: opts.drain })) {
      b.add({
        title: `Uncordon ${n.name}`,
        why: 'it is a reflector now; workloads may run on it again',
        action: 'uncordon',
        object: nodeRef(n.name),
      });
    }
  }
  return { clusterIds, label };
}

/** The reflector labels a node carries: the --label key and the conventional ones (RR_LABEL_KEYS). */
function rrLabelKeys(n: NodeInfo, label: { key: string }): string[] {
  return [...new Set([label.key, ...RR_LABEL_KEYS])].filter((k) => k in n.labels);
}

/** Demote: refuse when the model says nodes would be cut off; remove the label, wait, remove the cluster ID, wait. */
function buildDemote(b: PlanBuilder, names: string[], opts: RrOptions): void {
  const s = b.state;
  const nodes = requireNodes(s, names);
  const label = parseLabel(opts.label ?? conventionLabel(s));
  for (const n of nodes) {
    if (n.bgp.rrClusterIdRaw === undefined) throw usageError(`node ${n.name} is not a route reflector`);
  }
  const mesh = effectiveBgp(s).meshEnabled;
  // reflectors that are not Ready reflect nothing: they do not count, and the model leaves them out below
  const remaining = s.nodes.filter((n) => isRouteReflector(n) && n.ready && !names.includes(n.name));
  if (!mesh && remaining.length < 2 && !opts.force) {
    throw usageError(
      `refusing: with the mesh off, demoting ${names.join(', ')} leaves ${remaining.length} route reflector(s); at least 2 keep routes flowing while one restarts`,
      ...(remaining.length === 0
        ? [
            // every reflector goes: that is the way back to the full mesh, which has its own safe plan
            'to go back to the full mesh (turned on before any reflector goes): kubectl calico-tune migrate apply --to mesh',
          ]
        : [
            'promote a replacement first (kubectl calico-tune rr replace OLD NEW), or pass --force if the model still shows every node reachable',
          ]),
    );
  }
  // the model decides whether the result cuts anyone off (also with --force)
  let after = s;
  for (const n of nodes) {
    const patch = {
      metadata: {
        labels: Object.fromEntries(rrLabelKeys(n, label).map((k) => [k, null])),
        annotations: { [ANN_RR_CLUSTER_ID]: null },
      },
    };
    after = applyStep(after, {
      id: 'x',
      title: '',
      why: '',
      action: 'patch',
      object: nodeRef(n.name),
      patch,
      undo: [],
    });
  }
  const before = verify(bgpStateFromSnapshot(withoutDeadReflectors(s)), { maxExamples: 1 });
  const demoted = verify(bgpStateFromSnapshot(withoutDeadReflectors(after)), { maxExamples: 1 });
  if (demoted.unreachablePairs > before.unreachablePairs) {
    const ex = demoted.examples[0];
    throw usageError(
      `refusing: demoting ${names.join(', ')} would leave ${demoted.unreachablePairs} node pairs without routes${ex ? ` (e.g. ${ex.from} would not learn ${ex.to}'s routes: ${ex.reason})` : ''}${opts.force ? ' (--force never allows this)' : ''}`,
      mesh ? 'check the BGPPeers' : 'promote a replacement first: kubectl calico-tune rr replace OLD NEW',
    );
  }
  for (const n of nodes) addDemotion(b, n, label, { drain: opts.drain });
}

/** Who watches the sessions of a node that cannot report them: Ready reflectors (up to 3), else 2 Ready BGP nodes. */
function observersFor(s: ClusterSnapshot, name: string): string[] {
  const ready = s.nodes.filter((x) => x.name !== name && x.ready && runsBird(x));
  const rrs = ready.filter(isRouteReflector).map((x) => x.name);
  return rrs.length ? rrs.slice(0, 3) : ready.slice(0, 2).map((x) => x.name);
}

/**
 * The steps that turn one reflector back into an ordinary node: cordon, drain if asked, remove the label
 * (clients drop their sessions), wait, remove the cluster ID, wait until it is a client or mesh member again,
 * uncordon.
 */
export function addDemotion(
  b: PlanBuilder,
  n: NodeInfo,
  label: { key: string; value: string },
  opts: { drain?: boolean | undefined },
): void {
  const mesh = effectiveBgp(b.state).meshEnabled;
  const wasCordoned = n.unschedulable;
  // a node that is not Ready (calico-node most likely down: the usual reason to retire a reflector) never
  // reports its sessions, so its gates would time out and roll back: they watch the Ready reflectors that
  // stay (each lists every peer) or two Ready nodes instead; and no drain, whose evictions its dead kubelet
  // cannot carry out (found by a review)
  const observers = n.ready ? [n.name] : observersFor(b.state, n.name);
  const watched = n.ready
    ? ''
    : ` (${n.name} is not Ready: watched from ${observers.join(', ') || 'no node'})`;
  const wait = (title: string, why: string): void => {
    if (observers.length) b.wait(`${title}${watched}`, why, observers, { exact: true });
  };
  if (!wasCordoned)
    b.add({
      title: `Cordon ${n.name}`,
      why: 'its BGP sessions change twice; keep new pods off it meanwhile',
      action: 'cordon',
      object: nodeRef(n.name),
    });
  if (opts.drain && n.ready)
    b.add({
      title: `Drain ${n.name}`,
      why: 'move its workloads away before its BGP sessions change',
      action: 'drain',
      object: nodeRef(n.name),
    });
  const keys = rrLabelKeys(n, label);
  const removeLabels = { metadata: { labels: Object.fromEntries(keys.map((k) => [k, null])) } };
  // Label first, so clients drop their sessions while it still reflects; unless the model says that weakens the
  // cluster (with the mesh on, a reflector without its label keeps only its sessions to the other reflectors:
  // the last one would be isolated, and with one left it hangs on a single peer). Then label and cluster ID go
  // in one patch and it rejoins the mesh at once (it is cordoned).
  const together = keys.length > 0 && b.wouldWeaken(nodeRef(n.name), removeLabels);
  // cordoned when planned, so the plan does not cordon it: still so when its sessions change (each patch)
  const stillCordoned = wasCordoned ? { precondition: { exists: true, fields: [STILL_CORDONED] } } : {};
  if (keys.length && !together) {
    b.add({
      title: `Remove the reflector label of ${n.name} (${keys.join(', ')})`,
      why: 'first the label: BGPPeer peerSelectors stop choosing it, so clients drop their sessions to it while the other reflectors still serve them',
      action: 'patch',
      object: nodeRef(n.name),
      patch: removeLabels,
      ...stillCordoned,
      checkpoint: true,
      undoGateNodes: observers,
    });
    wait(
      `Wait until ${n.name}'s remaining sessions are Established`,
      'only its sessions with the other reflectors remain',
    );
  }
  b.add({
    title: together
      ? `Remove the reflector label (${keys.join(', ')}) and the cluster ID of ${n.name}`
      : `Remove the cluster ID of ${n.name}`,
    why: together
      ? 'removing only the label would leave it with too few sessions (the model checked), so both go in one patch'
      : mesh
        ? 'it rejoins the full mesh as an ordinary node'
        : 'it becomes an ordinary client of the remaining reflectors',
    action: 'patch',
    object: nodeRef(n.name),
    patch: together
      ? { metadata: { ...removeLabels.metadata, annotations: { [ANN_RR_CLUSTER_ID]: null } } }
      : { metadata: { annotations: { [ANN_RR_CLUSTER_ID]: null } } },
    ...stillCordoned,
    checkpoint: together || !keys.length,
    undoGateNodes: observers,
  });
  wait(
    `Wait until ${n.name} is back as ${mesh ? 'a mesh member' : 'a client'}`,
    'its sessions as an ordinary node must be Established',
  );
  if (!wasCordoned)
    b.add({ title: `Uncordon ${n.name}`, why: 'done', action: 'uncordon', object: nodeRef(n.name) });
}

/** Options of every rr planner: the flags, and how long each gate waits. */
export interface RrPlanOptions extends RrOptions {
  timeout: string;
  /** Accept a result where one zone's outage would cut nodes off. */
  allowZoneLoss?: boolean | undefined;
  /** Plan name; default derived from the nodes. */
  name?: string | undefined;
}

/**
 * `rr promote` run again after it succeeded (a script's retry): every node already a reflector as asked, with
 * its label, the cluster ID asked for, and peered: the "nothing to do" message (exit 0, as kubectl says of a
 * node already cordoned); undefined when anything less holds, which stays a refusal ("already a route reflector").
 */
function promotedAlready(s: ClusterSnapshot, names: string[], opts: RrOptions): string | undefined {
  const nodes = requireNodes(s, names);
  const label = parseLabel(opts.label ?? conventionLabel(s));
  const asAsked = (n: NodeInfo): boolean =>
    isRouteReflector(n) &&
    n.labels[label.key] === label.value &&
    (opts.clusterId === undefined || n.bgp.rrClusterId === opts.clusterId.trim());
  if (
    nodes.every(asAsked) &&
    peeringCovers(s, [], label, new Map(nodes.map((n) => [n.name, n.bgp.rrClusterId!])))
  )
    return `${nodes.map((n) => `${n.name} (cluster ID ${n.bgp.rrClusterId})`).join(', ')} ${nodes.length > 1 ? 'are route reflectors' : 'is a route reflector'} already, labelled ${label.key}=${label.value} and peered`;
  return undefined;
}

/** `rr demote` run again after it succeeded: no node a reflector any more, nor labelled as one (its message). */
function demotedAlready(s: ClusterSnapshot, names: string[], opts: RrOptions): string | undefined {
  const nodes = requireNodes(s, names);
  const label = parseLabel(opts.label ?? conventionLabel(s));
  if (nodes.every((n) => n.bgp.rrClusterIdRaw === undefined && !rrLabelKeys(n, label).length))
    return `${nodes.map((n) => n.name).join(', ')} ${nodes.length > 1 ? 'are not route reflectors' : 'is not a route reflector'} (no cluster ID, no reflector label)`;
  return undefined;
}

/** Promote: cordon (and drain), label + cluster ID in one patch, wait for the new reflector's sessions, uncordon. */
export function planPromote(s: ClusterSnapshot, names: string[], opts: RrPlanOptions): Plan {
  const done = promotedAlready(s, names, opts);
  if (done) throw new NothingToDo(done);
  const nodes = requireNodes(s, names);
  // reflectors already, with the cluster ID asked for, that no BGPPeer peers: the repair (RR_NOT_PEERED's fix)
  const label = parseLabel(opts.label ?? conventionLabel(s));
  if (
    nodes.length &&
    nodes.every(
      (n) =>
        isRouteReflector(n) && (opts.clusterId === undefined || n.bgp.rrClusterId === opts.clusterId.trim()),
    ) &&
    !peeringCovers(s, [], label, new Map(nodes.map((n) => [n.name, n.bgp.rrClusterId!])))
  )
    return planRepeer(s, nodes, label, opts);
  const b = new PlanBuilder(s, { timeout: opts.timeout });
  const { clusterIds } = buildPromote(b, names, opts);
  const warnings = nodes.flatMap((n) => cautions(s, n).map((c) => `${n.name}: ${c}`));
  return b.finish({
    allowZoneLoss: opts.allowZoneLoss,
    name: opts.name ?? planName('rr-promote', names.join('-')),
    command: `kubectl calico-tune rr promote ${names.join(' ')}`,
    description: `Promote ${names.join(', ')} to route reflector${names.length > 1 ? 's' : ''} (${describeClusterIds(clusterIds)}, label ${label.key}=${label.value})`,
    changes: names.map(
      (n) => `${n}: label ${label.key}=${label.value}, annotation ${ANN_RR_CLUSTER_ID}=${clusterIds.get(n)}`,
    ),
    warnings,
  });
}

/**
 * `rr promote` of nodes that are reflectors already but that no BGPPeer peers with every node (status's
 * RR_NOT_PEERED, whose fix it is: an operator trial found it refused as "already a route reflector"): their
 * label where it is missing, the BGPPeer, and a wait until each lists every node Established. Cluster IDs stay.
 */
function planRepeer(
  s: ClusterSnapshot,
  nodes: NodeInfo[],
  label: { key: string; value: string },
  opts: RrPlanOptions,
): Plan {
  const b = new PlanBuilder(s, { timeout: opts.timeout });
  const names = nodes.map((n) => n.name);
  for (const n of nodes.filter((x) => x.labels[label.key] !== label.value))
    b.add({
      title: `Label ${n.name} ${label.key}=${label.value}`,
      why: 'the label the BGPPeer below selects reflectors by; its cluster ID stays',
      action: 'patch',
      object: nodeRef(n.name),
      patch: { metadata: { labels: { [label.key]: label.value } } },
      precondition: { exists: true },
    });
  ensurePeering(b, [], label, new Map(nodes.map((n) => [n.name, n.bgp.rrClusterId!])));
  b.wait(
    `Wait until ${names.length > 1 ? `each of ${names.join(', ')}` : names[0]} lists every node Established`,
    'a reflector lists every peer, so its status shows every client',
    names,
    { exact: true, onTimeout: 'rollback' },
  );
  return b.finish({
    allowZoneLoss: opts.allowZoneLoss,
    name: opts.name ?? planName('rr-peer', names.join('-')),
    command: `kubectl calico-tune rr promote ${names.join(' ')}`,
    description: `Peer every node with route reflector${names.length > 1 ? 's' : ''} ${names.join(', ')} (already reflectors, selected by no BGPPeer)`,
    changes: [`${names.join(', ')}: peered with every node (label ${label.key}=${label.value})`],
    warnings: [],
  });
}

/** Demote: refuse when the model says nodes would be cut off; remove the label, wait, remove the cluster ID, wait. */
export function planDemote(s: ClusterSnapshot, names: string[], opts: RrPlanOptions): Plan {
  const done = demotedAlready(s, names, opts);
  if (done) throw new NothingToDo(done);
  const b = new PlanBuilder(s, { timeout: opts.timeout });
  buildDemote(b, names, opts);
  // the BGPPeer a --label promotion created, once no node carries that label (found by a review: left behind)
  deletePeersServingNone(b, (p) => {
    const o = b.state.objects.find((x) => x.kind === 'BGPPeer' && x.metadata.name === p.name);
    // (the tool's own value only: it never labelled a BGPPeer with 0.1's monitoring value; a review)
    return !!o && calicoLabels(o)[MANAGED_BY_LABEL] === MANAGED_BY;
  });
  return b.finish({
    allowZoneLoss: opts.allowZoneLoss,
    name: opts.name ?? planName('rr-demote', names.join('-')),
    command: `kubectl calico-tune rr demote ${names.join(' ')}`,
    description: `Demote route reflector${names.length > 1 ? 's' : ''} ${names.join(', ')}`,
    changes: names.map((n) => `${n}: remove the reflector label, then the cluster ID`),
    warnings: zonesLeftWithout(s, names),
  });
}

/**
 * Deletes the BGPPeers (those `which` picks) whose peerSelector matches no node in the plan's state now: they
 * only served reflectors that are gone. Their undo creates them again.
 */
export function deletePeersServingNone(b: PlanBuilder, which: (p: BgpPeerInfo) => boolean): void {
  for (const p of b.state.bgpPeers) {
    if (!p.peerSelector || !which(p)) continue;
    const sel = trySelector(p.peerSelector);
    if (sel instanceof SelectorParseError) continue;
    if (b.state.nodes.some((n) => sel.matches(n.calicoLabels))) continue;
    b.add({
      title: `Delete BGPPeer ${p.name} (it only served the reflectors)`,
      why: `peerSelector ${p.peerSelector} matches no node any more`,
      action: 'delete',
      object: { apiVersion: p.apiVersion, kind: 'BGPPeer', name: p.name },
    });
  }
}

/**
 * Zones that have a Ready reflector now and none after `names` go and `adding` become reflectors (rr recommend
 * keeps one per zone).
 */
function zonesLeftWithout(s: ClusterSnapshot, names: string[], adding: string[] = []): string[] {
  const zonesOf = (keep: (n: NodeInfo) => boolean): Set<string> =>
    new Set(s.nodes.filter((n) => isRouteReflector(n) && n.ready && n.zone && keep(n)).map((n) => n.zone!));
  const after = zonesOf((n) => !names.includes(n.name));
  for (const n of s.nodes) if (adding.includes(n.name) && n.ready && n.zone) after.add(n.zone);
  return [...zonesOf(() => true)]
    .filter((z) => !after.has(z))
    .sort()
    .map(
      (z) =>
        `zone ${z} is left without a reflector: its nodes reach reflectors in other zones only (rr recommend keeps one per zone; rr replace OLD NEW keeps it)`,
    );
}

/** Replace: promote NEW, wait until every client has NEW Established, then demote OLD. */
export function planReplace(s: ClusterSnapshot, oldName: string, newName: string, opts: RrPlanOptions): Plan {
  if (oldName === newName) throw usageError('OLD and NEW are the same node');
  // run again after it succeeded: OLD an ordinary node, NEW a reflector as asked (exit 0)
  const oldDone = demotedAlready(s, [oldName], opts);
  const newDone = oldDone && promotedAlready(s, [newName], opts);
  if (oldDone && newDone) throw new NothingToDo(`${oldDone}; ${newDone}`);
  const b = new PlanBuilder(s, { timeout: opts.timeout });
  const [old] = requireNodes(b.state, [oldName]);
  if (!isRouteReflector(old!)) throw usageError(`node ${oldName} is not a route reflector`);
  buildPromote(b, [newName], opts);
  buildDemote(b, [oldName], { ...opts, force: true });
  return b.finish({
    allowZoneLoss: opts.allowZoneLoss,
    warnings: [
      ...requireNodes(s, [newName]).flatMap((n) => cautions(s, n).map((c) => `${n.name}: ${c}`)),
      ...zonesLeftWithout(s, [oldName], [newName]),
    ],
    name: opts.name ?? planName('rr-replace', `${oldName}-${newName}`),
    command: `kubectl calico-tune rr replace ${oldName} ${newName}`,
    description: `Replace route reflector ${oldName} with ${newName}`,
    changes: [
      `${newName}: becomes a route reflector`,
      `${oldName}: becomes an ordinary node once every client has ${newName}`,
    ],
  });
}
