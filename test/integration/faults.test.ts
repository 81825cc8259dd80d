/**
 * Transient faults and crashes during `migrate apply` and `rr promote`, on the real API server.
 *
 * 1. The fault matrix: the plugin runs through a loopback proxy (test/harness/fault-proxy.ts) that injects one
 *    fault (500, 429, 409, a connection reset before or after the server applied the request, a held
 *    response) into one kind of request (node patches, the BGPConfiguration, BGPPeers, the Lease journal,
 *    CalicoNodeStatus, reads). Every run must end with a documented exit code, a live state the project's
 *    own BGP model finds fully reachable, and, when it stopped, `--resume` / `--rollback` converging. Single
 *    transient faults must be absorbed by the client's retries (exit 0), and the audit log must show no write
 *    applied twice.
 * 2. `kill -9` from outside at random moments of `migrate apply` (seeded; the seed is printed, set
 *    CALICO_TUNE_FAULT_SEED to replay), alternately followed by `--resume` and `--rollback`.
 */
import assert from 'node:assert/strict';
import { verify } from '../../src/bgp/verify.js';
import { bgpStateFromSnapshot } from '../../src/bgp/state.js';
import { KubeApi } from '../../src/kube/api.js';
import { KubeHttp } from '../../src/kube/http.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { readLiveSnapshot } from '../../src/kube/snapshot.js';
import {
  controlPlane,
  sleep,
  describeEvent,
  FaultProxy,
  loadFixture,
  runCli,
  startSimulator,
  USERS,
  type AuditEvent,
  type CliResult,
  type ControlPlane,
  type FaultKind,
  type FaultRule,
  type Simulator,
} from '../harness/index.js';
import { journal, journalPlan, nodeNames, rrs, spawnCli, world, type BgpWorld } from './plan-helpers.js';

const SPEC = { nodes: 12, zones: 3 } as const;
const SIM = { establishDelayMs: 150 };
/** Exit codes documented in src/errors.ts (0 ok, 1 findings, 2 usage, 3 cluster, 4 gate). */
const DOCUMENTED = [0, 1, 2, 3, 4];
const CAL = '/apis/crd.projectcalico.org/v1';
/** Per-request budget for the plugin: a held response costs half of it, then the retry has the rest. */
const REQUEST_TIMEOUT = '6s';
/** Gates give up after this (instead of 10 min) so a run that cannot pass ends quickly. */
const GATE_TIMEOUT = '30s';
const APPLY = [
  'migrate',
  'apply',
  '--to',
  'route-reflectors',
  '--rr-count',
  '3',
  '--yes',
  '--verbose',
  '--timeout',
  GATE_TIMEOUT,
];

/** The model's verdict on the live cluster, read as admin directly from the API server. */
async function liveVerdict(cp: ControlPlane): Promise<{ ok: boolean; unreachablePairs: number }> {
  const http = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('admin') }));
  try {
    return verify(bgpStateFromSnapshot(await readLiveSnapshot(new KubeApi(http))));
  } finally {
    http.close();
  }
}

/** What must be identical after a rollback (the BGP-relevant state, nothing left behind). */
function endState(w: BgpWorld): unknown {
  return {
    nodes: w.nodes,
    meshEnabled: w.meshEnabled,
    peers: w.peers,
    lease: w.lease === undefined,
    statuses: w.nodeStatuses,
  };
}

/**
 * The target of `migrate apply --to route-reflectors --rr-count 3`: three reflectors, one per zone (the plan's
 * exact choice when known: it is recorded in the Lease; the recommender may pick either of two equivalent
 * nodes on identical fixtures), mesh off, nothing left over.
 */
function assertTarget(w: BgpWorld, planned: string[] | undefined, what: string): void {
  const got = rrs(w);
  if (planned)
    assert.deepEqual(got, planned, `${what}: the planned reflectors; nodes: ${JSON.stringify(w.nodes)}`);
  assert.equal(got.length, 3, `${what}: three reflectors: ${got.join(', ')}`);
  assert.equal(
    new Set(got.map((n) => n.split('-')[1])).size,
    3,
    `${what}: one reflector per zone: ${got.join(', ')}`,
  );
  assert.equal(w.meshEnabled, false, `${what}: mesh off`);
  assert.ok(
    w.nodes.every((n) => !n.unschedulable && !n.cordonedBy),
    `${what}: every node uncordoned`,
  );
  assert.deepEqual(
    w.peers.map((p) => p.name),
    ['peer-with-route-reflectors'],
    `${what}: the peering`,
  );
  assert.deepEqual(w.nodeStatuses, [], `${what}: no CalicoNodeStatus left`);
  assert.equal(w.lease, undefined, `${what}: the Lease is gone`);
}

function hasPrecondition(e: AuditEvent): boolean {
  const o = e.requestObject as
    | { metadata?: { resourceVersion?: string }; preconditions?: { resourceVersion?: string; uid?: string } }
    | undefined;
  return Boolean(o?.metadata?.resourceVersion || o?.preconditions?.resourceVersion || o?.preconditions?.uid);
}

/**
 * No write applied twice: of identical write requests (same verb, object and body) by the plugin at most one
 * may have succeeded, and repeated updates, patches and deletes must carry a precondition (so the server
 * refuses the repeat); creates need none (the repeat gets AlreadyExists).
 */
function doubleWrites(events: AuditEvent[]): string[] {
  const groups = new Map<string, AuditEvent[]>();
  for (const e of events) {
    const r = e.objectRef ?? {};
    const key = `${e.verb} ${r.resource}/${r.subresource ?? ''} ${r.namespace ?? ''}/${r.name ?? ''} ${JSON.stringify(e.requestObject ?? null)}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const bad: string[] = [];
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    const ok = g.filter((e) => (e.responseStatus?.code ?? 0) < 300);
    if (ok.length > 1) bad.push(`applied ${ok.length}x: ${describeEvent(g[0]!)}`);
    // a repeated create is harmless (the repeat gets AlreadyExists); anything else needs a precondition
    else if (g[0]!.verb !== 'create' && !g.every(hasPrecondition))
      bad.push(`repeated without a precondition: ${describeEvent(g[0]!)}`);
  }
  return bad;
}

function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''} in ${r.durationMs} ms\n--- stderr ---\n${r.stderr.slice(-3000)}`;
}

/** The request kinds of the matrix: which requests a rule matches, and which occurrence it hits. */
const TARGETS: Record<string, Omit<FaultRule, 'fault'>> = {
  // the second node write: a reflector's cordon, label/cluster-ID or uncordon patch
  'node patch': { method: 'PATCH', path: /^\/api\/v1\/nodes\/[^/]+$/, nth: 2 },
  // the mesh-off update of `default`
  BGPConfiguration: { method: ['PATCH', 'PUT', 'POST'], path: new RegExp(`^${CAL}/bgpconfigurations`) },
  // the create of peer-with-route-reflectors
  BGPPeer: { method: ['POST', 'PATCH', 'PUT', 'DELETE'], path: new RegExp(`^${CAL}/bgppeers`) },
  // the journal's second write (progress: a step started)
  'Lease progress': {
    method: ['PUT', 'POST'],
    path: /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases/,
    nth: 2,
  },
  // the journal's first write (taking the lock)
  'Lease create': {
    method: ['POST', 'PUT'],
    path: /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases/,
  },
  // the final release of the lock
  'Lease delete': { method: 'DELETE', path: /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases/ },
  // the gate's CalicoNodeStatus create
  'CalicoNodeStatus create': { method: 'POST', path: new RegExp(`^${CAL}/caliconodestatuses$`) },
  // a gate's read of a CalicoNodeStatus
  'CalicoNodeStatus read': { method: 'GET', path: new RegExp(`^${CAL}/caliconodestatuses/[^/]+$`), nth: 3 },
  // the node list of the first live read
  'node list': { method: 'GET', path: /^\/api\/v1\/nodes$/ },
};

/**
 * Cells that do not pass because of code being rewritten on the main branch (src/plan/executor.ts,
 * src/kube/journal.ts, src/kube/bgp-status.ts): skipped with the reason. Filled from what this suite found.
 */
const BLOCKED: Record<string, string> = {
  // (empty: the Lease DELETE carries uid/resourceVersion preconditions and is retried; CalicoNodeStatus objects
  // have names unique to the run, so a 409 on their create is our own retried create)
};

describe('transient faults during migrate apply (through the fault-injecting proxy)', function () {
  this.timeout(3_600_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  let proxy: FaultProxy;
  let start: BgpWorld;
  let baselineDone = false;
  before(async () => {
    cp = await controlPlane();
    proxy = await FaultProxy.start(cp);
  });
  after(async () => {
    await sim?.stop();
    await proxy?.stop();
  });

  async function fresh(): Promise<void> {
    await sim?.stop();
    await loadFixture(cp, SPEC);
    sim = await startSimulator(cp, { knobs: SIM });
    proxy.setRules([]);
    proxy.clearRecords();
    start = await world(cp);
  }

  /** After a run that stopped: resume or roll back (as the plugin user, through the proxy without faults). */
  /** Returns what it did: `--resume`/`--rollback`, or why nothing was needed. */
  async function recover(mode: 'resume' | 'rollback', what: string): Promise<string> {
    proxy.setRules([]);
    const lease = (await world(cp)).lease;
    if (!journal(lease)) {
      // nothing recorded: the run stopped before its first write, or after releasing the lock
      const w = await world(cp);
      const unchanged = JSON.stringify(endState(w)) === JSON.stringify(endState(start));
      if (!unchanged) assertTarget(w, undefined, `${what}: no journal, so the plan must have finished`);
      return unchanged ? 'nothing was written' : 'it had finished';
    }
    const planned = (journalPlan(lease)?.summary.routeReflectors ?? []).map((x) => x.name).sort();
    const r = await runCli(['migrate', 'apply', `--${mode}`, '--yes', '--request-timeout', REQUEST_TIMEOUT], {
      kubeconfig: proxy.kubeconfig('plugin'),
      timeoutMs: 300_000,
    });
    const w = await world(cp);
    const v = await liveVerdict(cp);
    assert.equal(
      v.ok,
      true,
      `${mode} after ${what}: ${v.unreachablePairs} pairs without routes (${show(r)})`,
    );
    assert.equal(r.code, 0, `${mode} after ${what}: ${show(r)}`);
    if (mode === 'rollback') assert.deepEqual(endState(w), endState(start), `rollback after ${what}`);
    else assertTarget(w, planned, `resume after ${what}`);
    return `--${mode} converged`;
  }

  it('baseline: migrate apply through the proxy without faults reaches the target', async () => {
    await fresh();
    const t0 = Date.now();
    const r = await runCli([...APPLY, '--request-timeout', REQUEST_TIMEOUT], {
      kubeconfig: proxy.kubeconfig('plugin'),
      timeoutMs: 300_000,
    });
    assert.equal(r.code, 0, show(r));
    const w = await world(cp);
    assertTarget(w, undefined, 'baseline');
    baselineDone = true;
    assert.ok(proxy.records.length > 20, 'the plugin talked to the proxy');
    assert.ok(
      proxy.records.every((x) => typeof x.client === 'number' && x.client < 500),
      'no fault without a rule',
    );
    console.log(`      baseline migrate apply: ${Date.now() - t0} ms, ${proxy.records.length} requests`);
  });

  const faults: FaultKind[] = ['500', '429', '409', 'reset-before', 'reset-after', 'timeout'];
  let cell = 0;
  for (const [target, rule] of Object.entries(TARGETS)) {
    for (const fault of faults) {
      const key = `${target}/${fault}`;
      const mode = cell++ % 2 ? 'rollback' : 'resume';
      const blocked = BLOCKED[key];
      (blocked ? it.skip : it)(
        `${fault} on ${target}${blocked ? ` (BLOCKED: ${blocked})` : ''}`,
        async () => {
          assert.ok(baselineDone, 'the baseline ran first');
          await fresh();
          proxy.setRules([{ ...rule, fault, name: key, retryAfterSeconds: 1 }]);
          const mark = cp.audit.mark();
          const r = await runCli([...APPLY, '--request-timeout', REQUEST_TIMEOUT], {
            kubeconfig: proxy.kubeconfig('plugin'),
            timeoutMs: 300_000,
          });
          const injected = proxy.injected();
          let recovery = '';
          assert.equal(injected.length, 1, `${key}: the fault fired once (${show(r)})`);
          assert.ok(DOCUMENTED.includes(r.code ?? -1), `${key}: a documented exit code: ${show(r)}`);
          const v = await liveVerdict(cp);
          assert.equal(v.ok, true, `${key}: ${v.unreachablePairs} pairs without routes after ${show(r)}`);
          const writes = await cp.audit.writesSince(mark, { user: USERS.plugin.name });
          assert.deepEqual(doubleWrites(writes), [], `${key}: no write applied twice`);
          // a transient fault on a request that is safe to repeat is absorbed by the client's retries
          const transient = fault !== '409';
          if (transient) {
            assert.equal(r.code, 0, `${key}: a single transient fault is absorbed: ${show(r)}`);
            assertTarget(await world(cp), undefined, `${key} (${show(r)})`);
            assert.ok(
              proxy.records.filter(
                (x) =>
                  x.seq > injected[0]!.seq &&
                  x.method === injected[0]!.method &&
                  x.path.startsWith(injected[0]!.path.replace(/\/[^/]*$/, '')),
              ).length > 0,
              `${key}: the request was sent again`,
            );
          } else if (r.code === 0) assertTarget(await world(cp), undefined, key);
          else {
            if (journal((await world(cp)).lease))
              assert.match(
                r.stderr,
                /--resume|--rollback/,
                `${key}: the message names the next command: ${show(r)}`,
              );
            recovery = await recover(mode, key);
          }
          const retried = /retrying /.test(r.stderr) ? ', retried' : '';
          console.log(`      ${key}: exit ${r.code}${retried}${recovery ? `; ${recovery}` : ''}`);
        },
      );
    }
  }
});

/** A small seeded PRNG (mulberry32): the same seed gives the same kill moments. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('transient faults during rr promote (through the fault-injecting proxy)', function () {
  this.timeout(1_800_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  let proxy: FaultProxy;
  let start: BgpWorld;
  let target = '';
  const spec = { nodes: 12, zones: 3, rrs: 2 } as const;
  before(async () => {
    cp = await controlPlane();
    proxy = await FaultProxy.start(cp);
  });
  after(async () => {
    await sim?.stop();
    await proxy?.stop();
  });

  async function fresh(): Promise<void> {
    await sim?.stop();
    await loadFixture(cp, spec);
    sim = await startSimulator(cp, { knobs: SIM });
    proxy.setRules([]);
    proxy.clearRecords();
    start = await world(cp);
    target = (await nodeNames(cp)).find((n) => !rrs(start).includes(n))!;
  }

  function assertPromoted(w: BgpWorld, what: string): void {
    assert.deepEqual(rrs(w), [...rrs(start), target].sort(), `${what}: ${target} promoted`);
    assert.ok(
      w.nodes.every((n) => !n.unschedulable && !n.cordonedBy),
      `${what}: every node uncordoned`,
    );
    assert.deepEqual(w.nodeStatuses, [], `${what}: no CalicoNodeStatus left`);
    assert.equal(w.lease, undefined, `${what}: the Lease is gone`);
  }

  const targets: Record<string, Omit<FaultRule, 'fault'>> = {
    'node patch': TARGETS['node patch']!,
    'Lease progress': TARGETS['Lease progress']!,
    'CalicoNodeStatus create': TARGETS['CalicoNodeStatus create']!,
    'CalicoNodeStatus read': { ...TARGETS['CalicoNodeStatus read']!, nth: 1 },
  };
  const faults: FaultKind[] = ['500', '429', '409', 'reset-before', 'reset-after', 'timeout'];
  let cell = 0;
  for (const [what, rule] of Object.entries(targets)) {
    for (const fault of faults) {
      const key = `rr promote: ${what}/${fault}`;
      const mode = cell++ % 2 ? 'rollback' : 'resume';
      const blocked = BLOCKED[key];
      (blocked ? it.skip : it)(`${fault} on ${what}${blocked ? ` (BLOCKED: ${blocked})` : ''}`, async () => {
        await fresh();
        proxy.setRules([{ ...rule, fault, name: key, retryAfterSeconds: 1 }]);
        const mark = cp.audit.mark();
        const r = await runCli(
          [
            'rr',
            'promote',
            target,
            '--yes',
            '--verbose',
            '--timeout',
            GATE_TIMEOUT,
            '--request-timeout',
            REQUEST_TIMEOUT,
          ],
          { kubeconfig: proxy.kubeconfig('plugin'), timeoutMs: 300_000 },
        );
        assert.equal(proxy.injected().length, 1, `${key}: the fault fired once (${show(r)})`);
        assert.ok(DOCUMENTED.includes(r.code ?? -1), `${key}: a documented exit code: ${show(r)}`);
        const v = await liveVerdict(cp);
        assert.equal(v.ok, true, `${key}: ${v.unreachablePairs} pairs without routes after ${show(r)}`);
        assert.deepEqual(
          doubleWrites(await cp.audit.writesSince(mark, { user: USERS.plugin.name })),
          [],
          `${key}: no write applied twice`,
        );
        console.log(`      ${key}: exit ${r.code}${/retrying /.test(r.stderr) ? ', retried' : ''}`);
        if (fault !== '409') {
          assert.equal(r.code, 0, `${key}: a single transient fault is absorbed: ${show(r)}`);
          assertPromoted(await world(cp), `${key} (${show(r)})`);
          return;
        }
        if (r.code === 0) return assertPromoted(await world(cp), key);
        if (journal((await world(cp)).lease))
          assert.match(
            r.stderr,
            /--resume|--rollback/,
            `${key}: the message names the next command: ${show(r)}`,
          );
        proxy.setRules([]);
        if (!journal((await world(cp)).lease)) {
          assert.deepEqual(endState(await world(cp)), endState(start), `${key}: no journal, nothing changed`);
          return;
        }
        const rec = await runCli(['apply', `--${mode}`, '--yes'], {
          kubeconfig: proxy.kubeconfig('plugin'),
          timeoutMs: 300_000,
        });
        const w = await world(cp);
        const v2 = await liveVerdict(cp);
        assert.equal(
          v2.ok,
          true,
          `${mode} after ${key}: ${v2.unreachablePairs} pairs without routes (${show(rec)})`,
        );
        assert.equal(rec.code, 0, `${mode} after ${key}: ${show(rec)}`);
        if (mode === 'rollback') assert.deepEqual(endState(w), endState(start), `rollback after ${key}`);
        else assertPromoted(w, `resume after ${key}`);
      });
    }
  }
});

describe('kill -9 from outside at random moments of migrate apply, then --resume or --rollback', function () {
  this.timeout(3_600_000);
  const RUNS = Number(process.env['CALICO_TUNE_KILL_RUNS'] ?? 20);
  const seed = Number(process.env['CALICO_TUNE_FAULT_SEED'] ?? Date.now() % 2 ** 31);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  before(async () => {
    cp = await controlPlane();
    console.log(`      kill -9 runs: seed ${seed} (replay with CALICO_TUNE_FAULT_SEED=${seed})`);
  });
  after(async () => {
    await sim?.stop();
  });

  it(`${RUNS} runs: every end state fully reachable; resume reaches the plan's target, rollback the start`, async () => {
    const random = prng(seed);
    const kc = cp.kubeconfig('plugin');
    const fresh = async (): Promise<BgpWorld> => {
      await sim?.stop();
      await loadFixture(cp, SPEC);
      sim = await startSimulator(cp, { knobs: SIM });
      return world(cp);
    };
    // how long an undisturbed run takes, and what it does
    let start = await fresh();
    let t0 = Date.now();
    const full = await runCli(APPLY, { kubeconfig: kc, timeoutMs: 300_000 });
    const duration = Date.now() - t0;
    assert.equal(full.code, 0, show(full));
    assertTarget(await world(cp), undefined, 'the undisturbed run');
    const outcomes: string[] = [];
    const tally: Record<string, number> = {};
    for (let i = 0; i < RUNS; i++) {
      const mode = i % 2 ? 'rollback' : 'resume';
      start = await fresh();
      // node start-up is part of the run: kill anywhere from the first millisecond to just past the end
      const delay = Math.round(random() * duration * 1.1);
      t0 = Date.now();
      const s = spawnCli(APPLY, kc);
      const exited = await Promise.race([s.done.then(() => true), sleep(delay).then(() => false)]);
      if (!exited) {
        process.kill(-s.child.pid!, 'SIGKILL');
        await s.done;
      }
      const what = `run ${i + 1} (seed ${seed}, kill at ${delay} ms${exited ? ', after it had exited' : ''})`;
      const mid = await world(cp);
      const j = journal(mid.lease);
      const v = await liveVerdict(cp);
      assert.equal(v.ok, true, `${what}: ${v.unreachablePairs} pairs without routes right after the kill`);
      let landed: string;
      if (exited) {
        assert.equal(s.child.exitCode, 0, `${what}: ${s.out().slice(-2000)}`);
        assertTarget(mid, undefined, what);
        landed = 'after the end';
      } else if (!j) {
        // no journal: killed before the lock was taken (nothing may have changed) or after it was released
        const unchanged = JSON.stringify(endState(mid)) === JSON.stringify(endState(start));
        if (!unchanged) assertTarget(mid, undefined, `${what}: no journal, so the plan must have finished`);
        landed = unchanged ? 'before the first write' : 'after the release';
      } else {
        landed = `after ${j.done.length} steps${(j as { current?: string }).current ? ' (one in flight)' : ''}`;
        const planned = (journalPlan(mid.lease)?.summary.routeReflectors ?? []).map((x) => x.name).sort();
        const r = await runCli(['migrate', 'apply', `--${mode}`, '--yes'], {
          kubeconfig: kc,
          timeoutMs: 300_000,
        });
        const w = await world(cp);
        const v2 = await liveVerdict(cp);
        assert.equal(
          v2.ok,
          true,
          `${mode} after ${what}: ${v2.unreachablePairs} pairs without routes (${show(r)})`,
        );
        assert.equal(r.code, 0, `${mode} after ${what}, ${landed}: ${show(r)}`);
        if (mode === 'rollback') assert.deepEqual(endState(w), endState(start), `rollback after ${what}`);
        else assertTarget(w, planned, `resume after ${what}`);
      }
      const bucket = landed.replace(/ \(one in flight\)/, '');
      tally[bucket] = (tally[bucket] ?? 0) + 1;
      outcomes.push(`${what}: ${landed}${j ? `, then --${mode}` : ''} (${Date.now() - t0} ms)`);
    }
    console.log(`      undisturbed run: ${duration} ms`);
    for (const o of outcomes) console.log(`      ${o}`);
    console.log(`      kills landed: ${JSON.stringify(tally)}`);
    assert.ok(
      Object.keys(tally).filter((k) => k.startsWith('after ') && k !== 'after the end').length >= 3,
      `the kills should spread over the run: ${JSON.stringify(tally)}`,
    );
  });
});
