/**
 * SIGINT while a checkpoint prompt is open (found by a review): `kill -INT` printed "pausing after the current
 * operation" and the prompt then waited on, renewing the lock, until killed. It must end like a Ctrl-C typed at
 * the prompt: the plan paused, exit 130, nothing changed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import {
  controlPlane,
  loadFixture,
  startSimulator,
  type ControlPlane,
  type Simulator,
} from '../harness/index.js';
import { journal, nodeNames, runInPty, world } from './plan-helpers.js';

describe('signals at a prompt', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  before(async () => {
    cp = await controlPlane({ calico: 'v3.31.3' });
  });
  after(async () => sim?.stop());

  it('kill -INT at "Continue?" pauses the plan at once (exit 130), nothing changed', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3 });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const node = (await nodeNames(cp))[3]!;
    const before = await world(cp);
    let sent = false;
    const r = await runInPty(
      ['rr', 'promote', node],
      cp.kubeconfig('plugin'),
      [
        {
          when: /Continue\?/,
          send: '',
          then: () => {
            // the plugin's own process (not the terminal's): as `kill -INT PID` from another shell; this test's
            // (by its kubeconfig): tests run in parallel, and another may promote a node of the same name (CI
            // saw this one interrupt lock-record.test's run)
            const kc = `KUBECONFIG=${cp.kubeconfig('plugin')}`;
            const pid = execFileSync('pgrep', ['-f', `run.js rr promote ${node}`])
              .toString()
              .trim()
              .split('\n')
              .find((p) => {
                try {
                  return fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(kc);
                } catch {
                  return false;
                }
              })!;
            sent = true;
            process.kill(Number(pid), 'SIGINT');
          },
        },
      ],
      60_000,
    );
    // (a prompt that waits on is killed at runInPty's limit: no exit code)
    assert.ok(sent, 'the prompt was reached');
    assert.equal(r.code, 130, r.out);
    assert.match(r.out, /interrupt/i);
    const w = await world(cp);
    assert.deepEqual(w.nodes, before.nodes, 'nothing changed');
    assert.notEqual(journal(w.lease)?.phase, 'running', 'the lock is not held by a live run');
    // at the first prompt nothing was written: no record is left behind, as when the person declines (an
    // operator trial: a critical PLAN_UNFINISHED, and every other plan refused until --rollback)
    assert.equal(w.lease, undefined, 'no plan is left recorded');
    assert.match(r.out, /nothing was changed/);
  });
});
