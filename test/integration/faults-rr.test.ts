/**
 * Transient faults during `rr promote`, through the fault-injecting proxy on the real API server: the same
 * faults and checks as faults.test.ts (which has the matrix for `migrate apply`).
 */
import assert from 'node:assert/strict';
import {
  controlPlane,
  FaultProxy,
  loadFixture,
  runCli,
  startSimulator,
  USERS,
  type ControlPlane,
  type FaultKind,
  type FaultRule,
  type Simulator,
} from '../harness/index.js';
import { journal, nodeNames, rrs, world, type BgpWorld, endState, liveVerdict } from './plan-helpers.js';
import {
  SIM,
  DOCUMENTED,
  REQUEST_TIMEOUT,
  GATE_TIMEOUT,
  doubleWrites,
  show,
  TARGETS,
} from './fault-helpers.js';

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
      it(`${fault} on ${what}`, async () => {
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
