/**
 * Reads every Typha's Prometheus `/metrics` through the API server's pod proxy
 * (`GET /api/v1/namespaces/NS/pods/POD:PORT/proxy/metrics`, RBAC: get pods/proxy): bounded concurrency,
 * one overall deadline for the whole fan-out, partial results kept. Never throws: what could not be read is
 * said in the result (`reason`, and `error` per pod), so the report still renders.
 */
import { combineTyphaMetrics, podResult, type TyphaLiveMetrics } from '../typha/metrics.js';
import type { KubeApi } from './api.js';
import { describeError, fetchPodMetrics } from './pod-metrics.js';

export interface TyphaMetricsTarget {
  namespace: string;
  port: number;
  pods: { name: string; node?: string | null | undefined }[];
}

export interface TyphaMetricsOptions {
  /** For the whole fan-out (default 3 s). */
  timeoutMs?: number;
  /** Pods read at the same time (default 4). */
  concurrency?: number;
}

export const DEFAULT_METRICS_TIMEOUT_MS = 3000;

type Getter = Pick<KubeApi, 'podProxyGet'>;

export async function readTyphaMetrics(
  api: Getter,
  target: TyphaMetricsTarget,
  opts: TyphaMetricsOptions = {},
): Promise<TyphaLiveMetrics> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_METRICS_TIMEOUT_MS;
  const results = await fetchPodMetrics(
    api,
    target.pods.map((p) => ({
      namespace: target.namespace,
      pod: p.name,
      node: p.node ?? null,
      port: target.port,
    })),
    { timeoutMs, concurrency: opts.concurrency, timeoutFlag: '--metrics-timeout' },
  );
  const out = results.map((r) =>
    podResult(r.pod, r.node, r.text !== undefined ? { text: r.text } : { error: r.error }),
  );
  return combineTyphaMetrics(out, { port: target.port, timeoutMs });
}

export { describeError };
