/**
 * `monitoring status|plan|apply` against the real API server with Calico's CRDs and prometheus-operator's
 * monitoring.coreos.com CRDs (tools/build.sh --crds): operator and manifest installs of both Calico
 * versions. Every object a plan creates is validated by the server (dry run, then for real); a run killed
 * after its last step is rolled back (every switch as before, everything created deleted: checked on the
 * objects and in the audit log); a run killed mid-step resumes; then status shows everything on and a
 * second apply has nothing to do.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  controlPlane,
  describeEvent,
  loadFixture,
  measure,
  runCli,
  USERS,
  type ControlPlane,
  type Obj,
} from '../harness/index.js';

interface Report {
  prometheusOperator: boolean | null;
  components: {
    component: string;
    present: boolean;
    enabled: boolean;
    port: number;
    switch: string;
    service: { name: string; portName: string; source: string } | null;
    scrapedBy: string[];
    selectedBy: string[];
    serving: { state: string; reason: string | null };
  }[];
  serviceMonitorTarget: { namespace: string; labels: Record<string, string>; selectedBy: string[] } | null;
  findings: { code: string; objects: { kind: string; name: string }[] }[];
}

const MANAGED = 'app.kubernetes.io/managed-by=kubectl-calico-tune';

/** What the plan may change, read as the admin: switches, and everything labelled as ours. */
async function world(cp: ControlPlane, ns: string): Promise<Record<string, unknown>> {
  const c = cp.client();
  const spec = async (p: string): Promise<unknown> => (await c.getOptional<Obj>(p))?.spec ?? null;
  const dep = await c.getOptional<Obj>(`/apis/apps/v1/namespaces/${ns}/deployments/calico-typha`);
  const names = async (p: string): Promise<string[]> =>
    (await c.list(p, { labelSelector: MANAGED })).items
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
      .sort();
  return {
    installation: await spec('/apis/operator.tigera.io/v1/installations/default'),
    felix: await spec('/apis/crd.projectcalico.org/v1/felixconfigurations/default'),
    kubeControllers: await spec('/apis/crd.projectcalico.org/v1/kubecontrollersconfigurations/default'),
    typhaContainers:
      (dep?.spec as { template?: { spec?: { containers?: unknown } } } | undefined)?.template?.spec
        ?.containers ?? null,
    services: await names('/api/v1/services'),
    serviceMonitors: await names('/apis/monitoring.coreos.com/v1/servicemonitors'),
    rules: await names('/apis/monitoring.coreos.com/v1/prometheusrules'),
    configMaps: await names('/api/v1/configmaps'),
  };
}

for (const calico of ['v3.27.3', 'v3.31.3'] as const) {
  describe(`monitoring set-up (Calico ${calico})`, function () {
    this.timeout(240_000);
    let cp: ControlPlane;
    let kc: string;
    before(async () => {
      cp = await controlPlane({ calico });
      kc = cp.kubeconfig('plugin');
      measure(`monitoring.coreos.com CRDs installed in ${await cp.installMonitoringCrds()} ms`);
    });
    after(async () => {
      // later test files must not see prometheus-operator (their status findings would change); reset first:
      // it deletes the Prometheus object this file applied, which needs the CRD's discovery to be there
      if (!cp) return;
      await cp.reset();
      await cp.uninstallMonitoringCrds();
    });

    afterEach(async () => {
      // what the plan created outside the fixture namespaces (reset() clears Services and Calico objects)
      const c = cp.client();
      for (const plural of ['servicemonitors', 'prometheusrules']) {
        const { items } = await c.list(`/apis/monitoring.coreos.com/v1/${plural}`, {
          labelSelector: MANAGED,
        });
        for (const o of items)
          await c.request(
            'DELETE',
            `/apis/monitoring.coreos.com/v1/namespaces/${o.metadata.namespace}/${plural}/${o.metadata.name}`,
            {
              okStatuses: [404],
            },
          );
      }
      await c.request('DELETE', '/api/v1/namespaces/monitoring/configmaps/calico-grafana-dashboards', {
        okStatuses: [404],
      });
    });

    const cli = (args: string[], env?: NodeJS.ProcessEnv) =>
      runCli(['monitoring', ...args], { kubeconfig: kc, ...(env ? { env } : {}) });

    if (calico === 'v3.31.3')
      it('metrics: one timeout for the fan-out; every pod that cannot be reached is named (no kubelet here)', async () => {
        await loadFixture(cp, { nodes: 6, zones: 1, install: 'operator', calico, typhaMetrics: true });
        const pods = (await cp.client().list('/api/v1/namespaces/calico-system/pods')).items
          .filter((p) => p.metadata.labels?.['k8s-app'] === 'calico-typha')
          .map((p) => p.metadata.name)
          .sort();
        assert.ok(pods.length >= 1);
        const r = await runCli(['metrics', '--component', 'typha', '--timeout', '2s', '-o', 'json'], {
          kubeconfig: kc,
        });
        assert.equal(r.code, 0, r.stderr);
        const rep = r.json<{
          read: { typha: { read: number; of: number } };
          unread: { component: string; pod: string; error: string }[];
          typha: { total: number | null } | null;
        }>();
        assert.deepEqual(rep.read.typha, { read: 0, of: pods.length });
        assert.deepEqual(rep.unread.map((u) => u.pod).sort(), pods);
        for (const u of rep.unread) assert.match(u.error, /could not reach the pod|no answer within 2s/);
        assert.equal(rep.typha?.total, null);
        // Felix's metrics are off here: skipped with a warning, not an error
        const f = await runCli(['metrics', '--timeout', '2s'], { kubeconfig: kc });
        assert.equal(f.code, 0, f.stderr);
        assert.match(f.stderr, /felix metrics are off .*monitoring plan/);
        assert.match(f.stdout, /pod\(s\) not read \(partial results\)/);
        const bad = await runCli(['metrics', '--component', 'bird'], { kubeconfig: kc });
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /unknown --component "bird"/);
        // a node that does not exist is bad input (a review: exit 0 and "no per-node figures were read")
        const nosuch = await runCli(['metrics', '--node', 'nosuch', '--timeout', '2s'], { kubeconfig: kc });
        assert.equal(nosuch.code, 2, nosuch.stderr);
        assert.match(nosuch.stderr, /node "nosuch" does not exist/);
      });

    if (calico === 'v3.31.3')
      it('manifest install: a saved plan applies after an autoscaler scaled Typha, and is refused once its containers changed', async () => {
        const dep = '/apis/apps/v1/namespaces/kube-system/deployments/calico-typha';
        const admin = cp.client('admin');
        const containers = (o: Obj): { image: string; env?: { name: string; value?: string }[] }[] =>
          (o.spec as { template: { spec: { containers: [] } } }).template.spec.containers;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-monitoring-'));
        const planNow = async (): Promise<string> => {
          await loadFixture(cp, { nodes: 6, zones: 1, install: 'manifest', calico });
          const p = await cli(['plan', '--namespace', 'kube-system', '-o', 'json']);
          assert.equal(p.code, 0, p.stderr);
          const f = path.join(dir, `plan-${Date.now()}.json`);
          fs.writeFileSync(f, p.stdout);
          return f;
        };

        // calico-typha-horizontal-autoscaler scales Typha as nodes join: replicas and generation change, not
        // what the plan patches (a review: such a plan was refused as if someone had changed Typha)
        const scaled = await planNow();
        const before = await admin.get<Obj>(dep);
        const gen = before.metadata.generation;
        const replicas = ((before.spec as { replicas?: number }).replicas ?? 1) + 2;
        await admin.request('PATCH', dep, {
          body: { spec: { replicas } },
          contentType: 'application/merge-patch+json',
        });
        assert.notEqual((await admin.get<Obj>(dep)).metadata.generation, gen, 'scaling bumps the generation');
        const a = await cli(['apply', '-f', scaled, '--yes']);
        assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
        const after = await admin.get<Obj>(dep);
        assert.equal(
          (after.spec as { replicas: number }).replicas,
          replicas,
          "the autoscaler's replicas are kept",
        );
        assert.ok(
          containers(after)[0]!.env?.some(
            (e) => e.name === 'TYPHA_PROMETHEUSMETRICSENABLED' && e.value === 'true',
          ),
          JSON.stringify(containers(after)[0]!.env),
        );

        // a hotfix image since the plan: the patch would revert it, so the step is refused and nothing written
        const hotfix = await planNow();
        const live = await admin.get<Obj>(dep);
        const edited = containers(live).map((x, i) => (i === 0 ? { ...x, image: `${x.image}-hotfix` } : x));
        await admin.request('PATCH', dep, {
          body: { spec: { template: { spec: { containers: edited } } } },
          contentType: 'application/merge-patch+json',
        });
        const mark = cp.audit.mark();
        const r = await cli(['apply', '-f', hotfix, '--yes']);
        assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, /the plan is stale: .*Deployment\/kube-system\/calico-typha changed/);
        assert.match(r.stderr, /nothing was changed/);
        const writes = await cp.audit.writesSince(mark, { user: USERS.plugin.name });
        assert.deepEqual(
          writes.map((e) => `${e.verb} ${e.requestURI}`),
          [],
        );
        assert.match(containers(await admin.get<Obj>(dep))[0]!.image, /-hotfix$/);
      });

    if (calico === 'v3.31.3')
      it("manifest install: Felix's port moved after an apply: the next apply patches our Service (as the plugin role, docs/rbac.yaml)", async () => {
        await loadFixture(cp, { nodes: 6, zones: 1, install: 'manifest', calico });
        const first = await cli(['apply', '--namespace', 'kube-system', '--yes']);
        assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
        const admin = cp.client('admin');
        const svcPath = '/api/v1/namespaces/kube-system/services/calico-felix-metrics';
        const ports = async (): Promise<unknown> =>
          (
            (await admin.get<Obj>(svcPath)).spec as { ports: { port: number; targetPort: number }[] }
          ).ports.map((p) => [p.port, p.targetPort]);
        assert.deepEqual(await ports(), [[9091, 9091]]);
        // someone moves Felix's metrics to 9095 (and off); the next run turns them on there
        await admin.request('PATCH', '/apis/crd.projectcalico.org/v1/felixconfigurations/default', {
          body: { spec: { prometheusMetricsEnabled: false, prometheusMetricsPort: 9095 } },
          contentType: 'application/merge-patch+json',
        });
        const again = await cli(['apply', '--namespace', 'kube-system', '--yes']);
        assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
        assert.deepEqual(await ports(), [[9095, 9095]]);
        const third = await cli(['apply', '--namespace', 'kube-system', '--yes']);
        assert.match(third.stderr + third.stdout, /nothing to do|monitoring is set up/i);
      });

    if (calico === 'v3.31.3')
      it('--alerts with a ruleNamespaceSelector: the rule goes where that Prometheus loads it, and a second run has nothing to do', async () => {
        await loadFixture(cp, { nodes: 6, zones: 1, install: 'manifest', calico });
        const admin = cp.client('admin');
        await admin.request('POST', '/api/v1/namespaces', {
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rules', labels: { rules: 'on' } } },
          okStatuses: [409],
        });
        await cp.apply([
          {
            apiVersion: 'monitoring.coreos.com/v1',
            kind: 'Prometheus',
            metadata: { name: 'kps', namespace: 'monitoring' },
            spec: {
              serviceMonitorSelector: { matchLabels: { release: 'prometheus' } },
              ruleSelector: { matchLabels: { role: 'alert-rules' } },
              ruleNamespaceSelector: { matchLabels: { rules: 'on' } },
            },
          },
        ]);
        const a = await cli(['apply', '--alerts', '--yes']);
        assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
        const rule = await admin.getOptional<Obj>(
          '/apis/monitoring.coreos.com/v1/namespaces/rules/prometheusrules/calico-alerts',
        );
        assert.equal(rule?.metadata.labels?.['role'], 'alert-rules');
        const again = await cli(['plan', '--alerts']);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr + again.stdout, /nothing to do|monitoring is set up/i);
      });

    for (const install of ['operator', 'manifest'] as const) {
      it(`${install} install: gaps found; dry run; crash + rollback restores; crash + resume; then all on, and nothing to do`, async () => {
        const ns = install === 'operator' ? 'calico-system' : 'kube-system';
        await loadFixture(cp, { nodes: 6, zones: 1, install, calico });
        await cp.apply([
          {
            apiVersion: 'crd.projectcalico.org/v1',
            kind: 'KubeControllersConfiguration',
            metadata: { name: 'default' },
            spec: { controllers: { node: { reconcilerPeriod: '5m' } }, prometheusMetricsPort: 0 },
          },
          // kube-prometheus-stack's Prometheus: selects ServiceMonitors labelled release=prometheus in its namespace
          {
            apiVersion: 'monitoring.coreos.com/v1',
            kind: 'Prometheus',
            metadata: { name: 'k8s', namespace: 'monitoring' },
            spec: { serviceMonitorSelector: { matchLabels: { release: 'prometheus' } } },
          },
        ]);
        const before = await world(cp, ns);

        // status: every switch off, with the object that decides it for this install mode
        const s0 = await cli(['status', '-o', 'json']);
        assert.equal(s0.code, 0, s0.stderr);
        const r0 = s0.json<Report>();
        assert.equal(r0.prometheusOperator, true);
        assert.deepEqual(
          r0.components.filter((x) => x.present).map((x) => [x.component, x.enabled]),
          [
            ['felix', false],
            ['typha', false],
            ['kube-controllers', false],
          ],
        );
        const felixSwitch = r0.components[0]!.switch;
        assert.match(
          felixSwitch,
          install === 'operator'
            ? /^Installation default spec.nodeMetricsPort/
            : /^FelixConfiguration default/,
        );
        assert.deepEqual(r0.serviceMonitorTarget?.labels, { release: 'prometheus' });
        assert.deepEqual(r0.serviceMonitorTarget?.selectedBy, ['monitoring/k8s']);
        const codes = r0.findings.map((f) => f.code).sort();
        assert.deepEqual(codes, [
          'FELIX_METRICS_DISABLED',
          'KUBE_CONTROLLERS_METRICS_DISABLED',
          'TYPHA_METRICS_DISABLED',
        ]);
        // the read-only role (docs/rbac.yaml) reads the same; a write as that user is refused before anything changes
        const ro = await runCli(['monitoring', 'status', '-o', 'json'], {
          kubeconfig: cp.kubeconfig('readonly'),
        });
        assert.equal(ro.code, 0, ro.stderr);
        assert.deepEqual(ro.json<Report>().components, r0.components);
        const roApply = await runCli(['monitoring', 'apply', '--yes'], {
          kubeconfig: cp.kubeconfig('readonly'),
        });
        assert.equal(roApply.code, 3, roApply.stderr);
        assert.match(roApply.stderr, /may not .*patch/);
        assert.deepEqual(await world(cp, ns), before, 'nothing written by the read-only user');
        // the status command's finding names the object the fix patches
        const st = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
        const felixFinding = st
          .json<{ findings: Report['findings'] }>()
          .findings.find((f) => f.code === 'FELIX_METRICS_DISABLED');
        assert.deepEqual(
          felixFinding?.objects.map((o) => o.kind),
          [install === 'operator' ? 'Installation' : 'FelixConfiguration'],
        );

        // the plan, and a server dry run: every object passes the server's validation, nothing is written
        const p = await cli(['plan', '--alerts', '--dashboards', '-o', 'json']);
        assert.equal(p.code, 0, p.stderr);
        const steps = p.json<{ steps: { action: string; object: { kind: string; name: string } }[] }>().steps;
        const expected =
          install === 'operator'
            ? [
                'patch Installation/default',
                'patch Installation/default',
                'patch KubeControllersConfiguration/default',
                'create Service/calico-felix-metrics',
                // Calico v3.27's operator (v1.32) makes no calico-typha-metrics; v1.34 and later do
                ...(calico === 'v3.27.3' ? ['create Service/calico-typha-metrics'] : []),
                'create ServiceMonitor/calico-felix-metrics',
                'create ServiceMonitor/calico-typha-metrics',
                'create ServiceMonitor/calico-kube-controllers-metrics',
                'create PrometheusRule/calico-alerts',
                'create ConfigMap/calico-grafana-dashboards',
              ]
            : [
                'patch FelixConfiguration/default',
                'patch Deployment/calico-typha',
                'patch KubeControllersConfiguration/default',
                'create Service/calico-felix-metrics',
                'create Service/calico-typha-metrics',
                'create Service/calico-kube-controllers-metrics',
                'create ServiceMonitor/calico-felix-metrics',
                'create ServiceMonitor/calico-typha-metrics',
                'create ServiceMonitor/calico-kube-controllers-metrics',
                'create PrometheusRule/calico-alerts',
                'create ConfigMap/calico-grafana-dashboards',
              ];
        assert.deepEqual(
          steps.map((x) => `${x.action} ${x.object.kind}/${x.object.name}`),
          expected,
        );
        const dry = await cli(['apply', '--alerts', '--dashboards', '--dry-run=server', '--yes']);
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(
          dry.stderr,
          new RegExp(`${steps.length}/${steps.length}\\] .*accepted by the API server`),
        );
        assert.deepEqual(await world(cp, ns), before, 'a server dry run writes nothing');

        // killed after its last step (recorded, lock not released): rollback restores every switch and
        // deletes everything the plan created
        const total = steps.length;
        const mark = cp.audit.mark();
        const killed = await cli(['apply', '--alerts', '--dashboards', '--yes'], {
          CALICO_TUNE_TEST_CRASH: `after-step:${total}`,
        });
        assert.equal(killed.signal, 'SIGKILL', killed.stderr);
        const mid = await world(cp, ns);
        assert.equal((mid['serviceMonitors'] as string[]).length, 3);
        const rb = await cli(['apply', '--rollback', '--yes', '-o', 'json']);
        assert.equal(rb.code, 0, rb.stderr);
        assert.equal(rb.json<{ outcome: string }>().outcome, 'rolled-back');
        assert.match(rb.json<{ message: string }>().message, /matches the state before the plan/);
        assert.deepEqual(await world(cp, ns), before, 'everything as before the plan');
        const writes = (
          await cp.audit.writesSince(mark, { user: USERS.plugin.name, onlySucceeded: true })
        ).filter((e) => !['leases', 'caliconodestatuses'].includes(e.objectRef?.resource ?? ''));
        const of = (verb: string): string[] =>
          writes
            .filter((e) => e.verb === verb)
            .map((e) => `${e.objectRef?.resource} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name}`)
            .sort();
        assert.deepEqual(
          of('delete'),
          of('create'),
          `every create undone:\n${writes.map(describeEvent).join('\n')}`,
        );
        assert.equal(of('create').length, expected.filter((x) => x.startsWith('create')).length);
        assert.equal(of('patch').length, 2 * expected.filter((x) => x.startsWith('patch')).length);

        // killed mid-step 2 (written, not recorded): resume finds it live and finishes
        const k2 = await cli(['apply', '--alerts', '--dashboards', '--yes'], {
          CALICO_TUNE_TEST_CRASH: 'mid-step:2',
        });
        assert.equal(k2.signal, 'SIGKILL', k2.stderr);
        const res = await cli(['apply', '--resume', '--yes', '-o', 'json']);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(res.json<{ outcome: string }>().outcome, 'done');

        // everything on, exposed, scraped by ServiceMonitors the Prometheus selects; no gaps
        const s1 = await cli(['status', '-o', 'json']);
        const r1 = s1.json<Report>();
        for (const x of r1.components.filter((y) => y.present)) {
          assert.equal(x.enabled, true, `${x.component} on`);
          assert.ok(x.service, `${x.component} exposed`);
          assert.deepEqual(x.scrapedBy, [
            `monitoring/${x.component === 'felix' ? 'calico-felix-metrics' : `calico-${x.component}-metrics`}`,
          ]);
          assert.deepEqual(x.selectedBy, ['monitoring/k8s']);
        }
        // no gaps in the set-up; only the probe of /metrics says no pod serves them: the fixture's stand-in
        // pods have no pod IP (the real daemons are in monitoring-real.test.ts)
        assert.deepEqual(
          r1.findings.map((f) => f.code),
          r1.components.filter((x) => x.present).map(() => 'METRICS_NOT_SERVED'),
        );
        for (const x of r1.components.filter((y) => y.present))
          assert.match(
            x.serving.reason ?? '',
            /^(no calico-[a-z-]+ pod in|none of the \d+ calico-[a-z-]+ pod\(s\) in .* is running with a pod IP)/,
          );
        if (install === 'operator') {
          // the operator's own Services are used, not duplicated
          assert.deepEqual(
            r1.components.map((x) => [x.component, x.service?.name, x.service?.source]),
            [
              ['felix', 'calico-felix-metrics', 'cluster'],
              ['typha', 'calico-typha-metrics', calico === 'v3.27.3' ? 'cluster' : 'operator'],
              ['kube-controllers', 'calico-kube-controllers-metrics', 'operator'],
            ],
          );
          assert.deepEqual((await world(cp, ns))['services'], [
            'calico-system/calico-felix-metrics',
            // ours on v3.27 (its operator makes none), shaped as the v1.34 operator's
            ...(calico === 'v3.27.3' ? ['calico-system/calico-typha-metrics'] : []),
          ]);
        }
        const again = await cli(['apply', '--alerts', '--dashboards', '--yes']);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /nothing to do|monitoring is set up/i);
        const statusAll = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
        assert.ok(
          !statusAll
            .json<{ findings: { code: string }[] }>()
            .findings.some((f) => /METRICS|SERVICEMONITOR/.test(f.code)),
        );
      });
    }
  });
}
