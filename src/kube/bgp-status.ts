/**
 * Seeing BGP from a workstation: the one module behind the executor's gates and `bgp peers`. Two sources:
 * 1. CalicoNodeStatus (Calico 3.21+): a new object per observation (`calico-tune-<node>-<n>`, classes [BGP],
 *    updatePeriodSeconds 1, or once per settle window for a node with thousands of sessions), so any report
 *    on it was made after it was created, i.e. after the write a gate waits for (no clock comparison between this machine and the nodes); deleted afterwards (also on
 *    failure: the Calico docs warn against many at once; leftovers of a killed run carry our label);
 * 2. birdcl in the node's calico-node pod through the exec API (`show protocols`), fanned out with bounded
 *    concurrency and one timeout; partial results are returned and the missing nodes named.
 */
import { parseBirdProtocols } from '../model/birdcl.js';
import type { ObservedNode } from '../model/observed.js';
import { calicoType, Pod } from '../model/resources.js';
import type { CalicoApiMode, KubeObject } from '../model/types.js';
import type { KubeApi } from './api.js';
import { ApiError } from './http.js';
import { MANAGED_BY_LABELS, MANAGED_BY_SELECTOR } from '../model/managed-by.js';

export const STATUS_PREFIX = 'calico-tune-';

function statusName(node: string, n: number): string {
  const suffix = `-${n.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  return `${STATUS_PREFIX}${node}`.slice(0, 253 - suffix.length) + suffix;
}

/** Requests in flight when creating or deleting the observations of many nodes. */
const CONCURRENCY = 16;

/**
 * How often calico-node should report on a node with `peers` BGP sessions (CalicoNodeStatus
 * updatePeriodSeconds) while a gate whose reports must hold for `settleMs` waits on it. Each report rewrites
 * the whole status, about 85 bytes a session: every second for a reflector of 5,000 clients is 422 KB a
 * second through the API server and etcd. Up to 500 sessions (42 KB) every second; beyond, once per settle
 * window (2 s by default): a gate needs two reports spanning that window anyway, so it waits about one
 * period longer (measured at 5,000 nodes: a 5 s period made each gate 7-22 s instead of 4-5 s).
 */
export function reportPeriodSeconds(peers: number, settleMs = 2000): number {
  if (peers <= 500) return 1;
  return Math.max(1, Math.round(settleMs / 1000));
}

export class NodeStatusObserver {
  /** node -> the object observing it now (created by this observer). */
  private readonly current = new Map<string, string>();
  private readonly mine = new Set<string>();
  private seq = 0;
  constructor(
    private readonly api: KubeApi,
    private readonly mode: CalicoApiMode,
  ) {}

  /** Deletions of earlier observations, off the gate's critical path; cleanup() waits for them. */
  private readonly deleting = new Set<Promise<unknown>>();

  /**
   * Starts a new observation of each node: a new CalicoNodeStatus, so that every report read afterwards was
   * made after this call. The node's previous object of this observer is deleted once the new one exists,
   * in the background (a failed delete is retried by cleanup()). Returns false when the kind is not served
   * (older Calico).
   */
  async fresh(nodes: string[], periodOf?: (node: string) => number): Promise<boolean> {
    const t = calicoType('CalicoNodeStatus', this.mode);
    // Node by node as before (the previous observation deleted, then a new one), several nodes at a time:
    // one gate may watch every reflector and many clients.
    let served = true;
    // the first failure stops every worker, and fresh() returns only when none is writing any more: a
    // cleanup after a failed gate must not race creates still in flight
    let failure: { error: unknown } | undefined;
    const queue = [...nodes];
    const worker = async (): Promise<void> => {
      for (let node = queue.shift(); node !== undefined && served && !failure; node = queue.shift()) {
        const name = statusName(node, ++this.seq);
        // ours from the moment it may exist (a create that timed out may have landed): cleanup deletes it
        this.mine.add(name);
        try {
          await this.api.create(t, {
            apiVersion: t.apiVersion,
            kind: 'CalicoNodeStatus',
            metadata: { name, labels: { ...MANAGED_BY_LABELS } },
            spec: { node, classes: ['BGP'], updatePeriodSeconds: periodOf?.(node) ?? 1 },
          });
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) {
            this.mine.delete(name); // the kind is not served: nothing was made
            served = false;
            return;
          }
          // 409: a retried create that had landed (the name is unique to this run, so the object is ours), or
          // a conflict that created nothing: look before relying on it
          const landed =
            e instanceof ApiError && e.status === 409 && (await this.api.get(t, name).catch(() => undefined));
          if (!landed) {
            failure ??= { error: e };
            return;
          }
        }
        const old = this.current.get(node);
        this.current.set(node, name);
        if (old) this.deleteLater(t, old);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, nodes.length) }, worker));
    if (failure) throw failure.error;
    return served;
  }

  /**
   * Ends the observation of these nodes: their objects are deleted in the background (a gate that has its
   * verdict needs no more reports, and calico-node stops writing them), cleanup() waits for the deletes.
   */
  release(nodes: string[]): void {
    const t = calicoType('CalicoNodeStatus', this.mode);
    for (const node of nodes) {
      const name = this.current.get(node);
      if (!name) continue;
      this.current.delete(node);
      this.deleteLater(t, name);
    }
  }

  private deleteLater(t: ReturnType<typeof calicoType>, name: string): void {
    const p = this.api
      .delete(t, name)
      .then(() => this.mine.delete(name))
      .catch(() => undefined) // still in `mine`: cleanup() tries again
      .finally(() => this.deleting.delete(p));
    this.deleting.add(p);
  }

  async read(nodes: string[]): Promise<Map<string, ObservedNode>> {
    const t = calicoType('CalicoNodeStatus', this.mode);
    const out = new Map<string, ObservedNode>();
    await Promise.all(
      nodes.map(async (node) => {
        const name = this.current.get(node);
        const o = name ? await this.api.get(t, name) : undefined;
        const bgp = (o?.status?.['bgp'] ?? undefined) as
          { peersV4?: { peerIP?: string; state?: string; type?: string }[] } | undefined;
        const last = o?.status?.['lastUpdated'];
        const reported = last !== undefined || bgp !== undefined;
        out.set(node, {
          node,
          source: 'CalicoNodeStatus',
          reportedAt: typeof last === 'string' ? Date.parse(last) : undefined,
          peers: reported
            ? (bgp?.peersV4 ?? []).map((p) => ({
                peerIP: String(p.peerIP ?? ''),
                state: String(p.state ?? ''),
                type: p.type,
              }))
            : undefined,
        });
      }),
    );
    return out;
  }

  /**
   * Reads until `done` says the observation is complete or the deadline passes; returns the last reading.
   * The one polling loop of gates and `bgp peers`.
   */
  async until(
    nodes: string[],
    opts: {
      deadline: number;
      pollMs?: number | undefined;
      done: (obs: Map<string, ObservedNode>) => boolean;
      onPoll?: ((obs: Map<string, ObservedNode>) => void) | undefined;
      checkInterrupt?: (() => void) | undefined;
    },
  ): Promise<Map<string, ObservedNode>> {
    for (;;) {
      opts.checkInterrupt?.();
      const obs = await this.read(nodes);
      if (opts.done(obs) || Date.now() >= opts.deadline) return obs;
      opts.onPoll?.(obs);
      await new Promise((r) =>
        setTimeout(r, Math.min(opts.pollMs ?? 1000, Math.max(50, opts.deadline - Date.now()))),
      );
    }
  }

  /**
   * Deletes the objects this observer created, and with `leftovers` any left by an earlier run of the tool
   * that was killed before it could clean up (they carry our managed-by label). Only a run holding the plan
   * lock asks for leftovers. Best effort; also called on failure paths.
   */
  async cleanup(opts: { leftovers?: boolean } = {}): Promise<void> {
    const t = calicoType('CalicoNodeStatus', this.mode);
    await Promise.all(this.deleting);
    const names = new Set(this.mine);
    if (opts.leftovers) {
      try {
        const { items } = await this.api.list(t, {
          labelSelector: MANAGED_BY_SELECTOR,
          metadataOnly: true,
        });
        for (const o of items) if (o.metadata.name.startsWith(STATUS_PREFIX)) names.add(o.metadata.name);
      } catch {
        /* best effort */
      }
    }
    const queue = [...names];
    const worker = async (): Promise<void> => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift())
        await this.api.delete(t, name).catch(() => false);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
    this.mine.clear();
    this.current.clear();
  }
}

/** Finds the calico-node pod on each node (calico-system, else kube-system). */
async function calicoNodePods(
  api: KubeApi,
  nodes: string[],
  namespace: string | undefined,
): Promise<Map<string, KubeObject>> {
  const out = new Map<string, KubeObject>();
  const wanted = new Set(nodes);
  for (const ns of namespace ? [namespace] : ['calico-system', 'kube-system']) {
    const { items } = await api.list(Pod, { namespace: ns, labelSelector: 'k8s-app=calico-node' });
    for (const p of items) {
      const node = String(p.spec?.['nodeName'] ?? '');
      if (wanted.has(node) && !out.has(node)) out.set(node, p);
    }
    if (out.size) break;
  }
  return out;
}

/** Runs birdcl in calico-node pods, `concurrency` at a time, within `timeoutMs` overall. */
export async function birdclObserve(
  api: KubeApi,
  nodes: string[],
  opts: { namespace?: string | undefined; concurrency?: number; timeoutMs: number },
): Promise<Map<string, ObservedNode>> {
  const out = new Map<string, ObservedNode>();
  const pods = await calicoNodePods(api, nodes, opts.namespace);
  const { execInPod } = await import('./exec.js');
  const deadline = Date.now() + opts.timeoutMs;
  const queue = [...nodes];
  const worker = async (): Promise<void> => {
    for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
      const pod = pods.get(node);
      if (!pod) {
        out.set(node, { node, source: 'birdcl', error: 'no calico-node pod on this node' });
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        out.set(node, { node, source: 'birdcl', error: 'timed out' });
        continue;
      }
      try {
        const text = await execInPod(
          api,
          pod.metadata.namespace ?? '',
          pod.metadata.name,
          'calico-node',
          ['birdcl', '-s', '/var/run/calico/bird.ctl', 'show', 'protocols'],
          left,
        );
        out.set(node, {
          node,
          source: 'birdcl',
          reportedAt: Date.now(),
          peers: parseBirdProtocols(text).map((p) => ({ peerIP: p.peerIP, state: p.state, type: p.type })),
        });
      } catch (e) {
        out.set(node, { node, source: 'birdcl', error: (e as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, nodes.length) }, worker));
  return out;
}

/**
 * The live BGP session table of some nodes (`bgp peers`): CalicoNodeStatus first (new objects, read until each
 * node reports or the timeout, deleted), birdcl for the nodes that did not report. Partial results are
 * returned with the missing nodes named.
 */
export async function observePeers(
  api: KubeApi,
  mode: CalicoApiMode,
  nodes: string[],
  opts: {
    timeoutMs: number;
    source: 'auto' | 'caliconodestatus' | 'birdcl';
    namespace?: string | undefined;
    progress?: (msg: string) => void;
  },
): Promise<Map<string, ObservedNode>> {
  const deadline = Date.now() + opts.timeoutMs;
  let result = new Map<string, ObservedNode>();
  if (opts.source !== 'birdcl') {
    const obs = new NodeStatusObserver(api, mode);
    try {
      if (await obs.fresh(nodes)) {
        result = await obs.until(nodes, {
          deadline,
          done: (r) => nodes.every((n) => r.get(n)?.peers),
          onPoll: (r) =>
            opts.progress?.(
              `waiting for CalicoNodeStatus reports from ${nodes.filter((n) => !r.get(n)?.peers).length} node(s)`,
            ),
        });
      }
    } finally {
      await obs.cleanup();
    }
  }
  const missing = nodes.filter((n) => !result.get(n)?.peers);
  if (missing.length && opts.source !== 'caliconodestatus') {
    const bird = await birdclObserve(api, missing, {
      namespace: opts.namespace,
      timeoutMs: Math.max(2000, deadline - Date.now()),
    });
    for (const [k, v] of bird) result.set(k, v);
  } else {
    for (const n of missing)
      result.set(n, {
        node: n,
        source: 'CalicoNodeStatus',
        error: 'no report from calico-node within the timeout',
      });
  }
  return result;
}
