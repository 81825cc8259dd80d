/**
 * A 5,000-node cluster: the fixture loads (keep-alive agent, 64 requests in flight) and `status` reads and
 * reports it. Times are printed and collected in the harness summary, never asserted (bench/ measures speed).
 */
import assert from 'node:assert/strict';
import { KubeApi } from '../../src/kube/api.js';
import { KubeHttp } from '../../src/kube/http.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { readLiveSnapshot } from '../../src/kube/snapshot.js';
import {
  controlPlane,
  describeRun,
  loadFixture,
  measure,
  runCli,
  type ControlPlane,
} from '../harness/index.js';

const NODES = Number(process.env['CALICO_TUNE_SCALE_NODES'] ?? 5000);

describe(`scale: ${NODES} nodes`, function () {
  this.timeout(300_000);
  let cp: ControlPlane;

  before(async () => {
    cp = await controlPlane();
    const requests0 = cp.client().requests;
    const r = await loadFixture(cp, { nodes: NODES, zones: 3, rrs: 6, install: 'operator' });
    measure(
      `${NODES}-node fixture: ${r.objects} objects in ${r.ms} ms (${cp.client().requests - requests0} requests, reset included)`,
    );
  });

  after(async () => {
    const r = await cp.reset();
    measure(`${NODES}-node reset(): ${r.ms} ms`);
  });

  it('status completes and counts every node', async () => {
    const r = await runCli(['status', '--kubeconfig', cp.kubeconfig('plugin'), '-o', 'json'], {
      timeoutMs: 240_000,
    });
    measure(`status -o json on ${NODES} nodes: ${r.durationMs} ms (exit ${r.code})`);
    process.stdout.write(`      status on ${NODES} nodes took ${r.durationMs} ms\n`);
    assert.ok(r.code === 0 || r.code === 1, describeRun(r, 'status'));
    const rep = r.json<{
      nodes: { total: number };
      bgp: { routeReflectors: unknown[]; meshEnabled: boolean };
    }>();
    assert.equal(rep.nodes.total, NODES);
    assert.equal(rep.bgp.routeReflectors.length, 6);
    assert.equal(rep.bgp.meshEnabled, false);
  });

  it('reads gzip from the API server and decodes it; a report may read from the cache, with the same objects', async () => {
    const http = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('plugin') }));
    try {
      const api = new KubeApi(http);
      const fresh = await readLiveSnapshot(api);
      const bytes = { ...http.bytes };
      const requests = Object.values(http.counts).reduce((a, b) => a + b, 0);
      const cached = await readLiveSnapshot(api, { cachedOk: true });
      measure(
        `live read of ${NODES} nodes: ${(bytes.wire / 1e6).toFixed(2)} MB on the wire, ${(bytes.decoded / 1e6).toFixed(2)} MB decoded, ${requests} requests`,
      );
      assert.equal(fresh.nodes.length, NODES);
      // the server compresses large responses: several times smaller on the wire than decoded
      assert.ok(bytes.wire * 4 < bytes.decoded, `wire ${bytes.wire} B, decoded ${bytes.decoded} B`);
      assert.deepEqual(
        cached.nodes.map((n) => n.name),
        fresh.nodes.map((n) => n.name),
      );
      assert.deepEqual(
        cached.bgpPeers.map((p) => p.name),
        fresh.bgpPeers.map((p) => p.name),
      );
    } finally {
      http.close();
    }
  });
});
