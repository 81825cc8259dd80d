/**
 * A server that refuses protobuf (an authenticating proxy or API gateway that passes only JSON, and answers
 * 406 Not Acceptable or 415 to `Accept: application/vnd.kubernetes.protobuf,...`). A report asks for the Nodes
 * in protobuf whenever the discovery cache does not say the last list was small (the first run, a cache older
 * than 6 h, the cache off), so before the fallback every report (status, rr list, bgp topology, typha report)
 * failed with exit 3 and the proxy's message, run after run, while plans (JSON) read the same cluster
 * (found by a review against the real API server behind such a proxy).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeApi } from '../../../src/kube/api.js';
import { readCachedDiscovery } from '../../../src/kube/discovery-cache.js';
import { KubeHttp } from '../../../src/kube/http.js';
import type { ResolvedConfig } from '../../../src/kube/kubeconfig.js';
import { readLiveSnapshot } from '../../../src/kube/snapshot.js';

const NODE = {
  metadata: { name: 'n1', uid: 'u1', resourceVersion: '5', labels: { 'kubernetes.io/os': 'linux' } },
  spec: {},
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
  },
};

const status = (code: number, reason: string, message: string): object => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
});

for (const refusal of [406, 415]) {
  describe(`a server that refuses protobuf with ${refusal}`, () => {
    let server: http.Server;
    let port: number;
    /** The Accept header of each request for the Node list. */
    const nodeReads: string[] = [];
    /** The Node list the server answers. */
    let items = [NODE];
    let xdg: string;
    const env: Record<string, string | undefined> = {};
    before(async () => {
      server = http.createServer((req, res) => {
        const accept = String(req.headers.accept ?? '');
        const url = (req.url ?? '').split('?')[0];
        const send = (code: number, body: unknown): void => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (url === '/api/v1/nodes') nodeReads.push(accept);
        if (accept.includes('protobuf'))
          return send(refusal, status(refusal, 'NotAcceptable', 'only application/json is supported'));
        if (url === '/apis') return send(200, { kind: 'APIGroupList', groups: [] });
        if (url === '/version') return send(200, { gitVersion: 'v1.34.4' });
        if (url === '/api/v1/nodes')
          return send(200, {
            kind: 'NodeList',
            apiVersion: 'v1',
            metadata: { resourceVersion: '9' },
            items,
          });
        return send(404, status(404, 'NotFound', 'not found'));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      port = (server.address() as AddressInfo).port;
      xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-pb-refused-'));
      for (const k of ['XDG_CACHE_HOME', 'CALICO_TUNE_DISCOVERY_CACHE', 'CALICO_TUNE_PROTOBUF'])
        env[k] = process.env[k];
      process.env['XDG_CACHE_HOME'] = xdg;
      delete process.env['CALICO_TUNE_PROTOBUF'];
    });
    after(() => {
      server.close();
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      fs.rmSync(xdg, { recursive: true, force: true });
    });
    const api = (): KubeApi =>
      new KubeApi(
        new KubeHttp({
          server: `http://127.0.0.1:${port}`,
          namespace: 'default',
          insecureSkipTlsVerify: false,
          impersonateGroups: [],
          origin: 'test',
        } as ResolvedConfig),
      );

    it("a report reads the Nodes in JSON then, as a plan's read of the same server does", async () => {
      process.env['CALICO_TUNE_DISCOVERY_CACHE'] = '0'; // no cache: a first run, or one more than 6 h later
      nodeReads.length = 0;
      const plan = await readLiveSnapshot(api(), {});
      assert.equal(plan.nodes.length, 1);
      const report = await readLiveSnapshot(api(), { cachedOk: true });
      assert.deepEqual(
        report.nodes.map((n) => [n.name, n.internalIP, n.ready]),
        [['n1', '10.0.0.1', true]],
      );
      // the plan's read in JSON; the report's in protobuf, refused, then the same page in JSON
      assert.equal(nodeReads.length, 3);
      assert.match(nodeReads[1]!, /protobuf/);
      assert.doesNotMatch(nodeReads[2]!, /protobuf/);
    });

    it('the refusal is remembered: the next report asks in JSON at once', async () => {
      delete process.env['CALICO_TUNE_DISCOVERY_CACHE'];
      nodeReads.length = 0;
      await readLiveSnapshot(api(), { cachedOk: true });
      assert.equal(readCachedDiscovery(`http://127.0.0.1:${port}`)?.nodesProtobufRefused, true);
      nodeReads.length = 0;
      const again = await readLiveSnapshot(api(), { cachedOk: true });
      assert.equal(again.nodes.length, 1);
      assert.deepEqual(
        nodeReads.map((a) => a.includes('protobuf')),
        [false],
      );
      // and it stays remembered by the reports that did not ask, also above 2,000 Nodes (where a record
      // without it would send the next report to protobuf again: every other run paid a refused request)
      items = Array.from({ length: 2001 }, (_, i) => ({
        ...NODE,
        metadata: { ...NODE.metadata, name: `n${i}` },
      }));
      for (let run = 0; run < 3; run++) await readLiveSnapshot(api(), { cachedOk: true });
      assert.equal(readCachedDiscovery(`http://127.0.0.1:${port}`)?.nodesProtobufRefused, true);
      assert.ok(
        nodeReads.every((a) => !a.includes('protobuf')),
        nodeReads.join(' | '),
      );
    });
  });
}
