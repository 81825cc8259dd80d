/**
 * Transient faults during `migrate apply`, on the real API server: the plugin runs through a loopback proxy
 * (test/harness/fault-proxy.ts) that injects one fault (500, 429, 409, a connection reset before or after the
 * server applied the request, a held response) into one kind of request (node patches, the BGPConfiguration,
 * BGPPeers, the Lease journal, CalicoNodeStatus, reads). Every run must end with a documented exit code, a live
 * state the project's own BGP model finds fully reachable, and, when it stopped, `--resume` / `--rollback`
 * converging. Single transient faults must be absorbed by the client's retries (exit 0), and the audit log must
 * show no write applied twice. The same for `rr promote`: faults-rr.test.ts; `kill -9`: kill.test.ts.
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
  type Simulator,
} from '../harness/index.js';
import { journal, journalPlan, world, type BgpWorld, endState, liveVerdict } from './plan-helpers.js';
import {
  SPEC,
  SIM,
  DOCUMENTED,
  REQUEST_TIMEOUT,
  APPLY,
  assertTarget,
  doubleWrites,
  show,
  TARGETS,
} from './fault-helpers.js';

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
      it(`${fault} on ${target}`, async () => {
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
      });
    }
  }
});
