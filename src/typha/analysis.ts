/**
 * Typha analysis shared by `status` and `typha report`: install mode, node counts as the operator counts
 * them, the recommended replicas (operator formula and manifest guidance), what runs, and findings.
 */
import type { ClusterSnapshot } from '../model/types.js';
import type { Finding } from '../status/finding.js';
import {
  linuxNodes,
  manifestTyphaRange,
  MANIFEST_GUIDANCE_SOURCE,
  operatorTyphaReplicas,
  OPERATOR_FORMULA_SOURCE,
  typhaCountedNodes,
  type ReplicaRange,
} from './formula.js';

export type TyphaInstallMode = 'operator' | 'manifest' | 'none';

/** Each calico-node opens up to 4 Typha connections (felix, bgp, tunnel-ip-allocation, node-status syncers). */
export const CONNECTIONS_PER_NODE = 4;
/** Typha's per-instance connection limits (typha/pkg/config: MaxConnectionsLowerLimit/UpperLimit). */
export const TYPHA_MAX_CONNECTIONS_LOWER = 400;
export const TYPHA_MAX_CONNECTIONS_UPPER = 10000;
/** The manifest docs recommend Typha above this many nodes. */
export const TYPHA_MANIFEST_THRESHOLD = 50;

export interface TyphaActual {
  namespace: string;
  name: string;
  desired: number;
  ready: number;
  available: number;
  pods: { name: string; node?: string | undefined; zone?: string | undefined; ready: boolean }[];
  zones: string[];
  pdb: { name: string; maxUnavailable?: string | number | undefined; minAvailable?: string | number | undefined; disruptionsAllowed?: number | undefined } | null;
  antiAffinity: 'required' | 'preferred' | 'none';
  antiAffinityTopologyKeys: string[];
  topologySpreadKeys: string[];
  requests: Record<string, string> | null;
  hostNetwork: boolean;
  metrics: { enabled: boolean; port?: number | undefined };
}

export interface TyphaAnalysis {
  installMode: TyphaInstallMode;
  calicoInstallMode: ClusterSnapshot['calico']['installMode'];
  nodes: { total: number; counted: number; linux: number };
  recommended: {
    operator: number;
    manifest: ReplicaRange;
    /** The recommendation that applies to this install. */
    applies: 'operator' | 'manifest';
    sources: { operator: string; manifest: string };
  };
  actual: TyphaActual | null;
  autoscaler: { namespace: string; name: string } | null;
  load: {
    /** Estimated connections: nodes x 4. */
    connections: number;
    /** Per running (else recommended) replica. */
    perReplica: number;
    /** Typha's own per-instance cap at this size with rebalancing. */
    perReplicaCap: number;
  };
  findings: Finding[];
}

/** Typha's self-imposed connection cap with rebalancing (typha/pkg/k8s/rebalance.go). */
export function typhaConnectionCap(nodes: number, replicas: number): number {
  if (replicas <= 1) return TYPHA_MAX_CONNECTIONS_UPPER;
  const target = CONNECTIONS_PER_NODE * (1 + (nodes * 120) / (replicas - 1) / 100);
  return Math.max(TYPHA_MAX_CONNECTIONS_LOWER, Math.min(TYPHA_MAX_CONNECTIONS_UPPER, Math.floor(target)));
}

/** Analysis for a what-if node count (no cluster): recommended filled, actual null. */
export function typhaWhatIf(nodes: number, installMode: TyphaInstallMode = 'operator'): TyphaAnalysis {
  const operator = operatorTyphaReplicas(nodes);
  const manifest = manifestTyphaRange(nodes);
  const replicas = installMode === 'manifest' ? manifest.min : operator;
  return {
    installMode,
    calicoInstallMode: installMode === 'none' ? 'unknown' : installMode,
    nodes: { total: nodes, counted: nodes, linux: nodes },
    recommended: {
      operator,
      manifest,
      applies: installMode === 'manifest' ? 'manifest' : 'operator',
      sources: { operator: OPERATOR_FORMULA_SOURCE, manifest: MANIFEST_GUIDANCE_SOURCE },
    },
    actual: null,
    autoscaler: null,
    load: load(nodes, replicas),
    findings: [],
  };
}

function load(nodes: number, replicas: number): TyphaAnalysis['load'] {
  const connections = nodes * CONNECTIONS_PER_NODE;
  return {
    connections,
    perReplica: replicas > 0 ? Math.ceil(connections / replicas) : connections,
    perReplicaCap: typhaConnectionCap(nodes, Math.max(1, replicas)),
  };
}

export function analyseTypha(s: ClusterSnapshot): TyphaAnalysis {
  const t = s.typha;
  const dep = t.deployment;
  const installMode: TyphaInstallMode = !dep ? 'none' : dep.namespace === 'calico-system' || s.calico.installMode === 'operator' ? 'operator' : 'manifest';
  const total = s.nodes.length;
  const counted = typhaCountedNodes(s.nodes);
  const linux = linuxNodes(s.nodes);
  const operator = operatorTyphaReplicas(counted);
  const manifest = manifestTyphaRange(counted);
  const applies: 'operator' | 'manifest' = installMode === 'operator' || (installMode === 'none' && s.calico.installMode === 'operator') ? 'operator' : 'manifest';
  const findings: Finding[] = [];
  let actual: TyphaActual | null = null;

  if (dep) {
    const zones = [...new Set(t.pods.map((p) => p.zone).filter((z): z is string => !!z))].sort();
    const metricsEnabled = installMode === 'operator' ? s.installation?.typhaMetricsPort !== undefined || dep.metricsEnabled : dep.metricsEnabled;
    actual = {
      namespace: dep.namespace,
      name: dep.name,
      desired: dep.replicas,
      ready: dep.readyReplicas,
      available: dep.availableReplicas,
      pods: t.pods.map((p) => ({ name: p.name, node: p.node, zone: p.zone, ready: p.ready })),
      zones,
      pdb: t.pdb
        ? { name: t.pdb.name, maxUnavailable: t.pdb.maxUnavailable, minAvailable: t.pdb.minAvailable, disruptionsAllowed: t.pdb.disruptionsAllowed }
        : null,
      antiAffinity: dep.antiAffinity,
      antiAffinityTopologyKeys: dep.antiAffinityTopologyKeys,
      topologySpreadKeys: dep.topologySpreadKeys,
      requests: dep.requests ?? null,
      hostNetwork: dep.hostNetwork,
      metrics: { enabled: metricsEnabled, port: installMode === 'operator' ? (s.installation?.typhaMetricsPort ?? dep.metricsPort) : dep.metricsPort },
    };
    const ref = { kind: 'Deployment', name: dep.name, namespace: dep.namespace };

    if (t.autoscaler) {
      findings.push({
        code: 'TYPHA_AUTOSCALED',
        severity: 'info',
        message: `Typha is scaled by ${t.autoscaler.namespace}/${t.autoscaler.name} (${dep.replicas} replicas now); the recommendations below are for reference, do not scale it by hand`,
        objects: [{ kind: 'Deployment', name: t.autoscaler.name, namespace: t.autoscaler.namespace }],
        fix: 'tune the autoscaler ConfigMap (nodesPerReplica / min / max) instead of the Deployment',
      });
    } else if (installMode === 'operator') {
      if (dep.replicas !== operator) {
        findings.push({
          code: 'TYPHA_REPLICAS_OFF_FORMULA',
          severity: 'warning',
          message: `Typha runs ${dep.replicas} replicas; the operator's formula gives ${operator} for ${counted} schedulable nodes`,
          objects: [ref],
          fix:
            linux < operator
              ? `the operator cannot place ${operator} Typhas on ${linux} Linux nodes: add Linux nodes (check: kubectl get tigerastatus calico)`
              : 'the operator owns the replica count and corrects it within seconds; if it stays wrong check the operator: kubectl get tigerastatus; kubectl logs -n tigera-operator deploy/tigera-operator',
        });
      }
    } else if (dep.replicas < manifest.min || dep.replicas > manifest.max) {
      const target = dep.replicas < manifest.min ? manifest.min : manifest.max;
      findings.push({
        code: dep.replicas < manifest.min ? 'TYPHA_UNDER_PROVISIONED' : 'TYPHA_OVER_PROVISIONED',
        severity: 'warning',
        message: `Typha runs ${dep.replicas} replicas; for ${counted} nodes the manifest guidance is ${manifest.min}-${manifest.max}`,
        objects: [ref],
        fix: `kubectl scale deployment -n ${dep.namespace} ${dep.name} --replicas=${target}`,
      });
    }
    if (!metricsEnabled) {
      findings.push({
        code: 'TYPHA_METRICS_DISABLED',
        severity: 'info',
        message: 'Typha Prometheus metrics are disabled: connection counts, drops and client latency are invisible',
        objects: installMode === 'operator' ? [{ kind: 'Installation', name: 'default' }] : [ref],
        fix:
          installMode === 'operator'
            ? "kubectl patch installation default --type=merge -p '{\"spec\":{\"typhaMetricsPort\":9093}}'"
            : `kubectl set env -n ${dep.namespace} deployment/${dep.name} TYPHA_PROMETHEUSMETRICSENABLED=true TYPHA_PROMETHEUSMETRICSPORT=9093`,
      });
    }
  } else if (s.calico.installMode === 'manifest' && counted > TYPHA_MANIFEST_THRESHOLD) {
    findings.push({
      code: 'TYPHA_MISSING',
      severity: 'warning',
      message: `no Typha runs and the cluster has ${counted} nodes: above ${TYPHA_MANIFEST_THRESHOLD} nodes every Felix watching the API server directly loads it`,
      objects: [],
      fix: `install Calico with the calico-typha.yaml manifest and ${manifest.min}-${manifest.max} replicas`,
    });
  }
  const replicasForLoad = actual ? actual.desired : applies === 'operator' ? operator : manifest.min;
  return {
    installMode,
    calicoInstallMode: s.calico.installMode,
    nodes: { total, counted, linux },
    recommended: { operator, manifest, applies, sources: { operator: OPERATOR_FORMULA_SOURCE, manifest: MANIFEST_GUIDANCE_SOURCE } },
    actual,
    autoscaler: t.autoscaler ? { namespace: t.autoscaler.namespace, name: t.autoscaler.name } : null,
    load: load(counted, replicasForLoad),
    findings,
  };
}
