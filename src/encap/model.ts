/**
 * The underlay and what each encapsulation mode does on it. Pure.
 *
 * Node subnets come from `projectcalico.org/IPv4Address` (a CIDR) or the v3 Node's `spec.bgp.ipv4Address`
 * (IPv6 pools: `IPv6Address` / `ipv6Address`);
 * a CrossSubnet pool tunnels exactly the node pairs whose subnets differ (BIRD's `bgp_next_hop ~ <node
 * network>` and Felix's route resolver, docs/calico-facts.md). Costs are the guide's Tables 2 and 3.
 */
import { ipv4Network, ipv6Network, parseIPv4Cidr } from '../model/net.js';
import { envBool, felixFieldByNode } from '../model/felix.js';
import { listSome } from '../model/format.js';
import { calicoNodeEnv } from '../model/parse.js';
import type { ClusterSnapshot, EncapMode, IPPoolInfo, KubeObject } from '../model/types.js';

export const ENCAP_TARGETS = ['ipip', 'ipip-crosssubnet', 'vxlan', 'vxlan-crosssubnet', 'none'] as const;
export type EncapTarget = (typeof ENCAP_TARGETS)[number];

/** The Installation's `encapsulation` value for each target (operator.tigera.io/v1 IPPool). */
export type OperatorEncapsulation = 'IPIP' | 'IPIPCrossSubnet' | 'VXLAN' | 'VXLANCrossSubnet' | 'None';

export const TARGET_MODES: Record<
  EncapTarget,
  { ipipMode: EncapMode; vxlanMode: EncapMode; operator: OperatorEncapsulation }
> = {
  ipip: { ipipMode: 'Always', vxlanMode: 'Never', operator: 'IPIP' },
  'ipip-crosssubnet': { ipipMode: 'CrossSubnet', vxlanMode: 'Never', operator: 'IPIPCrossSubnet' },
  vxlan: { ipipMode: 'Never', vxlanMode: 'Always', operator: 'VXLAN' },
  'vxlan-crosssubnet': { ipipMode: 'Never', vxlanMode: 'CrossSubnet', operator: 'VXLANCrossSubnet' },
  none: { ipipMode: 'Never', vxlanMode: 'Never', operator: 'None' },
};

/** The target a pool's modes amount to; `invalid` when IPIP and VXLAN are both on (Calico refuses it). */
export function poolTarget(p: Pick<IPPoolInfo, 'ipipMode' | 'vxlanMode'>): EncapTarget | 'invalid' {
  const ipip = p.ipipMode !== 'Never';
  const vx = p.vxlanMode !== 'Never';
  if (ipip && vx) return 'invalid';
  if (ipip) return p.ipipMode === 'CrossSubnet' ? 'ipip-crosssubnet' : 'ipip';
  if (vx) return p.vxlanMode === 'CrossSubnet' ? 'vxlan-crosssubnet' : 'vxlan';
  return 'none';
}

/** Routes of IPIP and unencapsulated pools are distributed by BIRD; VXLAN routes by Felix. */
export function targetNeedsBgp(t: EncapTarget | 'invalid'): boolean {
  return t === 'ipip' || t === 'ipip-crosssubnet' || t === 'none' || t === 'invalid';
}

/**
 * Whether any pool needs BGP to carry its routes. A disabled pool counts: `disabled` only stops new
 * allocations, and the pods that have addresses from it keep them, and their routes (Calico's "Migrate from
 * one IP pool to another" relies on it). Whether any remain, the tool does not read.
 */
export function anyPoolNeedsBgp(pools: readonly IPPoolInfo[]): boolean {
  return pools.some((p) => targetNeedsBgp(poolTarget(p)));
}

/** The cloud named by `spec.providerID` (`aws:///zone/i-…` → `aws`; `gce://…` → `gce`), else undefined. */
export function cloudOf(providerID: string | undefined): string | undefined {
  if (!providerID) return undefined;
  const m = /^([a-z0-9-]+):\/\//i.exec(providerID);
  return m ? m[1]!.toLowerCase() : undefined;
}

export interface UnderlayNode {
  name: string;
  /** The node's address with its prefix, as Calico sees it. */
  address?: string | undefined;
  /** Its network (`10.0.1.0/24`); undefined when no address with a prefix is known. */
  subnet?: string | undefined;
  cloud?: string | undefined;
}

export interface Underlay {
  nodes: UnderlayNode[];
  /** Nodes per subnet, subnets sorted. */
  subnets: { subnet: string; nodes: string[] }[];
  /** Nodes with no known subnet (no IPv4Address, or one without a prefix). */
  unknown: string[];
  pairs: { total: number; sameSubnet: number; crossSubnet: number; unknown: number };
  /** Clouds seen, sorted. */
  clouds: string[];
  /** Example pairs that cross subnets (at most 5). */
  crossExamples: [string, string][];
}

/** The v3 Node's `spec.bgp.ipv4Address` (or ipv6Address) per node name, when the snapshot holds Calico Nodes. */
function v3NodeAddresses(objects: readonly KubeObject[], family: 4 | 6): Map<string, string> {
  const out = new Map<string, string>();
  const field = family === 6 ? 'ipv6Address' : 'ipv4Address';
  for (const o of objects) {
    if (o.kind !== 'Node' || o.apiVersion === 'v1') continue;
    const bgp = (o.spec?.['bgp'] ?? {}) as Record<string, unknown>;
    if (typeof bgp[field] === 'string') out.set(o.metadata.name, bgp[field]);
  }
  return out;
}

function pairs(n: number): number {
  return n < 2 ? 0 : (n * (n - 1)) / 2;
}

/**
 * The underlay of one IP family: pod traffic of an IPv6 pool crosses the IPv6 underlay, so its pairs are judged
 * by `projectcalico.org/IPv6Address` (a review found an IPv6 pool judged by the IPv4 subnets).
 */
export function underlayOf(s: ClusterSnapshot, family: 4 | 6 = 4): Underlay {
  const v3 = v3NodeAddresses(s.objects, family);
  const nodes: UnderlayNode[] = s.nodes
    .filter((n) => n.os === 'linux' || n.os === 'unknown')
    .map((n) => {
      if (family === 6) {
        const address = n.bgp.ipv6Address ?? v3.get(n.name);
        return {
          name: n.name,
          address,
          subnet: address ? ipv6Network(address) : undefined,
          cloud: cloudOf(n.providerID),
        };
      }
      const address = n.bgp.ipv4Address ?? v3.get(n.name);
      const c = address ? parseIPv4Cidr(address) : undefined;
      const subnet = c && address!.includes('/') ? ipv4Network(c.addr, c.prefix) : undefined;
      return { name: n.name, address, subnet, cloud: cloudOf(n.providerID) };
    });
  const by = new Map<string, string[]>();
  const unknown: string[] = [];
  for (const n of nodes) {
    if (!n.subnet) unknown.push(n.name);
    else by.set(n.subnet, [...(by.get(n.subnet) ?? []), n.name]);
  }
  const subnets = [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([subnet, ns]) => ({ subnet, nodes: ns }));
  const known = nodes.length - unknown.length;
  const sameSubnet = subnets.reduce((a, g) => a + pairs(g.nodes.length), 0);
  const total = pairs(nodes.length);
  const unknownPairs = total - pairs(known);
  const crossExamples: [string, string][] = [];
  for (let i = 0; i < subnets.length && crossExamples.length < 5; i++)
    for (let j = i + 1; j < subnets.length && crossExamples.length < 5; j++)
      crossExamples.push([subnets[i]!.nodes[0]!, subnets[j]!.nodes[0]!]);
  return {
    nodes,
    subnets,
    unknown,
    pairs: { total, sameSubnet, crossSubnet: pairs(known) - sameSubnet, unknown: unknownPairs },
    clouds: [...new Set(nodes.map((n) => n.cloud).filter((c): c is string => !!c))].sort(),
    crossExamples,
  };
}

/** The guide's measurements (Tables 2 and 3), node to remote pod: the one column measured for both. */
export const GUIDE_COST = {
  ipip: { latencyMs: 0.2973, gbps: 4.43 },
  native: { latencyMs: 0.268, gbps: 4.67 },
  /** Pod to remote pod, IPIP only (the guide has no BGP figure for it). */
  ipipPodToPod: { latencyMs: 0.312, gbps: 4.76 },
} as const;

export type PairPath = 'ipip' | 'vxlan' | 'native';

/** How a node pair's pod traffic travels under a mode. */
export function pathFor(t: EncapTarget, sameSubnet: boolean): PairPath {
  switch (t) {
    case 'ipip':
      return 'ipip';
    case 'vxlan':
      return 'vxlan';
    case 'ipip-crosssubnet':
      return sameSubnet ? 'native' : 'ipip';
    case 'vxlan-crosssubnet':
      return sameSubnet ? 'native' : 'vxlan';
    case 'none':
      return 'native';
  }
}

export interface ModeProblem {
  /** `refuse`: the tool will not plan it (exit 2); `warn`: planned, with the warning in the plan. */
  level: 'refuse' | 'warn';
  /** Stable identifier of the rule (documented in README, encapsulation section). */
  rule: string;
  reason: string;
}

export interface ModeOutcome {
  mode: EncapTarget;
  /** Node pairs (unordered) by how their pod traffic travels; `unknown` pairs involve a node without a subnet. */
  pairs: { ipip: number; vxlan: number; native: number; unknown: number };
  /** Whether BGP must carry the pool's routes. */
  needsBgp: boolean;
  /** Node-to-remote-pod cost per the guide, for the tunnelled and the native pairs (VXLAN: not measured). */
  cost: string;
  problems: ModeProblem[];
}

/** What the cluster offers the pool's routes besides the node-to-node sessions. */
export interface RoutingContext {
  /** `calico_backend` / Installation bgp: does calico-node run BIRD? */
  bgpRunning: boolean;
  /** BGPPeers with a peerIP (ToR / external routers): the underlay may learn pod routes. */
  externalPeers: number;
  installMode: ClusterSnapshot['calico']['installMode'];
  backend: ClusterSnapshot['calico']['networkingBackend'];
}

export function routingContext(s: ClusterSnapshot): RoutingContext {
  const backend = s.calico.networkingBackend;
  const bgpOff = backend === 'vxlan' || backend === 'none' || s.installation?.bgp === 'Disabled';
  return {
    bgpRunning: !bgpOff,
    externalPeers: s.bgpPeers.filter((p) => !!p.peerIP).length,
    installMode: s.calico.installMode,
    backend,
  };
}

function costLine(pairs: ModeOutcome['pairs']): string {
  const parts: string[] = [];
  if (pairs.native)
    parts.push(
      `${pairs.native} native pair(s) ${GUIDE_COST.native.latencyMs} ms / ${GUIDE_COST.native.gbps} Gbit/s`,
    );
  if (pairs.ipip)
    parts.push(`${pairs.ipip} IPIP pair(s) ${GUIDE_COST.ipip.latencyMs} ms / ${GUIDE_COST.ipip.gbps} Gbit/s`);
  if (pairs.vxlan) parts.push(`${pairs.vxlan} VXLAN pair(s) (not measured by the guide; 50-byte header)`);
  return parts.join('; ') || 'no node pairs';
}

/** Felix's switch for a tunnel, turned off where it overrides the pools: what sets it, and how to undo it. */
export interface TunnelOff {
  /** `tunl0` or `vxlan.calico`. */
  device: string;
  /** `IPIP` or `VXLAN`. */
  kind: string;
  /**
   * Each setting that turns it off (e.g. "FelixConfiguration default sets ipipEnabled: false, ..."), what undoes
   * it, and the command when there is one.
   */
  offs: { setting: string; action: 'remove the variable' | 'clear it'; command?: string | undefined }[];
}

/**
 * Felix's own switch against a pool's mode (felix/calc/encapsulation_resolver.go IPIPEnabled/VXLANEnabled): with
 * ipipEnabled or vxlanEnabled explicitly false (calico-node's environment, else the node's FelixConfiguration,
 * else default), Felix never creates the tunnel device, so every route of that mode goes nowhere. IPv6 VXLAN has
 * no such switch. Undefined when nothing turns it off. Encap plans refuse such a mode (TUNNEL_OFF_IN_FELIX);
 * status reports the current one (ENCAP_TUNNEL_OFF).
 */
export function felixTunnelOff(
  s: ClusterSnapshot,
  pool: IPPoolInfo,
  mode: EncapTarget,
): TunnelOff | undefined {
  const tunnel = mode.startsWith('ipip')
    ? 'ipipEnabled'
    : mode.startsWith('vxlan') && pool.ipVersion !== 6
      ? 'vxlanEnabled'
      : undefined;
  if (!tunnel) return undefined;
  const [device, kind] = tunnel === 'ipipEnabled' ? ['tunl0', 'IPIP'] : ['vxlan.calico', 'VXLAN'];
  const offs: TunnelOff['offs'] = [];
  // calico-node's environment wins over every FelixConfiguration, true as well as false (a review); set at
  // all, it decides (a value Felix cannot read is the default: on when a pool needs it)
  const env = `FELIX_${tunnel === 'ipipEnabled' ? 'IPINIPENABLED' : 'VXLANENABLED'}`; // (an env var, no finding code)
  const raw = calicoNodeEnv(s.objects, env);
  const envValue = envBool(raw, true);
  if (envValue === false)
    offs.push({
      setting: `DaemonSet ${s.calico.nodeNamespace ?? ''}/calico-node sets ${env}=${raw}, which overrides the pools`,
      action: 'remove the variable',
    });
  else if (envValue === undefined) {
    // each node's own FelixConfiguration node.<name> wins over default for that node
    const off = new Map<string, string[]>();
    for (const [node, src] of felixFieldByNode(
      s.objects,
      s.nodes.map((n) => n.name),
      tunnel,
    ))
      if (src?.value === false) off.set(src.object, [...(off.get(src.object) ?? []), node]);
    for (const [object, nodes] of off) {
      const on =
        object === 'default'
          ? `${nodes.length === s.nodes.length ? 'every node' : `${nodes.length} node(s) without a node.<name> FelixConfiguration that sets it (${listSome(nodes)})`}`
          : 'that node';
      offs.push({
        setting: `FelixConfiguration ${object} sets ${tunnel}: false, which overrides the pools on ${on}`,
        action: 'clear it',
        command: `kubectl patch felixconfiguration ${object} --type=merge -p '{"spec":{"${tunnel}":null}}'`,
      });
    }
  }
  return offs.length ? { device, kind, offs } : undefined;
}

/** The refusals of a mode Felix's switch turns off (TUNNEL_OFF_IN_FELIX), one per setting. */
function tunnelOffProblems(s: ClusterSnapshot, pool: IPPoolInfo, mode: EncapTarget): ModeProblem[] {
  const t = felixTunnelOff(s, pool, mode);
  return (t?.offs ?? []).map((o) => ({
    level: 'refuse' as const,
    rule: 'TUNNEL_OFF_IN_FELIX',
    reason: `${o.setting}: Felix would not create ${t!.device} and every ${t!.kind} route would go nowhere; ${o.action} first${o.command ? `: ${o.command}` : ''}`,
  }));
}

/**
 * What switching `pool` to `mode` would do on this underlay, and why the tool refuses or warns.
 * `from` is the pool's current target (for transition rules such as IPIP → VXLAN).
 */
export function evaluateMode(
  s: ClusterSnapshot,
  pool: IPPoolInfo,
  mode: EncapTarget,
  u: Underlay = underlayOf(s, pool.ipVersion === 6 ? 6 : 4),
  ctx: RoutingContext = routingContext(s),
): ModeOutcome {
  const same = u.pairs.sameSubnet;
  const cross = u.pairs.crossSubnet;
  const pairs = { ipip: 0, vxlan: 0, native: 0, unknown: u.pairs.unknown };
  for (const [n, sameSubnet] of [
    [same, true],
    [cross, false],
  ] as const) {
    if (n) pairs[pathFor(mode, sameSubnet)] += n;
  }
  // Always tunnels every pair, whatever the subnets
  if (mode === 'ipip' || mode === 'vxlan') {
    pairs[mode] += pairs.unknown;
    pairs.unknown = 0;
  }
  const problems: ModeProblem[] = [];
  const from = poolTarget(pool);
  const native = pairs.native > 0 || (pairs.unknown > 0 && mode !== 'ipip' && mode !== 'vxlan');
  const needsBgp = targetNeedsBgp(mode);

  if (pool.ipVersion === 6 && (mode === 'ipip' || mode === 'ipip-crosssubnet'))
    problems.push({
      level: 'refuse',
      rule: 'IPIP_IPV6',
      reason: `IPIP is not supported on an IPv6 pool (${pool.cidr}); Calico's validation refuses it`,
    });

  if (mode === 'none' && (cross > 0 || pairs.unknown > 0) && ctx.externalPeers === 0) {
    const ex = u.crossExamples[0];
    problems.push({
      level: 'refuse',
      rule: 'NATIVE_ACROSS_SUBNETS',
      reason:
        cross > 0
          ? `${cross} node pair(s) cross subnets (e.g. ${ex?.[0]} ↔ ${ex?.[1]}) and no BGPPeer with a peerIP (ToR / external router) tells the underlay the pod routes: without encapsulation their pod traffic is dropped by the routers between the subnets`
          : `${u.unknown.length} node(s) have no known subnet (no projectcalico.org/IPv${pool.ipVersion === 6 ? 6 : 4}Address with a prefix: ${u.unknown.slice(0, 3).join(', ')}), so the tool cannot tell whether their pairs cross subnets, and no external BGP peer routes pod CIDRs`,
    });
  }
  if (
    (mode === 'ipip-crosssubnet' || mode === 'vxlan-crosssubnet') &&
    u.unknown.length > 0 &&
    ctx.externalPeers === 0
  )
    problems.push({
      level: 'refuse',
      rule: 'CROSSSUBNET_UNKNOWN_SUBNETS',
      reason: `CrossSubnet decides per pair from the nodes' IPv${pool.ipVersion === 6 ? 6 : 4}Address prefixes, and ${u.unknown.length} node(s) have none (${u.unknown.slice(0, 3).join(', ')}): their traffic could be sent unencapsulated across subnets with no underlay route to the pod CIDRs`,
    });

  if (u.clouds.includes('azure') && mode !== 'vxlan')
    problems.push({
      level: 'refuse',
      rule: 'AZURE_VXLAN_ONLY',
      reason:
        "nodes run in Azure: Azure's network blocks IP-in-IP and does not carry routes learned over BGP, so only VXLAN (Always) works there (docs/calico-facts.md)",
    });

  if (u.clouds.includes('aws') && native)
    problems.push({
      level: 'warn',
      rule: 'AWS_SRC_DST_CHECK',
      reason: `nodes run in AWS and ${pairs.native} pair(s) would route pod traffic natively: every EC2 instance needs its source/destination check disabled, or that traffic is dropped (the tool cannot see this setting)`,
    });

  if (u.clouds.includes('aws') && pairs.ipip > 0)
    problems.push({
      level: 'warn',
      rule: 'AWS_IPIP_PROTOCOL',
      reason: `nodes run in AWS and ${pairs.ipip} pair(s) would use IP-in-IP: the nodes' security groups must allow IP protocol 4 between them, or that traffic is dropped (the tool cannot see security groups; VXLAN needs UDP 4789)`,
    });

  problems.push(...tunnelOffProblems(s, pool, mode));

  if (needsBgp && !ctx.bgpRunning)
    problems.push({
      level: 'refuse',
      rule: 'NEEDS_BGP',
      reason: `${mode === 'none' ? 'unencapsulated' : 'IPIP'} routes are distributed by BGP, and calico-node does not run BIRD (backend ${ctx.backend}${ctx.installMode === 'operator' ? ', Installation bgp Disabled' : ''}): switch the backend to bird first`,
    });

  if (
    (mode === 'vxlan' || mode === 'vxlan-crosssubnet') &&
    targetNeedsBgp(from) &&
    ctx.installMode !== 'operator' &&
    ctx.backend === 'bird'
  )
    problems.push({
      level: 'warn',
      rule: 'KEEPS_BGP',
      reason:
        "calico_backend is bird: BIRD keeps running and its BGP sessions stay after the switch, although Felix programs VXLAN routes; to stop BGP once no pool needs it, set calico_backend: vxlan in ConfigMap kube-system/calico-config and remove -bird-live / -bird-ready from calico-node's probes",
    });

  if (
    (from === 'ipip' || from === 'ipip-crosssubnet' || from === 'none') &&
    (mode === 'vxlan' || mode === 'vxlan-crosssubnet')
  )
    problems.push({
      level: 'warn',
      rule: 'MTU_UNTIL_RESTART',
      reason:
        'pods created before the switch keep their interface MTU (sized for IPIP or no encapsulation) until they restart; VXLAN needs 30 more bytes of headroom than IPIP, so large packets rely on path-MTU discovery until then',
    });

  return { mode, pairs, needsBgp, cost: costLine(pairs), problems };
}
