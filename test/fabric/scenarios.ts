/**
 * The rig's scenarios (issue 12): each runs the real plugin (or writes the datastore itself, for the calico#2735
 * trap) under continuous probes. Node picks are by zone and role, from the live Node objects.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bgpStateFromSnapshot } from '../../src/bgp/state.js';
import { learnsRoutes } from '../../src/bgp/verify.js';
import { KubeApi } from '../../src/kube/api.js';
import { KubeHttp } from '../../src/kube/http.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { readLiveSnapshot } from '../../src/kube/snapshot.js';
import { parseBirdConfig } from '../harness/calico-tools.js';
import type { Obj } from '../harness/index.js';
import { ANN_CID, bgpState, RR_LABEL } from './rig.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const ZONE = 'topology.kubernetes.io/zone';
const CAPI = '/apis/crd.projectcalico.org/v1';
/** Gate timeout for plugin runs on the rig (BIRD sessions form in seconds; a hang should not take 10 min). */
export const GATE_TIMEOUT = '2m';

export interface NodeView {
  name: string;
  zone: string;
  rr: boolean;
  controlPlane: boolean;
}

export function viewOf(o: Obj): NodeView {
  return {
    name: o.metadata.name,
    zone: o.metadata.labels?.[ZONE] ?? '',
    rr: o.metadata.annotations?.[ANN_CID] !== undefined,
    controlPlane: o.metadata.labels?.['node-role.kubernetes.io/control-plane'] !== undefined,
  };
}

async function views(ctx: ScenarioContext): Promise<NodeView[]> {
  return (await ctx.nodes()).map(viewOf).sort((a, b) => a.name.localeCompare(b.name));
}

/** Workers that are not reflectors, in `zone` (any zone when omitted). */
function clients(vs: NodeView[], zone?: string): NodeView[] {
  return vs.filter((v) => !v.rr && !v.controlPlane && (zone === undefined || v.zone === zone));
}

/** The model's verdict on which ordered pairs of pods can talk (both learn each other's block). */
export async function modelReachability(ctx: ScenarioContext): Promise<Map<string, boolean>> {
  const http = new KubeHttp(resolveKubeconfig({ kubeconfig: ctx.cp.kubeconfig('admin') }));
  try {
    const state = bgpStateFromSnapshot(await readLiveSnapshot(new KubeApi(http)));
    const out = new Map<string, boolean>();
    for (const a of ctx.fabric.names)
      for (const b of ctx.fabric.names)
        if (a !== b) out.set(`${a}>${b}`, learnsRoutes(state, a, b) && learnsRoutes(state, b, a));
    return out;
  } finally {
    http.close();
  }
}

/**
 * Until every BGP session of every rig node is Established (routes may legitimately be missing). After a write,
 * confd re-renders within 0.15-0.45 s and BIRD reconfigures at once: `settleMs` first, so the check does not
 * pass on the sessions of before the write.
 */
async function waitSessions(ctx: ScenarioContext, timeoutMs = 60_000, settleMs = 2500): Promise<void> {
  await new Promise((r) => setTimeout(r, settleMs));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const down: string[] = [];
    for (const n of ctx.fabric.names)
      for (const p of await ctx.fabric.protocols(n))
        if (p.proto === 'BGP' && bgpState(p) !== 'Established') down.push(`${n}:${p.name}`);
    if (!down.length) return;
    if (Date.now() > deadline)
      throw new Error(`sessions not Established after ${timeoutMs} ms: ${down.join(' ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Runs the plugin commands one after the other until one fails (its exit code is in the report: the tests assert
 * it, so a failed run still yields the measurements of what happened).
 */
async function sequence(ctx: ScenarioContext, runs: [string, string[]][]): Promise<void> {
  for (const [label, args] of runs) {
    const r = await ctx.cli(label, args, { expectExit: null });
    if (r.exit !== 0) {
      ctx.note(`${label} exited ${r.exit}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
      return;
    }
  }
}

const TO_RR = [
  'migrate',
  'apply',
  '--to',
  'route-reflectors',
  '--rr-count',
  '3',
  '--yes',
  '--timeout',
  GATE_TIMEOUT,
];

export const migrateToRr: Scenario = {
  name: 'migrate-to-rr',
  description: 'mesh -> 3 route reflectors: migrate apply --to route-reflectors --rr-count 3',
  async run(ctx) {
    await sequence(ctx, [['to-rr', TO_RR]]);
  },
};

export const migrateRoundtrip: Scenario = {
  name: 'migrate-roundtrip',
  description: 'mesh -> 3 route reflectors -> mesh (migrate apply, twice)',
  async run(ctx) {
    await sequence(ctx, [
      ['to-rr', TO_RR],
      ['to-mesh', ['migrate', 'apply', '--to', 'mesh', '--yes', '--timeout', GATE_TIMEOUT]],
    ]);
  },
};

/**
 * Scenario 3: `migrate apply --to route-reflectors` SIGKILLed right after the write of step `k` (the executor's
 * CALICO_TUNE_TEST_CRASH hook: `mid-step:k` kills the process after the step's write, before it is recorded),
 * nothing running for 5 s, then `--rollback`; the same again at a later step, then `--resume`.
 */
export const killResume: Scenario = {
  name: 'kill-resume',
  description:
    'migrate apply killed (SIGKILL) after the first reflector write, --rollback; killed after the second, --resume',
  async run(ctx) {
    const kill = async (label: string, step: number): Promise<boolean> => {
      const r = await ctx.cli(label, TO_RR, {
        expectExit: null,
        env: { CALICO_TUNE_TEST_CRASH: `mid-step:${step}` },
      });
      if (r.exit !== null) {
        ctx.note(`${label}: expected a SIGKILL, got exit ${r.exit}`);
        return false;
      }
      await ctx.hold(`${label}: killed, nothing runs (5 s)`, 5000);
      return true;
    };
    // steps of the plan: 1 BGPPeer, 2 cordon, 3 drain, 4 first reflector write, 5 its gate, 6 cordon, 7 drain,
    // 8 second write, ...
    if (!(await kill('to-rr (killed at step 4)', 4))) return;
    await sequence(ctx, [
      ['rollback', ['migrate', 'apply', '--rollback', '--yes', '--timeout', GATE_TIMEOUT]],
    ]);
    if (!(await kill('to-rr (killed at step 8)', 8))) return;
    await sequence(ctx, [['resume', ['migrate', 'apply', '--resume', '--yes', '--timeout', GATE_TIMEOUT]]]);
  },
};

export const rrOps: Scenario = {
  name: 'rr-ops',
  description:
    '3 reflectors, mesh off: rr replace (same zone), rr promote of a fourth, rr demote of one of the three',
  rrs: 3,
  async run(ctx) {
    const vs = await views(ctx);
    const rrs = vs.filter((v) => v.rr);
    if (rrs.length !== 3) throw new Error(`expected 3 reflectors, got ${rrs.map((r) => r.name)}`);
    const [old, keep, demote] = rrs as [NodeView, NodeView, NodeView];
    const replacement = clients(vs, old.zone)[0];
    if (!replacement) throw new Error(`no client in zone ${old.zone} to replace ${old.name} with`);
    const fourth = clients(vs, keep.zone)[0];
    if (!fourth) throw new Error(`no client in zone ${keep.zone} to promote`);
    await sequence(ctx, [
      ['replace', ['rr', 'replace', old.name, replacement.name, '--yes', '--timeout', GATE_TIMEOUT]],
      ['promote', ['rr', 'promote', fourth.name, '--yes', '--timeout', GATE_TIMEOUT]],
      ['demote', ['rr', 'demote', demote.name, '--yes', '--timeout', GATE_TIMEOUT]],
    ]);
  },
};

export const gateTimeout: Scenario = {
  name: 'gate-timeout',
  description:
    '3 reflectors, mesh off; a client BIRD stopped on purpose; rr promote of another client waits for a session with it',
  rrs: 3,
  async run(ctx) {
    const vs = await views(ctx);
    const zoneB = vs.find((v) => v.rr && v.zone.endsWith('b'))?.zone ?? vs[0]!.zone;
    const target = clients(vs, zoneB)[0];
    const victim = clients(vs)
      .filter((v) => v.zone !== zoneB)
      .at(-1);
    if (!target || !victim) throw new Error('not enough clients for the gate-timeout scenario');
    ctx.disturb(victim.name);
    await ctx.action(`stop BIRD on ${victim.name}`, [victim.name], () => ctx.fabric.stopBird(victim.name));
    const r = await ctx.cli('promote', ['rr', 'promote', target.name, '--yes', '--timeout', '20s'], {
      expectExit: null,
    });
    ctx.note(`rr promote ${target.name} with ${victim.name}'s BIRD stopped: exit ${r.exit}`);
    await ctx.action(`restart BIRD on ${victim.name}`, [victim.name], async () => {
      ctx.fabric.startBird(victim.name);
      await waitSessions(ctx, 90_000);
    });
    // a rollback whose own gate timed out leaves the plan paused: finish it now that the BIRD is back
    if (/--rollback/.test(r.stdout + r.stderr) && /paused|timed out/.test(r.stdout + r.stderr)) {
      const lease = await ctx.cp
        .client('admin')
        .getOptional('/apis/coordination.k8s.io/v1/namespaces/calico-system/leases/calico-tune');
      if (lease)
        await ctx.cli('rollback', [
          'rr',
          'promote',
          // (no node names: --rollback acts on the recorded plan and refuses them)
          '--rollback',
          '--yes',
          '--timeout',
          GATE_TIMEOUT,
        ]);
    }
  },
};

/** The BGPPeers of the calico#2735 trap: one shared cluster ID, zone-a clients peer only with the zone-a RR. */
function trapPeers(rrZone: string): Obj[] {
  const peer = (name: string, spec: Record<string, unknown>): Obj => ({
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'BGPPeer',
    metadata: { name },
    spec,
  });
  return [
    peer('zone-a-to-local-rr', {
      nodeSelector: `${ZONE} == '${rrZone}'`,
      peerSelector: `${RR_LABEL} == 'true' && ${ZONE} == '${rrZone}'`,
    }),
    peer('zones-bc-to-their-rrs', {
      nodeSelector: `${ZONE} != '${rrZone}'`,
      peerSelector: `${RR_LABEL} == 'true' && ${ZONE} != '${rrZone}'`,
    }),
    peer('rr-mesh', { nodeSelector: `${RR_LABEL} == 'true'`, peerSelector: `${RR_LABEL} == 'true'` }),
  ];
}

export interface TrapResult {
  /** Ordered pairs the model says cannot talk in the trap state. */
  modelCut: string[];
  steadyLabel: string;
}

export const trap2735: Scenario = {
  name: 'trap-2735',
  description:
    'calico#2735: 3 reflectors sharing cluster ID 244.0.0.1, zone-a clients peered only with the zone-a reflector',
  rrs: 3,
  rrClusterIds: 'shared',
  async run(ctx) {
    const vs = await views(ctx);
    const zoneA = vs.find((v) => v.rr)!.zone;
    const admin = ctx.cp.client('admin');
    const original = await admin.get<Obj>(`${CAPI}/bgppeers/peer-with-route-reflectors`);
    await ctx.action(
      'apply the trap: zone-scoped BGPPeers, then delete peer-with-route-reflectors',
      [],
      async () => {
        await ctx.cp.apply(trapPeers(zoneA));
        await admin.request('DELETE', `${CAPI}/bgppeers/peer-with-route-reflectors`);
        await waitSessions(ctx);
      },
    );
    const model = await modelReachability(ctx);
    await ctx.hold('settle (3 s)', 3000);
    const steadyLabel = 'steady state: the trap';
    await ctx.hold(steadyLabel, 8000);
    const result: TrapResult = {
      modelCut: [...model]
        .filter(([, ok]) => !ok)
        .map(([k]) => k)
        .sort(),
      steadyLabel,
    };
    ctx.extra['trap'] = result;
    await ctx.action(
      'undo the trap: peer-with-route-reflectors back, zone-scoped BGPPeers deleted',
      [],
      async () => {
        await ctx.cp.apply([{ ...original, metadata: { name: original.metadata.name } }]);
        for (const p of trapPeers(zoneA))
          await admin.request('DELETE', `${CAPI}/bgppeers/${p.metadata.name}`);
        await waitSessions(ctx);
      },
    );
  },
};

export const SCENARIOS: Record<string, Scenario> = Object.fromEntries(
  [migrateToRr, migrateRoundtrip, killResume, rrOps, gateTimeout, trap2735].map((s) => [s.name, s]),
);

/** Merge-patches a Node as the admin (the experiments write what the planners would, in other orders). */
async function patchNode(ctx: ScenarioContext, node: string, patch: Record<string, unknown>): Promise<void> {
  await ctx.cp.client('admin').request('PATCH', `/api/v1/nodes/${encodeURIComponent(node)}`, {
    body: { metadata: patch },
    contentType: 'application/merge-patch+json',
  });
}

/** The BGP protocols of a node's bird.cfg as confd rendered it right now, one line each. */
function protocolLines(ctx: ScenarioContext, node: string): string[] {
  const text = fs.readFileSync(path.join(ctx.fabric.node(node).dir, 'bird.cfg'), 'utf8');
  return parseBirdConfig(text).protocols.map(
    (p) =>
      `${p.name}${p.passive ? ' passive' : ''}${p.rrClient ? ` rr-client cluster ${p.rrClusterId}` : ''}`,
  );
}

/**
 * Investigation (docs/fabric.md, "Why a promotion drops traffic"): promote one client at a time by writing the
 * label and the cluster ID in other orders, and a cluster ID of its own, each on its own node, 15 s apart; record
 * the rendered protocols of the node before and after each write. `mesh`: the node-to-node mesh on and the
 * migration's BGPPeer (every node -> route-reflector == 'true') created first, as `migrate apply` does; else 3
 * reflectors and the mesh off, as `rr promote` sees it.
 */
function promoteOrderings(mesh: boolean): Scenario {
  return {
    name: mesh ? 'promote-orderings-mesh' : 'promote-orderings',
    description:
      `${mesh ? 'mesh on + BGPPeer to the reflectors' : '3 reflectors, mesh off'}: one promotion per write order ` +
      '(label+cluster ID in one patch, label first, cluster ID first, own cluster ID)',
    // the reflectors share 244.0.0.1: the measurement of docs/fabric.md compares write orders against that
    ...(mesh ? {} : { rrs: 3, rrClusterIds: 'shared' as const }),
    async run(ctx) {
      if (mesh)
        await ctx.action('create BGPPeer peer-with-route-reflectors', [], async () => {
          await ctx.cp.apply([
            {
              apiVersion: 'crd.projectcalico.org/v1',
              kind: 'BGPPeer',
              metadata: { name: 'peer-with-route-reflectors' },
              spec: { nodeSelector: 'all()', peerSelector: `${RR_LABEL} == 'true'` },
            },
          ]);
          await waitSessions(ctx);
        });
      const cs = clients(await views(ctx));
      if (cs.length < 4) throw new Error('promote-orderings needs 4 clients (K >= 10)');
      const [a, b, c, d] = cs.map((v) => v.name) as [string, string, string, string];
      const cid = { [ANN_CID]: '244.0.0.1' };
      const label = { [RR_LABEL]: 'true' };
      const configs: Record<string, Record<string, string[]>> = {};
      const snap = (node: string, when: string): void => {
        (configs[node] ??= {})[when] = protocolLines(ctx, node);
      };
      const variants: { node: string; writes: { what: string; patch: Record<string, unknown> }[] }[] = [
        {
          node: a,
          writes: [{ what: 'label and cluster ID in one patch', patch: { labels: label, annotations: cid } }],
        },
        {
          node: b,
          writes: [
            { what: 'label only', patch: { labels: label } },
            { what: 'then the cluster ID', patch: { annotations: cid } },
          ],
        },
        {
          node: c,
          writes: [
            { what: 'cluster ID only', patch: { annotations: cid } },
            { what: 'then the label', patch: { labels: label } },
          ],
        },
        {
          node: d,
          writes: [
            {
              what: 'label and its own cluster ID 244.0.0.9 in one patch',
              patch: { labels: label, annotations: { [ANN_CID]: '244.0.0.9' } },
            },
          ],
        },
      ];
      for (const v of variants) {
        snap(v.node, 'before');
        for (const [i, w] of v.writes.entries()) {
          await ctx.action(`${v.node}: ${w.what}`, [v.node], () => patchNode(ctx, v.node, w.patch));
          await ctx.hold(`${v.node}: 15 s after "${w.what}"`, 15_000);
          snap(v.node, `after write ${i + 1} (${w.what})`);
        }
      }
      ctx.extra['protocols'] = configs;
    },
  };
}

for (const s of [promoteOrderings(false), promoteOrderings(true)]) SCENARIOS[s.name] = s;
