import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import {
  clusterMismatch,
  integrityProblems,
  planDigest,
  stepShapeProblems,
} from '../../../src/plan/integrity.js';
import type { Plan, Step } from '../../../src/plan/types.js';
import { toJson, toYaml } from '../../../src/render/output.js';
import type { ClusterSpec } from '../../fixtures/generate.js';
import { snap } from '../helpers.js';
import { allPlans, migrateOpts, RR_ANN, CORDON_ANN } from './helpers.js';
import { planDemote, planPromote } from '../../../src/rr/plan.js';
import { planMigration } from '../../../src/migrate/plan.js';
import { preflight } from '../../../src/executor/checks.js';

const CALICO = 'crd.projectcalico.org/v1';

/** Clusters of different shapes: mesh on/off, 1-3 zones, both Calico releases, no default BGPConfiguration. */
export const SHAPES: ClusterSpec[] = [
  { nodes: 12, zones: 3 },
  { nodes: 12, zones: 3, rrs: 3 },
  { nodes: 9, zones: 1, rrs: 2, calico: 'v3.27.3' },
  { nodes: 15, zones: 2, rrs: 1, mesh: true },
  { nodes: 8, zones: 2, defaultBgpConfig: false, calico: 'v3.27.3', install: 'manifest' },
  { nodes: 14, zones: 3, rrs: 2, windows: 1, notReady: 1, unschedulable: 1 },
];

const plans = SHAPES.flatMap((spec) => allPlans(snap(spec)).map((p) => ({ ...p, spec })));

function step(over: Partial<Step>): Step {
  return { id: 's', title: 't', why: 'w', action: 'patch', undo: [], ...over };
}
const NODE = { apiVersion: 'v1', kind: 'Node', name: 'n1' };
const CFG = { apiVersion: CALICO, kind: 'BGPConfiguration', name: 'default' };
const PEER = { apiVersion: CALICO, kind: 'BGPPeer', name: 'p' };
const GATE = {
  type: 'bgp-established' as const,
  nodes: ['n1'],
  expect: { n1: { count: 1 } },
  exact: true,
  timeout: '10m',
};

function problems(s: Step): string[] {
  return stepShapeProblems(s, 'step 1');
}
function rejects(s: Step, re: RegExp): void {
  const p = problems(s);
  assert.ok(
    p.some((x) => re.test(x)),
    `expected a problem matching ${re}, got ${JSON.stringify(p)}`,
  );
}

describe('plan/integrity: an edited plan whose steps no longer fit together (an operator trial, digests recomputed)', () => {
  const s = snap({ nodes: 12, zones: 3 });
  const base = planMigration(s, migrateOpts('route-reflectors'));
  /** The plan after `edit`, its digest recomputed as an editor with the tool's source would. */
  const edited = (edit: (p: Plan) => void): string[] => {
    const p = JSON.parse(JSON.stringify(base)) as Plan; // (as a plan file is read: no shared objects)
    edit(p);
    p.metadata.digest = planDigest(p);
    return integrityProblems(p);
  };
  const expectProblem = (got: string[], re: RegExp): void =>
    assert.ok(
      got.some((x) => re.test(x)),
      `expected a problem matching ${re}, got ${JSON.stringify(got)}`,
    );
  const promote = (p: Plan): Step =>
    p.steps.find((x) => x.action === 'patch' && x.object?.kind === 'Node' && x.patch?.['metadata'])!;

  it('the plan as made has no problem', () =>
    assert.deepEqual(
      edited(() => {}),
      [],
    ));

  it('a step whose object is not the one its undo puts back (another node promoted)', () => {
    const got = edited((p) => {
      promote(p).object!.name = 'node-a-002';
    });
    expectProblem(got, /undo .* Node node-a-\d+, not the step's Node node-a-002/);
  });

  it('a cluster ID Calico ignores or BIRD refuses', () => {
    for (const bad of ['288.0.4.5', '10.0.0.0/24', '0.0.0.0'])
      expectProblem(
        edited((p) => {
          const m = promote(p).patch!['metadata'] as { annotations: Record<string, string> };
          m.annotations[RR_ANN] = bad;
        }),
        /cluster ID/,
      );
  });

  it('the mesh-off patch setting a mesh password, or with no gate just before it', () => {
    const meshOff = (p: Plan): Step => p.steps.find((x) => x.object?.kind === 'BGPConfiguration')!;
    expectProblem(
      edited((p) => {
        (meshOff(p).patch!['spec'] as Record<string, unknown>)['nodeMeshPassword'] = { secretKeyRef: {} };
      }),
      /nodeMeshPassword/,
    );
    expectProblem(
      edited((p) => {
        p.steps = p.steps.filter((x) => x.action !== 'wait');
      }),
      /turns the full mesh off.* not right after a gate/,
    );
  });

  it('a BGPPeer to an external peer, or a drain of a node the plan does not promote', () => {
    expectProblem(
      edited((p) => {
        p.steps.push({
          id: 'x',
          title: 'x',
          why: 'x',
          action: 'create',
          manifest: {
            apiVersion: CALICO,
            kind: 'BGPPeer',
            metadata: { name: 'evil' },
            spec: { peerIP: '203.0.113.1', asNumber: 65000 },
          },
          undo: [
            {
              id: 'x-undo',
              title: 'x',
              why: 'x',
              action: 'delete',
              object: { apiVersion: CALICO, kind: 'BGPPeer', name: 'evil' },
              undo: [],
            },
          ],
        });
      }),
      /BGPPeer spec/,
    );
    expectProblem(
      edited((p) => {
        p.steps.push({
          id: 'd',
          title: 'd',
          why: 'd',
          action: 'drain',
          object: { apiVersion: 'v1', kind: 'Node', name: 'node-cp-a1' },
          undo: [],
        });
      }),
      /drains node-cp-a1, a node whose cluster ID the plan does not change/,
    );
  });
});

describe('plan/integrity: digest, step shapes, cluster identity', () => {
  it('the planners produce plans on every shape of cluster (the fixtures exercise them)', () => {
    const kinds = new Set(plans.map((p) => p.what.split(' ')[0]));
    assert.deepEqual([...kinds].sort(), ['demote', 'migrate', 'promote', 'replace']);
    assert.ok(plans.length >= 30, `${plans.length} plans`);
  });

  describe('planDigest', () => {
    it('is stable through a JSON and a YAML round trip, for every plan of every planner', () => {
      for (const { what, plan } of plans) {
        const viaJson = JSON.parse(JSON.stringify(plan)) as Plan;
        const viaPrinted = JSON.parse(toJson(plan)) as Plan;
        const viaYaml = yaml.load(yaml.dump(plan)) as Plan;
        const viaCliYaml = yaml.load(toYaml(plan)) as Plan;
        for (const [how, p] of [
          ['JSON', viaJson],
          ['-o json', viaPrinted],
          ['YAML', viaYaml],
          ['-o yaml', viaCliYaml],
        ] as const) {
          assert.equal(planDigest(p), plan.metadata.digest, `${what} through ${how}`);
          assert.deepEqual(integrityProblems(p), [], `${what} through ${how}`);
        }
      }
    });

    it('changes when any step changes, is reordered, removed or added', () => {
      const { plan } = plans.find((p) => p.what === 'migrate to route-reflectors')!;
      const recorded = plan.metadata.digest!;
      const variants: [string, (p: Plan) => void][] = [];
      plan.steps.forEach((_, i) => {
        variants.push([`title of step ${i + 1}`, (p) => (p.steps[i]!.title += ' ')]);
        variants.push([`id of step ${i + 1}`, (p) => (p.steps[i]!.id += 'x')]);
        variants.push([`undo of step ${i + 1}`, (p) => p.steps[i]!.undo.push(structuredClone(p.steps[i]!))]);
        variants.push([
          `checkpoint of step ${i + 1}`,
          (p) => (p.steps[i]!.checkpoint = !p.steps[i]!.checkpoint),
        ]);
        variants.push([`step ${i + 1} removed`, (p) => p.steps.splice(i, 1)]);
      });
      variants.push([
        'a patch value',
        (p) =>
          (p.steps.find((s) => s.action === 'patch')!.patch = { spec: { nodeToNodeMeshEnabled: false } }),
      ]);
      variants.push([
        'a patch target',
        (p) => (p.steps.find((s) => s.action === 'patch')!.object!.name = 'node-c-009'),
      ]);
      variants.push([
        'a gate node',
        (p) => (p.steps.find((s) => s.action === 'wait')!.gate!.nodes[0] = 'node-c-009'),
      ]);
      variants.push([
        'a gate timeout',
        (p) => (p.steps.find((s) => s.action === 'wait')!.gate!.timeout = '1h'),
      ]);
      variants.push([
        'a gate expectation',
        (p) => (Object.values(p.steps.find((s) => s.action === 'wait')!.gate!.expect)[0]!.count += 1),
      ]);
      variants.push(['two steps swapped', (p) => p.steps.reverse()]);
      variants.push(['a step added', (p) => p.steps.push({ ...p.steps[0]!, id: 'extra' })]);
      variants.push(['the cluster UID', (p) => (p.metadata.cluster.uid = 'other')]);
      variants.push(['the fingerprint', (p) => p.metadata.cluster.fingerprint.pop()]);
      variants.push(['the name', (p) => (p.metadata.name += '-2')]);
      variants.push(['the summary', (p) => (p.summary.description = 'Harmless no-op')]);
      variants.push(['a warning removed', (p) => (p.summary.warnings = p.summary.warnings.slice(1))]);
      variants.push(['a change removed', (p) => (p.summary.changes = p.summary.changes.slice(1))]);
      for (const [what, change] of variants) {
        const p = structuredClone(plan);
        change(p);
        assert.notEqual(planDigest(p), recorded, what);
        assert.deepEqual(
          integrityProblems(p).filter((x) => /digest/.test(x)),
          [
            'the plan was edited or truncated after it was made (its digest does not match its steps and summary)',
          ],
          what,
        );
      }
      const same = structuredClone(plan);
      same.metadata.createdAt = '1999-01-01T00:00:00Z';
      assert.equal(planDigest(same), recorded, 'createdAt is not covered');
    });

    it('a plan without a digest is refused', () => {
      const p = structuredClone(plans[0]!.plan);
      delete p.metadata.digest;
      assert.deepEqual(integrityProblems(p), [
        'the plan records no digest (it was not written by this tool, or by a version before 0.2)',
      ]);
    });
  });

  describe('stepShapeProblems', () => {
    it('accepts every step (and undo) of every plan every planner emits', () => {
      let checked = 0;
      for (const { what, plan, spec } of plans) {
        plan.steps.forEach((s, i) => {
          assert.deepEqual(stepShapeProblems(s, `step ${i + 1}`), [], `${what} on ${JSON.stringify(spec)}`);
          checked += 1 + s.undo.length;
        });
      }
      assert.ok(checked > 300, `${checked} steps`);
    });

    it('accepts the shapes the planners use, by hand', () => {
      for (const s of [
        step({ action: 'cordon', object: NODE }),
        step({ action: 'drain', object: NODE }),
        step({
          object: NODE,
          patch: {
            metadata: {
              labels: { 'route-reflector': 'true', 'my-reflector': null },
              annotations: { [RR_ANN]: '244.0.0.1', [CORDON_ANN]: null },
            },
          },
        }),
        step({
          object: CFG,
          patch: {
            spec: { nodeToNodeMeshEnabled: false, nodeMeshPassword: null, nodeMeshMaxRestartTime: null },
          },
        }),
        step({
          action: 'create',
          manifest: {
            apiVersion: CALICO,
            kind: 'BGPPeer',
            metadata: { name: 'p' },
            spec: { nodeSelector: 'all()', peerSelector: "a == 'b'" },
          },
        }),
        step({
          action: 'create',
          manifest: {
            apiVersion: 'projectcalico.org/v3',
            kind: 'BGPConfiguration',
            metadata: { name: 'default' },
            spec: { nodeToNodeMeshEnabled: true },
          },
        }),
        step({ action: 'delete', object: PEER }),
        step({ action: 'wait', gate: GATE }),
      ])
        assert.deepEqual(problems(s), [], JSON.stringify(s));
      // an undo may re-create the default BGPConfiguration as it was (any spec field)
      const recreate = step({
        action: 'create',
        manifest: {
          apiVersion: CALICO,
          kind: 'BGPConfiguration',
          metadata: { name: 'default' },
          spec: { asNumber: 64512, logSeverityScreen: 'Info' },
        },
      });
      assert.deepEqual(stepShapeProblems(recreate, 'undo 1', true), []);
      rejects(recreate, /BGPConfiguration spec\) sets "asNumber"/);
    });

    it('rejects taints and other spec patches of Nodes', () => {
      rejects(
        step({ object: NODE, patch: { spec: { taints: [{ key: 'x', effect: 'NoExecute' }] } } }),
        /\(Node patch\) sets "spec", which no planner writes/,
      );
      rejects(step({ object: NODE, patch: { spec: { unschedulable: true } } }), /sets "spec"/);
      rejects(
        step({ object: NODE, patch: { spec: {} } }),
        /a Node patch changes only metadata labels and annotations/,
      );
      rejects(
        step({ object: NODE, patch: { metadata: { name: 'other' } } }),
        /\(Node metadata\) sets "name"/,
      );
      rejects(step({ object: NODE, patch: { metadata: { finalizers: ['x'] } } }), /sets "finalizers"/);
    });

    it('rejects labels and annotations no planner writes, and non-string values', () => {
      rejects(
        step({
          object: NODE,
          patch: { metadata: { labels: { 'node-role.kubernetes.io/control-plane': '' } } },
        }),
        /changes label "node-role.kubernetes.io\/control-plane", which is not a route-reflector label/,
      );
      rejects(
        step({
          object: NODE,
          patch: { metadata: { annotations: { 'projectcalico.org/IPv4Address': '10.0.0.1/24' } } },
        }),
        /changes annotation "projectcalico.org\/IPv4Address", which no planner writes/,
      );
      rejects(
        step({ object: NODE, patch: { metadata: { labels: { 'route-reflector': true } } } }),
        /label "route-reflector" must be a string or null/,
      );
      rejects(
        step({ object: NODE, patch: { metadata: { annotations: { [RR_ANN]: 1 } } } }),
        /annotation ".*" must be a string or null/,
      );
      rejects(
        step({ object: NODE, patch: { metadata: { labels: ['route-reflector'] } } }),
        /labels must be a map/,
      );
      rejects(step({ object: NODE, patch: { metadata: { annotations: 'x' } } }), /annotations must be a map/);
    });

    it('rejects unknown kinds, deletes of Nodes, and Calico objects outside what planners change', () => {
      rejects(
        step({
          object: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'x', namespace: 'y' },
          patch: { spec: {} },
        }),
        /patches apps\/v1 Deployment, which no planner changes/,
      );
      rejects(
        step({ object: { apiVersion: CALICO, kind: 'FelixConfiguration', name: 'x' }, patch: { spec: {} } }),
        /patches .* FelixConfiguration/,
      );
      // encap plans change an IPPool's modes only, and the Installation's ipPools only
      rejects(
        step({
          object: { apiVersion: CALICO, kind: 'IPPool', name: 'x' },
          patch: { spec: { cidr: '10.0.0.0/8' } },
        }),
        /IPPool spec\) sets "cidr"/,
      );
      rejects(
        step({
          object: { apiVersion: 'operator.tigera.io/v1', kind: 'Installation', name: 'default' },
          patch: { spec: { variant: 'TigeraSecureEnterprise' } },
        }),
        /Installation spec\) sets "variant"/,
      );
      rejects(step({ action: 'delete', object: NODE }), /deletes v1 Node, which no planner deletes/);
      rejects(
        step({ action: 'delete', object: { apiVersion: CALICO, kind: 'IPPool', name: 'x' } }),
        /deletes .* IPPool/,
      );
      rejects(
        step({
          action: 'create',
          manifest: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
        }),
        /creates v1 ConfigMap, which no planner creates/,
      );
      rejects(
        step({
          action: 'create',
          manifest: { apiVersion: CALICO, kind: 'FelixConfiguration', metadata: { name: 'default' } },
        }),
        /creates FelixConfiguration/,
      );
      rejects(
        step({
          action: 'create',
          manifest: { apiVersion: CALICO, kind: 'BGPPeer', metadata: { name: 'p', namespace: 'x' } },
        }),
        /cluster-scoped/,
      );
      rejects(
        step({
          action: 'create',
          manifest: {
            apiVersion: CALICO,
            kind: 'BGPPeer',
            metadata: { name: 'p' },
            spec: { peerIP: '1.2.3.4', evil: 1 },
          },
        }),
        /\(BGPPeer spec\) sets "evil"/,
      );
      rejects(
        step({
          action: 'create',
          manifest: { apiVersion: CALICO, kind: 'BGPConfiguration', metadata: { name: 'other' } },
        }),
        /only the default BGPConfiguration is created/,
      );
      rejects(step({ action: 'create' }), /a create step needs a manifest with a name/);
      rejects(
        step({ object: { ...CFG, name: 'node.x' }, patch: { spec: { nodeToNodeMeshEnabled: false } } }),
        /only the default BGPConfiguration is changed/,
      );
      rejects(
        step({ object: CFG, patch: { spec: { asNumber: 1 } } }),
        /\(BGPConfiguration spec\) sets "asNumber"/,
      );
      rejects(
        step({ object: CFG, patch: { metadata: { labels: {} } } }),
        /\(BGPConfiguration patch\) sets "metadata"/,
      );
      rejects(step({ object: CFG, patch: { metadata: {} } }), /a BGPConfiguration patch changes spec fields/);
      // no planner patches a BGPPeer (an external router's AS number or password, say)
      rejects(
        step({ object: PEER, patch: { spec: { asNumber: 65099 } } }),
        /patches crd.projectcalico.org\/v1 BGPPeer, which no planner changes/,
      );
      rejects(
        step({ object: PEER, patch: { metadata: { finalizers: ['x'] } } }),
        /BGPPeer, which no planner changes/,
      );
      // the default BGPConfiguration is deleted only as the undo of its creation
      rejects(
        step({ action: 'delete', object: CFG }),
        /deletes crd.projectcalico.org\/v1 BGPConfiguration, which no planner deletes/,
      );
      const createCfg = step({
        action: 'create',
        manifest: {
          apiVersion: CALICO,
          kind: 'BGPConfiguration',
          metadata: { name: 'default' },
          spec: { nodeToNodeMeshEnabled: true },
        },
      });
      assert.deepEqual(problems({ ...createCfg, undo: [step({ action: 'delete', object: CFG })] }), []);
      rejects(
        { ...createCfg, undo: [step({ action: 'delete', object: { ...CFG, name: 'node.x' } })] },
        /undo 1: deletes .* BGPConfiguration/,
      );
      rejects(step({ object: NODE }), /a patch step needs an object and a patch/);
    });

    it('rejects cordons and drains of anything but a Node, or carrying a patch', () => {
      rejects(step({ action: 'cordon', object: PEER }), /cordon must name a Node/);
      rejects(step({ action: 'drain' }), /drain must name a Node/);
      rejects(
        step({ action: 'uncordon', object: NODE, patch: { spec: {} } }),
        /uncordon carries no patch or manifest/,
      );
    });

    it('rejects a wait without a gate, with no nodes, bad timeouts or no expectations', () => {
      rejects(step({ action: 'wait' }), /a wait step needs a bgp-established gate naming nodes/);
      rejects(step({ action: 'wait', gate: { ...GATE, nodes: [] } }), /naming nodes/);
      rejects(
        step({ action: 'wait', gate: { ...GATE, type: 'sleep' } as unknown as Step['gate'] }),
        /bgp-established/,
      );
      rejects(
        step({ action: 'wait', gate: { ...GATE, nodes: [7] } as unknown as Step['gate'] }),
        /gate nodes must be names/,
      );
      for (const timeout of ['soon', '0s', '', '10 minutes', '-5m'])
        rejects(step({ action: 'wait', gate: { ...GATE, timeout } }), /gate timeout ".*" is not a duration/);
      rejects(
        step({ action: 'wait', gate: { ...GATE, timeout: 600 } as unknown as Step['gate'] }),
        /gate timeout "600" is not a duration/,
      );
      rejects(
        step({ action: 'wait', gate: { ...GATE, expect: undefined } as unknown as Step['gate'] }),
        /gate has no expectations/,
      );
      for (const timeout of ['10m', '1h30m', '45s', '90'])
        assert.deepEqual(problems(step({ action: 'wait', gate: { ...GATE, timeout } })), [], timeout);
    });

    it('rejects unknown actions, a missing undo list, undo steps with their own undo, and bad undo steps', () => {
      rejects(step({ action: 'exec' as Step['action'] }), /unknown action "exec"/);
      rejects(
        { ...step({ action: 'cordon', object: NODE }), undo: undefined } as unknown as Step,
        /no undo list/,
      );
      const nested = step({
        action: 'uncordon',
        object: NODE,
        undo: [step({ action: 'cordon', object: NODE })],
      });
      rejects(
        step({ action: 'cordon', object: NODE, undo: [nested] }),
        /undo 1: an undo step has no undo of its own/,
      );
      const p = problems(
        step({
          action: 'cordon',
          object: NODE,
          undo: [step({ object: NODE, patch: { spec: { taints: [] } } })],
        }),
      );
      assert.deepEqual(p, [
        'step 1 undo 1 (Node patch) sets "spec", which no planner writes',
        'step 1 undo 1: a Node patch changes only metadata labels and annotations',
      ]);
    });

    it('integrityProblems lists the shape problems of every step, with its number and id', () => {
      const p = structuredClone(plans[0]!.plan);
      p.steps[1]!.patch = { spec: { taints: [] } };
      p.steps[1]!.action = 'patch';
      p.metadata.digest = planDigest(p);
      const out = integrityProblems(p);
      assert.ok(out.length > 0);
      assert.ok(
        out.every((x) => x.startsWith(`step 2 (${p.steps[1]!.id})`)),
        out.join('\n'),
      );
    });
  });

  describe('clusterMismatch', () => {
    const p = (uid: string | null | undefined, server: string | null): Plan => {
      const x = structuredClone(plans[0]!.plan);
      x.metadata.cluster.uid = uid;
      x.metadata.cluster.server = server;
      return x;
    };
    it('same UID: the same cluster, whatever the server URL', () => {
      assert.equal(
        clusterMismatch(p('u1', 'https://a'), { clusterUID: 'u1', server: 'https://b' }),
        undefined,
      );
    });
    it('another UID: refused, naming both and the server it was made on', () => {
      assert.equal(
        clusterMismatch(p('u1', 'https://a'), { clusterUID: 'u2', server: 'https://a' }),
        "the plan was made for another cluster (kube-system UID u1; this cluster's is u2; made on https://a)",
      );
      assert.equal(
        clusterMismatch(p('u1', null), { clusterUID: 'u2' }),
        "the plan was made for another cluster (kube-system UID u1; this cluster's is u2)",
      );
    });
    it('a UID that cannot be checked (kube-system unreadable): refused, with the RBAC rule', () => {
      assert.match(
        clusterMismatch(p('u1', 'https://a'), { server: 'https://a' })!,
        /cannot be checked.*get namespaces\/kube-system/,
      );
      // a snapshot file without it: said so, not RBAC (an operator trial)
      const m = clusterMismatch(p('u1', 'https://a'), { kind: 'file', path: 'examples/cluster-150.yaml' })!;
      assert.match(m, /the snapshot examples\/cluster-150\.yaml does not record the cluster's identity/);
      assert.doesNotMatch(m, /RBAC/);
    });
    it('without a UID: the server URL decides; without either: refused', () => {
      assert.equal(
        clusterMismatch(p(null, 'https://a'), { server: 'https://b', clusterUID: 'u' }),
        'the plan was made for https://a, not https://b',
      );
      assert.equal(clusterMismatch(p(undefined, 'https://a'), { server: 'https://a' }), undefined);
      assert.equal(clusterMismatch(p(null, 'https://a'), {}), undefined);
      assert.match(
        clusterMismatch(p(null, null), { server: 'https://a', clusterUID: 'u' })!,
        /records no cluster identity/,
      );
    });
  });
});

describe('plan/integrity: what the digest protects', () => {
  it('an edited verification summary (ok, zone loss allowed, N-1) breaks the digest: it decides what apply accepts', () => {
    const s = snap({ nodes: 15, zones: 3 });
    const p = planMigration(s, migrateOpts('route-reflectors', { rr: ['node-a-003', 'node-a-004'] }));
    assert.equal(p.summary.verification.ok, false);
    assert.deepEqual(integrityProblems(p), []);
    const edits: [string, (x: Plan) => void][] = [
      ['ok', (x) => (x.summary.verification.ok = true)],
      ['zoneLoss.allowed', (x) => (x.summary.verification.zoneLoss = { ok: false, allowed: true })],
      ['n1Ok', (x) => (x.summary.verification.n1Ok = false)],
    ];
    for (const [what, edit] of edits) {
      const q = structuredClone(p);
      edit(q);
      assert.ok(
        integrityProblems(q).some((x) => /digest does not match/.test(x)),
        what,
      );
    }
    // with all three edited, the plan would otherwise pass every check before apply
    const forged = structuredClone(p);
    for (const [, edit] of edits) edit(forged);
    assert.throws(() => preflight(forged, s), /edited or truncated/);
  });
});

describe('plan/integrity: a re-signed plan (the digest is no signature) is still held to the planners’ shapes', () => {
  it('an added step patching an external BGPPeer, or deleting the BGPConfiguration, is refused before apply', () => {
    const s = snap({ nodes: 12, zones: 3 }, (objs) => {
      objs.push({
        apiVersion: CALICO,
        kind: 'BGPPeer',
        metadata: { name: 'tor' },
        spec: { peerIP: '192.0.2.1', asNumber: 65001 },
      });
    });
    s.source.server = 'https://k:6443';
    s.source.clusterUID = 'uid';
    const p = planMigration(s, migrateOpts('route-reflectors'));
    assert.equal(preflight(p, s).ok, true);
    const extra: Step[] = [
      step({ id: 'x1', object: { ...PEER, name: 'tor' }, patch: { spec: { asNumber: 65099 } } }),
      step({ id: 'x2', action: 'delete', object: CFG }),
    ];
    for (const e of extra) {
      const q = structuredClone(p);
      q.steps.push(e);
      q.metadata.digest = planDigest(q);
      assert.throws(
        () => preflight(q, s),
        /^CliError: refusing the plan: step 17 \(x\d\): (patches|deletes) /,
        e.id,
      );
    }
  });
});

describe('plan/integrity: found by trying the tool (rr --label, a cluster ID Calico ignores)', () => {
  const opts = { timeout: '10m', name: 'test-plan' };
  const identified = (s: ReturnType<typeof snap>): ReturnType<typeof snap> => {
    s.source.server = 'https://k:6443';
    s.source.clusterUID = 'uid';
    return s;
  };
  it('a --label key of the operator’s own (rr=yes) that the plan’s BGPPeer selects is applied; a system or unrelated key is not', () => {
    const s = identified(snap({ nodes: 12, zones: 3, rrs: 2 }));
    const p = planPromote(s, ['node-a-004'], { ...opts, label: 'rr=yes' });
    assert.ok(
      p.steps.some((x) => x.manifest?.kind === 'BGPPeer'),
      'a BGPPeer selects the new label',
    );
    assert.deepEqual(integrityProblems(p, s), []);
    preflight(p, s); // refused before: "changes label "rr", which is not a route-reflector label"
    // an edited plan that labels with a key no BGPPeer selects, or one of Kubernetes' own: refused
    for (const key of ['team', 'kubernetes.io/os', 'node-role.kubernetes.io/worker']) {
      const q = structuredClone(p);
      const patch = q.steps.find((x) => x.action === 'patch' && x.object?.kind === 'Node')!;
      (patch.patch as { metadata: { labels: Record<string, string> } }).metadata.labels = { [key]: 'x' };
      const peer = q.steps.find((x) => x.manifest?.kind === 'BGPPeer')!;
      if (key !== 'team') peer.manifest!.spec = { ...peer.manifest!.spec, peerSelector: `has(${key})` };
      assert.ok(
        integrityProblems(q, s).some((x) => x.includes(`changes label "${key}"`)),
        key,
      );
    }
  });

  it('an edited plan cannot use a --label key to relabel other nodes, or name keys in undo-only or nodeSelector BGPPeers', () => {
    // found by a review of the first version: any key in any BGPPeer selector of the plan (undo lists included)
    // became writable on any node, e.g. tenant= on five workers with a BGPPeer naming has(tenant) as an undo
    const s = identified(snap({ nodes: 12, zones: 3, rrs: 2 }));
    const p = planPromote(s, ['node-a-004'], { ...opts, label: 'rr=yes' });
    const label = (node: string, key: string): Step => ({
      id: `x-${node}`,
      title: `Cordon ${node}`,
      why: 'w',
      action: 'patch',
      object: { apiVersion: 'v1', kind: 'Node', name: node },
      patch: { metadata: { labels: { [key]: 'attacker' } } },
      undo: [],
    });
    const peer = (spec: Record<string, unknown>): Step => ({
      id: 'p',
      title: 't',
      why: 'w',
      action: 'create',
      manifest: { apiVersion: CALICO, kind: 'BGPPeer', metadata: { name: 'evil' }, spec },
      undo: [],
    });
    const cases: [string, (q: Plan) => void][] = [
      // the plan's own key, on a node that is no reflector and that the plan does not make one
      ['rr on a worker', (q) => q.steps.push(label('node-b-005', 'rr'))],
      [
        'tenant named by an undo-only BGPPeer',
        (q) => {
          q.steps.push({ ...label('node-a-004', 'tenant'), undo: [peer({ peerSelector: 'has(tenant)' })] });
        },
      ],
      [
        'tenant named by a nodeSelector',
        (q) => {
          q.steps.push(
            peer({ nodeSelector: 'has(tenant)', peerSelector: "rr == 'yes'" }),
            label('node-a-004', 'tenant'),
          );
        },
      ],
    ];
    for (const [what, edit] of cases) {
      const q = structuredClone(p);
      edit(q);
      assert.ok(
        integrityProblems(q, s).some((x) =>
          /changes label "(rr|tenant)", which is not a route-reflector label/.test(x),
        ),
        what,
      );
    }
  });

  it('rr demote --label rr=yes of reflectors found by the cluster’s peerSelector on that key passes', () => {
    const s = identified(
      snap({ nodes: 12, zones: 3, rrs: 3 }, (objs) => {
        for (const o of objs) {
          if (o.kind === 'Node' && o.metadata.annotations?.[RR_ANN]) {
            delete o.metadata.labels!['route-reflector'];
            o.metadata.labels!['rr'] = 'yes';
          }
          if (o.kind === 'BGPPeer') (o.spec as Record<string, unknown>)['peerSelector'] = "rr == 'yes'";
        }
      }),
    );
    const rr = s.nodes.find((n) => n.labels['rr'] === 'yes')!.name;
    const p = planDemote(s, [rr], { ...opts, label: 'rr=yes' });
    assert.deepEqual(integrityProblems(p, s), []);
    preflight(p, s);
  });

  it('a node whose cluster ID Calico ignores (288.0.4.5) can be promoted: the plan replaces it, and says so', () => {
    const s = identified(
      snap({ nodes: 12, zones: 3, rrs: 2 }, (objs) => {
        const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === 'node-a-004')!;
        n.metadata.annotations = { ...n.metadata.annotations, [RR_ANN]: '288.0.4.5' };
      }),
    );
    const p = planPromote(s, ['node-a-004'], opts);
    const patch = p.steps.find((x) => x.action === 'patch' && x.object?.name === 'node-a-004')!;
    assert.match(patch.title, /replacing "288\.0\.4\.5", which Calico ignores/);
    // refused before: the precondition wanted the annotation absent ("build a new plan", forever)
    preflight(p, s);
    const undo = patch.undo.find((u) => u.action === 'patch')!;
    assert.equal(
      (undo.patch as { metadata: { annotations: Record<string, unknown> } }).metadata.annotations[RR_ANN],
      '288.0.4.5',
      'a rollback puts back what was there',
    );
  });
});
