/** `bgp peers`: live sessions from CalicoNodeStatus (the calico-node stand-in), compared with the model. */
import assert from 'node:assert/strict';
import {
  controlPlane,
  loadFixture,
  runCli,
  sleep,
  startSimulator,
  waitFor,
  type ControlPlane,
  type Simulator,
} from '../harness/index.js';
import { world } from './plan-helpers.js';

interface PeersDoc {
  nodes: {
    node: string;
    ok: boolean;
    established: number;
    error: string | null;
    peers: { peerNode: string | null; state: string; expected: boolean }[];
    missing: unknown[];
    read: boolean;
  }[];
  summary: { nodes: number; ok: number; unreported: number };
}

/**
 * A settled cluster: every node's sessions up for longer than the simulator's establish delay, as on a
 * cluster whose calico-nodes have been running (the first report then shows them Established; without this
 * the simulator starts a node's sessions when the command first asks, and the answer depends on its speed).
 */
async function settled(cp: ControlPlane, sim: Simulator): Promise<void> {
  const names = (await cp.client('admin').list('/api/v1/nodes')).items.map((n) => n.metadata.name);
  sim.track(names);
  await sleep(300);
}

describe('bgp peers', function () {
  // a control plane may take over 2 min to start while a 5,000-node fixture loads beside it (CI)
  this.timeout(300_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  before(async () => {
    cp = await controlPlane();
  });
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('reads the reflectors by default and matches the model; cleans up its CalicoNodeStatus objects @matrix', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, rrs: 3 });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 100 } });
    await settled(cp, sim);
    const r = await runCli(['bgp', 'peers', '-o', 'json', '--timeout', '20s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(r.code, 0, r.stderr);
    // the read-only role cannot ask calico-node for a report (it creates CalicoNodeStatus objects): said so,
    // rather than "calico-tune-readonly for read-only use" (an operator trial; docs/rbac.yaml said it could)
    const ro = await runCli(['bgp', 'peers', '--timeout', '5s'], { kubeconfig: cp.kubeconfig('readonly') });
    assert.equal(ro.code, 3, ro.stderr);
    assert.match(
      ro.stderr.replace(/\s+/g, ' '),
      /bgp peers creates CalicoNodeStatus objects: the calico-tune role/,
    );
    const doc = r.json<PeersDoc>();
    assert.equal(doc.summary.nodes, 3);
    assert.equal(doc.summary.ok, 3);
    for (const n of doc.nodes) {
      assert.equal(n.established, 11, `${n.node} peers with every other node`);
      assert.ok(n.peers.every((p) => p.expected && p.state === 'Established'));
    }
    assert.deepEqual((await world(cp)).nodeStatuses, []);
  });

  it('flags a stuck session and exits 1; a silent node is named', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3, rrs: 2 });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 100 } });
    await settled(cp, sim);
    const names = (await cp.client('admin').list('/api/v1/nodes')).items.map((n) => n.metadata.name).sort();
    const rr = names.find((n) => n.includes('-a-'))!;
    const client = names.find((n) => n.includes('-c-') && !n.includes('cp'))!;
    sim.setKnobs({ stuck: [{ node: rr, peer: client }] });
    // (named twice: read once; an operator trial)
    const r = await runCli(['bgp', 'peers', rr, rr, '-o', 'json', '--timeout', '10s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.json<PeersDoc>().nodes.length, 1);
    const n = r.json<PeersDoc>().nodes[0]!;
    assert.equal(n.ok, false);
    assert.deepEqual(
      n.peers.filter((p) => p.state !== 'Established').map((p) => [p.peerNode, p.state]),
      [[client, 'Active']],
    );
    sim.setKnobs({ stuck: [], silent: [client] });
    const s = await runCli(['bgp', 'peers', client, '--source', 'caliconodestatus', '--timeout', '3s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(s.code, 1);
    assert.match(s.stderr, new RegExp(`${client}: no report from calico-node within the timeout`));
    const human = await runCli(['bgp', 'peers', rr, '--timeout', '10s', '-o', 'wide'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.match(human.stdout, /node-to-node mesh|node specific/);
    // birdcl with no calico-node pod to exec into: not read, and no session called missing (a review saw
    // "▲ 0/5" and every expected session listed as missing)
    const bird = await runCli(['bgp', 'peers', rr, '--source', 'birdcl', '-o', 'json', '--timeout', '5s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(bird.code, 1, bird.stderr);
    const b = bird.json<PeersDoc>().nodes[0]!;
    assert.deepEqual([b.read, b.ok, b.missing, b.peers], [false, false, [], []]);
    assert.ok(b.error, 'the reason it was not read');
    const birdHuman = await runCli(['bgp', 'peers', rr, '--source', 'birdcl', '--timeout', '5s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.match(birdHuman.stdout, new RegExp(`^${rr} \\(birdcl\\) ✖ not read$`, 'm'));
    assert.doesNotMatch(birdHuman.stdout, /▲/);
  });

  it('--wait reads again until a stuck session comes up (exit 0), and gives up after --wait-timeout (exit 1)', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3, rrs: 2 });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 100 } });
    await settled(cp, sim);
    const names = (await cp.client('admin').list('/api/v1/nodes')).items.map((n) => n.metadata.name).sort();
    const rr = names.find((n) => n.includes('-a-'))!;
    const client = names.find((n) => n.includes('-c-') && !n.includes('cp'))!;
    sim.setKnobs({ stuck: [{ node: rr, peer: client }] });
    const gaveUp = await runCli(['bgp', 'peers', rr, '--wait', '--wait-timeout', '1s', '--timeout', '10s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(gaveUp.code, 1, gaveUp.stderr);
    assert.match(gaveUp.stderr, /--wait: 0\/1 node\(s\) match the model after 1s/);
    const waiting = runCli(
      ['bgp', 'peers', rr, '--wait', '--wait-timeout', '90s', '-o', 'json', '--timeout', '10s'],
      {
        kubeconfig: cp.kubeconfig('plugin'),
        timeoutMs: 110_000,
      },
    );
    // the first reading has started (its CalicoNodeStatus exists): now the session comes up
    await waitFor(async () => (await world(cp)).nodeStatuses.length > 0, {
      what: 'a first reading',
      timeoutMs: 30_000,
    });
    sim.setKnobs({ stuck: [] });
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json<PeersDoc>().summary.ok, 1);
  });
});
