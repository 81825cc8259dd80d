/**
 * Typha sizing rules.
 * - Operator: tigera/operator pkg/common/autoscale.go `GetExpectedTyphaScale` (unchanged since operator
 *   v1.25 / Calico v3.22): nodes/200 + 2 (integer division); 1 for <= 2 nodes, 2 for <= 4, at least 3
 *   otherwise; no upper cap.
 * - Manifest installs: Calico docs, the self-managed on-premises install page (onpremises.mdx): at least one
 *   replica per 200 nodes, no more than 20, at least 3 in production, always fewer than the nodes
 *   (calico-typha.yaml's own comment says one per 100-200 nodes and at least 3).
 */
import type { NodeInfo } from '../model/types.js';
import { minOf } from '../model/arrays.js';
import { num } from '../model/format.js';

export const MANIFEST_GUIDANCE_SOURCE =
  'Calico docs, self-managed on-premises install page: >= 1 replica per 200 nodes, >= 3 in production, <= 20, fewer than the nodes (calico-typha.yaml: one per 100-200 nodes)';
export const OPERATOR_FORMULA_SOURCE = 'tigera/operator pkg/common/autoscale.go GetExpectedTyphaScale';

/** The replica count the Tigera operator's Typha autoscaler sets for `nodes` counted nodes. */
export function operatorTyphaReplicas(nodes: number): number {
  if (!Number.isInteger(nodes) || nodes < 0)
    throw new RangeError(`node count must be a non-negative integer, got ${nodes}`);
  if (nodes <= 2) return 1;
  if (nodes <= 4) return 2;
  return Math.max(3, Math.floor(nodes / 200) + 2);
}

export interface ReplicaRange {
  min: number;
  max: number;
  /** Set when the guidance conflicts with itself at this size (e.g. > 4000 nodes needs > 20). */
  note?: string | undefined;
}

/** The documented replica range for a manifest (non-operator) install. */
export function manifestTyphaRange(nodes: number): ReplicaRange {
  if (!Number.isInteger(nodes) || nodes < 0)
    throw new RangeError(`node count must be a non-negative integer, got ${nodes}`);
  if (nodes <= 1)
    return {
      min: nodes,
      max: nodes,
      note:
        nodes === 0
          ? undefined
          : 'a single node cannot have fewer replicas than nodes; 1 is the minimum that lets Felix start',
    };
  const upper = Math.min(20, nodes - 1);
  const perLoad = Math.ceil(nodes / 200);
  const lower = Math.max(3, perLoad);
  if (lower <= upper) return { min: lower, max: upper };
  if (perLoad > 20)
    return {
      min: 20,
      max: 20,
      note: `one per 200 nodes would need ${perLoad}, above the documented maximum of 20`,
    };
  return { min: upper, max: upper, note: `fewer than ${num(nodes)} nodes leaves room for at most ${upper}` };
}

/**
 * An AKS virtual node, the one node the operator's Typha autoscaler leaves out besides unschedulable ones:
 * `type=virtual-kubelet` and a `kubernetes.azure.com/cluster` label (tigera/operator
 * pkg/controller/installation/typha_autoscaler.go `getNodeCounts`). Other virtual kubelets are counted.
 */
export function aksVirtualNode(n: NodeInfo): boolean {
  return n.virtualKubelet && 'kubernetes.azure.com/cluster' in n.labels;
}

/** Nodes the operator's Typha autoscaler counts: schedulable, not an AKS virtual node. */
export function typhaCountedNodes(nodes: readonly NodeInfo[]): number {
  let n = 0;
  for (const x of nodes) if (!x.unschedulable && !aksVirtualNode(x)) n++;
  return n;
}

/** The node counts (above `from`) at which the operator's recommendation changes, up to `limit` of them. */
export function nextOperatorSteps(from: number, limit = 3): { nodes: number; replicas: number }[] {
  const out: { nodes: number; replicas: number }[] = [];
  let cur = operatorTyphaReplicas(from);
  let n = from;
  while (out.length < limit) {
    // next change happens at the next multiple of 200 (or the small-cluster thresholds)
    const candidates = [3, 5, (Math.floor(n / 200) + 1) * 200].filter((x) => x > n);
    n = minOf(candidates);
    const r = operatorTyphaReplicas(n);
    if (r !== cur) {
      out.push({ nodes: n, replicas: r });
      cur = r;
    }
  }
  return out;
}
