/**
 * `metrics` (and `typha report`) on the real /metrics of a real calico-typha, a real kube-controllers and a real
 * Felix (iptables dataplane), built from the same Calico module as confd and calicoctl (tools/build.sh),
 * running against the test API server, each in a network namespace on a 198.18.0.0/15 pod IP that the API
 * server's pod proxy reaches (test/harness/calico-daemons.ts). No number here is written by the test: they
 * come from the daemons.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCalicoDaemon, type CalicoDaemon } from '../harness/calico-daemons.js';
import { controlPlane, loadFixture, measure, runCli, waitFor, type ControlPlane } from '../harness/index.js';
import { FELIX_TABLE4 } from '../../src/monitoring/metrics.js';
import { familyCount } from '../../src/monitoring/probe.js';
import { alertRules } from '../../src/monitoring/alerts.js';

interface StatusJson {
  probe: { ran: boolean; reason: string | null; timeoutMs: number | null };
  components: {
    component: string;
    enabled: boolean;
    port: number;
    serving: {
      state: string;
      serving: boolean | null;
      pod: string | null;
      families: number | null;
      reason: string | null;
      pods: { pod: string; families: number | null; error: string | null }[];
    };
  }[];
  findings: { code: string; message: string; fix?: string }[];
}

/** What each daemon serves once it has synced (Felix: once it has programmed iptables). */
const READY = {
  typha: /^typha_connections_active /m,
  'kube-controllers': /^ipam_/m,
  felix: /^felix_iptables_restore_calls [1-9]/m,
} as const;

describe('metrics from a real Typha, kube-controllers and Felix (Calico v3.31)', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  const daemons: CalicoDaemon[] = [];
  let node: string;
  const dir = path.join(os.tmpdir(), `calico-tune-daemons-${process.pid}`);

  before(async function () {
    // the control plane's start (up to three attempts, test/harness/control-plane.ts) and the daemons' waits
    // (90 s) end in errors that say why: this hook's timeout is above their sum, so mocha's bare "Timeout of
    // 180000ms" (the CI run of the stop of 2026-12-02, where which part hung was lost) cannot hide them
    this.timeout(480_000);
    cp = await controlPlane({ calico: 'v3.31.3' });
    // a manifest install with Typha metrics on and no stand-in Typha pods: the only pods are the real ones
    await loadFixture(cp, {
      nodes: 3,
      zones: 1,
      install: 'manifest',
      typhaMetrics: true,
      typhaPods: false,
      felixMetrics: true,
    });
    node = (await cp.client().list('/api/v1/nodes')).items[0]!.metadata.name;
    const kinds = ['typha', 'kube-controllers', 'felix'] as const;
    for (const [index, kind] of kinds.entries())
      daemons.push(await startCalicoDaemon(cp, { kind, index, namespace: 'kube-system', node, dir }));
    // each serves /metrics through the real proxy (Typha once its caches sync, kube-controllers once it runs,
    // Felix once it has programmed iptables); waited for together, and how long each took is recorded
    const t0 = performance.now();
    const waits = await Promise.allSettled(
      daemons.map(async (d) => {
        let last = 'no answer yet';
        const why = (m: string): Error =>
          new Error(`${m}; last: ${last}; tail of ${d.log}:\n${d.logTail(40)}`);
        const end = await waitFor(
          async () => {
            if (d.exited()) return 'exited';
            try {
              const text = await cp
                .client()
                .request<string>(
                  'GET',
                  `/api/v1/namespaces/${d.namespace}/pods/${d.pod}:${d.port}/proxy/metrics`,
                  { timeoutMs: 5000 },
                );
              if (READY[d.kind].test(String(text))) return 'serving';
              last = `/metrics answers, without ${String(READY[d.kind])} yet`;
            } catch (e) {
              last = (e as Error).message.split('\n')[0]!;
            }
            return undefined;
          },
          { timeoutMs: 90_000, intervalMs: 500, what: `${d.kind} /metrics through the pod proxy` },
        ).catch((e: Error) => {
          throw why(e.message);
        });
        if (end === 'exited') throw why(`${d.kind} ${d.exited()!} before serving its metrics`);
        return `${d.kind} ${Math.round(performance.now() - t0)} ms`;
      }),
    );
    // every daemon that is not serving is named, each with its log (not only the first)
    const failed = waits.flatMap((w) => (w.status === 'rejected' ? [(w.reason as Error).message] : []));
    if (failed.length) throw new Error(failed.join('\n\n'));
    const took = waits.map((w) => (w as PromiseFulfilledResult<string>).value);
    measure(`real daemons serving their metrics through the pod proxy: ${took.join(', ')}`);
    // CALICO_TUNE_CAPTURE_FELIX=FILE: the real Felix's answer, for test/unit/monitoring/felix-fixtures.ts
    const capture = process.env['CALICO_TUNE_CAPTURE_FELIX'];
    const felix = daemons.find((d) => d.kind === 'felix')!;
    if (capture)
      fs.writeFileSync(
        capture,
        await cp
          .client()
          .request<string>(
            'GET',
            `/api/v1/namespaces/${felix.namespace}/pods/${felix.pod}:${felix.port}/proxy/metrics`,
          ),
      );
  });
  after(async () => {
    for (const d of daemons) await d.stop();
  });

  it('every metric the --alerts rules query is one the real daemons serve (a rule on a missing metric never fires)', async () => {
    const text = new Map<string, string>();
    for (const d of daemons)
      text.set(
        d.kind,
        String(
          await cp
            .client()
            .request<string>(
              'GET',
              `/api/v1/namespaces/${d.namespace}/pods/${d.pod}:${d.port}/proxy/metrics`,
            ),
        ),
      );
    const owner = { felix: 'felix', typha: 'typha', ipam: 'kube-controllers' } as const;
    const missing: string[] = [];
    let checked = 0;
    for (const g of alertRules().groups)
      for (const r of g.rules)
        for (const [name, prefix] of String(r.expr).matchAll(/\b(felix|typha|ipam)_[a-z0-9_]+/g)) {
          checked++;
          const served = text.get(owner[prefix as keyof typeof owner])!;
          if (!new RegExp(`^${name}[{ ]`, 'm').test(served)) missing.push(`${r.alert}: ${name}`);
        }
    assert.ok(checked >= 5, `${checked} metric references`);
    assert.deepEqual(missing, [], 'metrics the rules query that no daemon serves');
  });

  it('metrics reads both through the pod proxy: Typha connections and the IPAM gauges, nothing unread', async () => {
    const r = await runCli(
      ['metrics', '--component', 'typha,kube-controllers', '--timeout', '10s', '-o', 'json'],
      { kubeconfig: cp.kubeconfig('plugin') },
    );
    assert.equal(r.code, 0, r.stderr);
    const rep = r.json<{
      read: Record<string, { read: number; of: number }>;
      unread: unknown[];
      typha: { pods: { pod: string; connectionsActive: number | null }[]; total: number | null };
      nodes: { node: string; ipamAllocations: number | null }[];
    }>();
    assert.deepEqual(rep.unread, []);
    assert.deepEqual(rep.read['typha'], { read: 1, of: 1 });
    assert.deepEqual(rep.read['kube-controllers'], { read: 1, of: 1 });
    assert.deepEqual(
      rep.typha.pods.map((p) => p.pod),
      ['calico-typha-real-0'],
    );
    // no Felix connects to this Typha: the real gauge says 0 (a number, not "not read")
    assert.equal(rep.typha.pods[0]!.connectionsActive, 0);
    assert.equal(rep.typha.total, 0);
    const human = await runCli(['metrics', '--component', 'typha', '--timeout', '10s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.match(human.stdout, /Typha connections {2}total 0/);
    assert.match(human.stdout, /calico-typha-real-0/);
  });

  it("metrics --component felix: the guide's Table 4 rows of the real Felix, through the pod proxy", async () => {
    const r = await runCli(['metrics', '--component', 'felix', '--timeout', '10s', '-o', 'json'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(r.code, 0, r.stderr);
    const rep = r.json<{
      read: Record<string, { read: number; of: number }>;
      unread: unknown[];
      nodes: { node: string; felix: Record<string, number | null> | null; errors: number }[];
    }>();
    assert.deepEqual(rep.unread, []);
    assert.deepEqual(rep.read['felix'], { read: 1, of: 1 });
    const row = rep.nodes.find((n) => n.node === node);
    assert.ok(row?.felix, JSON.stringify(rep.nodes));
    // Felix v3.31 exports every counter of the table (0 is a number, not "not read")
    for (const m of FELIX_TABLE4) assert.equal(typeof row.felix[m], 'number', m);
    // it programmed its iptables (the before hook waited for that); nothing failed doing so
    assert.ok(row.felix['felix_iptables_restore_calls']! >= 1);
    assert.ok(row.felix['felix_iptables_save_calls']! >= 1);
    assert.equal(row.felix['felix_iptables_restore_errors'], 0);
    assert.equal(row.felix['felix_ipset_errors'], 0);
    assert.equal(
      row.errors,
      [
        'felix_ipset_errors',
        'felix_iptables_restore_errors',
        'felix_iptables_save_errors',
        'felix_log_errors',
      ]
        .map((m) => row.felix![m]!)
        .reduce((a, b) => a + b, 0),
    );
    const human = await runCli(['metrics', '--component', 'felix', '--timeout', '10s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^\\s*${node}\\s`, 'm'));
  });

  it('monitoring status: each component serving, with the real family count, read through the pod proxy', async () => {
    const direct = async (d: CalicoDaemon): Promise<number> =>
      familyCount(
        String(
          await cp
            .client()
            .request<string>(
              'GET',
              `/api/v1/namespaces/${d.namespace}/pods/${d.pod}:${d.port}/proxy/metrics`,
            ),
        ),
      );
    const before = await Promise.all(daemons.map(direct));
    const r = await runCli(['monitoring', 'status', '--timeout', '10s', '-o', 'json'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    const after = await Promise.all(daemons.map(direct));
    assert.equal(r.code, 0, r.stderr);
    const rep = r.json<StatusJson>();
    assert.deepEqual(rep.probe, { ran: true, reason: null, timeoutMs: 10_000 });
    daemons.forEach((d, i) => {
      const c = rep.components.find((x) => x.component === d.kind)!;
      assert.equal(c.serving.state, 'serving', JSON.stringify(c.serving));
      assert.equal(c.serving.pod, d.pod);
      // the daemon's own families (between two direct reads around the probe: Felix may add some as it runs)
      const n = c.serving.families!;
      assert.ok(
        n >= Math.min(before[i]!, after[i]!) && n <= Math.max(before[i]!, after[i]!),
        `${d.kind}: ${n} vs ${before[i]}..${after[i]}`,
      );
      assert.ok(n > 0);
    });
    assert.deepEqual(
      rep.findings.filter((f) => f.code === 'METRICS_NOT_SERVED'),
      [],
    );
    // CALICO_TUNE_CAPTURE_OUTPUT=DIR: the human `metrics` and `monitoring status` of these daemons (README)
    const out = process.env['CALICO_TUNE_CAPTURE_OUTPUT'];
    if (out)
      for (const [file, args] of [
        ['metrics.txt', ['metrics', '--timeout', '10s']],
        ['monitoring-status.txt', ['monitoring', 'status', '--timeout', '10s']],
      ] as const)
        fs.writeFileSync(
          path.join(out, file),
          (await runCli([...args], { kubeconfig: cp.kubeconfig('plugin') })).stdout,
        );
  });

  it('monitoring status as the read-only user: pods/proxy is forbidden, said, not a failure', async () => {
    const r = await runCli(['monitoring', 'status', '--timeout', '10s', '-o', 'json'], {
      kubeconfig: cp.kubeconfig('readonly'),
    });
    assert.equal(r.code, 0, r.stderr);
    const rep = r.json<StatusJson>();
    for (const d of daemons) {
      const c = rep.components.find((x) => x.component === d.kind)!;
      assert.equal(c.serving.state, 'forbidden', JSON.stringify(c.serving));
      assert.match(c.serving.reason!, /forbidden to get pods\/proxy/);
    }
    assert.deepEqual(
      rep.findings.filter((f) => f.code === 'METRICS_NOT_SERVED'),
      [],
    );
  });

  it('typha report reads the same real Typha live', async () => {
    const r = await runCli(['typha', 'report', '-o', 'json', '--metrics-timeout', '10s'], {
      kubeconfig: cp.kubeconfig('plugin'),
    });
    const rep = r.json<{ liveMetrics: { read: boolean; pods: { pod: string; ok: boolean }[] } }>();
    assert.equal(rep.liveMetrics.read, true, r.stderr);
    assert.deepEqual(
      rep.liveMetrics.pods.map((p) => [p.pod, p.ok]),
      [['calico-typha-real-0', true]],
    );
  });

  // last: it points the Typha Deployment's metrics port at a port nothing listens on, then restores it
  it('monitoring status: Typha switched on but its pod answers nothing on the configured port -> no, with why', async () => {
    const admin = cp.client('admin');
    const depPath = '/apis/apps/v1/namespaces/kube-system/deployments/calico-typha';
    type Dep = {
      spec: {
        template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } };
      };
    };
    const setPort = async (port: string): Promise<void> => {
      const dep = await admin.request<Dep>('GET', depPath);
      const ctr = dep.spec.template.spec.containers.find((x) => x.name === 'calico-typha')!;
      ctr.env = [
        ...(ctr.env ?? []).filter((e) => e.name !== 'TYPHA_PROMETHEUSMETRICSPORT'),
        { name: 'TYPHA_PROMETHEUSMETRICSPORT', value: port },
      ];
      await admin.request('PUT', depPath, { body: dep });
    };
    const orig = (await admin.request<Dep>('GET', depPath)).spec.template.spec.containers
      .find((x) => x.name === 'calico-typha')!
      .env?.find((e) => e.name === 'TYPHA_PROMETHEUSMETRICSPORT')?.value;
    await setPort('9099');
    try {
      const r = await runCli(['monitoring', 'status', '--timeout', '10s', '-o', 'json'], {
        kubeconfig: cp.kubeconfig('plugin'),
      });
      assert.equal(r.code, 0, r.stderr);
      const rep = r.json<StatusJson>();
      const typha = rep.components.find((x) => x.component === 'typha')!;
      assert.equal(typha.port, 9099);
      assert.equal(typha.serving.state, 'not-serving', JSON.stringify(typha.serving));
      assert.equal(typha.serving.serving, false);
      assert.match(typha.serving.reason!, /^calico-typha-real-0: .*connection refused/);
      // the others still serve
      assert.equal(rep.components.find((x) => x.component === 'felix')!.serving.state, 'serving');
      const f = rep.findings.filter((x) => x.code === 'METRICS_NOT_SERVED');
      assert.equal(f.length, 1, JSON.stringify(rep.findings));
      assert.match(
        f[0]!.message,
        /Typha metrics are on .* port 9099\) but no calico-typha pod serves \/metrics on :9099/,
      );
      assert.match(f[0]!.message, /TYPHA_PROMETHEUSMETRICSPORT/);
      assert.equal(f[0]!.fix, 'kubectl rollout status -n kube-system deployment/calico-typha');
    } finally {
      if (orig === undefined) {
        const dep = await admin.request<Dep>('GET', depPath);
        const ctr = dep.spec.template.spec.containers.find((x) => x.name === 'calico-typha')!;
        ctr.env = (ctr.env ?? []).filter((e) => e.name !== 'TYPHA_PROMETHEUSMETRICSPORT');
        await admin.request('PUT', depPath, { body: dep });
      } else await setPort(orig);
    }
  });
});
