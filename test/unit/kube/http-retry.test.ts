/**
 * The REST client's retry policy against a real local HTTP server (node:http on a loopback port): what is
 * retried (429, 5xx, resets, timeouts, refused-after-answer), what is not (writes without a precondition,
 * evictions, 4xx), Retry-After, the time budget, and the re-read that resolves a 409 caused by our own
 * earlier attempt.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeApi } from '../../../src/kube/api.js';
import {
  ApiError,
  backoffMs,
  DEFAULT_RETRY,
  KubeHttp,
  parseRetryAfter,
  repeatOf,
  type RetryEvent,
} from '../../../src/kube/http.js';
import type { ResolvedConfig } from '../../../src/kube/kubeconfig.js';
import { Lease, Node } from '../../../src/model/resources.js';
import { CliError } from '../../../src/errors.js';

interface Seen {
  method: string;
  url: string;
  body: string;
}

/** What the server does with the n-th request (0-based) it sees. */
type Behaviour = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  n: number,
  body: string,
) => void | Promise<void>;

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}

function statusBody(code: number, reason: string, message = reason): unknown {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

class TestServer {
  readonly seen: Seen[] = [];
  behaviour: Behaviour = (_q, res) => json(res, 200, {});
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = this.seen.length;
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      void this.behaviour(req, res, n, body);
    });
  });
  port = 0;
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function cfg(port: number, requestTimeoutMs?: number): ResolvedConfig {
  return {
    server: `http://127.0.0.1:${port}`,
    namespace: 'default',
    insecureSkipTlsVerify: false,
    impersonateGroups: [],
    requestTimeoutMs,
    origin: 'test',
  };
}

const FAST = { baseDelayMs: 5, maxDelayMs: 20, retryAfterCapMs: 300 };

function reset(req: http.IncomingMessage): void {
  req.socket.resetAndDestroy();
}

describe('kube/http retries', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let client: KubeHttp;
  let events: RetryEvent[];
  beforeEach(async () => {
    srv = await new TestServer().start();
    client = new KubeHttp(cfg(srv.port), { retry: FAST });
    events = [];
    client.onRetry = (e) => events.push(e);
  });
  afterEach(async () => {
    client.close();
    await srv.stop();
  });

  describe('classification', () => {
    it('reads are idempotent; writes need a precondition, creates are their own kind', () => {
      assert.equal(repeatOf('GET', '/api/v1/nodes', undefined), 'idempotent');
      assert.equal(repeatOf('PATCH', '/api/v1/nodes/a', { metadata: { labels: { a: 'b' } } }), 'unsafe');
      assert.equal(
        repeatOf('PATCH', '/api/v1/nodes/a', { metadata: { resourceVersion: '12', labels: {} } }),
        'conditional',
      );
      assert.equal(repeatOf('PATCH', '/api/v1/nodes/a', { metadata: { resourceVersion: '' } }), 'unsafe');
      assert.equal(repeatOf('PUT', '/x', { metadata: { name: 'a', resourceVersion: '3' } }), 'conditional');
      assert.equal(repeatOf('PUT', '/x', { metadata: { name: 'a' } }), 'unsafe');
      assert.equal(repeatOf('DELETE', '/x', { kind: 'DeleteOptions' }), 'unsafe');
      assert.equal(repeatOf('DELETE', '/x', { preconditions: { resourceVersion: '7' } }), 'conditional');
      assert.equal(repeatOf('DELETE', '/x', { preconditions: { uid: 'u' } }), 'conditional');
      assert.equal(repeatOf('POST', '/api/v1/nodes', { metadata: { name: 'a' } }), 'unsafe');
      assert.equal(
        repeatOf('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {}),
        'idempotent',
      );
    });

    it('Retry-After in seconds and as a date; backoff grows, is capped and jittered', () => {
      assert.equal(parseRetryAfter('3'), 3000);
      assert.equal(parseRetryAfter(undefined), undefined);
      assert.equal(parseRetryAfter('soon'), undefined);
      const now = Date.parse('2026-01-01T00:00:00Z');
      assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now), 2000);
      assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
      const p = DEFAULT_RETRY;
      assert.equal(
        backoffMs(1, p, () => 0),
        p.baseDelayMs / 2,
      );
      assert.equal(
        backoffMs(1, p, () => 1),
        p.baseDelayMs,
      );
      assert.equal(
        backoffMs(2, p, () => 1),
        p.baseDelayMs * 2,
      );
      assert.equal(
        backoffMs(10, p, () => 1),
        p.maxDelayMs,
      );
      assert.ok(backoffMs(10, p, () => 0) >= p.maxDelayMs / 2);
    });
  });

  describe('reads', () => {
    for (const status of [500, 502, 503, 504, 429]) {
      it(`GET is retried after ${status} and succeeds`, async () => {
        srv.behaviour = (_q, res, n) =>
          n === 0 ? json(res, status, statusBody(status, 'Boom')) : json(res, 200, { ok: true });
        assert.deepEqual(await client.request('GET', '/api/v1/nodes'), { ok: true });
        assert.equal(srv.seen.length, 2);
        assert.equal(client.retries, 1);
      });
    }

    it('abort() ends a request in flight for good: no retry, and no new request (the unused prefetch)', async () => {
      srv.behaviour = () => {}; // never answers
      const pending = client.request('GET', '/apis').then(
        () => assert.fail('answered'),
        (e: unknown) => e,
      );
      while (srv.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      client.abort();
      assert.ok((await pending) instanceof CliError);
      assert.equal(srv.seen.length, 1, 'retried after abort');
      assert.deepEqual(events, []);
      await assert.rejects(client.request('GET', '/version'), /the client was closed/);
      assert.equal(srv.seen.length, 1);
    });

    it('GET is retried after a connection reset', async () => {
      srv.behaviour = (req, res, n) => (n === 0 ? reset(req) : json(res, 200, { ok: 1 }));
      assert.deepEqual(await client.request('GET', '/version'), { ok: 1 });
      assert.equal(srv.seen.length, 2);
      assert.match(events[0]!.why, /ECONNRESET/);
    });

    it('gives up after the bounded number of attempts with the last error, saying how many', async () => {
      srv.behaviour = (_q, res) => json(res, 503, statusBody(503, 'ServiceUnavailable', 'etcd is down'));
      await assert.rejects(client.request('GET', '/api/v1/nodes'), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 503);
        assert.equal(e.attempts, DEFAULT_RETRY.attempts);
        assert.match(e.message, /etcd is down \(after 4 attempts\)/);
        return true;
      });
      assert.equal(srv.seen.length, DEFAULT_RETRY.attempts);
    });

    it('does not retry 4xx answers (400, 403, 404, 409, 422)', async () => {
      for (const status of [400, 403, 404, 409, 422]) {
        const before = srv.seen.length;
        srv.behaviour = (_q, res) => json(res, status, statusBody(status, 'No'));
        await assert.rejects(client.request('GET', '/x'), (e: unknown) => (e as ApiError).status === status);
        assert.equal(srv.seen.length - before, 1, `${status} sent once`);
      }
    });

    it('honours Retry-After (capped) on 429', async () => {
      srv.behaviour = (_q, res, n) =>
        n === 0
          ? json(res, 429, statusBody(429, 'TooManyRequests'), { 'Retry-After': '1' })
          : json(res, 200, {});
      const capped = new KubeHttp(cfg(srv.port), { retry: { ...FAST, retryAfterCapMs: 150 } });
      const waits: number[] = [];
      capped.onRetry = (e) => waits.push(e.delayMs);
      const t0 = Date.now();
      await capped.request('GET', '/x');
      const took = Date.now() - t0;
      capped.close();
      assert.deepEqual(waits, [150], 'Retry-After 1 s capped at 150 ms');
      assert.ok(took >= 140, `and it did wait: ${took} ms`);
      const honoured = new KubeHttp(cfg(srv.port), { retry: { ...FAST, retryAfterCapMs: 5000 } });
      srv.behaviour = (_q, res, n) =>
        n === 2
          ? json(res, 429, statusBody(429, 'TooManyRequests'), { 'Retry-After': '1' })
          : json(res, 200, {});
      const honouredWaits: number[] = [];
      honoured.onRetry = (e) => honouredWaits.push(e.delayMs);
      const t1 = Date.now();
      await honoured.request('GET', '/x');
      honoured.close();
      assert.deepEqual(honouredWaits, [1000], 'a 1 s Retry-After under the cap is honoured');
      assert.ok(Date.now() - t1 >= 990, 'and waited');
    });

    it('retries a held response within the --request-timeout budget, and stops at the budget', async () => {
      // a 4 s budget: the first attempt gets half of it, so the retry has 2 s to be answered on a loaded machine
      const slow = new KubeHttp(cfg(srv.port, 4000), { retry: FAST });
      srv.behaviour = (_q, res, n) => {
        if (n > 0) json(res, 200, { n });
        // n === 0: never answered
      };
      const t0 = Date.now();
      assert.deepEqual(await slow.request('GET', '/x'), { n: 1 });
      const took = Date.now() - t0;
      // the answer of a second attempt proves the first was cut before the 4 s budget ran out
      assert.ok(took >= 1950, `first attempt cut at half the budget: ${took} ms`);
      srv.behaviour = () => {}; // never answers
      const t1 = Date.now();
      await assert.rejects(slow.request('GET', '/y'), (e: unknown) => {
        assert.ok(e instanceof CliError);
        assert.match(e.message, /did not answer/);
        return true;
      });
      const took2 = Date.now() - t1;
      // the lower bound is exact; the upper one only tells the budget from no budget (60 s) on a loaded machine
      assert.ok(
        took2 >= 3900 && took2 < 20_000,
        `the whole request stays within the 4 s budget: ${took2} ms`,
      );
      slow.close();
    });

    it('a refused connection fails at once when the server never answered (a wrong port is not transient)', async () => {
      const port = srv.port;
      await srv.stop();
      const c = new KubeHttp(cfg(port), { retry: FAST });
      await assert.rejects(c.request('GET', '/version'), /connection refused/);
      assert.equal(c.retries, 0);
      c.close();
      srv = await new TestServer().start(); // for afterEach
    });

    it('a refused connection is retried once the server had answered (a restarting API server)', async () => {
      const c = new KubeHttp(cfg(srv.port), { retry: { ...FAST, baseDelayMs: 100, maxDelayMs: 400 } });
      await c.request('GET', '/version');
      const port = srv.port;
      await srv.stop();
      c.close();
      const restarted = new TestServer();
      setTimeout(() => {
        void (async () => {
          await new Promise<void>((r) =>
            (restarted as unknown as { server: http.Server }).server.listen(port, '127.0.0.1', r),
          );
        })();
      }, 60);
      assert.deepEqual(await c.request('GET', '/version'), {});
      assert.ok(c.retries >= 1);
      c.close();
      srv = restarted;
    });
  });

  describe('writes', () => {
    const api = (): KubeApi => new KubeApi(client);

    it('a merge patch without a precondition is sent once, even on a 500 or a reset', async () => {
      srv.behaviour = (_q, res) => json(res, 500, statusBody(500, 'InternalError'));
      await assert.rejects(
        api().mergePatch(Node, 'a', { metadata: { labels: { x: 'y' } } }),
        /InternalError/,
      );
      assert.equal(srv.seen.length, 1);
      srv.behaviour = (req) => reset(req);
      await assert.rejects(api().mergePatch(Node, 'a', { metadata: { labels: { x: 'y' } } }));
      assert.equal(srv.seen.length, 2);
      assert.equal(client.retries, 0);
    });

    it('but every write is retried after 429 (the server did not process it)', async () => {
      srv.behaviour = (_q, res, n) =>
        n === 0
          ? json(res, 429, statusBody(429, 'TooManyRequests'), { 'Retry-After': '0' })
          : json(res, 200, { metadata: { name: 'a' } });
      await api().mergePatch(Node, 'a', { metadata: { labels: { x: 'y' } } });
      assert.equal(srv.seen.length, 2);
    });

    it('and after a 503 with Retry-After', async () => {
      srv.behaviour = (_q, res, n) =>
        n === 0
          ? json(res, 503, statusBody(503, 'ServiceUnavailable'), { 'Retry-After': '0' })
          : json(res, 200, { metadata: { name: 'a' } });
      await api().mergePatch(Node, 'a', { metadata: { labels: { x: 'y' } } });
      assert.equal(srv.seen.length, 2);
    });

    it('an eviction is never repeated here (a PDB answers 429; the executor has its own loop)', async () => {
      srv.behaviour = (_q, res) =>
        json(res, 429, statusBody(429, 'TooManyRequests', 'Cannot evict pod'), { 'Retry-After': '0' });
      await assert.rejects(api().evict('p', 'ns'), (e: unknown) => (e as ApiError).status === 429);
      assert.equal(srv.seen.length, 1);
    });

    it('a delete without a precondition is sent once; with one it is retried', async () => {
      srv.behaviour = (_q, res) => json(res, 500, statusBody(500, 'InternalError'));
      await assert.rejects(api().delete(Node, 'a'));
      assert.equal(srv.seen.length, 1);
      srv.behaviour = (_q, res, n) =>
        n === 1 ? json(res, 500, statusBody(500, 'InternalError')) : json(res, 200, {});
      assert.equal(await api().delete(Node, 'a', { preconditions: { resourceVersion: '5' } }), true);
      assert.equal(srv.seen.length, 3);
    });

    /** A tiny object store: PATCH with a resourceVersion precondition, GET; `resetAfter` drops one answer. */
    function nodeStore(opts: {
      resetAfterWrite: number[];
      otherWriter?: boolean;
    }): () => Record<string, unknown> {
      let node: Record<string, unknown> = {
        metadata: { name: 'a', resourceVersion: '1', labels: { keep: 'me' } },
      };
      let writes = 0;
      srv.behaviour = (req, res, _n, body) => {
        if (req.method === 'GET') return json(res, 200, node);
        const p = JSON.parse(body) as { metadata: Record<string, unknown> };
        const meta = node['metadata'] as Record<string, unknown>;
        if (p.metadata['resourceVersion'] !== meta['resourceVersion'])
          return json(res, 409, statusBody(409, 'Conflict', 'the object has been modified'));
        const labels = { ...(meta['labels'] as Record<string, string>) };
        for (const [k, v] of Object.entries((p.metadata['labels'] ?? {}) as Record<string, string | null>)) {
          if (v === null) delete labels[k];
          else labels[k] = v;
        }
        if (opts.otherWriter) labels['someone'] = 'else';
        node = {
          metadata: { ...meta, labels, resourceVersion: String(Number(meta['resourceVersion']) + 1) },
        };
        if (opts.resetAfterWrite.includes(writes++)) return reset(req);
        json(res, 200, node);
      };
      return () => node;
    }

    it('a conditional patch whose answer was lost is retried; the 409 from our own write is resolved by a re-read', async () => {
      const live = nodeStore({ resetAfterWrite: [0] });
      const out = await api().mergePatch(Node, 'a', {
        metadata: { resourceVersion: '1', labels: { 'route-reflector': 'true', keep: null } },
      });
      assert.deepEqual((out.metadata.labels as Record<string, string>) ?? {}, { 'route-reflector': 'true' });
      assert.deepEqual(
        srv.seen.map((s) => s.method),
        ['PATCH', 'PATCH', 'GET'],
        'sent, reset, re-sent (409: applied already), re-read',
      );
      assert.equal(
        (live()['metadata'] as Record<string, unknown>)['resourceVersion'],
        '2',
        'applied exactly once',
      );
    });

    it('a 409 after a lost answer stands when the live object does not hold our write (someone else changed it)', async () => {
      let node = { metadata: { name: 'a', resourceVersion: '9', labels: { other: 'x' } } };
      srv.behaviour = (req, res, n) => {
        if (req.method === 'GET') return json(res, 200, node);
        if (n === 0) {
          node = { metadata: { name: 'a', resourceVersion: '10', labels: { other: 'y' } } };
          return reset(req); // the server did not apply ours; someone else wrote
        }
        json(res, 409, statusBody(409, 'Conflict', 'the object has been modified'));
      };
      await assert.rejects(
        api().mergePatch(Node, 'a', { metadata: { resourceVersion: '9', labels: { mine: 'z' } } }),
        (e: unknown) => e instanceof ApiError && e.conflict && e.afterAmbiguousAttempt,
      );
    });

    it('a plain 409 (no earlier attempt) is returned as it is, without a re-read', async () => {
      srv.behaviour = (_q, res) => json(res, 409, statusBody(409, 'Conflict'));
      await assert.rejects(
        api().mergePatch(Node, 'a', { metadata: { resourceVersion: '9', labels: { mine: 'z' } } }),
        (e: unknown) => e instanceof ApiError && e.conflict && !e.afterAmbiguousAttempt,
      );
      assert.equal(srv.seen.length, 1);
    });

    it('a create whose answer was lost: the repeat gets AlreadyExists, resolved when the object is ours', async () => {
      const lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'calico-tune', namespace: 'kube-system', labels: { a: 'b' } },
        spec: { holderIdentity: 'me', leaseDurationSeconds: 30 },
      };
      let stored: Record<string, unknown> | undefined;
      srv.behaviour = (req, res, _n, body) => {
        if (req.method === 'GET')
          return stored ? json(res, 200, stored) : json(res, 404, statusBody(404, 'NotFound'));
        if (stored)
          return json(res, 409, statusBody(409, 'AlreadyExists', 'leases "calico-tune" already exists'));
        const o = JSON.parse(body) as Record<string, unknown>;
        stored = { ...o, metadata: { ...(o['metadata'] as object), resourceVersion: '1', uid: 'u1' } };
        reset(req);
      };
      const out = await api().create(Lease, lease);
      assert.equal(out.metadata.uid, 'u1');
      assert.deepEqual(
        srv.seen.map((s) => s.method),
        ['POST', 'POST', 'GET'],
      );
    });

    it('AlreadyExists for an object that is not ours stays an error, marked alreadyExists', async () => {
      srv.behaviour = (req, res, n) => {
        if (req.method === 'GET')
          return json(res, 200, { metadata: { name: 'x' }, spec: { holderIdentity: 'someone-else' } });
        if (n === 0) return json(res, 503, statusBody(503, 'ServiceUnavailable'));
        json(res, 409, statusBody(409, 'AlreadyExists'));
      };
      await assert.rejects(
        api().create(Lease, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'x', namespace: 'kube-system' },
          spec: { holderIdentity: 'me' },
        }),
        (e: unknown) => e instanceof ApiError && e.alreadyExists && e.afterAmbiguousAttempt,
      );
    });

    it('a conditional PUT (the journal Lease) whose answer was lost is resolved by a re-read', async () => {
      let stored = {
        metadata: { name: 'l', namespace: 'kube-system', resourceVersion: '4', annotations: { s: '1' } },
        spec: { holderIdentity: 'me', renewTime: 't1' },
      };
      srv.behaviour = (req, res, _n, body) => {
        if (req.method === 'GET') return json(res, 200, stored);
        const o = JSON.parse(body) as typeof stored;
        if (o.metadata.resourceVersion !== stored.metadata.resourceVersion)
          return json(res, 409, statusBody(409, 'Conflict'));
        stored = { ...o, metadata: { ...o.metadata, resourceVersion: '5' } };
        reset(req);
      };
      const out = await api().replace(Lease, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'l', namespace: 'kube-system', resourceVersion: '4', annotations: { s: '2' } },
        spec: { holderIdentity: 'me', renewTime: 't2' },
      });
      assert.equal(out.metadata.resourceVersion, '5');
      assert.deepEqual(
        srv.seen.map((s) => s.method),
        ['PUT', 'PUT', 'GET'],
      );
    });

    it('a conditional delete whose answer was lost: the repeat gets 404, reported as deleted', async () => {
      srv.behaviour = (req, res, n) => (n === 0 ? reset(req) : json(res, 404, statusBody(404, 'NotFound')));
      assert.equal(await api().delete(Node, 'a', { preconditions: { resourceVersion: '3' } }), true);
      assert.equal(srv.seen.length, 2);
    });
  });
});
