/**
 * Apply-time safety (issue 10) on the real control plane: what `apply` writes is re-verified on the live
 * state, gates trust only fresh reports of the right session types, and recovery tells the truth.
 * Every refusal is checked in the audit log: 0 writes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { planDigest } from '../../src/plan/integrity.js';
import type { Plan, Step } from '../../src/plan/types.js';
import {
  controlPlane,
  loadFixture,
  runCli,
  startSimulator,
  USERS,
  type ControlPlane,
  type Simulator,
} from '../harness/index.js';
import { journal, rrs, spawnCli, world } from './plan-helpers.js';

const FAST = { establishDelayMs: 200 };

function resign(p: Plan): Plan {
  p.metadata.digest = planDigest(p);
  return p;
}

describe('apply-time safety (Calico v3.31.3)', function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let kc: string;
  let sim: Simulator | undefined;
  let dir: string;
  before(async () => {
    cp = await controlPlane({ calico: 'v3.31.3' });
    kc = cp.kubeconfig('plugin');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-safety-'));
  });
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('saved plans that were edited, truncated, reordered, retargeted or made elsewhere', () => {
    let plan: Plan;
    let snapshotFile: string;
    const variants: { name: string; make: (p: Plan) => Plan | string; why: RegExp }[] = [
      {
        name: 'every step but the mesh-off patch deleted',
        make: (p) => ({ ...p, steps: p.steps.filter((s) => s.id === 'patch-default') }),
        why: /edited or truncated/,
      },
      {
        name: 'the same, with its digest recomputed',
        make: (p) => resign({ ...p, steps: p.steps.filter((s) => s.id === 'patch-default') }),
        // (refused as a plan no planner makes before the BGP model's verdict: the mesh goes off with no gate)
        why: /step 1 \(patch-default\) turns the full mesh off, but not right after a gate/,
      },
      {
        name: 'the mesh-off step moved first',
        make: (p) => ({
          ...p,
          steps: [
            p.steps.find((s) => s.id === 'patch-default')!,
            ...p.steps.filter((s) => s.id !== 'patch-default'),
          ],
        }),
        why: /edited or truncated/,
      },
      {
        name: 'the mesh-off step moved first, digest recomputed',
        make: (p) =>
          resign({
            ...p,
            steps: [
              p.steps.find((s) => s.id === 'patch-default')!,
              ...p.steps.filter((s) => s.id !== 'patch-default'),
            ],
          }),
        why: /step 1 \(patch-default\) turns the full mesh off, but not right after a gate/,
      },
      {
        name: 'a gate removed, digest recomputed (an operator trial)',
        make: (p) => resign({ ...p, steps: p.steps.filter((s) => s.action !== 'wait') }),
        why: /turns the full mesh off, but not right after a gate/,
      },
      {
        name: 'a node patch retargeted to another node, digest recomputed (an operator trial)',
        make: (p) => {
          const s = p.steps.find((x) => x.action === 'patch' && x.object?.kind === 'Node')!;
          s.object!.name = 'node-c-009';
          return resign(p);
        },
        why: /undo 1 changes Node node-\S+, not the step's Node node-c-009/,
      },
      {
        name: 'a node patch retargeted to another node',
        make: (p) => {
          const s = p.steps.find((x) => x.action === 'patch' && x.object?.kind === 'Node')!;
          s.object!.name = 'node-c-009';
          return p;
        },
        why: /edited or truncated/,
      },
      {
        name: 'an added step tainting a node NoExecute (digest recomputed)',
        make: (p) => {
          const taint: Step = {
            id: 'taint',
            title: 'taint',
            why: '',
            action: 'patch',
            object: { apiVersion: 'v1', kind: 'Node', name: 'node-a-004' },
            patch: { spec: { taints: [{ key: 'x', effect: 'NoExecute' }] } },
            undo: [],
          };
          return resign({ ...p, steps: [taint, ...p.steps] });
        },
        why: /Node patch\) sets "spec", which no planner writes/,
      },
      {
        name: 'cut at a step boundary (the first half)',
        make: (p) => ({ ...p, steps: p.steps.slice(0, Math.floor(p.steps.length / 2)) }),
        why: /edited or truncated/,
      },
      {
        name: 'made for another cluster (kube-system UID), digest recomputed',
        make: (p) => {
          p.metadata.cluster.uid = '00000000-0000-0000-0000-000000000000';
          return resign(p);
        },
        why: /made for another cluster/,
      },
      {
        name: 'with no digest',
        make: (p) => {
          delete p.metadata.digest;
          return p;
        },
        why: /records no digest/,
      },
      {
        name: 'a gate removed (the mesh goes off without waiting)',
        make: (p) => ({ ...p, steps: p.steps.filter((s) => s.action !== 'wait') }),
        why: /edited or truncated/,
      },
      {
        name: 'an annotation no planner writes (digest recomputed)',
        make: (p) => {
          const s = p.steps.find((x) => x.action === 'patch' && x.object?.kind === 'Node')!;
          (s.patch!['metadata'] as { annotations: Record<string, string> }).annotations[
            'projectcalico.org/ASNumber'
          ] = '65001';
          return resign(p);
        },
        why: /changes annotation "projectcalico.org\/ASNumber"/,
      },
      {
        name: 'a precondition that no longer holds (digest recomputed)',
        make: (p) => {
          const s = p.steps.find((x) => x.action === 'patch' && x.object?.kind === 'Node')!;
          s.precondition = { fields: [{ path: ['metadata', 'labels', 'route-reflector'], equals: 'true' }] };
          return resign(p);
        },
        why: /on the live state, step \d+\/\d+ .*route-reflector is unset, expected "true"/,
      },
      { name: 'not YAML at all', make: () => 'apiVersion: [', why: /not valid YAML/ },
    ];

    before(async () => {
      await loadFixture(cp, { nodes: 12, zones: 3, calico: 'v3.31.3' });
      const r = await runCli(
        ['migrate', 'plan', '--to', 'route-reflectors', '--rr-count', '3', '-o', 'json'],
        {
          kubeconfig: kc,
        },
      );
      assert.equal(r.code, 0, r.stderr);
      plan = r.json<Plan>();
      assert.match(plan.metadata.digest ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.match(plan.metadata.cluster.uid ?? '', /^[0-9a-f-]{36}$/, 'the kube-system UID is recorded');
      snapshotFile = path.join(dir, 'snapshot.yaml');
      const s = await runCli(['snapshot', 'save', snapshotFile], { kubeconfig: kc });
      assert.equal(s.code, 0, s.stderr);
    });

    it('accepts the untouched plan offline against the snapshot', async () => {
      const f = path.join(dir, 'intact.yaml');
      fs.writeFileSync(f, yaml.dump(plan));
      const r = await runCli(['apply', '-f', f, '--snapshot', snapshotFile], { kubeconfig: kc });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /every step verifies on the snapshot/);
    });

    for (const v of variants) {
      it(`refuses ${v.name}: exit 2, nothing written, online and offline`, async () => {
        const made = v.make(structuredClone(plan));
        const f = path.join(dir, `${v.name.replace(/\W+/g, '-')}.yaml`);
        fs.writeFileSync(f, typeof made === 'string' ? made : yaml.dump(made));
        const mark = cp.audit.mark();
        const r = await runCli(['apply', '-f', f, '--yes'], { kubeconfig: kc });
        assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, v.why);
        if (typeof made !== 'string') assert.match(r.stderr, /nothing was changed/);
        const writes = await cp.audit.writesSince(mark, { user: USERS.plugin.name, includeReviews: true });
        assert.deepEqual(
          writes.map((e) => `${e.verb} ${e.requestURI}`),
          [],
          'no write, not even an access review',
        );
        const off = await runCli(['apply', '-f', f, '--snapshot', snapshotFile], { kubeconfig: kc });
        assert.equal(off.code, 2, off.stderr);
        assert.match(off.stderr, v.why);
        // without --yes and no terminal: an edited, foreign or truncated file is refused as such first (a
        // review: "pass --yes" came first, and the edit was found only once --yes was added)
        if (typeof made !== 'string') {
          const noYes = await runCli(['apply', '-f', f], { kubeconfig: kc });
          assert.equal(noYes.code, 2, noYes.stderr);
          assert.doesNotMatch(noYes.stderr, /pass --yes/);
          assert.match(noYes.stderr, v.why);
        }
      });
    }
  });

  it('a gate waits for a report made after the write: a node still reporting its old sessions does not pass', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: 'v3.31.3', rrs: 2, mesh: false });
    sim = await startSimulator(cp, { knobs: FAST });
    const w0 = await world(cp);
    const target = w0.nodes.find((n) => n.clusterId === null && !n.name.includes('cp'))!.name;
    // calico-node on the target keeps reporting, but its BIRD never picks up the change: a client's sessions
    sim.setKnobs({ frozen: [target] });
    const r = await runCli(['rr', 'promote', target, '--yes', '--timeout', '6s', '-o', 'json'], {
      kubeconfig: kc,
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 4, r.stderr);
    const out = r.json<{ outcome: string; message: string; differences: string[] }>();
    assert.equal(out.outcome, 'rolled-back');
    assert.match(out.message, /the cluster matches the state before the plan/);
    assert.deepEqual(out.differences, []);
    assert.doesNotMatch(r.stderr, new RegExp(`Wait until ${target}[^\\n]*✔`), 'the gate must not pass');
    assert.match(r.stderr, /GlobalPeer \(expected NodePeer\)|missing/);
    const w = await world(cp);
    assert.deepEqual(rrs(w), rrs(w0), 'the rollback restored the reflectors');
  });

  it('a gate never reuses a report from an earlier gate: a node that falls silent after its first gate does not pass the second', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: 'v3.31.3', rrs: 3, mesh: false });
    sim = await startSimulator(cp, { knobs: FAST });
    const target = rrs(await world(cp))[0]!;
    // demote: cordon, remove the label, wait (gate 1 on target), remove the cluster ID, wait (gate 2 on target);
    // calico-node on the target stops answering the moment its cluster ID is gone (between the two gates)
    sim.setKnobs({ silentWithoutClusterId: [target] });
    const run = spawnCli(['rr', 'demote', target, '--yes', '--timeout', '6s'], kc);
    const code = await run.done;
    assert.match(
      run.out(),
      new RegExp(`Wait until ${target}'s remaining sessions are Established ✔`),
      `gate 1 passes:\n${run.out()}`,
    );
    assert.equal(code, 4, run.out());
    assert.doesNotMatch(
      run.out(),
      new RegExp(`\\[5/6\\] Wait until ${target} is back as a client[^\\n]*✔`),
      `gate 2 must not pass:\n${run.out()}`,
    );
    assert.match(run.out(), /timed out after 6s: rolling back/);
    assert.match(run.out(), /rollback gate .* timed out/);
    assert.match(run.out(), /retry the rollback: kubectl calico-tune apply --rollback/);
  });

  it('a failed rollback, then --resume: the journal is checked against the cluster and the end state is true', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: 'v3.31.3' });
    sim = await startSimulator(cp, { knobs: FAST });
    const nodes = (await world(cp)).nodes.map((n) => n.name);
    const a = nodes.find((n) => n.startsWith('node-a-') && !n.includes('cp'))!;
    const b = nodes.find((n) => n.startsWith('node-b-') && !n.includes('cp'))!;
    // b's calico-node stops answering: its promotion gate times out, and so does the rollback's own gate
    sim.setKnobs({ silent: [b] });
    // --no-drain: the fixture's Typha PodDisruptionBudget (no controller resets it) would block a second drain
    const first = await runCli(['rr', 'promote', a, b, '--yes', '--no-drain', '--timeout', '5s'], {
      kubeconfig: kc,
      timeoutMs: 120_000,
    });
    assert.equal(first.code, 4, first.stderr);
    assert.match(first.stderr, /rollback gate .* timed out/);
    // the error names what started the rollback as well (a review: -o json named only the rollback's gate)
    assert.match(
      first.stderr,
      /^error: gate "Wait until .*" timed out after 5s, and the rollback stopped: rollback gate /m,
    );
    let w = await world(cp);
    const j = journal(w.lease)!;
    assert.ok(j, 'the plan stays recorded');
    assert.equal(w.nodes.find((n) => n.name === b)!.clusterId, null, 'the undo of b was written');

    // status tells the operator about it
    const st = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
    const findings = st.json<{ findings: { code: string; message: string; fix: string }[] }>().findings;
    const f = findings.find((x) => x.code === 'PLAN_UNFINISHED');
    assert.ok(f, JSON.stringify(findings));
    assert.match(f.fix, /--resume/);
    assert.match(f.fix, /--rollback/);

    sim.setKnobs({ silent: [] });
    const resumed = await runCli(['apply', '--resume', '--yes'], { kubeconfig: kc, timeoutMs: 120_000 });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /recorded done but its effect is not live/);
    w = await world(cp);
    assert.deepEqual(rrs(w), [a, b].sort(), 'both are reflectors, as the run claims');
    const list = await runCli(['rr', 'list', '-o', 'json'], { kubeconfig: kc });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(b));
    assert.equal(w.lease, undefined);
  });

  it('refuses reflectors in one zone unless --allow-zone-loss, and says so in the plan', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: 'v3.31.3' });
    const nodes = (await world(cp)).nodes.map((n) => n.name).filter((n) => n.startsWith('node-a-'));
    const two = nodes.slice(-2).join(',');
    const r = await runCli(['migrate', 'plan', '--to', 'route-reflectors', '--rr', two, '-o', 'json'], {
      kubeconfig: kc,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /outage of one zone/);
    assert.match(r.stderr, /--allow-zone-loss/);
    const ok = await runCli(
      ['migrate', 'plan', '--to', 'route-reflectors', '--rr', two, '--allow-zone-loss', '-o', 'json'],
      { kubeconfig: kc },
    );
    assert.equal(ok.code, 0, ok.stderr);
    const v = ok.json<Plan>().summary.verification;
    assert.equal(v.zoneLoss?.ok, false);
    assert.equal(v.zoneLoss?.allowed, true);
    const spread = await runCli(['migrate', 'plan', '--to', 'route-reflectors', '-o', 'json'], {
      kubeconfig: kc,
    });
    assert.equal(spread.json<Plan>().summary.verification.zoneLoss?.ok, true);
  });

  it('a migration whose target already holds exits 0 with "nothing to do"; a bad --rr-count says why', async () => {
    await loadFixture(cp, { nodes: 6, zones: 3, calico: 'v3.31.3' });
    const mark = cp.audit.mark();
    const r = await runCli(['migrate', 'apply', '--to', 'mesh', '--yes'], { kubeconfig: kc });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /nothing to do/);
    assert.deepEqual(await cp.audit.writesSince(mark, { user: USERS.plugin.name }), []);
    const bad = await runCli(['migrate', 'plan', '--to', 'route-reflectors', '--rr-count', '0'], {
      kubeconfig: kc,
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /rr-count.*greater than or equal to 2/);
  });
});
