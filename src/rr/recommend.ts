/**
 * Route-reflector eligibility and recommendation. Pure and deterministic: the same snapshot and options
 * always give the same choice, each with its reason.
 */
import { nodeIPv4 } from '../bgp/state.js';
import { CORDON_ANNOTATION } from '../plan/simulate.js';
import { formatBytes, parseQuantity } from '../model/quantity.js';
import { usageError } from '../errors.js';
import type { ClusterSnapshot, NodeInfo } from '../model/types.js';
import { isRouteReflector } from '../model/calico.js';

export const OPT_OUT_LABEL = 'calico-tune.io/route-reflector';
const BAD_TAINTS = new Set([
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/memory-pressure',
  'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/pid-pressure',
  'node.kubernetes.io/network-unavailable',
  'node.cloudprovider.kubernetes.io/uninitialized',
  'ToBeDeletedByClusterAutoscaler',
]);

/** Calico's best-practice guide's sizing for a reflector node. */
export const DEFAULT_MIN_CPU = 8;
export const DEFAULT_MIN_MEMORY = 32 * 2 ** 30;
/** Kernels reserve memory: a 32 GiB machine reports ~31 GiB of capacity; accept 90% of the minimum. */
export const MEMORY_TOLERANCE = 0.9;

export interface RecommendOptions {
  count?: number | undefined;
  zoneLabel?: string | undefined;
  minCpu?: number | undefined;
  minMemoryBytes?: number | undefined;
}

export interface Candidate {
  node: string;
  zone: string | null;
  cpu: number;
  memory: string;
  eligible: boolean;
  /** Why not (when not eligible), or what is weaker about it. */
  notes: string[];
}

export interface Choice {
  node: string;
  zone: string | null;
  existing: boolean;
  reason: string;
}

export interface Recommendation {
  count: number;
  countReason: string;
  zoneLabel: string;
  zones: { zone: string; nodes: number; reflectors: number }[];
  chosen: Choice[];
  candidates: Candidate[];
  warnings: string[];
}

function zoneOf(n: NodeInfo, label: string): string | null {
  return n.labels[label] ?? (label === 'topology.kubernetes.io/zone' ? (n.zone ?? null) : null);
}

function capacityCpu(n: NodeInfo): number {
  return Math.round((n.cpuCapacityMillis / 1000) * 10) / 10;
}

/** Why a node cannot be a route reflector (empty when it can). */
export function ineligibility(n: NodeInfo): string[] {
  const why: string[] = [];
  if (!n.ready) why.push('not Ready');
  if (n.unschedulable && n.annotations[CORDON_ANNOTATION] === undefined)
    why.push('cordoned (not by calico-tune)');
  const bad = n.taints.filter((t) => BAD_TAINTS.has(t.key)).map((t) => t.key);
  if (bad.length) why.push(`tainted ${bad.join(', ')}`);
  if (n.badConditions.length) why.push(`conditions ${n.badConditions.join(', ')}`);
  if (n.labels[OPT_OUT_LABEL] === 'never') why.push(`opted out (${OPT_OUT_LABEL}=never)`);
  if (n.os !== 'linux') why.push(`not Linux (${n.os})`);
  if (n.virtualKubelet) why.push('virtual-kubelet node');
  if (!nodeIPv4(n)) why.push('no projectcalico.org/IPv4Address (calico-node has not configured BGP on it)');
  return why;
}

/**
 * What makes a node a poor reflector without making it impossible: `rr recommend` skips such nodes; an
 * explicit choice (rr promote NODE, migrate --rr) is allowed, with these as warnings.
 */
export function cautions(
  s: ClusterSnapshot,
  n: NodeInfo,
  opts: { minCpu?: number; minMemoryBytes?: number } = {},
): string[] {
  const out: string[] = [];
  if (n.controlPlane) out.push('a control-plane node (the API server and etcd share its CPU and network)');
  const typha = s.typha.pods.filter((p) => p.node === n.name);
  if (typha.length)
    out.push(`runs Typha (${typha.map((p) => p.name).join(', ')}): a reflector and Typha compete for it`);
  const cpu = capacityCpu(n);
  const minCpu = opts.minCpu ?? DEFAULT_MIN_CPU;
  const minMem = opts.minMemoryBytes ?? DEFAULT_MIN_MEMORY;
  if (cpu < minCpu) out.push(`small: ${cpu} CPU < ${minCpu}`);
  if (n.memoryCapacityBytes < minMem * MEMORY_TOLERANCE)
    out.push(`small: ${formatBytes(n.memoryCapacityBytes)} < ${formatBytes(minMem)}`);
  return out;
}

/** `--min-memory`: a Kubernetes quantity (32Gi, 16384Mi); bad input is a usage error. */
export function parseMinMemory(v: string): number {
  try {
    return parseQuantity(v);
  } catch {
    throw usageError(`invalid --min-memory "${v}" (examples: 32Gi, 16384Mi)`);
  }
}

/** Recommends which nodes should be route reflectors: existing RRs first, then zones without one. */
export function recommend(s: ClusterSnapshot, opts: RecommendOptions = {}): Recommendation {
  const zoneLabel = opts.zoneLabel ?? 'topology.kubernetes.io/zone';
  const minCpu = opts.minCpu ?? DEFAULT_MIN_CPU;
  const minMem = opts.minMemoryBytes ?? DEFAULT_MIN_MEMORY;
  const warnings: string[] = [];
  const zoneNodes = new Map<string, number>();
  for (const n of s.nodes) {
    const z = zoneOf(n, zoneLabel) ?? '(no zone)';
    zoneNodes.set(z, (zoneNodes.get(z) ?? 0) + 1);
  }
  const zoneCount = [...zoneNodes.keys()].filter((z) => z !== '(no zone)').length || 1;
  if (s.nodes.length && zoneNodes.size === 1 && zoneNodes.has('(no zone)'))
    warnings.push(
      `no node has the zone label ${zoneLabel}${opts.zoneLabel ? '' : ' (--zone-label names another)'}: the cluster counts as one zone, so reflectors are not spread over zones`,
    );

  const candidates: Candidate[] = s.nodes.map((n) => {
    const notes = ineligibility(n);
    const cpu = capacityCpu(n);
    const small: string[] = [];
    if (cpu < minCpu) small.push(`${cpu} CPU < ${minCpu}`);
    if (n.memoryCapacityBytes < minMem * MEMORY_TOLERANCE)
      small.push(`${formatBytes(n.memoryCapacityBytes)} < ${formatBytes(minMem)}`);
    return {
      node: n.name,
      zone: zoneOf(n, zoneLabel),
      cpu,
      memory: formatBytes(n.memoryCapacityBytes),
      eligible: notes.length === 0 && small.length === 0,
      notes: [...notes, ...small.map((x) => `too small: ${x}`)],
    };
  });
  const byName = new Map(s.nodes.map((n) => [n.name, n]));
  // nodes running Typha come after all others (a reflector and Typha would compete for the node)
  const typhaNodes = new Set(s.typha.pods.map((p) => p.node).filter((x): x is string => !!x));
  const eligible = candidates.filter((c) => c.eligible);

  // a reflector whose node is not Ready serves no one now: its zone counts as without one (replace it)
  const existing = s.nodes.filter((n) => isRouteReflector(n) && n.ready);
  const down = s.nodes.filter((n) => isRouteReflector(n) && !n.ready);
  for (const n of down)
    warnings.push(
      `${n.name} is a route reflector but not Ready: not counted for zone ${zoneOf(n, zoneLabel) ?? '(no zone)'}; replace it: kubectl calico-tune rr replace ${n.name} NEW`,
    );
  const downIn = (z: string): string | undefined =>
    down
      .filter((n) => (zoneOf(n, zoneLabel) ?? '(no zone)') === z)
      .map((n) => n.name)
      .join(', ') || undefined;
  let count: number;
  let countReason: string;
  if (opts.count !== undefined) {
    count = opts.count;
    countReason = 'requested with --count';
  } else {
    count = Math.min(10, Math.max(3, zoneCount));
    countReason = `max(3, ${zoneCount} zone${zoneCount === 1 ? '' : 's'})${zoneCount > 10 ? ', capped at 10' : ''}: one reflector can fail or be maintained while the others carry every client`;
  }
  const possible =
    existing.length +
    eligible.filter((c) => !existing.some((e) => e.name === c.node) && !down.some((d) => d.name === c.node))
      .length;
  if (count > possible) {
    warnings.push(
      `only ${possible} node(s) can be reflectors (eligible and large enough); recommending ${possible} instead of ${count}`,
    );
    count = possible;
  }
  if (count < 2)
    warnings.push('fewer than 2 reflectors: no redundancy, the mesh cannot be turned off safely');

  const chosen: Choice[] = existing.slice(0, Math.max(count, existing.length)).map((n) => ({
    node: n.name,
    zone: zoneOf(n, zoneLabel),
    existing: true,
    reason: `already a route reflector (cluster ID ${n.bgp.rrClusterId})`,
  }));
  if (existing.length > count)
    warnings.push(
      `${existing.length} reflectors exist, more than the ${count} recommended; each one holds a session with every node`,
    );

  const perZone = new Map<string, number>();
  for (const c of chosen) perZone.set(c.zone ?? '(no zone)', (perZone.get(c.zone ?? '(no zone)') ?? 0) + 1);
  const ranked = eligible
    .filter((c) => !chosen.some((x) => x.node === c.node) && !down.some((d) => d.name === c.node))
    .map((c) => ({ c, n: byName.get(c.node)! }))
    .sort(
      (a, b) =>
        Number(a.n.controlPlane) - Number(b.n.controlPlane) ||
        Number(typhaNodes.has(a.n.name)) - Number(typhaNodes.has(b.n.name)) ||
        b.n.cpuCapacityMillis - a.n.cpuCapacityMillis ||
        b.n.memoryCapacityBytes - a.n.memoryCapacityBytes ||
        (a.n.createdAt ?? '').localeCompare(b.n.createdAt ?? '') ||
        a.c.node.localeCompare(b.c.node),
    );
  while (chosen.length < count) {
    // the zone with the fewest reflectors, then the most nodes (most clients), then by name
    const zones = [
      ...new Set(
        ranked.filter((r) => !chosen.some((x) => x.node === r.c.node)).map((r) => r.c.zone ?? '(no zone)'),
      ),
    ];
    if (!zones.length) break;
    zones.sort(
      (a, b) =>
        (perZone.get(a) ?? 0) - (perZone.get(b) ?? 0) ||
        (zoneNodes.get(b) ?? 0) - (zoneNodes.get(a) ?? 0) ||
        a.localeCompare(b),
    );
    const z = zones[0]!;
    const pick = ranked.find(
      (r) => (r.c.zone ?? '(no zone)') === z && !chosen.some((x) => x.node === r.c.node),
    )!;
    const had = perZone.get(z) ?? 0;
    perZone.set(z, had + 1);
    const n = pick.n;
    const parts = [
      had === 0
        ? downIn(z)
          ? `zone ${z} has no Ready reflector (${downIn(z)} is not Ready)`
          : `zone ${z} has no reflector yet`
        : `zone ${z} has the fewest reflectors (${had})`,
      `${pick.c.cpu} CPU / ${pick.c.memory}`,
      n.controlPlane ? 'control-plane node (no eligible worker left in this zone)' : 'worker',
      n.createdAt ? `created ${n.createdAt.slice(0, 10)}` : '',
    ].filter(Boolean);
    chosen.push({ node: n.name, zone: pick.c.zone, existing: false, reason: parts.join('; ') });
  }
  const rrZones = new Set(chosen.map((c) => c.zone ?? '(no zone)'));
  if (zoneCount > 1 && rrZones.size === 1 && chosen.length > 1)
    warnings.push('all recommended reflectors are in one zone: no eligible node elsewhere');
  return {
    count,
    countReason,
    zoneLabel,
    zones: [...zoneNodes.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([zone, nodes]) => ({ zone, nodes, reflectors: perZone.get(zone) ?? 0 })),
    chosen,
    candidates,
    warnings,
  };
}
