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
import { controlPlane, loadFixture, runCli, waitFor, type ControlPlane } from '../harness/index.js';
import { FELIX_TABLE4 } from '../../src/monitoring/metrics.js';

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

  before(async () => {
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
    daemons.push(
      await startCalicoDaemon(cp, { kind: 'typha', index: 0, namespace: 'kube-system', node, dir }),
      await startCalicoDaemon(cp, {
        kind: 'kube-controllers',
        index: 1,
        namespace: 'kube-system',
        node,
        dir,
      }),
      await startCalicoDaemon(cp, { kind: 'felix', index: 2, namespace: 'kube-system', node, dir }),
    );
    // both serve /metrics through the real proxy (Typha once its caches sync; kube-controllers once it runs)
    for (const d of daemons)
      await waitFor(
        async () => {
          try {
            const text = await cp
              .client()
              .request<string>(
                'GET',
                `/api/v1/namespaces/${d.namespace}/pods/${d.pod}:${d.port}/proxy/metrics`,
              );
            return READY[d.kind].test(String(text)) || undefined;
          } catch {
            return undefined;
          }
        },
        {
          timeoutMs: 90_000,
          intervalMs: 500,
          what: `${d.kind} /metrics through the pod proxy (log: ${d.log})`,
        },
      );
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
});
