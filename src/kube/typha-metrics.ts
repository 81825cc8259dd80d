/**
 * Reads every Typha's Prometheus `/metrics` through the API server's pod proxy
 * (`GET /api/v1/namespaces/NS/pods/POD:PORT/proxy/metrics`, RBAC: get pods/proxy): bounded concurrency,
 * one overall deadline for the whole fan-out, partial results kept. Never throws: what could not be read is
 * said in the result (`reason`, and `error` per pod), so the report still renders.
 */
import { CliError } from '../errors.js';
import {
  combineTyphaMetrics,
  podResult,
  type TyphaLiveMetrics,
  type TyphaPodMetrics,
} from '../typha/metrics.js';
import type { KubeApi } from './api.js';
import { ApiError } from './http.js';

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
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const deadline = Date.now() + timeoutMs;
  const pods = target.pods;
  const results: (TyphaPodMetrics | undefined)[] = new Array(pods.length).fill(undefined);
  let next = 0;
  let expired = false;

  const worker = async (): Promise<void> => {
    while (!expired && next < pods.length) {
      const i = next++;
      const pod = pods[i]!;
      const node = pod.node ?? null;
      if (!pod.node) {
        results[i] = podResult(pod.name, node, { error: 'not scheduled on a node' });
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        const text = await api.podProxyGet(target.namespace, pod.name, target.port, '/metrics', left);
        results[i] = podResult(pod.name, node, { text });
      } catch (e) {
        results[i] = podResult(pod.name, node, { error: describeError(e, target, timeoutMs) });
      }
    }
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      expired = true;
      resolve();
    }, timeoutMs);
  });
  try {
    await Promise.race([
      Promise.all(Array.from({ length: Math.min(concurrency, pods.length) }, worker)),
      expiry,
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
  const out = pods.map(
    (p, i) =>
      results[i] ??
      podResult(p.name, p.node ?? null, {
        error: `no answer within ${formatMs(timeoutMs)} (--metrics-timeout)`,
      }),
  );
  return combineTyphaMetrics(out, { port: target.port, timeoutMs });
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** One short line: why a pod's metrics could not be read. */
export function describeError(
  e: unknown,
  target: { namespace: string; port: number },
  timeoutMs: number,
): string {
  if (e instanceof ApiError) {
    if (e.status === 403)
      return `forbidden: the user needs "get" on pods/proxy in ${target.namespace} (docs/rbac.yaml)`;
    if (e.status === 404) return 'the pod no longer exists';
    const msg = firstLine(e.message);
    return `the API server could not reach the pod on port ${target.port} (HTTP ${e.status}${msg ? `: ${msg}` : ''})`;
  }
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (err?.code === 'ETIMEDOUT' || err?.cause?.code === 'ETIMEDOUT')
    return `no answer within ${formatMs(timeoutMs)} (--metrics-timeout)`;
  if (e instanceof CliError) return firstLine(e.message);
  return firstLine(e instanceof Error ? e.message : String(e));
}

function firstLine(s: string): string {
  const l = (s.split('\n')[0] ?? '').trim();
  return l.length > 160 ? `${l.slice(0, 157)}...` : l;
}
