/**
 * Plan integrity: the digest a plan records over its steps and cluster identity, the step shapes the
 * planners emit (anything else in a plan file is refused), and the cluster-identity check. Pure.
 */
import { SelectorParseError, trySelector } from '../bgp/selector.js';
import { ZERO_CLUSTER_ID } from '../bgp/state.js';
import { RR_LABEL_KEYS, SYSTEM_LABEL } from '../model/calico.js';
import { parseDurationMs } from '../model/duration.js';
import { ANN_RR_CLUSTER_ID } from '../model/parse.js';
import { clusterIdProblem } from '../model/net.js';
import {
  COMPONENT_INFO,
  MONITORING_CREATES,
  MONITORING_GROUP,
  MONITORING_PATCH_FIELDS,
  METRICS_COMPONENTS,
} from '../model/monitoring.js';
import { LEGACY_MANAGED_BY, MANAGED_BY, MANAGED_BY_LABEL } from '../model/managed-by.js';
import { digestFull } from './fingerprint.js';
import { CORDON_ANNOTATION } from './simulate.js';
import type { BgpPeerInfo, NodeInfo } from '../model/types.js';
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
    // all of the summary: its description, changes and warnings are what the person applying it reads (a
    // review removed a warning from a saved plan, and apply called it intact)
    summary: plan.summary,
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

/**
 * What makes a --label key of the operator's own (`rr promote --label rr=yes`) one a plan may set or remove:
 * the key is in a BGPPeer peerSelector (a forward create of the plan, or the cluster's: how reflectors are
 * found), and the Node is a reflector (it has a cluster ID in the cluster, or the plan sets or removes one on
 * it). An edited plan cannot relabel other nodes, nor use other keys, by adding a BGPPeer that names them.
 */
interface LabelContext {
  selectorKeys: ReadonlySet<string>;
  reflectors: ReadonlySet<string>;
  /** The plan comes from the cluster's journal: a create of 0.1's monitoring plans may carry its managed-by value. */
  recorded?: boolean | undefined;
}

/**
 * Label keys a plan may set or remove on Node `node`: the reflector labels (RR_LABEL_KEYS, or a key naming a
 * reflector), and a --label key (LabelContext) outside Kubernetes' own label domains.
 */
function reflectorLabelKey(k: string, node: string, ctx: LabelContext): boolean {
  return (
    RR_LABEL_KEYS.includes(k) ||
    /reflector/i.test(k) ||
    (ctx.selectorKeys.has(k) && ctx.reflectors.has(node) && !SYSTEM_LABEL.test(k))
  );
}

/** The LabelContext of a plan on a cluster (its BGPPeers and Nodes). */
function labelContext(
  plan: Plan,
  live: { bgpPeers: readonly BgpPeerInfo[]; nodes: readonly NodeInfo[] } = { bgpPeers: [], nodes: [] },
): LabelContext {
  const reflectors = new Set(live.nodes.filter((n) => n.bgp.rrClusterIdRaw !== undefined).map((n) => n.name));
  const texts: unknown[] = live.bgpPeers.map((p) => p.peerSelector);
  for (const step of plan.steps) {
    const m = step.manifest;
    if (step.action === 'create' && m?.kind === 'BGPPeer' && isObj(m.spec))
      texts.push(m.spec['peerSelector']);
    const ann =
      isObj(step.patch) && isObj(step.patch['metadata']) ? step.patch['metadata']['annotations'] : undefined;
    if (step.object?.kind === 'Node' && isObj(ann) && ANN_RR_CLUSTER_ID in ann)
      reflectors.add(step.object.name);
  }
  const keys = new Set<string>();
  for (const t of texts) {
    if (typeof t !== 'string' || !t.trim()) continue;
    const sel = trySelector(t);
    if (!(sel instanceof SelectorParseError)) for (const k of sel.keys) keys.add(k);
  }
  return { selectorKeys: keys, reflectors };
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
export function stepShapeProblems(
  step: Step,
  where: string,
  isUndo = false,
  labelCtx: LabelContext = { selectorKeys: new Set(), reflectors: new Set() },
): string[] {
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
              if (!reflectorLabelKey(k, ref.name, labelCtx))
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
              // a cluster ID the planners would refuse (an undo may put back the one it replaced)
              else if (!isUndo && k === ANN_RR_CLUSTER_ID && typeof v === 'string') {
                const problem =
                  v === ZERO_CLUSTER_ID ? 'is 0.0.0.0, which BIRD reads as none' : clusterIdProblem(v);
                if (problem) out.push(`${where}: the cluster ID "${v}" ${problem}`);
              }
            }
        }
      } else if (calico && kind === 'BGPConfiguration') {
        if (ref.name !== 'default') out.push(`${where}: only the default BGPConfiguration is changed`);
        onlyKeys(p, ['spec'], `${where} (BGPConfiguration patch)`, out);
        if (isObj(p['spec'])) {
          onlyKeys(p['spec'], BGP_CONFIG_PATCH_FIELDS, `${where} (BGPConfiguration spec)`, out);
          // the planners only clear the mesh's password and restart time (an undo puts them back)
          for (const k of ['nodeMeshPassword', 'nodeMeshMaxRestartTime'])
            if (!isUndo && k in p['spec'] && p['spec'][k] !== null)
              out.push(`${where}: a BGPConfiguration patch only clears ${k}`);
        } else out.push(`${where}: a BGPConfiguration patch changes spec fields`);
      } else if (calico && kind === 'IPPool') {
        // encap plans: the pool's encapsulation modes only
        onlyKeys(p, ['spec'], `${where} (IPPool patch)`, out);
        if (isObj(p['spec'])) {
          onlyKeys(p['spec'], ['ipipMode', 'vxlanMode', 'ipip'], `${where} (IPPool spec)`, out);
          // the legacy spec.ipip is only removed (and put back by the undo)
          const legacy = p['spec']['ipip'];
          if (legacy !== undefined && !(legacy === null || (isUndo && isObj(legacy))))
            out.push(`${where}: an IPPool patch only removes the legacy spec.ipip`);
        } else out.push(`${where}: an IPPool patch changes spec.ipipMode / spec.vxlanMode`);
      } else if (apiVersion === 'operator.tigera.io/v1' && kind === 'Installation') {
        // encap plans on operators that own the pools: spec.calicoNetwork.ipPools only;
        // monitoring plans: the metrics ports (MONITORING_PATCH_FIELDS.Installation)
        if (ref.name !== 'default') out.push(`${where}: only the default Installation is changed`);
        onlyKeys(p, ['spec'], `${where} (Installation patch)`, out);
        const spec = isObj(p['spec']) ? p['spec'] : undefined;
        if (!spec || !Object.keys(spec).length)
          out.push(`${where}: an Installation patch sets spec.calicoNetwork.ipPools or a metrics port`);
        else {
          onlyKeys(
            spec,
            ['calicoNetwork', ...MONITORING_PATCH_FIELDS.Installation],
            `${where} (Installation spec)`,
            out,
          );
          const net = spec['calicoNetwork'];
          if (net !== undefined) {
            if (!isObj(net) || !Array.isArray(net['ipPools']))
              out.push(`${where}: an Installation patch sets spec.calicoNetwork.ipPools`);
            else {
              onlyKeys(net, ['ipPools'], `${where} (Installation calicoNetwork)`, out);
              if (!isUndo) installationPoolsProblems(step, net['ipPools'] as unknown[], where, out);
            }
          }
        }
      } else monitoringPatchProblems(step, where, out, isUndo);
      break;
    }
    case 'create': {
      const m = step.manifest;
      if (!m || !isObj(m) || !isObj(m.metadata) || typeof m.metadata.name !== 'string') {
        out.push(`${where}: a create step needs a manifest with a name`);
        break;
      }
      if (!calico) {
        monitoringCreateProblems(step, where, out, labelCtx.recorded === true);
        break;
      }
      if (m.kind === 'BGPPeer') {
        // a planner creates only the reflectors' peering (selectors); an undo re-creates a BGPPeer as it was
        if (isObj(m.spec))
          onlyKeys(
            m.spec,
            isUndo ? BGP_PEER_FIELDS : ['nodeSelector', 'peerSelector'],
            `${where} (BGPPeer spec)`,
            out,
          );
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
      if (isUndo && monitoringDeleteAllowed(step)) break;
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
    else {
      const target = targetOf(step);
      step.undo.forEach((u, j) => {
        out.push(...stepShapeProblems(u, `${where} undo ${j + 1}`, true, labelCtx));
        if (u.undo?.length) out.push(`${where} undo ${j + 1}: an undo step has no undo of its own`);
        // an undo puts back the object its step changed (an operator trial: a step renamed to another node
        // promoted that node, and its undo would have demoted the one named before)
        const t = u.action === 'wait' ? undefined : targetOf(u);
        if (t && target && t !== target)
          out.push(`${where} undo ${j + 1} changes ${t}, not the step's ${target}`);
      });
    }
  }
  return out;
}

/**
 * Monitoring plans (src/monitoring/plan.ts) patch the metrics switches only: FelixConfiguration default and
 * KubeControllersConfiguration default (their metrics fields), and on manifest installs the calico-typha
 * Deployment's containers (the env); the Installation's metrics ports are checked with its encap fields.
 */
function monitoringPatchProblems(step: Step, where: string, out: string[], isUndo = false): void {
  const ref = step.object!;
  const p = step.patch!;
  const fieldsOf = (k: keyof typeof MONITORING_PATCH_FIELDS): void => {
    if (ref.name !== 'default') {
      out.push(
        `${where}: patches ${ref.apiVersion} ${k} ${ref.name}, which no planner changes (only ${k} default)`,
      );
      return;
    }
    onlyKeys(p, ['spec'], `${where} (${k} patch)`, out);
    if (!isObj(p['spec'])) out.push(`${where}: a ${k} patch changes spec fields`);
    else onlyKeys(p['spec'], [...MONITORING_PATCH_FIELDS[k]], `${where} (${k} spec)`, out);
  };
  if (CALICO_GROUPS.has(ref.apiVersion) && ref.kind === 'FelixConfiguration') fieldsOf('FelixConfiguration');
  else if (CALICO_GROUPS.has(ref.apiVersion) && ref.kind === 'KubeControllersConfiguration')
    fieldsOf('KubeControllersConfiguration');
  else if (ref.apiVersion === 'apps/v1' && ref.kind === 'Deployment' && ref.name === 'calico-typha') {
    onlyKeys(p, ['spec'], `${where} (Deployment patch)`, out);
    const tpl = isObj(p['spec']) ? p['spec']['template'] : undefined;
    const podSpec = isObj(tpl) ? tpl['spec'] : undefined;
    if (!isObj(p['spec']) || !isObj(tpl) || !isObj(podSpec) || !Array.isArray(podSpec['containers']))
      out.push(`${where}: a Deployment patch changes only spec.template.spec.containers (Typha's env)`);
    else {
      onlyKeys(p['spec'], ['template'], `${where} (Deployment spec)`, out);
      onlyKeys(tpl, ['spec'], `${where} (Deployment template)`, out);
      onlyKeys(podSpec, ['containers'], `${where} (Deployment pod spec)`, out);
    }
  } else if (
    ref.apiVersion === 'v1' &&
    ref.kind === 'Service' &&
    MONITORING_CREATES['Service']!.includes(ref.name)
  ) {
    // a metrics Service of ours left on another port: its ports only, and only while it is ours
    onlyKeys(p, ['spec'], `${where} (Service patch)`, out);
    if (!isObj(p['spec']) || !Array.isArray(p['spec']['ports']))
      out.push(`${where}: a Service patch changes only spec.ports`);
    else {
      onlyKeys(p['spec'], ['ports'], `${where} (Service spec)`, out);
      // (an undo puts back the ports our Service had, as they were read)
      if (!isUndo) metricsPortsProblems(p['spec']['ports'], where, out);
    }
    // (an undo puts back what the step changed; the executor leaves it when someone changed it since)
    if (!isUndo && !oursOnly(step))
      out.push(`${where}: a Service patch needs the precondition that the Service is ours`);
  } else if (
    ref.apiVersion === MONITORING_GROUP &&
    (ref.kind === 'ServiceMonitor' || ref.kind === 'PrometheusRule') &&
    MONITORING_CREATES[ref.kind]!.includes(ref.name)
  ) {
    // a ServiceMonitor or PrometheusRule of ours relabelled for the Prometheus that selects elsewhere now: labels only
    onlyKeys(p, ['metadata'], `${where} (${ref.kind} patch)`, out);
    const meta = p['metadata'];
    if (!isObj(meta) || !isObj(meta['labels']))
      out.push(`${where}: a ServiceMonitor patch changes only labels`);
    else onlyKeys(meta, ['labels'], `${where} (${ref.kind} metadata)`, out);
    if (!isUndo && !oursOnly(step))
      out.push(`${where}: a ${ref.kind} patch needs the precondition that it is ours`);
  } else out.push(`${where}: patches ${ref.apiVersion} ${ref.kind}, which no planner changes`);
}

/**
 * An encap plan's Installation patch replaces spec.calicoNetwork.ipPools (a merge patch replaces lists whole):
 * it must carry, as its precondition, the list it replaces (checked on the live object before the write), and
 * differ from it in the entries' `encapsulation` only; its undo puts that list back. So an edited plan cannot
 * rewrite a pool's CIDR, block size or NAT through it (a review did, with the digest recomputed).
 */
function installationPoolsProblems(step: Step, pools: unknown[], where: string, out: string[]): void {
  const pre = step.precondition?.fields?.find(
    (f) => f.path.join('/') === 'spec/calicoNetwork/ipPools',
  )?.equals;
  if (!Array.isArray(pre)) {
    out.push(`${where}: an Installation ipPools patch needs the list it replaces as its precondition`);
    return;
  }
  const without = (e: unknown): string =>
    JSON.stringify(
      isObj(e)
        ? Object.fromEntries(
            Object.entries(e)
              .filter(([k]) => k !== 'encapsulation')
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          )
        : e,
    );
  if (pools.length !== pre.length || pools.some((e, i) => without(e) !== without(pre[i])))
    out.push(`${where}: an Installation ipPools patch changes only the entries' encapsulation`);
  for (const u of step.undo ?? []) {
    const net = isObj(u.patch?.['spec'])
      ? (u.patch['spec'] as Record<string, unknown>)['calicoNetwork']
      : undefined;
    const back = isObj(net) ? net['ipPools'] : undefined;
    if (back !== undefined && JSON.stringify(back) !== JSON.stringify(pre))
      out.push(`${where}: the undo of an Installation ipPools patch puts back the list it replaced`);
  }
}

/** The step's precondition requires the object to carry our managed-by label. */
function oursOnly(step: Step): boolean {
  return !!step.precondition?.fields?.some(
    (f) =>
      f.path.join('/') === `metadata/labels/${MANAGED_BY_LABEL}` &&
      (f.equals === MANAGED_BY || f.equals === LEGACY_MANAGED_BY),
  );
}

function monitoringCreateProblems(step: Step, where: string, out: string[], recorded: boolean): void {
  const m = step.manifest!;
  const allowed =
    (m.apiVersion === 'v1' && (m.kind === 'Service' || m.kind === 'ConfigMap')) ||
    (m.apiVersion === MONITORING_GROUP && (m.kind === 'ServiceMonitor' || m.kind === 'PrometheusRule'));
  if (!allowed || !MONITORING_CREATES[m.kind]?.includes(m.metadata.name)) {
    out.push(`${where}: creates ${m.apiVersion} ${m.kind}, which no planner creates (${m.metadata.name})`);
    return;
  }
  const label = m.metadata.labels?.[MANAGED_BY_LABEL];
  if (label !== MANAGED_BY && !(recorded && label === LEGACY_MANAGED_BY))
    out.push(`${where}: a created ${m.kind} carries ${MANAGED_BY_LABEL}=${MANAGED_BY}`);
  if (typeof m.metadata.namespace !== 'string' || !m.metadata.namespace)
    out.push(`${where}: a ${m.kind} needs a namespace`);
  if (m.kind === 'Service') metricsServiceProblems(m, where, out);
}

/**
 * A metrics Service as monitoring/plan.ts makes it: selecting one Calico component's pods by `k8s-app`, its
 * ports the component's metrics port (port = targetPort, TCP), headless or a plain ClusterIP; nothing that
 * exposes a port outside the cluster (a review re-digested a plan into a NodePort with externalIPs on
 * Typha's 5473).
 */
function metricsServiceProblems(m: NonNullable<Step['manifest']>, where: string, out: string[]): void {
  const spec = isObj(m.spec) ? m.spec : {};
  onlyKeys(spec, ['clusterIP', 'selector', 'ports', 'type'], `${where} (Service spec)`, out);
  if (spec['type'] !== undefined && spec['type'] !== 'ClusterIP')
    out.push(`${where}: a metrics Service is ClusterIP (headless), not ${String(spec['type'])}`);
  if (spec['clusterIP'] !== undefined && spec['clusterIP'] !== 'None')
    out.push(`${where}: a metrics Service is headless (clusterIP None) or leaves clusterIP to the server`);
  const sel = spec['selector'];
  const apps = METRICS_COMPONENTS.map((c) => COMPONENT_INFO[c].app);
  if (!isObj(sel) || Object.keys(sel).join() !== 'k8s-app' || !apps.includes(String(sel['k8s-app'])))
    out.push(`${where}: a metrics Service selects one Calico component by k8s-app (${apps.join(', ')})`);
  metricsPortsProblems(spec['ports'], where, out);
}

/** A metrics Service's ports: the metrics port, port = targetPort, TCP (created, or patched by a later plan). */
function metricsPortsProblems(ports: unknown, where: string, out: string[]): void {
  if (
    !Array.isArray(ports) ||
    !ports.length ||
    !ports.every(
      (p) =>
        isObj(p) &&
        Object.keys(p).every((k) => ['name', 'port', 'targetPort', 'protocol'].includes(k)) &&
        typeof p['port'] === 'number' &&
        p['targetPort'] === p['port'] &&
        (p['protocol'] === undefined || p['protocol'] === 'TCP'),
    )
  )
    out.push(`${where}: a metrics Service's ports are the metrics port (port = targetPort, TCP)`);
}

/** The undo of a monitoring create: delete what it created (by the names it may create). */
function monitoringDeleteAllowed(step: Step): boolean {
  const ref = step.object;
  if (!ref) return false;
  const groupOk =
    (ref.apiVersion === 'v1' && (ref.kind === 'Service' || ref.kind === 'ConfigMap')) ||
    (ref.apiVersion === MONITORING_GROUP && (ref.kind === 'ServiceMonitor' || ref.kind === 'PrometheusRule'));
  return groupOk && !!MONITORING_CREATES[ref.kind]?.includes(ref.name) && !!ref.namespace;
}

/** `Kind name` (namespace/name) of what a step writes: its object, or what it creates. */
function targetOf(step: Step): string | undefined {
  const kind = step.object?.kind ?? step.manifest?.kind;
  const name = step.object?.name ?? step.manifest?.metadata?.name;
  const ns = step.object?.namespace ?? step.manifest?.metadata?.namespace;
  return kind && name ? `${kind} ${ns ? `${ns}/` : ''}${name}` : undefined;
}

/**
 * What the steps must be to one another, as every planner orders them (an operator trial edited plans, digests
 * recomputed, into a drain of a control-plane node and a mesh turned off with no gate before it):
 * - a drain is of a node whose cluster ID the plan changes (`--drain` of a promotion or demotion);
 * - the step that turns the full mesh off comes right after a gate (the reflectors' sessions observed).
 */
function orderProblems(plan: Plan): string[] {
  const out: string[] = [];
  const promoted = new Set(
    plan.steps
      .filter((st) => {
        const ann = st.action === 'patch' && st.object?.kind === 'Node' ? st.patch?.['metadata'] : undefined;
        const a = isObj(ann) ? ann['annotations'] : undefined;
        return isObj(a) && ANN_RR_CLUSTER_ID in a;
      })
      .map((st) => st.object!.name),
  );
  plan.steps.forEach((st, i) => {
    const where = `step ${i + 1} (${st.id})`;
    if (st.action === 'drain' && st.object && !promoted.has(st.object.name))
      out.push(`${where} drains ${st.object.name}, a node whose cluster ID the plan does not change`);
    const spec =
      st.object?.kind === 'BGPConfiguration' || st.manifest?.kind === 'BGPConfiguration'
        ? st.action === 'patch'
          ? st.patch?.['spec']
          : st.action === 'create'
            ? st.manifest?.spec
            : undefined
        : undefined;
    if (isObj(spec) && spec['nodeToNodeMeshEnabled'] === false && plan.steps[i - 1]?.action !== 'wait')
      out.push(`${where} turns the full mesh off, but not right after a gate that observed the reflectors`);
  });
  return out;
}

/**
 * Everything wrong with a plan's integrity: digest, step shapes. Empty when the plan is intact. `live`: the
 * cluster's BGPPeers and Nodes, which decide whether a --label key of the operator's own may be set
 * (LabelContext). `recorded`: the plan comes from the cluster's journal (an earlier version's run).
 */
export function integrityProblems(
  plan: Plan,
  live?: { bgpPeers: readonly BgpPeerInfo[]; nodes: readonly NodeInfo[] },
  recorded = false,
): string[] {
  const out: string[] = [];
  if (!plan.metadata.digest)
    out.push('the plan records no digest (it was not written by this tool, or by a version before 0.2)');
  else if (plan.metadata.digest !== planDigest(plan))
    out.push(
      'the plan was edited or truncated after it was made (its digest does not match its steps and summary)',
    );
  const labels = { ...labelContext(plan, live), recorded };
  plan.steps.forEach((s, i) => out.push(...stepShapeProblems(s, `step ${i + 1} (${s.id})`, false, labels)));
  out.push(...orderProblems(plan));
  return out;
}

/** Why the plan was made for another cluster; undefined when the identities agree. */
export function clusterMismatch(
  plan: Plan,
  live: {
    server?: string | undefined;
    clusterUID?: string | undefined;
    kind?: 'live' | 'file' | undefined;
    path?: string | undefined;
  },
): string | undefined {
  const want = plan.metadata.cluster;
  if (want.uid && live.clusterUID) {
    return want.uid === live.clusterUID
      ? undefined
      : `the plan was made for another cluster (kube-system UID ${want.uid}; this cluster's is ${live.clusterUID}${want.server ? `; made on ${want.server}` : ''})`;
  }
  if (want.uid && !live.clusterUID)
    return live.kind === 'file'
      ? `the cluster identity cannot be checked: the snapshot ${live.path ?? ''} does not record the cluster's identity (the kube-system namespace; kubectl calico-tune snapshot save records it)`
      : 'the cluster identity cannot be checked: the kube-system namespace could not be read (RBAC: get namespaces/kube-system, docs/rbac.yaml)';
  // a plan without a UID (made from an old snapshot): the server URL is all there is
  if (want.server && live.server && want.server !== live.server)
    return `the plan was made for ${want.server}, not ${live.server}`;
  if (!want.server)
    return 'the plan records no cluster identity (kube-system UID or server); build it again against the cluster';
  return undefined;
}
