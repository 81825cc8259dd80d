/**
 * Plan integrity: the digest a plan records over its steps and cluster identity, the step shapes the
 * planners emit (anything else in a plan file is refused), and the cluster-identity check. Pure.
 */
import { RR_LABEL_KEYS } from '../model/calico.js';
import { parseDurationMs } from '../model/duration.js';
import { ANN_RR_CLUSTER_ID } from '../model/parse.js';
import { digestFull } from './fingerprint.js';
import { CORDON_ANNOTATION } from './simulate.js';
import type { Plan, Step } from './types.js';

/**
 * sha256 over the steps (with their undo and gates), the plan's name, the cluster it was made for, and its
 * verification summary: that decides what apply accepts (N-1 and zone loss, see policyOf in reverify.ts).
 */
export function planDigest(plan: Plan): string {
  return `sha256:${digestFull({
    name: plan.metadata.name,
    cluster: plan.metadata.cluster,
    steps: plan.steps,
    verification: plan.summary.verification,
  })}`;
}

const CALICO_GROUPS = new Set(['crd.projectcalico.org/v1', 'projectcalico.org/v3']);
const NODE_ANNOTATIONS = new Set([ANN_RR_CLUSTER_ID, CORDON_ANNOTATION]);
/** BGPConfiguration fields the planners change (mesh on/off, and what must be cleared with it). */
const BGP_CONFIG_PATCH_FIELDS = new Set([
  'nodeToNodeMeshEnabled',
  'nodeMeshPassword',
  'nodeMeshMaxRestartTime',
]);
/** BGPPeer spec fields of Calico v3.27-v3.31 (a deleted BGPPeer is re-created as it was on rollback). */
const BGP_PEER_FIELDS = new Set([
  'node',
  'nodeSelector',
  'peerSelector',
  'peerIP',
  'asNumber',
  'keepOriginalNextHop',
  'nextHopMode',
  'password',
  'sourceAddress',
  'maxRestartTime',
  'numAllowedLocalASNumbers',
  'ttlSecurity',
  'reversePeering',
  'filters',
  'localWorkloadSelector',
  'keepaliveTime',
  'localASNumber',
]);

/** Label keys a plan may set or remove on a Node: the reflector labels (RR_LABEL_KEYS, or a --label key naming a reflector). */
function reflectorLabelKey(k: string): boolean {
  return RR_LABEL_KEYS.includes(k) || /reflector/i.test(k);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(
  o: Record<string, unknown>,
  allowed: Set<string> | string[],
  where: string,
  out: string[],
): void {
  const ok = allowed instanceof Set ? allowed : new Set(allowed);
  for (const k of Object.keys(o)) if (!ok.has(k)) out.push(`${where} sets "${k}", which no planner writes`);
}

function stringOrNull(v: unknown): boolean {
  return v === null || typeof v === 'string';
}

/** Why a step (or an undo step) is not one the planners emit; empty when it is. */
export function stepShapeProblems(step: Step, where: string, isUndo = false): string[] {
  const out: string[] = [];
  const ref = step.object;
  const kind = ref?.kind ?? step.manifest?.kind;
  const apiVersion = ref?.apiVersion ?? step.manifest?.apiVersion;
  const calico = apiVersion !== undefined && CALICO_GROUPS.has(apiVersion);
  const nodeRef = kind === 'Node' && apiVersion === 'v1';
  switch (step.action) {
    case 'cordon':
    case 'uncordon':
    case 'drain':
      if (!nodeRef || !ref?.name) out.push(`${where}: ${step.action} must name a Node`);
      if (step.patch || step.manifest) out.push(`${where}: ${step.action} carries no patch or manifest`);
      break;
    case 'patch': {
      const p = step.patch;
      if (!ref?.name || !isObj(p)) {
        out.push(`${where}: a patch step needs an object and a patch`);
        break;
      }
      if (nodeRef) {
        onlyKeys(p, ['metadata'], `${where} (Node patch)`, out);
        const meta = p['metadata'];
        if (!isObj(meta)) {
          out.push(`${where}: a Node patch changes only metadata labels and annotations`);
          break;
        }
        onlyKeys(meta, ['labels', 'annotations', 'resourceVersion'], `${where} (Node metadata)`, out);
        const labels = meta['labels'];
        if (labels !== undefined) {
          if (!isObj(labels)) out.push(`${where}: labels must be a map`);
          else
            for (const [k, v] of Object.entries(labels)) {
              if (!reflectorLabelKey(k))
                out.push(`${where} changes label "${k}", which is not a route-reflector label`);
              if (!stringOrNull(v)) out.push(`${where}: label "${k}" must be a string or null`);
            }
        }
        const ann = meta['annotations'];
        if (ann !== undefined) {
          if (!isObj(ann)) out.push(`${where}: annotations must be a map`);
          else
            for (const [k, v] of Object.entries(ann)) {
              if (!NODE_ANNOTATIONS.has(k))
                out.push(`${where} changes annotation "${k}", which no planner writes`);
              if (!stringOrNull(v)) out.push(`${where}: annotation "${k}" must be a string or null`);
            }
        }
      } else if (calico && kind === 'BGPConfiguration') {
        if (ref.name !== 'default') out.push(`${where}: only the default BGPConfiguration is changed`);
        onlyKeys(p, ['spec'], `${where} (BGPConfiguration patch)`, out);
        if (isObj(p['spec']))
          onlyKeys(p['spec'], BGP_CONFIG_PATCH_FIELDS, `${where} (BGPConfiguration spec)`, out);
        else out.push(`${where}: a BGPConfiguration patch changes spec fields`);
      } else if (calico && kind === 'IPPool') {
        // encap plans: the pool's encapsulation modes only
        onlyKeys(p, ['spec'], `${where} (IPPool patch)`, out);
        if (isObj(p['spec'])) onlyKeys(p['spec'], ['ipipMode', 'vxlanMode'], `${where} (IPPool spec)`, out);
        else out.push(`${where}: an IPPool patch changes spec.ipipMode / spec.vxlanMode`);
      } else if (apiVersion === 'operator.tigera.io/v1' && kind === 'Installation') {
        // encap plans on operators that own the pools: spec.calicoNetwork.ipPools only
        if (ref.name !== 'default') out.push(`${where}: only the default Installation is changed`);
        onlyKeys(p, ['spec'], `${where} (Installation patch)`, out);
        const net = isObj(p['spec']) ? p['spec']['calicoNetwork'] : undefined;
        if (isObj(p['spec'])) onlyKeys(p['spec'], ['calicoNetwork'], `${where} (Installation spec)`, out);
        if (!isObj(net) || !Array.isArray(net['ipPools']))
          out.push(`${where}: an Installation patch sets spec.calicoNetwork.ipPools`);
        else onlyKeys(net, ['ipPools'], `${where} (Installation calicoNetwork)`, out);
      } else out.push(`${where}: patches ${apiVersion ?? '?'} ${kind ?? '?'}, which no planner changes`);
      break;
    }
    case 'create': {
      const m = step.manifest;
      if (!m || !isObj(m) || !isObj(m.metadata) || typeof m.metadata.name !== 'string') {
        out.push(`${where}: a create step needs a manifest with a name`);
        break;
      }
      if (!calico) out.push(`${where}: creates ${m.apiVersion} ${m.kind}, which no planner creates`);
      else if (m.kind === 'BGPPeer') {
        if (isObj(m.spec)) onlyKeys(m.spec, BGP_PEER_FIELDS, `${where} (BGPPeer spec)`, out);
      } else if (m.kind === 'BGPConfiguration') {
        if (m.metadata.name !== 'default') out.push(`${where}: only the default BGPConfiguration is created`);
        if (!isUndo && isObj(m.spec))
          onlyKeys(m.spec, ['nodeToNodeMeshEnabled'], `${where} (BGPConfiguration spec)`, out);
      } else out.push(`${where}: creates ${m.kind}, which no planner creates`);
      if (isObj(m.metadata) && m.metadata.namespace !== undefined)
        out.push(`${where}: Calico BGP objects are cluster-scoped`);
      break;
    }
    case 'delete':
      // BGPPeers that only served reflectors; the default BGPConfiguration only as the undo of its creation
      if (
        !calico ||
        !ref?.name ||
        !(kind === 'BGPPeer' || (kind === 'BGPConfiguration' && isUndo && ref.name === 'default'))
      )
        out.push(`${where}: deletes ${apiVersion ?? '?'} ${kind ?? '?'}, which no planner deletes`);
      break;
    case 'wait': {
      const g = step.gate;
      if (!g || g.type !== 'bgp-established' || !Array.isArray(g.nodes) || !g.nodes.length) {
        out.push(`${where}: a wait step needs a bgp-established gate naming nodes`);
        break;
      }
      if (g.nodes.some((n) => typeof n !== 'string')) out.push(`${where}: gate nodes must be names`);
      if (typeof g.timeout !== 'string' || !(parseDurationMs(g.timeout)! > 0))
        out.push(`${where}: gate timeout "${String(g.timeout)}" is not a duration`);
      if (!isObj(g.expect)) out.push(`${where}: gate has no expectations`);
      break;
    }
    default:
      out.push(`${where}: unknown action "${String(step.action)}"`);
  }
  if (!isUndo) {
    if (!Array.isArray(step.undo)) out.push(`${where}: no undo list`);
    else
      step.undo.forEach((u, j) => {
        out.push(...stepShapeProblems(u, `${where} undo ${j + 1}`, true));
        if (u.undo?.length) out.push(`${where} undo ${j + 1}: an undo step has no undo of its own`);
      });
  }
  return out;
}

/** Everything wrong with a plan's integrity: digest, step shapes. Empty when the plan is intact. */
export function integrityProblems(plan: Plan): string[] {
  const out: string[] = [];
  if (!plan.metadata.digest)
    out.push('the plan records no digest (it was not written by this tool, or by a version before 0.2)');
  else if (plan.metadata.digest !== planDigest(plan))
    out.push('the plan was edited or truncated after it was made (its digest does not match its steps)');
  plan.steps.forEach((s, i) => out.push(...stepShapeProblems(s, `step ${i + 1} (${s.id})`)));
  return out;
}

/** Why the plan was made for another cluster; undefined when the identities agree. */
export function clusterMismatch(
  plan: Plan,
  live: { server?: string | undefined; clusterUID?: string | undefined },
): string | undefined {
  const want = plan.metadata.cluster;
  if (want.uid && live.clusterUID) {
    return want.uid === live.clusterUID
      ? undefined
      : `the plan was made for another cluster (kube-system UID ${want.uid}; this cluster's is ${live.clusterUID}${want.server ? `; made on ${want.server}` : ''})`;
  }
  if (want.uid && !live.clusterUID)
    return 'the cluster identity cannot be checked: the kube-system namespace could not be read (RBAC: get namespaces/kube-system, docs/rbac.yaml)';
  // a plan without a UID (made from an old snapshot): the server URL is all there is
  if (want.server && live.server && want.server !== live.server)
    return `the plan was made for ${want.server}, not ${live.server}`;
  if (!want.server)
    return 'the plan records no cluster identity (kube-system UID or server); build it again against the cluster';
  return undefined;
}
