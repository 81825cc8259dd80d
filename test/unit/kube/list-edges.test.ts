/**
 * Paginated lists and kubeconfig proxies (found by a review; both cases failed before the fix):
 * - a `continue` token that expires mid-list (410 Expired, after an etcd compaction) ended the command with
 *   the server's advice ("use the continue token in this response"); client-go's pager (kubectl) reads the
 *   whole list again (pager.go FullListIfExpired), and so does KubeApi.list now;
 * - a kubeconfig cluster's `proxy-url` was silently ignored (the tool connected directly): the proxies are
 *   tested in proxy.test.ts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeApi } from '../../../src/kube/api.js';
import { KubeHttp } from '../../../src/kube/http.js';
import { Node } from '../../../src/model/resources.js';

const FAST = { baseDelayMs: 5, maxDelayMs: 20, retryAfterCapMs: 300 };

async function serve(h: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(h);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('paginated lists', function () {
  this.timeout(20_000);

  it('a continue token that expired mid-list (410) restarts the list, as kubectl does', async () => {
    const nodes = Array.from({ length: 5 }, (_, i) => ({ metadata: { name: `node-${i}` } }));
    let expired = false;
    const { server, url } = await serve((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams;
      const limit = Number(q.get('limit') ?? 0);
      const from = Number(q.get('continue') ?? 0);
      res.setHeader('content-type', 'application/json');
      if (q.get('continue') && !expired) {
        expired = true; // the first token is compacted away
        res.statusCode = 410;
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            code: 410,
            reason: 'Expired',
            message: 'The provided continue parameter is too old to display a consistent list result.',
          }),
        );
        return;
      }
      const page = limit ? nodes.slice(from, from + limit) : nodes.slice(from);
      const next = limit && from + limit < nodes.length ? String(from + limit) : undefined;
      res.end(
        JSON.stringify({
          kind: 'NodeList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '9', ...(next ? { continue: next } : {}) },
          items: page,
        }),
      );
    });
    const client = new KubeHttp(
      {
        server: url,
        namespace: 'default',
        insecureSkipTlsVerify: false,
        impersonateGroups: [],
        origin: 'test',
      },
      { retry: FAST },
    );
    try {
      const got = await new KubeApi(client).list(Node, { pageSize: 2 });
      assert.deepEqual(
        got.items.map((n) => n.metadata.name),
        nodes.map((n) => n.metadata.name),
      );
    } finally {
      client.close();
      server.close();
    }
  });
});
