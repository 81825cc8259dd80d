/**
 * `metrics`: lists the pods of Felix (calico-node), Typha and kube-controllers and reads every pod's
 * `/metrics` through the API server's pod proxy in one fan-out with one timeout (kube/pod-metrics.ts).
 * Components whose metrics are off are not read; a pod that does not answer is kept, with why.
 */
import { COMPONENT_INFO } from '../model/monitoring.js';
import * as R from '../model/resources.js';
import type { MetricsSource, RawPodMetrics } from '../monitoring/metrics.js';
import type { KubeApi } from './api.js';
import { fetchPodMetrics } from './pod-metrics.js';

export async function readCalicoMetrics(
  api: KubeApi,
  sources: MetricsSource[],
  opts: { timeoutMs: number; node?: string | undefined; concurrency?: number | undefined },
): Promise<RawPodMetrics[]> {
  const lists = await Promise.all(
    sources.map(async (s) => {
      const pods = (
        await api.list(R.Pod, {
          namespace: s.namespace,
          labelSelector: `k8s-app=${COMPONENT_INFO[s.component].app}`,
          // Felix runs on every node: with --node read only that node's; Typha and kube-controllers are few
          fieldSelector: opts.node && s.component === 'felix' ? `spec.nodeName=${opts.node}` : undefined,
        })
      ).items;
      return pods.map((p) => ({
        component: s.component,
        namespace: s.namespace,
        pod: p.metadata.name,
        node: typeof p.spec?.['nodeName'] === 'string' ? p.spec['nodeName'] : null,
        port: s.port,
      }));
    }),
  );
  const targets = lists.flat();
  const results = await fetchPodMetrics(api, targets, {
    timeoutMs: opts.timeoutMs,
    concurrency: opts.concurrency ?? 8,
    timeoutFlag: '--timeout',
  });
  return results.map((r, i) => ({ ...targets[i]!, text: r.text, error: r.error }));
}
