/**
 * Reads Prometheus `/metrics` of pods through the API server's pod proxy
 * (`GET /api/v1/namespaces/NS/pods/POD:PORT/proxy/metrics`, RBAC: get pods/proxy): bounded concurrency, one
 * overall deadline for the whole fan-out, partial results kept. Never throws: a pod that could not be read
 * has an `error` saying why. Shared by `typha report` and `metrics`.
 */
import { CliError } from '../errors.js';
import type { KubeApi } from './api.js';
import { ApiError } from './http.js';

export interface PodMetricsTarget {
  namespace: string;
  pod: string;
  node: string | null;
  port: number;
}

export type PodMetricsResult = PodMetricsTarget &
  (
    | { text: string; error?: undefined; status?: undefined }
    /** `status`: the HTTP status of the API server's refusal, when it answered with one. */
    | { error: string; text?: undefined; status?: number | undefined }
  );

export interface FanOutOptions {
  /** For the whole fan-out. */
  timeoutMs: number;
  /** Pods read at the same time (default 4). */
  concurrency?: number | undefined;
  /** The flag that sets the timeout, for messages (e.g. --metrics-timeout). */
  timeoutFlag: string;
}

type Getter = Pick<KubeApi, 'podProxyGet'>;

export async function fetchPodMetrics(
  api: Getter,
  targets: PodMetricsTarget[],
  opts: FanOutOptions,
): Promise<PodMetricsResult[]> {
  const { timeoutMs } = opts;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const deadline = Date.now() + timeoutMs;
  const results: (PodMetricsResult | undefined)[] = new Array(targets.length).fill(undefined);
  let next = 0;
  let expired = false;

  const worker = async (): Promise<void> => {
    while (!expired && next < targets.length) {
      const i = next++;
      const t = targets[i]!;
      if (!t.node) {
        results[i] = { ...t, error: 'not scheduled on a node' };
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        results[i] = { ...t, text: await api.podProxyGet(t.namespace, t.pod, t.port, '/metrics', left) };
      } catch (e) {
        results[i] = {
          ...t,
          error: describeError(e, t, timeoutMs, opts.timeoutFlag),
          status: e instanceof ApiError ? e.status : undefined,
        };
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
      Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker)),
      expiry,
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
  return targets.map(
    (t, i) => results[i] ?? { ...t, error: `no answer within ${formatMs(timeoutMs)} (${opts.timeoutFlag})` },
  );
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** One short line: why a pod's metrics could not be read. */
export function describeError(
  e: unknown,
  target: { namespace: string; port: number },
  timeoutMs: number,
  timeoutFlag = '--metrics-timeout',
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
    return `no answer within ${formatMs(timeoutMs)} (${timeoutFlag})`;
  if (e instanceof CliError) return firstLine(e.message);
  return firstLine(e instanceof Error ? e.message : String(e));
}

function firstLine(s: string): string {
  const l = (s.split('\n')[0] ?? '').trim();
  return l.length > 160 ? `${l.slice(0, 157)}...` : l;
}
