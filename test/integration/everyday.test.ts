/**
 * kubectl-grade everyday use of the human output, offline on the shipped examples: counts carry thousands
 * separators, every table column has a header, the Typha formula reads as integer division; the narrower
 * commands exit 1 on unreachable pairs as status does.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  BIN_RUN,
  cliEnv,
  controlPlane,
  describeRun,
  loadFixture,
  REPO_ROOT,
  run,
  runCli,
  waitFor,
} from '../harness/index.js';

const ex = (f: string): string => path.join(REPO_ROOT, 'examples', f);

/** Numbers of 4+ digits written without separators, leaving out what is not a count (versions, IPs, ports, AS, dates). */
function rawCounts(text: string): string[] {
  return [...text.matchAll(/(?<![\d.,:/v#-])\d{4,}(?![\d.,:/])/g)]
    .map((m) => m[0])
    .filter((x) => !/^(64512|9091|9093|5473|20\d\d)$/.test(x));
}

describe('everyday use: human output', function () {
  // a control plane may take over 2 min to start while a 5,000-node fixture loads beside it (CI)
  this.timeout(300_000);

  it('1,000 nodes: status, migrate plan and typha report separate thousands', async () => {
    for (const args of [
      ['status'],
      ['migrate', 'plan', '--to', 'route-reflectors'],
      ['typha', 'report'],
      ['bgp', 'topology'],
    ]) {
      const r = await runCli([...args, '--snapshot', ex('cluster-1000.json')]);
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      assert.deepEqual(rawCounts(r.stdout), [], `${args.join(' ')}:\n${r.stdout}`);
      assert.match(r.stdout, /1,000/, args.join(' '));
    }
  });

  it('rr recommend labels every column; typha report shows the floor in the operator formula', async () => {
    const rec = await runCli(['rr', 'recommend', '--snapshot', ex('cluster-150.yaml')]);
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stdout, /^NODE\s+ZONE\s+STATUS\s+WHY$/m);
    const typha = await runCli(['typha', 'report', '--snapshot', ex('cluster-150.yaml')]);
    assert.match(typha.stdout, /operator formula\s+3\s+⌊150\/200⌋ \+ 2 = 2, at least 3/);
  });

  it('rr list and bgp topology exit 1 when the model finds unreachable pairs, as status does', async () => {
    for (const args of [['rr', 'list'], ['bgp', 'topology'], ['status']]) {
      const broken = await runCli([...args, '--snapshot', ex('cluster-rr-broken.yaml')]);
      assert.equal(broken.code, 1, `${args.join(' ')}: ${broken.stderr}`);
      const fine = await runCli([...args, '--snapshot', ex('cluster-12.yaml')]);
      assert.equal(fine.code, 0, `${args.join(' ')}: ${fine.stderr}`);
    }
    const l = await runCli(['rr', 'list', '--snapshot', ex('cluster-rr-broken.yaml'), '-o', 'json']);
    assert.ok(l.json<{ unreachablePairs: number }>().unreachablePairs > 0);
    assert.equal(l.code, 1);
  });

  it('status -o wide adds columns the default table leaves out (node selectors of pools, AS of peers)', async () => {
    const t = await runCli(['status', '--snapshot', ex('cluster-rr-broken.yaml')]);
    const w = await runCli(['status', '-o', 'wide', '--snapshot', ex('cluster-rr-broken.yaml')]);
    const header = (out: string, has: string): string => out.split('\n').find((l) => l.includes(has)) ?? '';
    assert.match(header(t.stdout, 'CIDR'), /^\s*NAME\s+CIDR\s+IPIP\s+VXLAN\s+NAT\s+STATE$/);
    assert.match(header(w.stdout, 'CIDR'), /^\s*NAME\s+CIDR\s+IPIP\s+VXLAN\s+NAT\s+STATE\s+NODE SELECTOR$/);
    assert.match(w.stdout, /PEER IP \/ PEER SELECTOR\s+AS$/m);
    assert.doesNotMatch(t.stdout, /PEER IP \/ PEER SELECTOR\s+AS$/m);
  });
});

describe('everyday use: status --watch', function () {
  // a control plane may take over 2 min to start while a 5,000-node fixture loads beside it (CI)
  this.timeout(300_000);

  it('redraws when the cluster changes (the mesh turned off elsewhere) and ends with 0 on Ctrl-C', async () => {
    const cp = await controlPlane();
    await loadFixture(cp, { nodes: 6, zones: 3 });
    const out: string[] = [];
    let pid = 0;
    const child = run(process.execPath, [BIN_RUN, 'status', '--watch', '--interval', '200ms'], {
      env: cliEnv({ kubeconfig: cp.kubeconfig('plugin') }),
      timeoutMs: 90_000,
      onSpawn: (p) => (pid = p),
      onLine: (_s, l) => out.push(l),
    });
    await waitFor(() => out.some((l) => /^BGP\s+full mesh on/.test(l)), {
      what: 'the first frame',
      timeoutMs: 30_000,
    });
    const patch = await run(path.join(cp.bin, 'kubectl'), [
      'patch',
      'bgpconfigurations.crd.projectcalico.org',
      'default',
      '--type=merge',
      '-p',
      '{"spec":{"nodeToNodeMeshEnabled":false}}',
      '--kubeconfig',
      cp.kubeconfig('admin'),
    ]);
    assert.equal(patch.code, 0, describeRun(patch, 'kubectl patch'));
    await waitFor(() => out.some((l) => /^BGP\s+full mesh off/.test(l)), {
      what: 'the redraw',
      timeoutMs: 30_000,
    });
    process.kill(pid, 'SIGINT');
    const r = await child;
    assert.equal(r.code, 0, describeRun(r, 'status --watch'));
    // not a terminal: a frame is printed only when it differs from the last one
    assert.equal(out.filter((l) => /^BGP\s+full mesh on/.test(l)).length, 1, out.join('\n'));
    const bad = await runCli(['status', '--watch', '-o', 'json'], { kubeconfig: cp.kubeconfig('plugin') });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--watch draws tables/);
  });

  it('shows a plan paused elsewhere (PLAN_UNFINISHED, with the commands that continue or undo it)', async () => {
    const cp = await controlPlane();
    await loadFixture(cp, { nodes: 6, zones: 3 });
    // no calico-node stand-in: nobody reports BGP status, so the gate times out and the plan pauses (and no
    // kubelet: an evicted pod would stay Terminating, so the node is not drained)
    const paused = await runCli(
      ['rr', 'promote', 'node-a-002', '--no-drain', '--yes', '--timeout', '1s', '--on-timeout', 'pause'],
      { kubeconfig: cp.kubeconfig('plugin') },
    );
    assert.equal(paused.code, 4, describeRun(paused, 'rr promote (paused)'));
    const out: string[] = [];
    let pid = 0;
    const child = run(process.execPath, [BIN_RUN, 'status', '--watch', '--interval', '200ms'], {
      env: cliEnv({ kubeconfig: cp.kubeconfig('plugin') }),
      timeoutMs: 90_000,
      onSpawn: (p) => (pid = p),
      onLine: (_s, l) => out.push(l),
    });
    await waitFor(() => out.some((l) => /PLAN_UNFINISHED/.test(l)), {
      what: 'the paused plan',
      timeoutMs: 30_000,
    });
    process.kill(pid, 'SIGINT');
    const r = await child;
    assert.equal(r.code, 0, describeRun(r, 'status --watch'));
    const text = out.join('\n');
    assert.match(text, /rr-promote-node-a-002\S* is unfinished: paused/);
    assert.match(text, /apply --resume/);
  });
});
