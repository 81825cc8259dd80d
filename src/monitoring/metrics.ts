/**
 * The `metrics` report from the raw `/metrics` answers: the guide's Table 4 per node, worst first (Felix's
 * ipset / iptables-restore / iptables-save / log error counters and call counts; kube-controllers'
 * ipam_allocations_per_node and ipam_blocks_per_node), Typha's connection balance, and every pod that could
 * not be read, named with why. Pure.
 */
import { usageError } from '../errors.js';
import { METRICS_COMPONENTS, type MetricsComponent } from '../model/monitoring.js';
import type { ComponentMonitoring, MonitoringState } from './detect.js';
import { maxOf, minOf } from '../model/arrays.js';
import { parsePrometheusText, type ParsedMetrics } from '../typha/prometheus.js';
import { typhaFigures } from '../typha/metrics.js';

/** Table 4 of the guide, Felix's part (counters, summed over their labels). */
export const FELIX_TABLE4 = [
  'felix_ipset_errors',
  'felix_iptables_restore_calls',
  'felix_iptables_restore_errors',
  'felix_iptables_save_calls',
  'felix_iptables_save_errors',
  'felix_log_errors',
] as const;
/** Table 4, kube-controllers' part (gauges labelled by node; the guide's "ipam_blocks_pre_node" is a typo). */
export const IPAM_TABLE4 = ['ipam_allocations_per_node', 'ipam_blocks_per_node'] as const;

const FELIX_ERRORS = [
  'felix_ipset_errors',
  'felix_iptables_restore_errors',
  'felix_iptables_save_errors',
  'felix_log_errors',
];

/** One pod's answer, as kube/ read it. */
export interface RawPodMetrics {
  component: MetricsComponent;
  namespace: string;
  pod: string;
  node: string | null;
  port: number;
  text?: string | undefined;
  error?: string | undefined;
}

export interface NodeRow {
  node: string;
  /** Felix's Table 4 counters on this node (null: not read, or not exported by this Felix). */
  felix: Record<(typeof FELIX_TABLE4)[number], number | null> | null;
  ipamAllocations: number | null;
  ipamBlocks: number | null;
  /** Sum of Felix's error counters: what "worst first" sorts by. */
  errors: number;
}

export interface MetricsReport {
  apiVersion: 'calico-tune/v1';
  kind: 'Metrics';
  capturedAt: string;
  timeoutMs: number;
  nodes: NodeRow[];
  typha: {
    pods: {
      pod: string;
      node: string | null;
      connectionsActive: number | null;
      connectionsDropped: number | null;
    }[];
    total: number | null;
    min: number | null;
    max: number | null;
    /** max / mean of active connections per Typha (1 = perfectly balanced); null under 2 pods read. */
    imbalance: number | null;
  } | null;
  /** Pods that did not answer, named, with why (partial results). */
  unread: {
    component: MetricsComponent;
    namespace: string;
    pod: string;
    node: string | null;
    error: string;
  }[];
  read: Record<MetricsComponent, { read: number; of: number }>;
}

function sumOf(
  m: ParsedMetrics,
  name: string,
  where?: (l: Record<string, string>) => boolean,
): number | null {
  let found = false;
  let total = 0;
  for (const s of m.samples) {
    if (s.name !== name || (where && !where(s.labels)) || !Number.isFinite(s.value)) continue;
    found = true;
    total += s.value;
  }
  return found ? total : null;
}

/** The report from every pod's answer. `nodeFilter` keeps one node's row (and the pods on it). */
export function buildMetricsReport(
  raw: RawPodMetrics[],
  opts: { capturedAt: string; timeoutMs: number; node?: string | undefined },
): MetricsReport {
  const rows = new Map<string, NodeRow>();
  const row = (node: string): NodeRow => {
    let r = rows.get(node);
    if (!r) {
      r = { node, felix: null, ipamAllocations: null, ipamBlocks: null, errors: 0 };
      rows.set(node, r);
    }
    return r;
  };
  const unread: MetricsReport['unread'] = [];
  const read: MetricsReport['read'] = {
    felix: { read: 0, of: 0 },
    typha: { read: 0, of: 0 },
    'kube-controllers': { read: 0, of: 0 },
  };
  const typhaPods: NonNullable<MetricsReport['typha']>['pods'] = [];
  for (const p of raw) {
    read[p.component].of++;
    if (p.text === undefined) {
      unread.push({
        component: p.component,
        namespace: p.namespace,
        pod: p.pod,
        node: p.node,
        error: p.error ?? 'not read',
      });
      continue;
    }
    const m = parsePrometheusText(p.text);
    if (p.component === 'felix') {
      const felix = Object.fromEntries(FELIX_TABLE4.map((n) => [n, sumOf(m, n)])) as NonNullable<
        NodeRow['felix']
      >;
      if (
        FELIX_TABLE4.every((n) => felix[n] === null) &&
        !m.samples.some((s) => s.name.startsWith('felix_'))
      ) {
        unread.push({ ...p, error: 'the answer has no felix_* metrics (is this port Felix?)' });
        continue;
      }
      read.felix.read++;
      if (p.node) {
        const r = row(p.node);
        r.felix = felix;
        r.errors = FELIX_ERRORS.reduce((a, n) => a + (felix[n as keyof typeof felix] ?? 0), 0);
      }
    } else if (p.component === 'kube-controllers') {
      read['kube-controllers'].read++;
      for (const s of m.samples) {
        const node = s.labels['node'];
        if (!node || !Number.isFinite(s.value)) continue;
        if (s.name === 'ipam_allocations_per_node')
          row(node).ipamAllocations = (row(node).ipamAllocations ?? 0) + s.value;
        else if (s.name === 'ipam_blocks_per_node')
          row(node).ipamBlocks = (row(node).ipamBlocks ?? 0) + s.value;
      }
    } else {
      const f = typhaFigures(m);
      if (f.connectionsActive === null && f.connectionsStreaming === null) {
        unread.push({ ...p, error: 'the answer has no typha_connections_* metrics (is this port Typha?)' });
        continue;
      }
      read.typha.read++;
      typhaPods.push({
        pod: p.pod,
        node: p.node,
        connectionsActive: f.connectionsActive,
        connectionsDropped: f.connectionsDropped,
      });
    }
  }
  const nodes = [...rows.values()]
    .filter((r) => !opts.node || r.node === opts.node)
    .sort(
      (a, b) =>
        b.errors - a.errors ||
        (b.felix?.felix_iptables_restore_calls ?? -1) - (a.felix?.felix_iptables_restore_calls ?? -1) ||
        (b.ipamAllocations ?? -1) - (a.ipamAllocations ?? -1) ||
        (a.node < b.node ? -1 : 1),
    );
  const active = typhaPods.map((p) => p.connectionsActive).filter((v): v is number => v !== null);
  const total = active.length ? active.reduce((a, b) => a + b, 0) : null;
  const mean = active.length ? total! / active.length : 0;
  return {
    apiVersion: 'calico-tune/v1',
    kind: 'Metrics',
    capturedAt: opts.capturedAt,
    timeoutMs: opts.timeoutMs,
    nodes,
    typha:
      read.typha.of > 0
        ? {
            pods: typhaPods.sort((a, b) => (b.connectionsActive ?? -1) - (a.connectionsActive ?? -1)),
            total,
            min: active.length ? minOf(active) : null,
            max: active.length ? maxOf(active) : null,
            imbalance: active.length >= 2 && mean > 0 ? maxOf(active) / mean : null,
          }
        : null,
    unread,
    read,
  };
}

/** `--component a,b`: the components named, all of them when none is. */
export function parseMetricsComponents(list: string | undefined): MetricsComponent[] {
  if (!list) return [...METRICS_COMPONENTS];
  const wanted = list
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = wanted.find((w) => !METRICS_COMPONENTS.includes(w as MetricsComponent));
  if (bad !== undefined) throw usageError(`unknown --component "${bad}" (felix, typha, kube-controllers)`);
  return wanted as MetricsComponent[];
}

/** Where a component's pods are read: their namespace and metrics port. */
export interface MetricsSource {
  component: MetricsComponent;
  namespace: string;
  port: number;
}

/**
 * What `metrics` reads: the wanted components that run in the cluster with their metrics on. Those that run
 * with their metrics off are not read; they are returned in `off` (with the switch that turns them on).
 */
export function metricsSources(
  st: MonitoringState,
  wanted: MetricsComponent[],
): { sources: MetricsSource[]; off: ComponentMonitoring[] } {
  const present = st.components.filter((x) => x.present && wanted.includes(x.component));
  return {
    sources: present
      .filter((x) => x.enabled)
      .map((x) => ({ component: x.component, namespace: x.namespace, port: x.port })),
    off: present.filter((x) => !x.enabled),
  };
}
