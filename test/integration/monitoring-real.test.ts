/**
 * `metrics` (and `typha report`) on the real /metrics of a real calico-typha and a real kube-controllers,
 * built from the same Calico module as confd and calicoctl (tools/build.sh), running against the test API
 * server, each in a network namespace on a 198.18.0.0/15 pod IP that the API server's pod proxy reaches
 * (test/harness/calico-daemons.ts). No number here is written by the test: they come from the daemons.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { startCalicoDaemon, type CalicoDaemon } from '../harness/calico-daemons.js';
import { controlPlane, loadFixture, runCli, waitFor, type ControlPlane } from '../harness/index.js';

describe('metrics from a real Typha and a real kube-controllers (Calico v3.31)', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  const daemons: CalicoDaemon[] = [];
  const dir = path.join(os.tmpdir(), `calico-tune-daemons-${process.pid}`);

  before(async () => {
    cp = await controlPlane({ calico: 'v3.31.3' });
    // a manifest install with Typha metrics on and no stand-in Typha pods: the only pods are the real ones
    await loadFixture(cp, { nodes: 3, zones: 1, install: 'manifest', typhaMetrics: true, typhaPods: false });
    const node = (await cp.client().list('/api/v1/nodes')).items[0]!.metadata.name;
    daemons.push(
      await startCalicoDaemon(cp, { kind: 'typha', index: 0, namespace: 'kube-system', node, dir }),
      await startCalicoDaemon(cp, {
        kind: 'kube-controllers',
        index: 1,
        namespace: 'kube-system',
        node,
        dir,
      }),
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
            return (
              String(text).includes(d.kind === 'typha' ? 'typha_connections_active' : 'ipam_') || undefined
            );
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
