/**
 * Seeing BGP from a workstation. Two sources, tried in order:
 * 1. CalicoNodeStatus (Calico 3.21+): one object per observed node (`calico-tune-<node>`, classes [BGP],
 *    updatePeriodSeconds 1), read until it reports, deleted afterwards (also on failure: the Calico docs warn
 *    against many at once);
 * 2. birdcl in the node's calico-node pod through the exec API (`show protocols`), fanned out with bounded
 *    concurrency and one timeout; partial results are returned and the missing nodes named.
 */
import { parseBirdProtocols } from '../model/birdcl.js';
import type { CalicoApiMode, KubeObject } from '../model/types.js';
import type { ObservedNode } from '../model/observed.js';
import type { KubeApi } from './api.js';
import { ApiError } from './http.js';
import { calicoType, Pod } from '../model/resources.js';

export const STATUS_PREFIX = 'calico-tune-';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kubectl-calico-tune' };

function statusName(node: string): string {
  const n = `${STATUS_PREFIX}${node}`;
  return n.length <= 253 ? n : n.slice(0, 253);
}

export class NodeStatusObserver {
  private readonly created = new Set<string>();
  constructor(
    private readonly api: KubeApi,
    private readonly mode: CalicoApiMode,
  ) {}

  /** Makes sure a CalicoNodeStatus exists for each node. Returns false if the kind is not served. */
  async ensure(nodes: string[]): Promise<boolean> {
    const t = calicoType('CalicoNodeStatus', this.mode);
    for (const node of nodes) {
      const name = statusName(node);
      if (this.created.has(name)) continue;
      try {
        await this.api.create(t, {
          apiVersion: t.apiVersion,
          kind: 'CalicoNodeStatus',
          metadata: { name, labels: MANAGED_BY },
          spec: { node, classes: ['BGP'], updatePeriodSeconds: 1 },
        });
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return false;
        if (!(e instanceof ApiError && e.status === 409)) throw e;
      }
      this.created.add(name);
    }
    return true;
  }

  async read(nodes: string[]): Promise<Map<string, ObservedNode>> {
    const t = calicoType('CalicoNodeStatus', this.mode);
    const out = new Map<string, ObservedNode>();
    await Promise.all(
      nodes.map(async (node) => {
        const o = await this.api.get(t, statusName(node));
        const bgp = (o?.status?.['bgp'] ?? undefined) as
          { peersV4?: { peerIP?: string; state?: string; type?: string }[] } | undefined;
        const reported = o?.status?.['lastUpdated'] !== undefined || bgp !== undefined;
        out.set(node, {
          node,
          source: 'CalicoNodeStatus',
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
   * Deletes the objects this observer created, and any left by an earlier run of the tool that was killed
   * before it could clean up (they carry our managed-by label). Best effort; also called on failure paths.
   */
  async cleanup(opts: { leftovers?: boolean } = {}): Promise<void> {
    const t = calicoType('CalicoNodeStatus', this.mode);
    const names = new Set(this.created);
    if (opts.leftovers) {
      try {
        const { items } = await this.api.list(t, {
          labelSelector: 'app.kubernetes.io/managed-by=kubectl-calico-tune',
        });
        for (const o of items) if (o.metadata.name.startsWith(STATUS_PREFIX)) names.add(o.metadata.name);
      } catch {
        /* best effort */
      }
    }
    await Promise.all([...names].map((name) => this.api.delete(t, name).catch(() => false)));
    this.created.clear();
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
