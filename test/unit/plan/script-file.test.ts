import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { planMigration } from '../../../src/migrate/plan.js';
import { parsePlan } from '../../../src/plan/file.js';
import { planName } from '../../../src/plan/name.js';
import { kubectlResource, planToScript, stepCommands } from '../../../src/plan/script.js';
import type { Plan, Step } from '../../../src/plan/types.js';
import { toJson, toYaml } from '../../../src/render/output.js';
import { snap } from '../helpers.js';
import { migrateOpts, refuses } from './helpers.js';
import { DEFAULT_PORTS, planMonitoring, type MonitoringOptions } from '../../../src/monitoring/plan.js';

const CALICO = 'crd.projectcalico.org/v1';
const RES = 'caliconodestatuses.crd.projectcalico.org';
const toRR = planMigration(snap({ nodes: 12, zones: 3 }), migrateOpts('route-reflectors'));
const toMesh = planMigration(snap({ nodes: 12, zones: 3, rrs: 3 }), migrateOpts('mesh'));

/** Runs shell commands with $KUBECTL printing its arguments NUL-separated, one invocation per line. */
function argv(commands: string[]): string[][] {
  const script = [
    'set -euo pipefail',
    'k() { for a in "$@"; do printf \'%s\\0\' "$a"; done; printf \'\\n\'; }',
    'KUBECTL=k',
    ...commands,
  ].join('\n');
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\0').slice(0, -1));
}

describe('plan/script: -o script', () => {
  it('kubectlResource: core kinds bare, Calico kinds fully qualified', () => {
    assert.equal(kubectlResource({ apiVersion: 'v1', kind: 'Node' }), 'node');
    assert.equal(kubectlResource({ apiVersion: CALICO, kind: 'BGPPeer' }), 'bgppeers.crd.projectcalico.org');
    assert.equal(
      kubectlResource({ apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration' }),
      'bgpconfigurations.projectcalico.org',
    );
    assert.equal(kubectlResource({ apiVersion: CALICO, kind: 'CalicoNodeStatus' }), RES);
    assert.equal(kubectlResource({ apiVersion: 'example.com/v1', kind: 'Widget' }), 'widgets.example.com');
  });

  it('cordon and uncordon leave a node someone else cordoned alone, as the executor does (cordonedByOthers)', () => {
    // (an uncordon in a script, or in the undo commands printed when the run's record is lost, lifted another
    // person's maintenance cordon)
    const node = { apiVersion: 'v1', kind: 'Node', name: 'node-a-003' };
    const run = (state: string | undefined, action: 'cordon' | 'uncordon', status = 0): string[][] => {
      const script = [
        'set -euo pipefail',
        // a kubectl that answers the guard's read with `state` (undefined: the read fails) and prints every
        // other command
        `k() { if [ "$1" = get ]; then ${state === undefined ? 'return 1' : `printf '%s' ${JSON.stringify(state)}; return`}; fi; for a in "$@"; do printf '%s\\0' "$a"; done; printf '\\n'; }`,
        'KUBECTL=k',
        ...stepCommands({ id: 'c', title: '', why: '', action, object: node, undo: [] }, RES),
        '$KUBECTL next-step', // (what follows in the script)
      ].join('\n');
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
      assert.equal(r.status, status, r.stderr);
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\0').slice(0, -1));
    };
    // cordoned by someone else (unschedulable, no calico-tune.io/cordoned-by): nothing
    assert.deepEqual(run('true/', 'cordon'), [['next-step']]);
    assert.deepEqual(run('true/', 'uncordon'), [['next-step']]);
    // schedulable, or cordoned by calico-tune: the commands run
    assert.deepEqual(
      run('/', 'cordon').map((a) => a[0]),
      ['cordon', 'annotate', 'next-step'],
    );
    assert.deepEqual(
      run('true/kubectl-calico-tune', 'uncordon').map((a) => a[0]),
      ['uncordon', 'annotate', 'next-step'],
    );
    // the node cannot be read: the script stops there, nothing cordoned or uncordoned (a review: `if [ "$(...)"`
    // hid the failure from set -e and went ahead)
    assert.deepEqual(run(undefined, 'uncordon', 1), []);
    assert.deepEqual(run(undefined, 'cordon', 1), []);
  });

  it('each action becomes the kubectl commands a person would type, quoted for bash', () => {
    const node = { apiVersion: 'v1', kind: 'Node', name: 'node-a-003' };
    const peerPatch: Step = {
      id: 'p',
      title: '',
      why: '',
      action: 'patch',
      object: { apiVersion: CALICO, kind: 'BGPPeer', name: "it's" },
      patch: { spec: { peerSelector: "route-reflector == 'true'" } },
      undo: [],
    };
    const runs = argv([
      ...stepCommands(peerPatch, RES),
      ...stepCommands({ id: 'c', title: '', why: '', action: 'cordon', object: node, undo: [] }, RES),
      ...stepCommands({ id: 'u', title: '', why: '', action: 'uncordon', object: node, undo: [] }, RES),
      ...stepCommands({ id: 'd', title: '', why: '', action: 'drain', object: node, undo: [] }, RES),
      ...stepCommands(
        {
          id: 'x',
          title: '',
          why: '',
          action: 'delete',
          object: { apiVersion: 'v1', kind: 'ConfigMap', name: 'm', namespace: 'kube-system' },
          undo: [],
        },
        RES,
      ),
    ]);
    assert.deepEqual(runs, [
      [
        'patch',
        'bgppeers.crd.projectcalico.org',
        "it's",
        '--type=merge',
        '-p',
        JSON.stringify(peerPatch.patch),
      ],
      ['cordon', 'node-a-003'],
      ['annotate', 'node', 'node-a-003', '--overwrite', 'calico-tune.io/cordoned-by=kubectl-calico-tune'],
      ['uncordon', 'node-a-003'],
      ['annotate', 'node', 'node-a-003', 'calico-tune.io/cordoned-by-'],
      ['drain', 'node-a-003', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=5m'],
      ['delete', '-n', 'kube-system', 'configmap', 'm', '--ignore-not-found'],
    ]);
    const create = stepCommands(
      toRR.steps.find((s) => s.action === 'create')!,
      RES,
    );
    assert.equal(create.length, 1);
    const m = /^\$KUBECTL create -f - <<'CALICO_TUNE_EOF'\n([\s\S]*)\nCALICO_TUNE_EOF$/.exec(create[0]!);
    assert.ok(m, create[0]);
    assert.deepEqual(JSON.parse(m[1]!), toRR.steps.find((s) => s.action === 'create')!.manifest);
    // steps missing what they need produce nothing
    for (const action of [
      'patch',
      'create',
      'delete',
      'cordon',
      'uncordon',
      'drain',
      'wait',
      'bogus',
    ] as const)
      assert.deepEqual(
        stepCommands({ id: 'e', title: '', why: '', action: action as Step['action'], undo: [] }, RES),
        [],
        action,
      );
  });

  it('a gate becomes one wait_bgp per node: count, peer IPs, exact, timeout in seconds', () => {
    const g = (over: Partial<NonNullable<Step['gate']>>): Step => ({
      id: 'w',
      title: '',
      why: '',
      action: 'wait',
      gate: {
        type: 'bgp-established',
        nodes: ['a', 'b'],
        expect: { a: { count: 2, peerIPs: ['10.0.0.1', '10.0.0.2'] }, b: { count: 1500 } },
        exact: true,
        timeout: '1h30m',
        ...over,
      },
      undo: [],
    });
    assert.deepEqual(stepCommands(g({}), RES), [
      "wait_bgp 'a' 2 '10.0.0.1,10.0.0.2' 1 5400\nwait_bgp 'b' 1500 '' 1 5400",
    ]);
    assert.deepEqual(stepCommands(g({ exact: false, timeout: 'never', nodes: ['c'] }), RES), [
      "wait_bgp 'c' 0 '' 0 600",
    ]);
  });

  it('a plan that changes no BGP object makes no BGP claim and carries no wait_bgp (a review: a monitoring script "verified by the BGP model")', () => {
    const mon = planMonitoring(snap({ nodes: 6, zones: 1, felixMetrics: false }), {
      serviceMonitors: false,
      alerts: false,
      ports: DEFAULT_PORTS,
      timeout: '10m',
      name: 'monitoring-test',
      command: 'test',
      createdAt: '2026-12-01T00:00:00Z',
    } as MonitoringOptions);
    const text = planToScript(mon, CALICO);
    assert.doesNotMatch(text, /BGP model/);
    assert.doesNotMatch(text, /wait_bgp/);
    assert.equal(spawnSync('bash', ['-n', '-c', text]).status, 0, 'valid bash');
  });

  it('wait_bgp does not count sessions with nodes that were NotReady when the script was made (an operator trial: never passed)', () => {
    const text = planToScript(toRR, CALICO, { excusedIps: ['10.0.0.9'] });
    const fn = text.slice(
      text.indexOf('wait_bgp() {'),
      text.indexOf('\n}', text.indexOf('wait_bgp() {')) + 2,
    );
    const gate = (excused: string): number | null =>
      spawnSync(
        'bash',
        [
          '-c',
          [
            // a kubectl whose node lists its one expected peer and one with a NotReady node, both Established
            `k() { case "$1" in apply) cat >/dev/null;; get) printf '10.0.0.1=Established\\n10.0.0.9=Established\\n';; esac; }`,
            'KUBECTL=k',
            `EXCUSED_IPS='${excused}'`,
            fn,
            "wait_bgp 'n' 1 '' 1 0",
          ].join('\n'),
        ],
        { encoding: 'utf8' },
      ).status;
    assert.equal(gate('10.0.0.9'), 0);
    assert.equal(gate(''), 4, 'an unexpected Established session still fails an exact gate');
    assert.match(text, /^EXCUSED_IPS='10\.0\.0\.9'/m);
  });

  it('a whole plan: header, the wait_bgp function, one block per step; valid bash', () => {
    const text = planToScript(toRR, CALICO);
    const lines = text.split('\n');
    assert.equal(lines[0], '#!/usr/bin/env bash');
    assert.equal(lines[1], `# ${toRR.metadata.name}: ${toRR.summary.description}`);
    assert.match(text, /# for a snapshot \(12 nodes\)\./);
    assert.match(text, /# Verified by the BGP model: every step keeps every pair of nodes reachable\./);
    assert.ok(lines.includes('set -euo pipefail'));
    assert.match(text, /"apiVersion": "crd.projectcalico.org\/v1", "kind": "CalicoNodeStatus"/);
    assert.match(text, /\$KUBECTL get caliconodestatuses\.crd\.projectcalico\.org "\$name"/);
    toRR.steps.forEach((s, i) =>
      assert.ok(lines.includes(`# --- step ${i + 1}/${toRR.steps.length} [${s.id}]: ${s.title}`), s.id),
    );
    assert.equal(
      lines[lines.length - 1],
      `echo "plan ${toRR.metadata.name}: all ${toRR.steps.length} steps done"`,
    );
    const r = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const v3 = planToScript(toMesh, 'projectcalico.org/v3');
    assert.match(v3, /"apiVersion": "projectcalico.org\/v3", "kind": "CalicoNodeStatus"/);
    assert.match(v3, /\$KUBECTL get caliconodestatuses\.projectcalico\.org /);
    assert.equal(spawnSync('bash', ['-n'], { input: v3, encoding: 'utf8' }).status, 0);
  });

  it('a plan that fails verification says where', () => {
    const p = structuredClone(toRR);
    p.summary.verification = { ok: false, n1Ok: null, failedStep: '3 (Turn the mesh off)' };
    p.metadata.cluster.server = 'https://k:6443';
    const text = planToScript(p, CALICO);
    assert.match(text, /# Verified by the BGP model: FAILS at 3 \(Turn the mesh off\)\./);
    assert.match(text, /# for https:\/\/k:6443 \(12 nodes\)\./);
  });
});

describe('plan/file: reading a saved plan', () => {
  it('reads what -o yaml and -o json print', () => {
    const clean = JSON.parse(JSON.stringify(toRR)) as Plan;
    assert.deepEqual(parsePlan(toYaml(toRR), 'p.yaml'), clean);
    assert.deepEqual(parsePlan(toJson(toRR), 'p.json'), clean);
  });
  it('refuses what is not a plan, with exit 2 and the file named', () => {
    refuses(() => parsePlan('a: [1', 'p.yaml'), /^p\.yaml is not valid YAML or JSON: /);
    refuses(() => parsePlan('', 'p.yaml'), /^p\.yaml is empty$/);
    refuses(() => parsePlan('-', 'stdin'), /^stdin is empty$/);
    refuses(() => parsePlan('42', 'p.yaml'), /^p\.yaml is empty$/);
    refuses(
      () => parsePlan('apiVersion: v1\nkind: ConfigMap\n', 'p.yaml'),
      /^p\.yaml is not a plan \(expected apiVersion calico-tune\/v1, kind Plan; found v1, ConfigMap\)$/,
    );
    refuses(
      () => parsePlan('apiVersion: calico-tune/v1\nkind: Plan\nmetadata: {name: x}\n', 'p.yaml'),
      /lacks metadata, summary or steps/,
    );
  });
  it('refuses malformed steps', () => {
    const bad = (edit: (p: Plan) => void, re: RegExp): void => {
      const p = JSON.parse(JSON.stringify(toRR)) as Plan;
      edit(p);
      refuses(() => parsePlan(JSON.stringify(p), 'p.json'), re);
    };
    bad(
      (p) => (p.steps[0]!.action = 'exec' as Step['action']),
      /^p\.json: step 1 has no id or an unknown action "exec"$/,
    );
    bad((p) => ((p.steps as unknown[])[2] = null), /step 3 has no id or an unknown action "undefined"/);
    bad((p) => (p.steps[1]!.id = p.steps[0]!.id), new RegExp(`step id ${toRR.steps[0]!.id} appears twice`));
    bad((p) => delete p.steps.find((s) => s.action === 'wait')!.gate, /wait step \S+ has no gate/);
    bad(
      (p) => delete p.steps.find((s) => s.action === 'patch')!.patch,
      /patch step \S+ needs object and patch/,
    );
    bad(
      (p) => delete p.steps.find((s) => s.action === 'create')!.manifest,
      /create step \S+ needs a manifest/,
    );
    bad((p) => delete (p.steps[0] as Partial<Step>).undo, /step \S+ has no undo list/);
  });
});

describe('plan/name', () => {
  it('what, on what, and when, in UTC to the second', () => {
    assert.equal(
      planName('rr-promote', 'node-a-004', new Date('2026-11-24T10:15:00.123Z')),
      'rr-promote-node-a-004-20261124-101500',
    );
    assert.equal(
      planName('rr-replace', 'Node_A.1-node/b', new Date('2026-01-02T03:04:05Z')),
      'rr-replace-node-a-1-node-b-20260102-030405',
    );
    const long = planName('rr-promote', 'n'.repeat(100), new Date('2026-01-02T03:04:05Z'));
    assert.equal(long, `rr-promote-${'n'.repeat(39)}-20260102-030405`);
    assert.match(planName('x', 'y'), /^x-y-\d{8}-\d{6}$/);
  });
});
