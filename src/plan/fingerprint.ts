/**
 * What a plan was built from, and what changed since (stale-plan detection before the first write).
 */
import { MONITORING_GROUP } from '../model/monitoring.js';
import { createHash } from 'node:crypto';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import type { FingerprintEntry, Plan, Step } from './types.js';
import { num } from '../model/format.js';
import { SelectorParseError, trySelector } from '../bgp/selector.js';

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A short digest of a value's canonical JSON (keys sorted, undefined fields dropped, as a JSON round trip does). */
export function digest(v: unknown): string {
  return digestFull(v).slice(0, 16);
}

export function digestFull(v: unknown): string {
  return createHash('sha256').update(stable(v)).digest('hex');
}

function relevant(o: KubeObject): unknown {
  if (o.kind === 'Node') {
    return {
      labels: o.metadata.labels ?? {},
      annotations: o.metadata.annotations ?? {},
      unschedulable: o.spec?.['unschedulable'] === true,
    };
  }
  // a Deployment's replicas are the autoscaler's (calico-typha-horizontal-autoscaler, the operator's): no plan
  // writes or reads them, and a plan does not go stale when Typha is scaled
  if (o.kind === 'Deployment') return { ...(o.spec ?? {}), replicas: undefined };
  return o.spec ?? {};
}

export function entryOf(o: KubeObject): FingerprintEntry {
  return {
    kind: o.kind,
    name: o.metadata.name,
    namespace: o.metadata.namespace,
    resourceVersion: o.metadata.resourceVersion ?? '',
    digest: digest(relevant(o)),
  };
}

export function nodeSetHash(s: ClusterSnapshot): string {
  return digest(s.nodes.map((n) => n.name).sort());
}

/** `Kind/namespace/name` of an object or a step's object. */
export function objectKey(kind: string, name: string, namespace?: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/** Keys of the objects other than Nodes that steps write (patch, create, delete), e.g. a monitoring plan's. */
export function writtenObjects(steps: Step[]): string[] {
  const out = new Set<string>();
  for (const st of steps) {
    const kind = st.object?.kind ?? st.manifest?.kind;
    const name = st.object?.name ?? st.manifest?.metadata.name;
    if (!kind || !name || kind === 'Node') continue;
    if (st.action === 'patch' || st.action === 'create' || st.action === 'delete')
      out.add(objectKey(kind, name, st.object?.namespace ?? st.manifest?.metadata.namespace));
  }
  return [...out];
}

/** The peerSelectors of the BGPPeers steps create (their peers are part of what the plan was verified with). */
export function createdPeerSelectors(steps: Step[]): string[] {
  return steps.flatMap((st) => {
    const sel =
      st.action === 'create' && st.manifest?.kind === 'BGPPeer'
        ? st.manifest.spec?.['peerSelector']
        : undefined;
    return typeof sel === 'string' ? [sel] : [];
  });
}

/**
 * Nodes a BGPPeer's peerSelector selects (of the cluster's BGPPeers, or of `extra` selectors): every node that
 * BGPPeer serves peers with them, so a node that gains such a label changes the sessions the plan verified.
 */
function peerSelectedNodes(s: ClusterSnapshot, extra: string[]): Set<string> {
  const out = new Set<string>();
  const sels = [...new Set([...s.bgpPeers.map((p) => p.peerSelector ?? ''), ...extra])].flatMap((t) => {
    if (!t) return [];
    const sel = trySelector(t);
    return sel instanceof SelectorParseError ? [] : [sel];
  });
  if (!sels.length) return out;
  for (const n of s.nodes) if (sels.some((sel) => sel.matches(n.calicoLabels))) out.add(n.name);
  return out;
}

/**
 * The fingerprint: the BGP configuration, every BGPPeer, every IP pool and the Installation (their
 * encapsulation decides which routes BGP must carry), every route reflector, every node a BGPPeer's
 * peerSelector selects (the cluster's, and `peerSelectors` of the BGPPeers the plan creates), every node a step
 * touches, and every other object a step writes (`touchedObjects`, keys from writtenObjects: e.g. a monitoring
 * plan's).
 */
export function fingerprint(
  s: ClusterSnapshot,
  touchedNodes: string[],
  touchedObjects: string[] = [],
  peerSelectors: string[] = [],
): FingerprintEntry[] {
  const touched = new Set(touchedNodes);
  const selected = peerSelectedNodes(s, peerSelectors);
  const objs = new Set(touchedObjects);
  // a plan that writes ServiceMonitors or PrometheusRules labelled them for the Prometheus selectors it read:
  // a selector changed since makes it stale (a review: applied "done", and nothing scraped them)
  const monitors = touchedObjects.some(
    (k) => k.startsWith('ServiceMonitor/') || k.startsWith('PrometheusRule/'),
  );
  const out: FingerprintEntry[] = [];
  for (const o of s.objects) {
    if (monitors && o.kind === 'Prometheus' && o.apiVersion === MONITORING_GROUP) {
      const spec = (o.spec ?? {}) as Record<string, unknown>;
      out.push({
        ...entryOf(o),
        digest: digest({
          serviceMonitorSelector: spec['serviceMonitorSelector'] ?? null,
          serviceMonitorNamespaceSelector: spec['serviceMonitorNamespaceSelector'] ?? null,
          ruleSelector: spec['ruleSelector'] ?? null,
          ruleNamespaceSelector: spec['ruleNamespaceSelector'] ?? null,
        }),
      });
    } else if (
      o.kind === 'BGPConfiguration' ||
      o.kind === 'BGPPeer' ||
      o.kind === 'IPPool' ||
      (o.kind === 'Installation' && o.apiVersion === 'operator.tigera.io/v1')
    )
      out.push(entryOf(o));
    else if (
      objs.size &&
      o.kind !== 'Node' &&
      objs.has(objectKey(o.kind, o.metadata.name, o.metadata.namespace))
    )
      out.push(entryOf(o));
    else if (
      o.kind === 'Node' &&
      (touched.has(o.metadata.name) ||
        o.metadata.annotations?.['projectcalico.org/RouteReflectorClusterID'] !== undefined)
    ) {
      out.push(entryOf(o));
    } else if (o.kind === 'Node' && selected.has(o.metadata.name)) {
      // only what selectors see: an annotation a CSI driver or the autoscaler adds does not make a plan stale
      out.push({
        ...entryOf(o),
        digest: digest({
          labels: o.metadata.labels ?? {},
          calicoLabels: o.metadata.annotations?.['projectcalico.org/labels'] ?? null,
        }),
        selected: true,
      });
    }
  }
  return out;
}

/** What changed between the plan's fingerprint and a fresh snapshot; empty when the plan is current. */
export function staleness(plan: Plan, live: ClusterSnapshot): string[] {
  const changes: string[] = [];
  const keyOf = (e: FingerprintEntry): string =>
    e.namespace ? `${e.kind}/${e.namespace}/${e.name}` : `${e.kind}/${e.name}`;
  const planned = new Map(plan.metadata.cluster.fingerprint.map((e) => [keyOf(e), e]));
  const now = new Map<string, FingerprintEntry>();
  const touched = plan.metadata.cluster.fingerprint
    .filter((e) => e.kind === 'Node' && !e.selected)
    .map((e) => e.name);
  // a fingerprinted node no step writes was fingerprinted because it was a reflector
  const written = new Set(plan.steps.filter((s) => s.object?.kind === 'Node').map((s) => s.object!.name));
  const isRR = (name: string): boolean =>
    live.nodes.some((n) => n.name === name && n.bgp.rrClusterIdRaw !== undefined);
  // a node created after the plan (its creation time): "a new node", not "its labels changed"
  const planned0 = Date.parse(plan.metadata.createdAt);
  let created: Map<string, number> | undefined;
  const isNew = (name: string): boolean => {
    // (one index of the nodes' creation times, made at the first new entry)
    created ??= new Map(
      live.objects
        .filter((x) => x.kind === 'Node')
        .map((x) => [
          x.metadata.name,
          Date.parse((x.metadata as { creationTimestamp?: string }).creationTimestamp ?? ''),
        ]),
    );
    const t = created.get(name) ?? NaN;
    return Number.isFinite(t) && Number.isFinite(planned0) && t > planned0;
  };
  for (const e of fingerprint(live, touched, writtenObjects(plan.steps), createdPeerSelectors(plan.steps)))
    now.set(keyOf(e), e);
  for (const [key, e] of planned) {
    const cur = now.get(key);
    if (!cur)
      changes.push(
        e.selected && live.nodes.some((n) => n.name === e.name)
          ? `${key} is no longer selected by a BGPPeer's peerSelector (its labels changed)`
          : `${key} was deleted`,
      );
    else if (e.selected !== cur.selected)
      changes.push(
        cur.selected
          ? `${key} is no longer a route reflector (resourceVersion ${e.resourceVersion} → ${cur.resourceVersion})`
          : `${key} became a route reflector`,
      );
    else if (cur.digest !== e.digest)
      changes.push(
        e.selected
          ? `${key}'s labels changed (a BGPPeer's peerSelector selects it; resourceVersion ${e.resourceVersion} → ${cur.resourceVersion})`
          : e.kind === 'Node' && !written.has(e.name) && !isRR(e.name)
            ? `${key} is no longer a route reflector (resourceVersion ${e.resourceVersion} → ${cur.resourceVersion})`
            : `${key} changed (resourceVersion ${e.resourceVersion} → ${cur.resourceVersion})`,
      );
  }
  for (const [key, e] of now) {
    if (!planned.has(key))
      changes.push(
        e.kind !== 'Node'
          ? `${key} was created`
          : !e.selected
            ? `${key} became a route reflector`
            : `${key} is now selected by a BGPPeer's peerSelector (${isNew(e.name) ? 'a new node' : 'its labels changed'}): every node that BGPPeer serves would peer with it`,
      );
  }
  if (nodeSetHash(live) !== plan.metadata.cluster.nodeSetHash) {
    const was = plan.metadata.cluster.nodeCount;
    const is = live.nodes.length;
    changes.push(
      is === was
        ? `the set of nodes changed (still ${num(is)} nodes)`
        : `nodes: ${was} when planned, ${is} now (${is > was ? `${is - was} added` : `${was - is} removed`})`,
    );
  }
  return changes;
}
