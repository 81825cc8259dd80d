/**
 * The `typha report` document: one pure function from the analysis (and the live metrics, when read) to what
 * `-o json|yaml` prints. Field names are stable (docs/json-output.md, "typha report").
 */
import type { SnapshotSource } from '../model/types.js';
import { type Finding, type Severity, sortFindings } from '../model/finding.js';
import { manifestTyphaRange, nextOperatorSteps, operatorTyphaReplicas } from './formula.js';
import {
  analyseTypha,
  TYPHA_PORT,
  typhaWhatIf,
  type TyphaAnalysis,
  type TyphaInstallMode,
  type TyphaNodeCounts,
} from './analysis.js';
import { metricsNotRead, type TyphaLiveMetrics } from './metrics.js';
import { usageError } from '../errors.js';
import type { ClusterSnapshot } from '../model/types.js';

export interface RangeOut {
  min: number;
  max: number;
}

export interface GrowthRow {
  /** `now`, `x2`, `x5`, `x10` (null for the fixed sizes shown for very small clusters). */
  label: string | null;
  nodes: number;
  operator: number;
  manifest: RangeOut;
}

export interface TyphaReport {
  apiVersion: 'calico-tune/v1';
  kind: 'TyphaReport';
  source: {
    kind: 'live' | 'file' | 'what-if';
    server: string | null;
    context: string | null;
    path: string | null;
    capturedAt: string | null;
    warnings: string[];
  };
  whatIf: boolean;
  installMode: TyphaInstallMode;
  calicoInstallMode: string;
  nodes: TyphaNodeCounts;
  recommended: {
    operator: number;
    manifest: RangeOut & { note: string | null };
    applies: 'operator' | 'manifest';
    /** The count that applies: the operator's, or the manifest minimum. */
    replicas: number;
    sources: { operator: string; manifest: string };
  };
  actual: {
    namespace: string;
    name: string;
    desired: number;
    ready: number;
    available: number;
    pods: { name: string; node: string | null; zone: string | null; ready: boolean; phase: string | null }[];
    zones: { zone: string; pods: number }[];
    /** Nodes with more than one Typha pod (impossible to run: host port 5473). */
    nodesWithSeveralPods: string[];
    pdb: {
      name: string;
      maxUnavailable: string | number | null;
      minAvailable: string | number | null;
      disruptionsAllowed: number | null;
    } | null;
    antiAffinity: 'required' | 'preferred' | 'none';
    antiAffinityTopologyKeys: string[];
    topologySpreadKeys: string[];
    requests: Record<string, string> | null;
    hostNetwork: boolean;
    port: number;
    metrics: { enabled: boolean; port: number | null };
  } | null;
  autoscaler: { namespace: string; name: string } | null;
  load: TyphaAnalysis['load'];
  liveMetrics: TyphaLiveMetrics;
  growth: {
    basis: 'operator' | 'manifest';
    rows: GrowthRow[];
    /** The next node counts at which the applying recommendation changes, with both rules' values there. */
    nextChanges: { nodes: number; operator: number; manifest: RangeOut }[];
  };
  findings: Finding[];
  summary: Record<Severity, number>;
}

/** Node counts are capped here for what-ifs and growth scans (the formula has no cap; the tool needs one). */
export const MAX_NODES = 1_000_000;

export function buildTyphaReport(
  a: TyphaAnalysis,
  opts: { source: SnapshotSource | 'what-if'; liveMetrics: TyphaLiveMetrics },
): TyphaReport {
  const src = opts.source;
  const findings = sortFindings(a.findings);
  const summary: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  for (const f of findings) summary[f.severity]++;
  const m = a.recommended.manifest;
  const act = a.actual;
  return {
    apiVersion: 'calico-tune/v1',
    kind: 'TyphaReport',
    source:
      src === 'what-if'
        ? { kind: 'what-if', server: null, context: null, path: null, capturedAt: null, warnings: [] }
        : {
            kind: src.kind,
            server: src.server ?? null,
            context: src.context ?? null,
            path: src.path ?? null,
            capturedAt: src.capturedAt,
            warnings: src.warnings ?? [],
          },
    whatIf: src === 'what-if',
    installMode: a.installMode,
    calicoInstallMode: a.calicoInstallMode,
    nodes: a.nodes,
    recommended: {
      operator: a.recommended.operator,
      manifest: { min: m.min, max: m.max, note: m.note ?? null },
      applies: a.recommended.applies,
      replicas: a.recommended.applies === 'operator' ? a.recommended.operator : m.min,
      sources: a.recommended.sources,
    },
    actual: act
      ? {
          namespace: act.namespace,
          name: act.name,
          desired: act.desired,
          ready: act.ready,
          available: act.available,
          pods: act.pods.map((p) => ({
            name: p.name,
            node: p.node ?? null,
            zone: p.zone ?? null,
            ready: p.ready,
            phase: p.phase ?? null,
          })),
          zones: zoneCounts(act.pods.map((p) => p.zone)),
          nodesWithSeveralPods: severalPerNode(act.pods.map((p) => p.node)),
          pdb: act.pdb
            ? {
                name: act.pdb.name,
                maxUnavailable: act.pdb.maxUnavailable ?? null,
                minAvailable: act.pdb.minAvailable ?? null,
                disruptionsAllowed: act.pdb.disruptionsAllowed ?? null,
              }
            : null,
          antiAffinity: act.antiAffinity,
          antiAffinityTopologyKeys: act.antiAffinityTopologyKeys,
          topologySpreadKeys: act.topologySpreadKeys,
          requests: act.requests,
          hostNetwork: act.hostNetwork,
          port: TYPHA_PORT,
          metrics: { enabled: act.metrics.enabled, port: act.metrics.port ?? null },
        }
      : null,
    autoscaler: a.autoscaler,
    load: a.load,
    liveMetrics: opts.liveMetrics,
    growth: growth(a.nodes.counted, a.recommended.applies),
    findings,
    summary,
  };
}

function zoneCounts(zones: (string | undefined)[]): { zone: string; pods: number }[] {
  const m = new Map<string, number>();
  for (const z of zones) m.set(z ?? '(none)', (m.get(z ?? '(none)') ?? 0) + 1);
  return [...m.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([zone, pods]) => ({ zone, pods }));
}

function severalPerNode(nodes: (string | undefined)[]): string[] {
  const m = new Map<string, number>();
  for (const n of nodes) if (n) m.set(n, (m.get(n) ?? 0) + 1);
  return [...m.entries()]
    .filter(([, k]) => k > 1)
    .map(([n]) => n)
    .sort();
}

function range(n: number): RangeOut {
  const r = manifestTyphaRange(n);
  return { min: r.min, max: r.max };
}

/** What-if rows around today's count, and where the applying recommendation changes next. */
export function growth(nodes: number, basis: 'operator' | 'manifest'): TyphaReport['growth'] {
  const rows: GrowthRow[] = [];
  const push = (label: string | null, n: number): void => {
    if (n > MAX_NODES || rows.some((r) => r.nodes === n)) return;
    rows.push({ label, nodes: n, operator: operatorTyphaReplicas(n), manifest: range(n) });
  };
  push('now', nodes);
  if (nodes >= 10) for (const f of [2, 5, 10]) push(`x${f}`, nodes * f);
  else for (const n of [10, 50, 200, 1000]) push(null, n);
  return { basis, rows, nextChanges: nextChanges(nodes, basis, 3) };
}

/** The next `limit` node counts above `from` at which the applying recommendation changes. */
export function nextChanges(
  from: number,
  basis: 'operator' | 'manifest',
  limit: number,
): TyphaReport['growth']['nextChanges'] {
  const out: TyphaReport['growth']['nextChanges'] = [];
  if (basis === 'operator') {
    for (const s of nextOperatorSteps(from, limit))
      if (s.nodes <= MAX_NODES) out.push({ nodes: s.nodes, operator: s.replicas, manifest: range(s.nodes) });
    return out;
  }
  const key = (n: number): string => {
    const r = manifestTyphaRange(n);
    return `${r.min}-${r.max}`;
  };
  let cur = key(from);
  for (let n = from + 1; n <= MAX_NODES && out.length < limit; n++) {
    // past 4,000 nodes the manifest range is pinned at 20-20: nothing changes any more
    if (n > 4000 && cur === '20-20') break;
    const k = key(n);
    if (k !== cur) {
      out.push({ nodes: n, operator: operatorTyphaReplicas(n), manifest: range(n) });
      cur = k;
    }
  }
  return out;
}

/** Exit code: 1 with a critical finding, or a warning under --strict. */
export function typhaExitCode(r: TyphaReport, strict: boolean): 0 | 1 {
  return r.summary.critical > 0 || (strict && r.summary.warning > 0) ? 1 : 0;
}

/** `--nodes`: a whole number from 0 to 1,000,000. */
export function parseNodeCount(v: string): number {
  const t = v.trim();
  if (!/^\d+$/.test(t)) {
    throw usageError(
      `--nodes needs a whole number of nodes (0 or more), got "${v}"`,
      'example: kubectl calico-tune typha report --nodes 1200',
    );
  }
  const nodes = Number(t);
  if (nodes > MAX_NODES) throw usageError(`--nodes ${v} is more than this tool models (at most 1,000,000)`);
  return nodes;
}

/** Where to read live Typha metrics from, or why they are not read (the report says so). */
export type MetricsSource =
  | { read: false; liveMetrics: TyphaLiveMetrics }
  | {
      read: true;
      target: { namespace: string; port: number; pods: NonNullable<TyphaAnalysis['actual']>['pods'] };
    };

export function metricsSource(
  snapshot: ClusterSnapshot,
  analysis: TyphaAnalysis,
  timeoutMs: number,
): MetricsSource {
  const a = analysis.actual;
  const no = (reason: string, port: number | null = null): MetricsSource => ({
    read: false,
    liveMetrics: metricsNotRead(reason, port),
  });
  if (snapshot.source.kind === 'file') return no('read from a snapshot file: live metrics need the cluster');
  if (!a) return no('no Typha runs');
  if (!a.metrics.enabled) return no('Typha metrics are disabled (see TYPHA_METRICS_DISABLED)');
  if (a.metrics.port === undefined) return no('the Typha metrics port is unknown');
  if (timeoutMs === 0) return no('skipped (--metrics-timeout 0)', a.metrics.port);
  return { read: true, target: { namespace: a.namespace, port: a.metrics.port, pods: a.pods } };
}

/** `typha report --nodes N`: the recommendation for N nodes, without a cluster. */
export function typhaWhatIfReport(nodes: number, install: 'operator' | 'manifest'): TyphaReport {
  return buildTyphaReport(typhaWhatIf(nodes, install), {
    source: 'what-if',
    liveMetrics: metricsNotRead('what-if: no cluster was read'),
  });
}

/** Reads live Typha metrics (kube/typha-metrics.ts through the command: this folder does no I/O). */
export type TyphaMetricsReader = (
  target: Extract<MetricsSource, { read: true }>['target'],
) => Promise<TyphaLiveMetrics>;

/**
 * `typha report` on a cluster or a snapshot: the analysis, and each Typha's live metrics, read with
 * `readMetrics` only when `metricsSource` says they can be (else the report says why they were not).
 */
export async function typhaClusterReport(
  snapshot: ClusterSnapshot,
  metricsTimeoutMs: number,
  readMetrics: TyphaMetricsReader,
): Promise<TyphaReport> {
  const analysis = analyseTypha(snapshot);
  const src = metricsSource(snapshot, analysis, metricsTimeoutMs);
  const liveMetrics = src.read ? await readMetrics(src.target) : src.liveMetrics;
  return buildTyphaReport(analysis, { source: snapshot.source, liveMetrics });
}
