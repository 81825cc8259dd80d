/**
 * The live BGP session table of some nodes (`bgp peers`): CalicoNodeStatus first (created, read until each
 * node reports or the timeout, deleted), birdcl for the nodes that did not report. Partial results are
 * returned with the missing nodes named.
 */
import type { CalicoApiMode } from '../model/types.js';
import type { ObservedNode } from '../model/observed.js';
import type { KubeApi } from './api.js';
import { birdclObserve, NodeStatusObserver } from './bgp-status.js';

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
      const served = await obs.ensure(nodes);
      if (served) {
        for (;;) {
          result = await obs.read(nodes);
          const waiting = nodes.filter((n) => !result.get(n)?.peers);
          if (!waiting.length || Date.now() >= deadline) break;
          opts.progress?.(`waiting for CalicoNodeStatus reports from ${waiting.length} node(s)`);
          await new Promise((r) => setTimeout(r, 1000));
        }
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
