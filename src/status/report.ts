/** The `status` report: one pure function from a snapshot to the document `-o json|yaml` prints. */
import { bgpFindings } from '../bgp/findings.js';
import { bgpStateFromSnapshot } from '../bgp/state.js';
import { computeTopology, sessionCount } from '../bgp/topology.js';
import { effectiveBgp } from '../model/parse.js';
import type { ClusterSnapshot, EncapMode } from '../model/types.js';
import { analyseTypha } from '../typha/analysis.js';
import { bgpApplies } from '../bgp/state.js';
import { installFindings, podRoutesNeedBgp, scaleNumbers, type ScaleNumbers } from './install.js';
import { fullMeshSessions, isRouteReflector } from '../model/calico.js';
import { configFindings, nodeCounts } from './checks.js';
import { calicoApiFindings } from './calico-api.js';
import { deferToUnfinishedPlan, journalFindings } from './journal.js';
import { type Finding, type Severity, sortFindings } from '../model/finding.js';

export interface StatusReport {
  apiVersion: 'calico-tune/v1';
  kind: 'StatusReport';
  source: {
    kind: 'live' | 'file';
    server: string | null;
    context: string | null;
    path: string | null;
    capturedAt: string;
    warnings: string[];
  };
  kubernetes: { version: string | null };
  calico: {
    version: string | null;
    versionSource: string | null;
    installMode: string;
    apiMode: string;
    networkingBackend: string;
    networkingBackendSource: string | null;
  };
  nodes: {
    total: number;
    schedulable: number;
    linux: number;
    notReady: number;
    zones: Record<string, number>;
  };
  /** The numbers the guide's scale notes ask about (API server / etcd headroom, Typha fan-out). */
  scale: ScaleNumbers;
  bgp: {
    applies: boolean;
    /** Whether BGP carries pod routes (some pool IPIP or unencapsulated, or external peers). */
    podRoutes: boolean;
    meshEnabled: boolean;
    defaultConfigExists: boolean;
    asNumber: number;
    /**
     * Nodes per AS number where any node has its own (`projectcalico.org/ASNumber`), most first; empty when
     * every node uses the global one.
     */
    nodeAsNumbers: { asNumber: number; nodes: number }[];
    routeReflectors: {
      node: string;
      clusterId: string;
      zone: string | null;
      ready: boolean;
      schedulable: boolean;
    }[];
    peers: {
      name: string;
      node: string | null;
      nodeSelector: string | null;
      peerIP: string | null;
      peerSelector: string | null;
      asNumber: number | null;
    }[];
    sessions: { fullMesh: number; current: number };
  };
  ipPools: {
    name: string;
    cidr: string;
    ipipMode: EncapMode;
    vxlanMode: EncapMode;
    natOutgoing: boolean;
    disabled: boolean;
    nodeSelector: string;
  }[];
  typha: {
    installMode: string;
    replicas: { desired: number; ready: number; available: number } | null;
    recommended: number;
    recommendedBy: 'operator' | 'manifest';
    recommendedManifest: { min: number; max: number };
    autoscaler: string | null;
  };
  metrics: { felix: boolean; typha: boolean | null };
  findings: Finding[];
  summary: { critical: number; warning: number; info: number };
}

export function buildStatus(s: ClusterSnapshot): StatusReport {
  const bgp = effectiveBgp(s);
  const applies = bgpApplies(s);
  const typha = analyseTypha(s);
  const state = bgpStateFromSnapshot(s);
  const topo = computeTopology(state);
  const participating = state.nodes.filter((n) => n.participates).length;
  const findings = sortFindings(
    deferToUnfinishedPlan(
      [
        ...calicoApiFindings(s),
        ...journalFindings(s),
        ...configFindings(s),
        ...(applies && podRoutesNeedBgp(s) ? bgpFindings(s, state) : []),
        ...installFindings(s),
        ...typha.findings,
      ],
      s,
    ),
  );
  const summary: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  for (const f of findings) summary[f.severity]++;
  const felixMetrics =
    s.felixConfiguration?.prometheusMetricsEnabled === true || s.installation?.nodeMetricsPort !== undefined;
  return {
    apiVersion: 'calico-tune/v1',
    kind: 'StatusReport',
    source: {
      kind: s.source.kind,
      server: s.source.server ?? null,
      context: s.source.context ?? null,
      path: s.source.path ?? null,
      capturedAt: s.source.capturedAt,
      warnings: s.source.warnings ?? [],
    },
    kubernetes: { version: s.source.kubernetesVersion ?? null },
    calico: {
      version: s.calico.version?.raw ?? null,
      versionSource: s.calico.version?.source ?? null,
      installMode: s.calico.installMode,
      apiMode: s.calico.apiMode,
      networkingBackend: s.calico.networkingBackend,
      networkingBackendSource: s.calico.networkingBackendSource ?? null,
    },
    nodes: nodeCounts(s.nodes),
    scale: scaleNumbers(s),
    bgp: {
      applies,
      podRoutes: podRoutesNeedBgp(s),
      meshEnabled: bgp.meshEnabled,
      defaultConfigExists: bgp.defaultConfig !== undefined,
      asNumber: bgp.asNumber,
      nodeAsNumbers: nodeAsNumbers(s.nodes),
      routeReflectors: s.nodes.filter(isRouteReflector).map((n) => ({
        node: n.name,
        clusterId: n.bgp.rrClusterId!,
        zone: n.zone ?? null,
        ready: n.ready,
        schedulable: !n.unschedulable,
      })),
      peers: s.bgpPeers.map((p) => ({
        name: p.name,
        node: p.node ?? null,
        nodeSelector: p.nodeSelector ?? null,
        peerIP: p.peerIP ?? null,
        peerSelector: p.peerSelector ?? null,
        asNumber: p.asNumber ?? null,
      })),
      sessions: { fullMesh: fullMeshSessions(participating), current: sessionCount(topo) },
    },
    ipPools: s.ipPools.map((p) => ({
      name: p.name,
      cidr: p.cidr,
      ipipMode: p.ipipMode,
      vxlanMode: p.vxlanMode,
      natOutgoing: p.natOutgoing,
      disabled: p.disabled,
      nodeSelector: p.nodeSelector,
    })),
    typha: {
      installMode: typha.installMode,
      replicas: typha.actual
        ? { desired: typha.actual.desired, ready: typha.actual.ready, available: typha.actual.available }
        : null,
      recommended:
        typha.recommended.applies === 'operator'
          ? typha.recommended.operator
          : typha.recommended.manifest.min,
      recommendedBy: typha.recommended.applies,
      recommendedManifest: { min: typha.recommended.manifest.min, max: typha.recommended.manifest.max },
      autoscaler: typha.autoscaler ? `${typha.autoscaler.namespace}/${typha.autoscaler.name}` : null,
    },
    metrics: { felix: felixMetrics, typha: typha.actual ? typha.actual.metrics.enabled : null },
    findings,
    summary,
  };
}

/** Exit code for a status report: 1 with a critical finding, or a warning under --strict. */
export function statusExitCode(r: StatusReport, strict: boolean): 0 | 1 {
  return r.summary.critical > 0 || (strict && r.summary.warning > 0) ? 1 : 0;
}

/** Nodes per AS number when some node has its own (an AS per zone or rack); [] when none has. */
function nodeAsNumbers(nodes: ClusterSnapshot['nodes']): { asNumber: number; nodes: number }[] {
  if (!nodes.some((n) => n.bgp.asNumber !== undefined)) return [];
  const counts = new Map<number, number>();
  for (const n of nodes) {
    const as = n.bgp.asNumber;
    if (as !== undefined) counts.set(as, (counts.get(as) ?? 0) + 1);
  }
  return [...counts]
    .map(([asNumber, count]) => ({ asNumber, nodes: count }))
    .sort((a, b) => b.nodes - a.nodes || a.asNumber - b.asNumber);
}
