/**
 * `encap report` and `encap plan|apply`: which object owns a pool's encapsulation, what each mode would do,
 * and the plan that switches one pool. Pure: `(snapshot, options) → Plan`, built with PlanBuilder.
 */
import { NothingToDo, usageError } from '../errors.js';
import type { ClusterSnapshot, IPPoolInfo, KubeObject } from '../model/types.js';
import { calicoAtLeast, OPERATOR_V134_CALICO_MINOR } from '../model/calico.js';
import { PlanBuilder } from '../plan/builder.js';
import type { Plan, Step } from '../plan/types.js';
import {
  ENCAP_TARGETS,
  TARGET_MODES,
  anyPoolNeedsBgp,
  evaluateMode,
  poolTarget,
  routingContext,
  underlayOf,
  type EncapTarget,
  type ModeOutcome,
  type Underlay,
} from './model.js';

export const OPERATOR_MANAGED_BY = { key: 'app.kubernetes.io/managed-by', value: 'tigera-operator' };

export interface PoolOwner {
  /** The object whose change lasts: the Installation (the operator reconciles its pools) or the IPPool. */
  object: 'Installation' | 'IPPool';
  reason: string;
  /** Index of the pool in Installation.spec.calicoNetwork.ipPools, when the Installation lists it. */
  installationIndex?: number | undefined;
}

function installationObject(s: ClusterSnapshot): KubeObject | undefined {
  return s.objects.find(
    (o) =>
      o.kind === 'Installation' && o.apiVersion === 'operator.tigera.io/v1' && o.metadata.name === 'default',
  );
}

function installationPools(o: KubeObject | undefined): Record<string, unknown>[] {
  const net = (o?.spec?.['calicoNetwork'] ?? {}) as Record<string, unknown>;
  return Array.isArray(net['ipPools']) ? (net['ipPools'] as Record<string, unknown>[]) : [];
}

/**
 * Which object lasts (docs/calico-facts.md): operators from v1.34 (Calico 3.28) run an IP pool controller that
 * owns the pools listed in the Installation that carry its label (app.kubernetes.io/managed-by:
 * tigera-operator) and reverts direct edits; v1.32 (Calico 3.27) only seeds the first pool, so the IPPool lasts
 * there.
 */
export function poolOwner(s: ClusterSnapshot, pool: IPPoolInfo): PoolOwner {
  if (s.calico.installMode !== 'operator')
    return { object: 'IPPool', reason: 'manifest install: the IPPool is the only source' };
  const inst = installationObject(s);
  const idx = installationPools(inst).findIndex((p) => p['cidr'] === pool.cidr);
  const labelled = pool.labels[OPERATOR_MANAGED_BY.key] === OPERATOR_MANAGED_BY.value;
  const v = s.calico.version;
  const hasController = calicoAtLeast(s, OPERATOR_V134_CALICO_MINOR) ?? labelled;
  if (!inst || idx < 0)
    return {
      object: 'IPPool',
      reason: 'the Installation does not list this pool: the operator leaves it alone',
    };
  if (!hasController)
    return {
      object: 'IPPool',
      installationIndex: idx,
      reason: `Calico ${v?.raw ?? '(version unknown)'}: its operator only creates the first pool and never updates it, so the IPPool is what lasts`,
    };
  // the pool controller adopts an unlabelled pool only when it equals its Installation entry in every field
  // (reflect.DeepEqual with FromProjectCalicoV1: encapsulation, NAT, block size, selector, ...), and then
  // labels it at its next update; one still unlabelled it has not adopted: it reports "Cannot update an IP
  // pool not owned by the operator" and leaves it (tigera/operator pkg/controller/ippool, a review)
  if (!labelled)
    return {
      object: 'IPPool',
      installationIndex: idx,
      reason:
        "the pool is not labelled as the operator's: the operator has not adopted it (it would have labelled it), so it does not change it, and a change to the Installation would not reach it",
    };
  return {
    object: 'Installation',
    installationIndex: idx,
    reason:
      `Calico ${v?.raw ?? ''}: the operator's IP pool controller writes the pool from Installation.spec.calicoNetwork.ipPools[${idx}] and reverts direct edits`.replace(
        '  ',
        ' ',
      ),
  };
}

/**
 * The mode the Installation asks for a pool it owns, when the pool does not have it yet (the operator has not
 * applied it, or cannot: it writes through the Calico API server); undefined when they agree or the pool is
 * not the Installation's.
 */
export function operatorPending(s: ClusterSnapshot, pool: IPPoolInfo): EncapTarget | undefined {
  const owner = poolOwner(s, pool);
  const want = owner.object === 'Installation' ? installationTarget(s, owner) : undefined;
  return want !== undefined && want !== poolTarget(pool) ? want : undefined;
}

/** The mode the Installation's entry for the pool asks for (undefined: no entry, or none the tool knows). */
function installationTarget(s: ClusterSnapshot, owner: PoolOwner): EncapTarget | undefined {
  if (owner.installationIndex === undefined) return undefined;
  return targetOfOperator(
    installationPools(installationObject(s))[owner.installationIndex]?.['encapsulation'],
  );
}

function targetOfOperator(e: unknown): EncapTarget | undefined {
  for (const t of ENCAP_TARGETS) if (TARGET_MODES[t].operator === e) return t;
  return undefined;
}

export interface PoolReport {
  name: string;
  cidr: string;
  mode: EncapTarget | 'invalid';
  ipipMode: string;
  vxlanMode: string;
  disabled: boolean;
  owner: PoolOwner;
  /** The mode the Installation asks for and the operator has not applied yet (ENCAP_OPERATOR_PENDING), or null. */
  pending: EncapTarget | null;
  /** What each mode would do, in ENCAP_TARGETS order. */
  modes: (ModeOutcome & { current: boolean; refused: boolean })[];
}

export interface EncapReport {
  apiVersion: 'calico-tune/v1';
  kind: 'EncapReport';
  /** The IPv4 underlay (IPv4 pools are judged by it). */
  underlay: ReportedUnderlay;
  /** The IPv6 underlay (`projectcalico.org/IPv6Address`), when there is an IPv6 pool; else null. */
  underlay6: ReportedUnderlay | null;
  backend: string;
  bgpNeeded: boolean;
  externalPeers: number;
  pools: PoolReport[];
}

/** An underlay as -o json shows it: every node with all its fields, unknown ones null (docs/json-output.md). */
export type ReportedUnderlay = Omit<Underlay, 'nodes'> & {
  nodes: { name: string; address: string | null; subnet: string | null; cloud: string | null }[];
};

function reportedUnderlay(u: Underlay): ReportedUnderlay {
  return {
    ...u,
    nodes: u.nodes.map((n) => ({
      name: n.name,
      address: n.address ?? null,
      subnet: n.subnet ?? null,
      cloud: n.cloud ?? null,
    })),
  };
}

export function encapReport(s: ClusterSnapshot): EncapReport {
  const u = underlayOf(s);
  const u6 = s.ipPools.some((p) => p.ipVersion === 6) ? underlayOf(s, 6) : null;
  const ctx = routingContext(s);
  return {
    apiVersion: 'calico-tune/v1',
    kind: 'EncapReport',
    underlay: reportedUnderlay(u),
    underlay6: u6 && reportedUnderlay(u6),
    backend: s.calico.networkingBackend,
    bgpNeeded: anyPoolNeedsBgp(s.ipPools),
    externalPeers: ctx.externalPeers,
    pools: s.ipPools.map((p) => {
      const mode = poolTarget(p);
      return {
        name: p.name,
        cidr: p.cidr,
        mode,
        ipipMode: p.ipipMode,
        vxlanMode: p.vxlanMode,
        disabled: p.disabled,
        owner: poolOwner(s, p),
        pending: operatorPending(s, p) ?? null,
        modes: ENCAP_TARGETS.map((t) => {
          const o = evaluateMode(s, p, t, p.ipVersion === 6 && u6 ? u6 : u, ctx);
          return { ...o, current: t === mode, refused: o.problems.some((x) => x.level === 'refuse') };
        }),
      };
    }),
  };
}

export interface EncapPlanOptions {
  pool: string;
  mode: EncapTarget;
  name: string;
  command: string;
  timeout: string;
  createdAt?: string | undefined;
}

export function planEncap(s: ClusterSnapshot, opts: EncapPlanOptions): Plan {
  if (!ENCAP_TARGETS.includes(opts.mode))
    throw usageError(`unknown --mode "${String(opts.mode)}"`, `one of: ${ENCAP_TARGETS.join(', ')}`);
  const pool = s.ipPools.find((p) => p.name === opts.pool);
  if (!pool)
    throw usageError(
      `IP pool "${opts.pool}" not found`,
      s.ipPools.length ? `pools: ${s.ipPools.map((p) => p.name).join(', ')}` : 'the cluster has no IP pools',
    );
  const from = poolTarget(pool);
  const u = underlayOf(s, pool.ipVersion === 6 ? 6 : 4);
  const outcome = evaluateMode(s, pool, opts.mode, u);
  const refused = outcome.problems.filter((p) => p.level === 'refuse');
  if (refused.length)
    throw usageError(
      `refusing ${pool.name} → ${opts.mode}: ${refused.map((p) => `${p.reason} [${p.rule}]`).join('; ')}`,
      'kubectl calico-tune encap report shows what each mode would do',
    );
  const owner = poolOwner(s, pool);
  const target = TARGET_MODES[opts.mode];
  const instPools = installationPools(installationObject(s));
  const instTarget = installationTarget(s, owner);
  if (owner.object === 'Installation' && instTarget === opts.mode && from !== opts.mode)
    throw new NothingToDo(
      `Installation default already sets ${target.operator} for ${pool.cidr}; the operator has not updated IPPool ${pool.name} yet (it writes through the Calico API server: kubectl get tigerastatus apiserver ippools)`,
    );
  if (from === opts.mode && (owner.object === 'IPPool' || instTarget === opts.mode))
    throw new NothingToDo(
      `IP pool ${pool.name} already uses ${opts.mode} (ipipMode ${pool.ipipMode}, vxlanMode ${pool.vxlanMode})`,
    );

  const b = new PlanBuilder(s, { timeout: opts.timeout });
  const fromText =
    from === 'invalid' ? `ipipMode ${pool.ipipMode} + vxlanMode ${pool.vxlanMode} (invalid)` : from;
  const why = `${pool.name}: ${fromText} → ${opts.mode}. Felix and BIRD reprogram the routes of existing blocks; pods keep their IPs and need no restart. When the set of encapsulations in use changes, Felix restarts itself on every node (a short dataplane resync), and calico-node allocates each node its tunnel address for the new mode: routes to a node use the new mode once it has one`;
  if (owner.object === 'Installation') {
    const pools = instPools.map((p, i) =>
      i === owner.installationIndex ? { ...p, encapsulation: target.operator } : p,
    );
    b.add({
      title: `set Installation default ipPools[${owner.installationIndex}] (${pool.cidr}) encapsulation ${target.operator}`,
      why: `${why}. ${owner.reason}, so the change is made there; the operator then updates IPPool ${pool.name}`,
      action: 'patch',
      object: { apiVersion: 'operator.tigera.io/v1', kind: 'Installation', name: 'default' },
      patch: { spec: { calicoNetwork: { ipPools: pools } } },
      // the list the patch replaces, as it is now: with it, plan integrity can check that the patch changes
      // only encapsulation (a review re-digested a plan whose patch rewrote a pool's CIDR)
      precondition: {
        exists: true,
        fields: [{ path: ['spec', 'calicoNetwork', 'ipPools'], equals: instPools }],
      },
      checkpoint: true,
    });
  } else {
    const apiVersion =
      s.objects.find((o) => o.kind === 'IPPool' && o.metadata.name === pool.name)?.apiVersion ??
      pool.apiVersion;
    // the legacy spec.ipip, when there, wins over ipipMode in Calico's conversion: it goes with the change
    const legacy = rawObject(s, pool.name)?.spec?.['ipip'];
    const hasLegacy = legacy !== undefined && legacy !== null && typeof legacy === 'object';
    const l = (hasLegacy ? legacy : {}) as Record<string, unknown>;
    b.add({
      title: `set IPPool ${pool.name} ipipMode ${target.ipipMode}, vxlanMode ${target.vxlanMode}${hasLegacy ? ', and remove its legacy spec.ipip (which Calico reads before ipipMode)' : ''}`,
      why: `${why}. ${owner.reason}`,
      action: 'patch',
      object: { apiVersion, kind: 'IPPool', name: pool.name },
      patch: {
        spec: {
          ipipMode: target.ipipMode,
          vxlanMode: target.vxlanMode,
          ...(hasLegacy ? { ipip: null } : {}),
        },
      },
      precondition: {
        fields: [
          { path: ['spec', 'ipipMode'], equals: rawMode(s, pool.name, 'ipipMode') },
          { path: ['spec', 'vxlanMode'], equals: rawMode(s, pool.name, 'vxlanMode') },
          ...(hasLegacy
            ? [
                { path: ['spec', 'ipip', 'enabled'], equals: scalarOrNull(l['enabled']) },
                { path: ['spec', 'ipip', 'mode'], equals: scalarOrNull(l['mode']) },
              ]
            : [{ path: ['spec', 'ipip'], equals: null }]),
        ],
      },
      checkpoint: true,
    });
  }

  const before = evaluateMode(s, pool, from === 'invalid' ? 'none' : from, u);
  const changes = pairChanges(from, opts.mode, before, outcome, u);
  const warnings = outcome.problems.filter((p) => p.level === 'warn').map((p) => `${p.reason} [${p.rule}]`);
  if (owner.object === 'IPPool' && owner.installationIndex !== undefined) {
    const listed = `Installation default still lists ${pool.cidr} with encapsulation ${String(instPools[owner.installationIndex]!['encapsulation'] ?? '(default)')}`;
    warnings.push(
      calicoAtLeast(s, OPERATOR_V134_CALICO_MINOR)
        ? `${listed}: the operator's IP pool controller does not own this unlabelled pool, reports Degraded ("Cannot update an IP pool not owned by the operator") and leaves it; it takes the pool over only when the Installation entry equals the pool in every field (then it labels it)`
        : `${listed}: this operator does not act on it, but an upgrade to an operator with the IP pool controller (Calico 3.28+) would find the pool differing and leave it unmanaged; update it in a maintenance window (it rolls calico-node)`,
    );
  }
  if (owner.object === 'Installation')
    warnings.push(
      'the operator writes the IPPool through the Calico API server: while that is not Ready the change waits (tigerastatus ippools degraded)',
    );
  const after = s.ipPools.map((p) => (p.name === pool.name ? { ...p, ...target } : p));
  if (!anyPoolNeedsBgp(after) && s.calico.networkingBackend === 'bird')
    warnings.push(
      s.calico.installMode === 'operator'
        ? 'no pool needs BGP afterwards: BGP can be turned off with Installation spec.calicoNetwork.bgp: Disabled (the operator sets calico_backend vxlan)'
        : 'no pool needs BGP afterwards, but calico-node still runs BIRD (calico_backend: bird)',
    );
  return b.finish({
    name: opts.name,
    command: opts.command,
    description: `switch IP pool ${pool.name} (${pool.cidr}) from ${fromText} to ${opts.mode}`,
    changes,
    warnings,
    createdAt: opts.createdAt,
  });
}

function rawObject(s: ClusterSnapshot, name: string): KubeObject | undefined {
  return s.objects.find((x) => x.kind === 'IPPool' && x.metadata.name === name);
}

function rawMode(s: ClusterSnapshot, name: string, field: 'ipipMode' | 'vxlanMode'): string | null {
  const v = rawObject(s, name)?.spec?.[field];
  return typeof v === 'string' ? v : null;
}

function scalarOrNull(v: unknown): string | boolean | null {
  return typeof v === 'string' || typeof v === 'boolean' ? v : null;
}

/** What changes for which node pairs, in the words of the other plans' verification. */
function pairChanges(
  from: EncapTarget | 'invalid',
  to: EncapTarget,
  before: ModeOutcome,
  after: ModeOutcome,
  u: Underlay,
): string[] {
  const out: string[] = [];
  const p = u.pairs;
  const describe = (o: ModeOutcome): string =>
    [
      o.pairs.native ? `${o.pairs.native} native` : '',
      o.pairs.ipip ? `${o.pairs.ipip} IPIP` : '',
      o.pairs.vxlan ? `${o.pairs.vxlan} VXLAN` : '',
      o.pairs.unknown ? `${o.pairs.unknown} unknown` : '',
    ]
      .filter(Boolean)
      .join(', ') || 'none';
  out.push(
    `node pairs: ${p.total} (${p.sameSubnet} within a subnet, ${p.crossSubnet} across subnets${p.unknown ? `, ${p.unknown} with a node of unknown subnet` : ''}; subnets: ${u.subnets.map((g) => `${g.subnet} (${g.nodes.length})`).join(', ') || 'none known'})`,
  );
  out.push(
    from === 'invalid'
      ? 'before (invalid): IPIP and VXLAN both on, which Calico refuses for a pool; what it does with such a pool is not modelled'
      : `before (${from}): ${describe(before)}`,
  );
  out.push(`after (${to}): ${describe(after)}`);
  out.push(`cost after, node to remote pod (the guide's Tables 2 and 3): ${after.cost}`);
  out.push(
    'allocated blocks and pod IPs are unchanged and no pod restarts; Felix restarts itself on every node when the set of encapsulations in use changes, and each node needs its tunnel address for the new mode (projectcalico.org/IPv4VXLANTunnelAddr, IPv4IPIPTunnelAddr) before routes to it use that mode',
  );
  return out;
}

/**
 * Apply-time re-verification of what a plan does to encapsulation (the executor, before its first write): for
 * every pool a step switches (an IPPool patch of ipipMode/vxlanMode, or an Installation entry's
 * encapsulation), the mode is evaluated again on the live cluster; a mode the tool refuses there (no
 * encapsulation across subnets, a tunnel Felix has turned off) refuses the plan. A saved plan, edited and
 * re-digested, or made before the cluster changed, cannot switch a pool the planner would refuse. `offset`:
 * the index of `steps[0]` in its plan (for the step numbers it names).
 */
export function encapRefusals(steps: readonly Step[], live: ClusterSnapshot, offset = 0): string[] {
  const out: string[] = [];
  const check = (pool: IPPoolInfo, mode: EncapTarget, where: string): void => {
    if (poolTarget(pool) === mode) return;
    for (const p of evaluateMode(live, pool, mode).problems)
      if (p.level === 'refuse') out.push(`${where}: ${pool.name} → ${mode}: ${p.reason} [${p.rule}]`);
  };
  steps.forEach((step, i) => {
    if (step.action !== 'patch' || !step.object || !step.patch) return;
    const where = `step ${offset + i + 1} (${step.title})`;
    const spec = step.patch['spec'];
    if (!spec || typeof spec !== 'object') return;
    if (step.object.kind === 'IPPool') {
      const pool = live.ipPools.find((p) => p.name === step.object!.name);
      const sp = spec as Record<string, unknown>;
      if (!pool || (sp['ipipMode'] === undefined && sp['vxlanMode'] === undefined)) return;
      const after = {
        ...pool,
        ipipMode: (sp['ipipMode'] as IPPoolInfo['ipipMode'] | undefined) ?? pool.ipipMode,
        vxlanMode: (sp['vxlanMode'] as IPPoolInfo['vxlanMode'] | undefined) ?? pool.vxlanMode,
      };
      const mode = poolTarget(after);
      if (mode !== 'invalid') check(pool, mode, where);
      else out.push(`${where}: ${pool.name} would have both IPIP and VXLAN on, which Calico refuses`);
    } else if (step.object.kind === 'Installation') {
      const net = (spec as Record<string, unknown>)['calicoNetwork'];
      const list = net && typeof net === 'object' ? (net as Record<string, unknown>)['ipPools'] : undefined;
      if (!Array.isArray(list)) return;
      for (const entry of list as Record<string, unknown>[]) {
        const pool = live.ipPools.find((p) => p.cidr === entry['cidr']);
        const mode = targetOfOperator(entry['encapsulation']);
        if (pool && mode) check(pool, mode, where);
      }
    }
  });
  return out;
}
