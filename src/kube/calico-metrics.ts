/**
 * `metrics` and `monitoring status`: list the pods of Felix (calico-node), Typha and kube-controllers and read
 * their `/metrics` through the API server's pod proxy in one fan-out with one timeout (kube/pod-metrics.ts).
 * `metrics` reads every pod; `monitoring status` probes a few running ones per component. A pod that does not
 * answer is kept, with why.
 */
import { COMPONENT_INFO } from '../model/monitoring.js';
import * as R from '../model/resources.js';
import type { KubeObject } from '../model/types.js';
import type { MetricsSource, RawPodMetrics } from '../monitoring/metrics.js';
import type { ProbeInput } from '../monitoring/probe.js';
import type { KubeApi } from './api.js';
import { ApiError } from './http.js';
import { describeError, fetchPodMetrics, formatMs } from './pod-metrics.js';

function listPods(api: KubeApi, s: MetricsSource, node?: string): Promise<KubeObject[]> {
  return api
    .list(R.Pod, {
      namespace: s.namespace,
      labelSelector: `k8s-app=${COMPONENT_INFO[s.component].app}`,
      // Felix runs on every node: with --node read only that node's; Typha and kube-controllers are few
      fieldSelector: node && s.component === 'felix' ? `spec.nodeName=${node}` : undefined,
    })
    .then((r) => r.items);
}

const target = (s: MetricsSource, p: KubeObject) => ({
  component: s.component,
  namespace: s.namespace,
  pod: p.metadata.name,
  node: typeof p.spec?.['nodeName'] === 'string' ? p.spec['nodeName'] : null,
  port: s.port,
});

export async function readCalicoMetrics(
  api: KubeApi,
  sources: MetricsSource[],
  opts: { timeoutMs: number; node?: string | undefined; concurrency?: number | undefined },
): Promise<RawPodMetrics[]> {
  const lists = await Promise.all(
    sources.map(async (s) => (await listPods(api, s, opts.node)).map((p) => target(s, p))),
  );
  const targets = lists.flat();
  const results = await fetchPodMetrics(api, targets, {
    timeoutMs: opts.timeoutMs,
    concurrency: opts.concurrency ?? 8,
    timeoutFlag: '--timeout',
  });
  return results.map((r, i) => ({ ...targets[i]!, text: r.text, error: r.error }));
}

/** Running pods with a pod IP, by name: the ones a probe reads. */
function runningPods(pods: KubeObject[]): KubeObject[] {
  return pods
    .filter((p) => {
      const st = (p as { status?: { phase?: unknown; podIP?: unknown } }).status;
      return st?.phase === 'Running' && typeof st.podIP === 'string' && st.podIP !== '';
    })
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

/**
 * `monitoring status`'s probe: per component, up to `perComponent` running pods' `/metrics`, everything (the
 * pod lists included) within one `timeoutMs`. Never throws: a list or read that failed is in the answer.
 */
export async function probeCalicoMetrics(
  api: KubeApi,
  sources: MetricsSource[],
  opts: { timeoutMs: number; perComponent?: number | undefined; timeoutFlag?: string | undefined },
): Promise<ProbeInput[]> {
  const start = Date.now();
  const flag = opts.timeoutFlag ?? '--timeout';
  const per = Math.max(1, opts.perComponent ?? 2);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), opts.timeoutMs);
  });
  let lists: ({ pods: KubeObject[] } | { listError: ProbeInput['listError'] })[];
  try {
    lists = await Promise.all(
      sources.map(async (s) => {
        try {
          const r = await Promise.race([listPods(api, s), expiry]);
          if (r === 'expired')
            return {
              listError: { message: `no answer within ${formatMs(opts.timeoutMs)} (${flag})` },
            };
          return { pods: r };
        } catch (e) {
          return {
            listError: {
              message: describeError(e, s, opts.timeoutMs, flag),
              status: e instanceof ApiError ? e.status : undefined,
            },
          };
        }
      }),
    );
  } finally {
    if (timer) clearTimeout(timer);
  }
  const chosen = lists.map((l, i) =>
    'pods' in l
      ? runningPods(l.pods)
          .slice(0, per)
          .map((p) => target(sources[i]!, p))
      : [],
  );
  const targets = chosen.flat();
  const left = Math.max(1, opts.timeoutMs - (Date.now() - start));
  const results = targets.length
    ? await fetchPodMetrics(api, targets, { timeoutMs: left, concurrency: 8, timeoutFlag: flag })
    : [];
  return sources.map((s, i) => {
    const l = lists[i]!;
    if (!('pods' in l)) return { ...s, listError: l.listError, podsFound: 0, pods: [] };
    return {
      ...s,
      podsFound: l.pods.length,
      pods: results
        .filter((_r, j) => targets[j]!.component === s.component)
        .map((r) => ({ pod: r.pod, node: r.node, text: r.text, error: r.error, status: r.status })),
    };
  });
}
