/**
 * Typha analysis shared by `status` and `typha report`: install mode, node counts as the operator counts
 * them, the recommended replicas (operator formula and manifest guidance), what runs, and findings.
 * Pure: no I/O (live metrics are read by src/kube/typha-metrics.ts and joined in src/typha/report.ts).
 */
import type { ClusterSnapshot, NodeInfo, ObjectRef } from '../model/types.js';
import type { Finding } from '../model/finding.js';
import {
  manifestTyphaRange,
  MANIFEST_GUIDANCE_SOURCE,
  operatorTyphaReplicas,
  OPERATOR_FORMULA_SOURCE,
  typhaCountedNodes,
  aksVirtualNode,
  type ReplicaRange,
} from './formula.js';
import { num } from '../model/format.js';
import { calicoNodeEnvResolved } from '../model/parse.js';
import { typhaMetricsDisabled, typhaMetricsSwitch } from '../model/monitoring.js';

export type TyphaInstallMode = 'operator' | 'manifest' | 'none';

/** Each calico-node opens up to 4 Typha connections (felix, bgp, tunnel-ip-allocation, node-status syncers). */
export const CONNECTIONS_PER_NODE = 4;
/** Typha's per-instance connection limits (typha/pkg/config: MaxConnectionsLowerLimit/UpperLimit). */
export const TYPHA_MAX_CONNECTIONS_LOWER = 400;
export const TYPHA_MAX_CONNECTIONS_UPPER = 10000;
/** The manifest docs recommend Typha above this many nodes. */
export const TYPHA_MANIFEST_THRESHOLD = 50;
/** Typha's sync port (host network: at most one Typha per node). */
export const TYPHA_PORT = 5473;
export const ZONE_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';

export interface TyphaPodSummary {
  name: string;
  node?: string | undefined;
  zone?: string | undefined;
  ready: boolean;
  phase?: string | undefined;
}

export interface TyphaActual {
  namespace: string;
  name: string;
  desired: number;
  ready: number;
  available: number;
  pods: TyphaPodSummary[];
  zones: string[];
  pdb: {
    name: string;
    maxUnavailable?: string | number | undefined;
    minAvailable?: string | number | undefined;
    disruptionsAllowed?: number | undefined;
  } | null;
  antiAffinity: 'required' | 'preferred' | 'none';
  antiAffinityTopologyKeys: string[];
  topologySpreadKeys: string[];
  requests: Record<string, string> | null;
  hostNetwork: boolean;
  metrics: { enabled: boolean; port?: number | undefined };
}

export interface TyphaNodeCounts {
  /** Every Node object. */
  total: number;
  /** What the operator counts: schedulable, not an AKS virtual node. */
  counted: number;
  /** Linux nodes among the counted ones: where Typha (Linux-only, host network) can be scheduled. */
  linux: number;
  /**
   * Nodes left out of `counted`, by reason (a cordoned AKS virtual node counts as unschedulable). The field
   * `virtualKubelet` (name kept for scripts) counts AKS virtual nodes only, the ones the operator leaves out.
   */
  excluded: { unschedulable: number; virtualKubelet: number };
  /** Nodes that run calico-node and so connect to Typha: all but virtual-kubelet ones (cordoned ones too). */
  calicoNodes: number;
  /** Zones (`topology.kubernetes.io/zone`) of the counted Linux nodes. */
  zones: string[];
  /** Counted Linux nodes without a zone label (not in `zones`; Typha cannot be spread by zone over them). */
  withoutZone: number;
}

export interface TyphaAnalysis {
  installMode: TyphaInstallMode;
  calicoInstallMode: ClusterSnapshot['calico']['installMode'];
  nodes: TyphaNodeCounts;
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
    /** Estimated connections: calico-node count x 4. */
    connections: number;
    /** Per running (else recommended) replica. */
    perReplica: number;
    /** Typha's own per-instance cap at this size with rebalancing. */
    perReplicaCap: number;
    /** The calico-node count the estimate uses. */
    nodes: number;
    /** The replica count the estimate divides by. */
    replicas: number;
    connectionsPerNode: number;
  };
  findings: Finding[];
}

/** Typha's self-imposed connection cap with rebalancing (typha/pkg/k8s/rebalance.go). */
export function typhaConnectionCap(nodes: number, replicas: number): number {
  if (replicas <= 1) return TYPHA_MAX_CONNECTIONS_UPPER;
  // Go's integer arithmetic, step by step (typha/pkg/k8s/rebalance.go CalculateMaxConnLimit)
  const target = CONNECTIONS_PER_NODE * (1 + Math.floor(Math.floor((nodes * 120) / (replicas - 1)) / 100));
  return Math.max(TYPHA_MAX_CONNECTIONS_LOWER, Math.min(TYPHA_MAX_CONNECTIONS_UPPER, target));
}

/** Analysis for a what-if node count (no cluster): recommended filled, actual null. */
export function typhaWhatIf(nodes: number, installMode: TyphaInstallMode = 'operator'): TyphaAnalysis {
  const operator = operatorTyphaReplicas(nodes);
  const manifest = manifestTyphaRange(nodes);
  const replicas = installMode === 'manifest' ? manifest.min : operator;
  return {
    installMode,
    calicoInstallMode: installMode === 'none' ? 'unknown' : installMode,
    nodes: {
      total: nodes,
      counted: nodes,
      linux: nodes,
      excluded: { unschedulable: 0, virtualKubelet: 0 },
      calicoNodes: nodes,
      zones: [],
      withoutZone: 0,
    },
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
    nodes,
    replicas,
    connectionsPerNode: CONNECTIONS_PER_NODE,
  };
}

/** Node counts as the operator's Typha autoscaler makes them (pkg/controller/installation/typha_autoscaler.go). */
export function typhaNodeCounts(nodes: readonly NodeInfo[]): TyphaNodeCounts {
  let unschedulable = 0;
  let virtualKubelet = 0;
  let linux = 0;
  let withoutZone = 0;
  const zones = new Set<string>();
  for (const n of nodes) {
    if (n.unschedulable) unschedulable++;
    else if (aksVirtualNode(n)) virtualKubelet++;
    // (by the label, as the operator counts and as calico-typha's nodeSelector places: not n.os, which falls
    // back to the beta label and nodeInfo)
    else if (n.labels['kubernetes.io/os'] === 'linux') {
      linux++;
      if (n.zone) zones.add(n.zone);
      else withoutZone++;
    }
  }
  return {
    total: nodes.length,
    counted: typhaCountedNodes(nodes),
    linux,
    excluded: { unschedulable, virtualKubelet },
    calicoNodes: nodes.filter((n) => !n.virtualKubelet).length,
    zones: [...zones].sort(),
    withoutZone,
  };
}

/** Whether a PDB's spec allows no voluntary disruption at all for `replicas` pods (drains then hang). */
export function pdbBlocksDisruption(pdb: TyphaActual['pdb'], replicas: number): boolean {
  if (!pdb) return false;
  const pct = (v: string | number): number | undefined =>
    typeof v === 'string' && v.endsWith('%') ? Number(v.slice(0, -1)) : undefined;
  if (pdb.maxUnavailable !== undefined) {
    const p = pct(pdb.maxUnavailable);
    // Kubernetes rounds a maxUnavailable percentage up
    return p !== undefined ? Math.ceil((p * replicas) / 100) === 0 : Number(pdb.maxUnavailable) === 0;
  }
  if (pdb.minAvailable !== undefined) {
    const p = pct(pdb.minAvailable);
    // and a minAvailable percentage up as well
    const min = p !== undefined ? Math.ceil((p * replicas) / 100) : Number(pdb.minAvailable);
    return min >= replicas;
  }
  return false;
}

const SPREAD_CONSTRAINT = `{"maxSkew":1,"topologyKey":"${ZONE_TOPOLOGY_KEY}","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{"matchLabels":{"k8s-app":"calico-typha"}}}`;

export function analyseTypha(s: ClusterSnapshot): TyphaAnalysis {
  const t = s.typha;
  const dep = t.deployment;
  const installMode: TyphaInstallMode = !dep
    ? 'none'
    : dep.namespace === 'calico-system' || s.calico.installMode === 'operator'
      ? 'operator'
      : 'manifest';
  const nodes = typhaNodeCounts(s.nodes);
  const { counted, linux } = nodes;
  const operator = operatorTyphaReplicas(counted);
  const manifest = manifestTyphaRange(counted);
  const applies: 'operator' | 'manifest' =
    installMode === 'operator' || (installMode === 'none' && s.calico.installMode === 'operator')
      ? 'operator'
      : 'manifest';
  const findings: Finding[] = [];
  let actual: TyphaActual | null = null;

  if (dep) {
    const zones = [...new Set(t.pods.map((p) => p.zone).filter((z): z is string => !!z))].sort();
    const metricsEnabled =
      installMode === 'operator'
        ? s.installation?.typhaMetricsPort !== undefined || dep.metricsEnabled
        : dep.metricsEnabled;
    actual = {
      namespace: dep.namespace,
      name: dep.name,
      desired: dep.replicas,
      ready: dep.readyReplicas,
      available: dep.availableReplicas,
      pods: t.pods.map((p) => ({ name: p.name, node: p.node, zone: p.zone, ready: p.ready, phase: p.phase })),
      zones,
      pdb: t.pdb
        ? {
            name: t.pdb.name,
            maxUnavailable: t.pdb.maxUnavailable,
            minAvailable: t.pdb.minAvailable,
            disruptionsAllowed: t.pdb.disruptionsAllowed,
          }
        : null,
      antiAffinity: dep.antiAffinity,
      antiAffinityTopologyKeys: dep.antiAffinityTopologyKeys,
      topologySpreadKeys: dep.topologySpreadKeys,
      requests: dep.requests ?? null,
      hostNetwork: dep.hostNetwork,
      metrics: {
        enabled: metricsEnabled,
        port:
          installMode === 'operator'
            ? (s.installation?.typhaMetricsPort ?? dep.metricsPort)
            : dep.metricsPort,
      },
    };
    const ref: ObjectRef = { kind: 'Deployment', name: dep.name, namespace: dep.namespace };
    const operatorOwns =
      'the operator owns the replica count and corrects it within seconds; if it stays wrong check the operator: kubectl get tigerastatus; kubectl logs -n tigera-operator deploy/tigera-operator';

    if (t.autoscaler) {
      const within = dep.replicas >= manifest.min && dep.replicas <= manifest.max;
      findings.push(
        installMode === 'operator'
          ? {
              code: 'TYPHA_AUTOSCALED',
              severity: 'warning',
              message: `${t.autoscaler.namespace}/${t.autoscaler.name} exists on an operator install, where the operator sets Typha's replicas itself (${dep.replicas} now, formula ${operator}); if it targets ${dep.namespace}/${dep.name} the two fight`,
              objects: [{ kind: 'Deployment', name: t.autoscaler.name, namespace: t.autoscaler.namespace }],
              fix: `check its --target (kubectl get deployment -n ${t.autoscaler.namespace} ${t.autoscaler.name} -o jsonpath='{.spec.template.spec.containers[0].command}'); a leftover of a manifest install can go: kubectl delete deployment -n ${t.autoscaler.namespace} ${t.autoscaler.name}`,
            }
          : {
              code: 'TYPHA_AUTOSCALED',
              severity: 'info',
              message: `Typha is scaled by ${t.autoscaler.namespace}/${t.autoscaler.name} (${dep.replicas} replicas now, ${within ? 'within' : 'outside'} the guidance ${manifest.min}-${manifest.max} for ${num(counted)} nodes); the recommendations below are for reference, do not scale it by hand`,
              objects: [{ kind: 'Deployment', name: t.autoscaler.name, namespace: t.autoscaler.namespace }],
              fix: `tune the autoscaler's ConfigMap (kubectl get configmap -n ${t.autoscaler.namespace} ${t.autoscaler.name} -o yaml: its ladder nodesToReplicas, or linear nodesPerReplica / min / max) instead of the Deployment`,
            },
      );
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
              : operatorOwns,
        });
      }
    } else if (dep.replicas < manifest.min || dep.replicas > manifest.max) {
      const target = dep.replicas < manifest.min ? manifest.min : manifest.max;
      findings.push({
        code: dep.replicas < manifest.min ? 'TYPHA_UNDER_PROVISIONED' : 'TYPHA_OVER_PROVISIONED',
        severity: 'warning',
        message: `Typha runs ${dep.replicas} replicas; for ${num(counted)} nodes the manifest guidance is ${manifest.min}-${manifest.max}`,
        objects: [ref],
        fix: `kubectl scale deployment -n ${dep.namespace} ${dep.name} --replicas=${target}`,
      });
    }

    // Linux nodes: Typha is Linux-only and host-networked (port 5473), so at most one per node.
    const needed =
      installMode === 'operator' && !t.autoscaler ? Math.max(operator, dep.replicas) : dep.replicas;
    if (linux < needed) {
      findings.push({
        code: 'TYPHA_NOT_ENOUGH_LINUX_NODES',
        severity: 'critical',
        message:
          installMode === 'operator' && !t.autoscaler && linux < operator
            ? `the operator needs ${operator} Typhas for ${num(counted)} nodes but only ${num(linux)} schedulable Linux node(s) exist: it refuses to scale ("not enough linux nodes to schedule typha pods on") and reports TigeraStatus degraded`
            : `${dep.replicas} Typha replicas but only ${linux} schedulable Linux node(s): Typha uses host port ${TYPHA_PORT}, one per node, so ${dep.replicas - linux} replica(s) stay Pending`,
        objects: [ref],
        fix: t.autoscaler
          ? `add schedulable Linux nodes, or lower "max" in the ${t.autoscaler.name} ConfigMap (the autoscaler sets the count)`
          : installMode === 'operator'
            ? 'add schedulable Linux nodes (or uncordon some): the operator scales Typha once they exist (check: kubectl get tigerastatus calico)'
            : linux <= 1
              ? 'add schedulable Linux nodes'
              : `add schedulable Linux nodes, or scale down: kubectl scale deployment -n ${dep.namespace} ${dep.name} --replicas=${Math.min(linux - 1, manifest.max)}`,
      });
    } else if (linux === needed && linux > 1 && !findings.some((f) => f.code === 'TYPHA_OVER_PROVISIONED')) {
      findings.push({
        code: 'TYPHA_NO_SPARE_NODE',
        severity: 'warning',
        message: `${needed} Typha replicas on exactly ${linux} schedulable Linux nodes: with host port ${TYPHA_PORT} a rolling update or a drain has no free node for a new Typha, so it stalls until one is taken down`,
        objects: [ref],
        fix:
          installMode === 'operator' || t.autoscaler
            ? 'add a schedulable Linux node (the replica count is set by the ' +
              (t.autoscaler ? 'autoscaler' : 'operator') +
              ')'
            : `add a schedulable Linux node, or scale down: kubectl scale deployment -n ${dep.namespace} ${dep.name} --replicas=${Math.max(1, linux - 1)}`,
      });
    }

    if (dep.replicas > 0 && dep.readyReplicas < dep.replicas) {
      const pending = t.pods.filter((p) => !p.node).length;
      findings.push({
        code: 'TYPHA_NOT_READY',
        severity: dep.readyReplicas === 0 ? 'critical' : 'warning',
        message: `${dep.readyReplicas} of ${dep.replicas} Typha replicas are ready${pending ? ` (${pending} pod(s) not scheduled)` : ''}${dep.readyReplicas === 0 ? ': calico-node cannot get its configuration, so new pods get no networking' : ''}`,
        objects: [
          ref,
          ...t.pods
            .filter((p) => !p.ready)
            .slice(0, 10)
            .map((p) => ({ kind: 'Pod', name: p.name, namespace: p.namespace })),
        ],
        fix: `kubectl get pods -n ${dep.namespace} -l k8s-app=calico-typha -o wide; kubectl describe pods -n ${dep.namespace} -l k8s-app=calico-typha`,
      });
    }

    // Zones: several Typhas, all in one zone, while the nodes Typha could use span several.
    const placed = t.pods.filter((p) => p.node && p.zone);
    if (placed.length >= 2 && zones.length === 1 && nodes.zones.length > 1) {
      const patch = `{"spec":{"template":{"spec":{"topologySpreadConstraints":[${SPREAD_CONSTRAINT}]}}}}`;
      findings.push({
        code: 'TYPHA_SINGLE_ZONE',
        severity: 'warning',
        message: `all ${placed.length} Typha pods run in zone ${zones[0]} while the nodes span ${nodes.zones.length} zones (${nodes.zones.join(', ')}): losing that zone disconnects every calico-node from Typha`,
        objects: [ref],
        fix:
          installMode === 'operator'
            ? `kubectl patch installation default --type=merge -p '{"spec":{"typhaDeployment":${patch}}}'`
            : `kubectl patch deployment -n ${dep.namespace} ${dep.name} --type=merge -p '${patch}'`,
      });
    }

    // PodDisruptionBudget: missing (a drain can take several Typhas at once), or one that blocks every drain.
    const pdbUnknown = (s.source.warnings ?? []).some((w) => w.includes('PodDisruptionBudget'));
    if (!t.pdb && !pdbUnknown && dep.replicas > 1) {
      findings.push({
        code: 'TYPHA_NO_PDB',
        severity: 'warning',
        message: `no PodDisruptionBudget protects ${dep.namespace}/${dep.name}: a drain or node upgrade can evict several Typhas at once and disconnect their calico-nodes together`,
        objects: [ref],
        fix:
          installMode === 'operator'
            ? `the operator creates PodDisruptionBudget ${dep.namespace}/calico-typha itself; its absence means it has not reconciled: kubectl get tigerastatus; kubectl logs -n tigera-operator deploy/tigera-operator`
            : `kubectl create poddisruptionbudget calico-typha -n ${dep.namespace} --selector=k8s-app=calico-typha --max-unavailable=1`,
      });
    } else if (t.pdb && pdbBlocksDisruption(actual.pdb, dep.replicas)) {
      findings.push({
        code: 'TYPHA_PDB_BLOCKS_DRAIN',
        severity: 'warning',
        message: `PodDisruptionBudget ${t.pdb.namespace}/${t.pdb.name} (${t.pdb.maxUnavailable !== undefined ? `maxUnavailable ${t.pdb.maxUnavailable}` : `minAvailable ${t.pdb.minAvailable}`}) allows no Typha to be evicted: every drain of a node running Typha hangs`,
        objects: [{ kind: 'PodDisruptionBudget', name: t.pdb.name, namespace: t.pdb.namespace }],
        fix:
          installMode === 'operator'
            ? 'the operator manages this PDB (maxUnavailable 1); remove whatever overrides it, then check kubectl get tigerastatus'
            : `kubectl patch poddisruptionbudget -n ${t.pdb.namespace} ${t.pdb.name} --type=merge -p '{"spec":{"minAvailable":null,"maxUnavailable":1}}'`,
      });
    }

    if (!metricsEnabled) {
      const port = actual.metrics.port ?? 9093;
      findings.push(
        typhaMetricsDisabled(
          installMode === 'operator',
          typhaMetricsSwitch(installMode === 'operator', dep),
          port,
        ),
      );
    }
  }
  // Felix told to use Typha (a service name other than "none") finds no Typha endpoint and does not start
  const felixTypha = calicoNodeEnvResolved(s.objects, 'FELIX_TYPHAK8SSERVICENAME');
  const usesTypha = !!felixTypha && felixTypha.value !== '' && felixTypha.value.toLowerCase() !== 'none';
  // (a Deployment the tool could not read is not a missing one: a review found a false critical for a 403)
  const depUnknown = (s.source.warnings ?? []).some(
    (w) => w.includes('Deployment') && w.includes('calico-typha'),
  );
  if (usesTypha && ((!dep && !depUnknown) || (dep && (dep.replicas === 0 || dep.readyReplicas === 0)))) {
    const ns =
      dep?.namespace ??
      s.calico.nodeNamespace ??
      (installMode === 'operator' ? 'calico-system' : 'kube-system');
    findings.push({
      code: 'TYPHA_UNAVAILABLE',
      severity: 'critical',
      message: `calico-node tells Felix to use Typha (${felixTypha.from}: "${felixTypha.value}"), but ${dep ? `Deployment ${dep.namespace}/${dep.name} has ${dep.replicas} replica(s), ${dep.readyReplicas} ready` : 'no calico-typha Deployment exists'}: Felix finds no Typha endpoint and does not start, so calico-node is not Ready and new pods get no networking`,
      objects: dep ? [{ kind: 'Deployment', name: dep.name, namespace: dep.namespace }] : [],
      fix:
        s.calico.installMode === 'operator'
          ? 'the operator runs Typha itself: kubectl get tigerastatus calico; kubectl logs -n tigera-operator deploy/tigera-operator'
          : dep && dep.replicas === 0
            ? `kubectl scale deployment -n ${dep.namespace} ${dep.name} --replicas=${manifest.min}`
            : dep
              ? `kubectl describe pods -n ${dep.namespace} -l k8s-app=calico-typha  # why no Typha is ready`
              : `apply calico-typha.yaml again (it has the Deployment), or stop using Typha: set typha_service_name: none in ConfigMap ${ns}/calico-config and restart calico-node`,
    });
  }
  if (!dep && !usesTypha && s.calico.installMode === 'manifest' && counted > TYPHA_MANIFEST_THRESHOLD) {
    findings.push({
      code: 'TYPHA_MISSING',
      severity: 'warning',
      message: `no Typha runs and the cluster has ${num(counted)} nodes: above ${TYPHA_MANIFEST_THRESHOLD} nodes every Felix watching the API server directly loads it`,
      objects: [],
      fix: `install Calico with the calico-typha.yaml manifest and ${manifest.min}-${manifest.max} replicas`,
    });
  }
  const replicasForLoad = actual ? actual.desired : applies === 'operator' ? operator : manifest.min;
  return {
    installMode,
    calicoInstallMode: s.calico.installMode,
    nodes,
    recommended: {
      operator,
      manifest,
      applies,
      sources: { operator: OPERATOR_FORMULA_SOURCE, manifest: MANIFEST_GUIDANCE_SOURCE },
    },
    actual,
    autoscaler: t.autoscaler ? { namespace: t.autoscaler.namespace, name: t.autoscaler.name } : null,
    load: load(nodes.calicoNodes, replicasForLoad),
    findings,
  };
}
