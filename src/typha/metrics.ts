/**
 * Typha's live figures, from its Prometheus metrics (typha/pkg/syncserver):
 * - `typha_connections_active` (gauge): open client connections, handshakes included;
 * - `typha_connections_streaming{syncer}` (gauge, newer Typhas): connections past the handshake, per syncer;
 * - `typha_connections_dropped` (counter): connections Typha dropped to rebalance load;
 * - `typha_client_latency_secs{syncer?}` (summary): how far behind the current state each client is
 *   (quantiles when configured, else only `_sum` / `_count`).
 * Pure: the I/O lives in src/kube/typha-metrics.ts.
 */
import { parsePrometheusText, samplesOf, sumOf, type ParsedMetrics } from './prometheus.js';
import { maxOf, minOf } from '../model/arrays.js';

export interface ClientLatency {
  /** Worst syncer's quantiles, in seconds (null when the summary has no quantiles). */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** `_sum / _count` over every syncer, in seconds (null without observations). */
  mean: number | null;
  /** Observations (`_count`). */
  count: number;
}

export interface TyphaPodFigures {
  connectionsActive: number | null;
  connectionsStreaming: number | null;
  /** Streaming connections by syncer (felix, bgp, tunnel-ip-allocation, node-status...). */
  streamingBySyncer: Record<string, number>;
  connectionsDropped: number | null;
  clientLatency: ClientLatency | null;
}

export interface TyphaPodMetrics extends TyphaPodFigures {
  pod: string;
  node: string | null;
  /** Whether the metrics were read from this pod. */
  ok: boolean;
  /** Why not (when `ok` is false). */
  error: string | null;
}

export interface TyphaLiveMetrics {
  /** True when at least one pod answered. */
  read: boolean;
  /** Why the figures are missing or partial; null when every pod answered. */
  reason: string | null;
  port: number | null;
  timeoutMs: number | null;
  pods: TyphaPodMetrics[];
  /** Sums over the pods that answered (null when none did). */
  totals: {
    connectionsActive: number | null;
    connectionsStreaming: number | null;
    connectionsDropped: number | null;
    /** The worst p99 (else mean) client latency among the pods, in seconds. */
    worstClientLatencySecs: number | null;
    /** Fewest and most active connections on one pod (balance). */
    minPerPod: number | null;
    maxPerPod: number | null;
  } | null;
}

const EMPTY: TyphaPodFigures = {
  connectionsActive: null,
  connectionsStreaming: null,
  streamingBySyncer: {},
  connectionsDropped: null,
  clientLatency: null,
};

/** Figures from the text of one Typha's `/metrics`. */
export function typhaFiguresFromText(text: string): TyphaPodFigures {
  return typhaFigures(parsePrometheusText(text));
}

export function typhaFigures(m: ParsedMetrics): TyphaPodFigures {
  const streamingBySyncer: Record<string, number> = {};
  for (const s of samplesOf(m, 'typha_connections_streaming')) {
    const k = s.labels['syncer'] ?? 'all';
    streamingBySyncer[k] = (streamingBySyncer[k] ?? 0) + s.value;
  }
  return {
    connectionsActive: sumOf(m, 'typha_connections_active'),
    connectionsStreaming: sumOf(m, 'typha_connections_streaming'),
    streamingBySyncer,
    connectionsDropped: sumOf(m, 'typha_connections_dropped') ?? sumOf(m, 'typha_connections_dropped_total'),
    clientLatency: clientLatency(m),
  };
}

function clientLatency(m: ParsedMetrics): ClientLatency | null {
  const base = 'typha_client_latency_secs';
  const quantiles = samplesOf(m, base).filter(
    (s) => s.labels['quantile'] !== undefined && Number.isFinite(s.value),
  );
  const q = (x: string): number | null => {
    const vs = quantiles.filter((s) => Number(s.labels['quantile']) === Number(x)).map((s) => s.value);
    return vs.length ? maxOf(vs) : null;
  };
  const sum = sumOf(m, `${base}_sum`);
  const count = sumOf(m, `${base}_count`);
  if (!quantiles.length && count === null) return null;
  return {
    p50: q('0.5'),
    p90: q('0.9'),
    p99: q('0.99'),
    mean: count && sum !== null ? sum / count : null,
    count: count ?? 0,
  };
}

export function podResult(
  pod: string,
  node: string | null,
  r: { text: string } | { error: string },
): TyphaPodMetrics {
  if ('error' in r) return { pod, node, ok: false, error: r.error, ...EMPTY, streamingBySyncer: {} };
  const f = typhaFiguresFromText(r.text);
  if (f.connectionsActive === null && f.connectionsStreaming === null) {
    return {
      pod,
      node,
      ok: false,
      error: 'the answer has no typha_connections_* metrics (is this port Typha?)',
      ...f,
    };
  }
  return { pod, node, ok: true, error: null, ...f };
}

/** Puts per-pod results together, with a one-line reason when some or all pods did not answer. */
export function combineTyphaMetrics(
  pods: TyphaPodMetrics[],
  opts: { port: number; timeoutMs: number },
): TyphaLiveMetrics {
  const ok = pods.filter((p) => p.ok);
  const failed = pods.filter((p) => !p.ok);
  let reason: string | null = null;
  if (pods.length === 0) reason = 'no running Typha pod to read';
  else if (ok.length === 0)
    reason = `could not read metrics from any of ${pods.length} Typha pod(s): ${commonError(failed)}`;
  else if (failed.length)
    reason = `read ${ok.length} of ${pods.length} Typha pods; the others: ${commonError(failed)}`;
  const sum = (f: (p: TyphaPodMetrics) => number | null): number | null => {
    const vs = ok.map(f).filter((v): v is number => v !== null);
    return vs.length ? vs.reduce((a, b) => a + b, 0) : null;
  };
  const active = ok.map((p) => p.connectionsActive).filter((v): v is number => v !== null);
  const lat = ok
    .map((p) => p.clientLatency?.p99 ?? p.clientLatency?.mean ?? null)
    .filter((v): v is number => v !== null);
  return {
    read: ok.length > 0,
    reason,
    port: opts.port,
    timeoutMs: opts.timeoutMs,
    pods,
    totals: ok.length
      ? {
          connectionsActive: sum((p) => p.connectionsActive),
          connectionsStreaming: sum((p) => p.connectionsStreaming),
          connectionsDropped: sum((p) => p.connectionsDropped),
          worstClientLatencySecs: lat.length ? maxOf(lat) : null,
          minPerPod: active.length ? minOf(active) : null,
          maxPerPod: active.length ? maxOf(active) : null,
        }
      : null,
  };
}

/** Live metrics that were not read, with why. */
export function metricsNotRead(reason: string, port: number | null = null): TyphaLiveMetrics {
  return { read: false, reason, port, timeoutMs: null, pods: [], totals: null };
}

function commonError(failed: TyphaPodMetrics[]): string {
  const counts = new Map<string, number>();
  for (const p of failed)
    counts.set(p.error ?? 'unknown error', (counts.get(p.error ?? 'unknown error') ?? 0) + 1);
  const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  if (!top) return 'unknown error';
  return counts.size > 1 ? `${top[0]} (and ${counts.size - 1} other error(s))` : top[0];
}
