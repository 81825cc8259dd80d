/**
 * `typha report` against a real API server (test/harness): operator and manifest installs, no Typha, an
 * autoscaler, nodes the operator does not count, too few Linux nodes, metrics that cannot be read (there is
 * no kubelet behind the pod proxy), RBAC without pods/proxy, and bad input. It must write nothing.
 */
import assert from 'node:assert/strict';
import {
  controlPlane,
  describeEvent,
  describeRun,
  loadFixture,
  runCli,
  USERS,
  type ControlPlane,
  type UserKey,
} from '../harness/index.js';
import { generateCluster } from '../fixtures/generate.js';

interface Finding {
  code: string;
  severity: 'critical' | 'warning' | 'info';
  message: string;
  fix: string;
  objects: { kind: string; name: string; namespace?: string }[];
}

interface Report {
  kind: string;
  source: { kind: string; server: string | null };
  whatIf: boolean;
  installMode: string;
  nodes: {
    total: number;
    counted: number;
    linux: number;
    excluded: { unschedulable: number; virtualKubelet: number };
  };
  recommended: {
    operator: number;
    manifest: { min: number; max: number };
    applies: string;
    replicas: number;
  };
  actual: null | {
    namespace: string;
    name: string;
    desired: number;
    pods: { name: string; node: string | null }[];
    pdb: unknown;
    metrics: { enabled: boolean; port: number | null };
  };
  autoscaler: null | { namespace: string; name: string };
  liveMetrics: {
    read: boolean;
    reason: string | null;
    pods: { pod: string; ok: boolean; error: string | null }[];
  };
  findings: Finding[];
  summary: { critical: number; warning: number; info: number };
}

describe('typha report (live cluster)', function () {
  this.timeout(180_000);
  let cp: ControlPlane;

  const report = async (args: string[] = [], user: UserKey = 'plugin') => {
    const mark = cp.audit.mark();
    const r = await runCli(['typha', 'report', '--kubeconfig', cp.kubeconfig(user), '-o', 'json', ...args]);
    const writes = await cp.audit.writesSince(mark, { user: USERS[user].name });
    assert.deepEqual(writes.map(describeEvent), [], 'typha report must write nothing');
    return r;
  };
  const codes = (rep: Report): string[] => rep.findings.map((f) => f.code);

  before(async () => {
    cp = await controlPlane();
  });

  describe('operator install with metrics on', () => {
    before(async () => {
      await loadFixture(cp, { nodes: 12, zones: 3, install: 'operator', typhaMetrics: true });
    });

    it('-o json: install mode, node counts, the operator formula, what runs; metrics could not be read, and why', async () => {
      const r = await report(['--metrics-timeout', '2s']);
      assert.equal(r.code, 0, describeRun(r, 'typha report'));
      const rep = r.json<Report>();
      assert.equal(rep.kind, 'TyphaReport');
      assert.equal(rep.source.kind, 'live');
      assert.equal(rep.source.server, cp.server);
      assert.equal(rep.whatIf, false);
      assert.equal(rep.installMode, 'operator');
      assert.deepEqual([rep.nodes.total, rep.nodes.counted, rep.nodes.linux], [12, 12, 12]);
      assert.equal(rep.recommended.operator, 3);
      assert.deepEqual(rep.recommended.manifest, { min: 3, max: 11, note: null });
      assert.equal(rep.recommended.applies, 'operator');
      assert.equal(rep.actual?.namespace, 'calico-system');
      assert.equal(rep.actual?.desired, 3);
      assert.equal(rep.actual?.pods.length, 3);
      assert.deepEqual(rep.actual?.metrics, { enabled: true, port: 9093 });
      assert.ok(rep.actual?.pdb, 'the PDB is read');
      assert.equal(rep.autoscaler, null);
      assert.deepEqual(codes(rep), [], JSON.stringify(rep.findings));
      // no kubelet behind the pod proxy: the report still renders and says why
      assert.equal(rep.liveMetrics.read, false);
      assert.match(rep.liveMetrics.reason ?? '', /^could not read metrics from any of 3 Typha pod\(s\): /);
      assert.equal(rep.liveMetrics.pods.length, 3);
      for (const p of rep.liveMetrics.pods) assert.ok(p.error && p.error.length > 0, `a reason for ${p.pod}`);
      assert.match(r.stderr, /warning: Typha metrics: could not read metrics/);
    });

    it('table: renders every section and says metrics were not read', async () => {
      const r = await runCli(['typha', 'report', '--metrics-timeout', '2s'], {
        kubeconfig: cp.kubeconfig('plugin'),
      });
      assert.equal(r.code, 0, describeRun(r, 'typha report'));
      for (const h of ['CLUSTER', 'TYPHA', 'NODES', 'RECOMMENDED', 'RUNNING', 'LOAD', 'GROWTH', 'FINDINGS'])
        assert.match(r.stdout, new RegExp(`^${h}`, 'm'), h);
      assert.match(r.stdout, /^TYPHA\s+operator install · calico-system\/calico-typha · 3\/3 ready/m);
      assert.match(r.stdout, /live\s+not read: could not read metrics from any of 3 Typha pod\(s\)/);
      assert.match(r.stdout, /\^ now: 12 nodes, 3 replicas/);
      assert.equal(r.stdout.includes('\u001b['), false, 'no colour without a terminal');
    });

    it('--metrics-timeout 0 skips the metrics', async () => {
      const r = await report(['--metrics-timeout', '0']);
      assert.equal(r.code, 0, describeRun(r, 'typha report'));
      assert.equal(r.json<Report>().liveMetrics.reason, 'skipped (--metrics-timeout 0)');
    });

    it('a user without pods/proxy (read-only role): forbidden, said per pod', async () => {
      const r = await report(['--metrics-timeout', '2s'], 'readonly');
      assert.equal(r.code, 0, describeRun(r, 'typha report as readonly'));
      const rep = r.json<Report>();
      assert.equal(rep.liveMetrics.read, false);
      for (const p of rep.liveMetrics.pods)
        assert.match(p.error ?? '', /^forbidden: the user needs "get" on pods\/proxy in calico-system/);
    });
  });

  it('manifest install: the manifest range applies, under-provisioned with the exact kubectl scale command', async () => {
    await loadFixture(cp, { nodes: 60, zones: 3, install: 'manifest', typhaReplicas: 2 });
    const r = await report();
    assert.equal(r.code, 0, describeRun(r, 'typha report'));
    const rep = r.json<Report>();
    assert.equal(rep.installMode, 'manifest');
    assert.equal(rep.actual?.namespace, 'kube-system');
    assert.equal(rep.recommended.applies, 'manifest');
    assert.deepEqual(rep.recommended.manifest, { min: 3, max: 20, note: null });
    assert.equal(rep.recommended.operator, 3);
    const under = rep.findings.find((f) => f.code === 'TYPHA_UNDER_PROVISIONED');
    assert.ok(under, JSON.stringify(rep.findings));
    assert.equal(under.fix, 'kubectl scale deployment -n kube-system calico-typha --replicas=3');
    assert.ok(codes(rep).includes('TYPHA_METRICS_DISABLED'));
    assert.equal(rep.liveMetrics.reason, 'Typha metrics are disabled (see TYPHA_METRICS_DISABLED)');
  });

  it("manifest install from Calico's own calico-typha.yaml", async () => {
    await cp.reset();
    const objs = generateCluster({
      nodes: 8,
      install: 'manifest',
      calico: cp.calico!,
      typhaReplicas: 0,
    }).filter((o) => o.kind === 'Node' || o.apiVersion.startsWith('crd.projectcalico.org'));
    await cp.apply(objs);
    await cp.applyTyphaManifest(cp.calico!);
    const r = await report();
    assert.ok(r.code === 0 || r.code === 1, describeRun(r, 'typha report'));
    const rep = r.json<Report>();
    assert.equal(rep.installMode, 'manifest');
    assert.equal(rep.actual?.desired, 1, 'calico-typha.yaml asks for 1 replica');
    assert.equal(rep.actual?.name, 'calico-typha');
    // 8 nodes: 3-7 per the guidance; 1 is too few
    assert.deepEqual(rep.recommended.manifest, { min: 3, max: 7, note: null });
    assert.ok(codes(rep).includes('TYPHA_UNDER_PROVISIONED'), codes(rep).join(', '));
  });

  it('no Typha: installMode none, actual null', async () => {
    await loadFixture(cp, { nodes: 12, install: 'manifest', typhaReplicas: 0 });
    const r = await report();
    assert.equal(r.code, 0, describeRun(r, 'typha report'));
    const rep = r.json<Report>();
    assert.equal(rep.installMode, 'none');
    assert.equal(rep.actual, null);
    assert.equal(rep.recommended.operator, 3);
    assert.equal(rep.liveMetrics.reason, 'no Typha runs');
    assert.deepEqual(codes(rep), []);
  });

  it('calico-node told to use Typha while it is scaled to 0: critical TYPHA_UNAVAILABLE, exit 1', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, install: 'manifest', typhaReplicas: 2 }, (objs) => {
      const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'calico-typha')!;
      (d.spec as Record<string, unknown>)['replicas'] = 0;
      d.status = { replicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 };
      for (const p of objs.filter(
        (o) => o.kind === 'Pod' && o.metadata.labels?.['k8s-app'] === 'calico-typha',
      ))
        objs.splice(objs.indexOf(p), 1);
    });
    const r = await report(['--metrics-timeout', '0']);
    assert.equal(r.code, 1, describeRun(r, 'typha report'));
    const f = r.json<Report>().findings.find((x) => x.code === 'TYPHA_UNAVAILABLE');
    assert.ok(f, JSON.stringify(r.json<Report>().findings));
    assert.equal(f.severity, 'critical');
    assert.match(f.message, /typha_service_name in ConfigMap kube-system\/calico-config: "calico-typha"/);
    assert.equal(f.fix, 'kubectl scale deployment -n kube-system calico-typha --replicas=3');
  });

  it('an autoscaler: reported, and no finding recommends scaling by hand', async () => {
    await loadFixture(cp, {
      nodes: 60,
      zones: 3,
      install: 'manifest',
      typhaReplicas: 1,
      typhaAutoscaler: true,
    });
    const r = await report();
    assert.equal(r.code, 0, describeRun(r, 'typha report'));
    const rep = r.json<Report>();
    assert.deepEqual(rep.autoscaler, {
      namespace: 'kube-system',
      name: 'calico-typha-horizontal-autoscaler',
    });
    assert.ok(codes(rep).includes('TYPHA_AUTOSCALED'));
    assert.ok(!codes(rep).includes('TYPHA_UNDER_PROVISIONED'));
    for (const f of rep.findings)
      assert.ok(!/kubectl scale/.test(f.fix), `${f.code} must not fight the autoscaler: ${f.fix}`);
  });

  it('unschedulable and virtual-kubelet nodes are not counted', async () => {
    await loadFixture(cp, {
      nodes: 20,
      zones: 2,
      install: 'operator',
      unschedulable: 3,
      virtualKubelet: 2,
      typhaMetrics: true,
    });
    const r = await report(['--metrics-timeout', '0']);
    assert.equal(r.code, 0, describeRun(r, 'typha report'));
    const rep = r.json<Report>();
    assert.equal(rep.nodes.total, 20);
    assert.equal(rep.nodes.counted, 15);
    assert.deepEqual(rep.nodes.excluded, { unschedulable: 3, virtualKubelet: 2 });
    assert.equal(rep.recommended.operator, 3);
  });

  it('too few Linux nodes: critical TYPHA_NOT_ENOUGH_LINUX_NODES, exit 1', async () => {
    await loadFixture(cp, {
      nodes: 12,
      controlPlane: 1,
      windows: 10,
      install: 'operator',
      typhaMetrics: true,
    });
    const r = await report(['--metrics-timeout', '0']);
    assert.equal(r.code, 1, describeRun(r, 'typha report'));
    const rep = r.json<Report>();
    assert.equal(rep.nodes.counted, 12);
    assert.equal(rep.nodes.linux, 2);
    const f = rep.findings.find((x) => x.code === 'TYPHA_NOT_ENOUGH_LINUX_NODES');
    assert.ok(f, JSON.stringify(rep.findings));
    assert.equal(f.severity, 'critical');
    assert.match(f.message, /needs 3 Typhas for 12 nodes but only 2 schedulable Linux node\(s\)/);
  });

  describe('what-if and bad input', () => {
    it('--nodes 1200: recommended for 1200 nodes, actual null, no cluster needed', async () => {
      const r = await runCli(['typha', 'report', '--nodes', '1200', '-o', 'json']);
      assert.equal(r.code, 0, describeRun(r, 'typha report --nodes 1200'));
      const rep = r.json<Report>();
      assert.equal(rep.whatIf, true);
      assert.equal(rep.actual, null);
      assert.equal(rep.nodes.total, 1200);
      assert.equal(rep.recommended.operator, 8);
      assert.deepEqual(rep.recommended.manifest, { min: 6, max: 20, note: null });
    });

    for (const [args, msg] of [
      [['--nodes', '-1'], /--nodes needs a whole number of nodes \(0 or more\), got "-1"/],
      [['--nodes', 'abc'], /--nodes needs a whole number of nodes \(0 or more\), got "abc"/],
      [
        ['--nodes', '12', '--snapshot', 'examples/cluster-150.yaml'],
        /--nodes is a what-if without a cluster: it cannot be combined with --snapshot/,
      ],
      [
        ['--nodes', '12', '--context', 'prod'],
        /--nodes is a what-if without a cluster: it cannot be combined with --context/,
      ],
      [['--metrics-timeout', 'soon'], /invalid --metrics-timeout "soon"/],
    ] as const) {
      it(`${args.join(' ')} exits 2 with a clear message`, async () => {
        const r = await runCli(['typha', 'report', ...args, '-o', 'json']);
        assert.equal(r.code, 2, describeRun(r, `typha report ${args.join(' ')}`));
        assert.match(r.stderr, msg);
        assert.equal(r.json<{ error: { exitCode: number } }>().error.exitCode, 2);
      });
    }
  });
});
