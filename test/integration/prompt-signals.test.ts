/**
 * SIGINT while a checkpoint prompt is open (found by a review): `kill -INT` printed "pausing after the current
 * operation" and the prompt then waited on, renewing the lock, until killed. It must end like a Ctrl-C typed at
 * the prompt: the plan paused, exit 130, nothing changed.
 */
import assert from 'node:assert/strict';
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
            // the plugin's own process (not the terminal's): as `kill -INT PID` from another shell
            const pid = execFileSync('pgrep', ['-f', `run.js rr promote ${node}`])
              .toString()
              .trim()
              .split('\n')[0]!;
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
  });
});
