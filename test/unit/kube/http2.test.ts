/**
 * Reads over HTTP/2 (src/kube/http.ts): against a local TLS server that offers h2 and HTTP/1.1 (as
 * kube-apiserver does), GETs share one HTTP/2 connection while writes keep HTTP/1.1; a reset stream and a
 * connection the server drops are retried like HTTP/1.1 resets; an unanswered read ends in the request's
 * time budget; a server without h2 is read over HTTP/1.1. The real API server is read over HTTP/2 by every
 * integration test.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dns from 'node:dns';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CliError } from '../../../src/errors.js';
import zlib from 'node:zlib';
import { selfSignedCert } from '../../harness/tls.js';
import { KubeHttp, type RetryEvent } from '../../../src/kube/http.js';
import { jsonListDecoder, type JsonListStream } from '../../../src/kube/json-list.js';
import { nodeListDecoder, PROTOBUF } from '../../../src/kube/protobuf.js';
import type { ResolvedConfig } from '../../../src/kube/kubeconfig.js';
import { fullEnvelope, len } from '../../fixtures/protobuf-writer.js';

interface Seen {
  method: string;
  path: string;
  httpVersion: string;
}

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, n: number) => void;

const FAST = { baseDelayMs: 5, maxDelayMs: 20, retryAfterCapMs: 300 };

describe('kube/http: reads over HTTP/2', function () {
  this.timeout(20_000);
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  let server: http2.Http2SecureServer | https.Server;
  let port: number;
  let seen: Seen[];
  let sessions: number;
  let handler: Handler;
  let client: KubeHttp;
  let events: RetryEvent[];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-h2-'));
    ({ key, cert } = selfSignedCert(dir, { san: 'IP:127.0.0.1,DNS:api.test' }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cfg = (requestTimeoutMs?: number): ResolvedConfig => ({
    server: `https://127.0.0.1:${port}`,
    namespace: 'default',
    insecureSkipTlsVerify: false,
    impersonateGroups: [],
    ca: cert,
    requestTimeoutMs,
    origin: 'test',
  });

  const answer = (
    res: http2.Http2ServerResponse | import('node:http').ServerResponse,
    body: unknown,
  ): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function start(h2: boolean): Promise<void> {
    seen = [];
    sessions = 0;
    const onRequest = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
      const n = seen.length;
      seen.push({ method: req.method, path: req.url, httpVersion: req.httpVersion });
      req.on('data', () => {});
      req.on('end', () => handler(req, res, n));
    };
    server = h2
      ? http2.createSecureServer({ key, cert, allowHTTP1: true }, onRequest)
      : https.createServer({ key, cert }, onRequest as never);
    server.on('session', () => sessions++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    client = new KubeHttp(cfg(), { retry: FAST });
    events = [];
    client.onRetry = (e) => events.push(e);
  }

  /** Writes `body` in 8 pieces, a few milliseconds apart: the client decodes what has come while the rest is on its way. */
  const inPieces = (res: http2.Http2ServerResponse, body: Buffer): void => {
    const pieces = Array.from({ length: 8 }, (_, i) =>
      body.subarray((i * body.length) >> 3, ((i + 1) * body.length) >> 3),
    );
    const next = (): void => {
      if (res.stream.destroyed) return;
      const p = pieces.shift();
      if (p === undefined) return void res.end();
      res.write(p);
      setTimeout(next, 3);
    };
    next();
  };

  afterEach(async () => {
    client.close();
    await new Promise((r) => server.close(r));
  });

  it('reads share one HTTP/2 connection; writes go over HTTP/1.1', async () => {
    await start(true);
    handler = (req, res) => answer(res, { path: req.url });
    const paths = ['/api/v1/nodes', '/apis', '/version', '/api/v1/namespaces/kube-system'];
    const got = await Promise.all(paths.map((p) => client.request<{ path: string }>('GET', p)));
    assert.deepEqual(
      got.map((g) => g.path),
      paths,
    );
    await client.request('PATCH', '/api/v1/nodes/a', {
      body: { metadata: { labels: { x: 'y' }, resourceVersion: '1' } },
      contentType: 'application/merge-patch+json',
    });
    assert.deepEqual(seen.map((s) => `${s.method} ${s.httpVersion}`).sort(), [
      'GET 2.0',
      'GET 2.0',
      'GET 2.0',
      'GET 2.0',
      'PATCH 1.1',
    ]);
    assert.equal(sessions, 1, 'one HTTP/2 session for the reads');
  });

  it('abort() with reads in flight cancels each stream and closes the session once they are gone', async () => {
    await start(true);
    const codes: number[] = [];
    let closed = 0;
    server.on('session', (s: http2.ServerHttp2Session) => s.on('close', () => closed++));
    handler = (req, res, n) => {
      if (n === 0) answer(res, { first: true });
      else req.stream.on('close', () => codes.push(req.stream.rstCode)); // held: never answered
    };
    await client.request('GET', '/warm');
    const held = ['/a', '/b', '/c'].map((p) =>
      client.request('GET', p).then(
        () => 'answered',
        (e: Error) => e.message,
      ),
    );
    while (seen.length < 4) await new Promise((r) => setTimeout(r, 5));
    client.abort();
    for (const r of await Promise.all(held))
      assert.match(r, /closed without an answer|the client was closed/);
    while (codes.length < 3 || closed < 1) await new Promise((r) => setTimeout(r, 5));
    // each stream was cancelled by the client (RST_STREAM CANCEL), not cut by a destroyed connection, which
    // let a process exit with live native streams (Node 20 aborted: Realm base_object_count_)
    assert.deepEqual(codes, [
      http2.constants.NGHTTP2_CANCEL,
      http2.constants.NGHTTP2_CANCEL,
      http2.constants.NGHTTP2_CANCEL,
    ]);
    assert.equal(sessions, 1);
  });

  it('a protobuf list is gunzipped and decoded as it arrives; a damaged one is an error that cancels the stream', async () => {
    await start(true);
    const nodes = Array.from({ length: 400 }, (_, i) =>
      len(2, len(1, [...len(1, `node-${i}`), ...len(6, `${i}`)])),
    );
    const list = fullEnvelope([...len(1, len(2, '99')), ...nodes.flat()]);
    const codes: number[] = [];
    let body: Buffer = Buffer.alloc(0);
    let gzip = true;
    handler = (req, res) => {
      req.stream.on('close', () => codes.push(req.stream.rstCode));
      res.writeHead(200, { 'content-type': PROTOBUF, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      inPieces(res, body);
    };
    const read = (): Promise<unknown> =>
      client.request('GET', '/api/v1/nodes', { protobuf: nodeListDecoder }).then(
        (v) => v,
        (e: Error) => e.message,
      );

    body = zlib.gzipSync(list);
    const got = (await read()) as { items: { metadata: { name: string } }[]; metadata: unknown };
    assert.equal(got.items.length, 400);
    assert.equal(got.items[399]!.metadata.name, 'node-399');
    assert.deepEqual(got.metadata, { resourceVersion: '99' });
    assert.equal(client.bytes.wire, body.length);
    assert.equal(client.bytes.decoded, list.length);

    gzip = false;
    body = list;
    assert.equal(((await read()) as { items: unknown[] }).items.length, 400, 'not gzipped');

    // a list cut short in its gzip and in its protobuf; protobuf noise; a body that is not gzip
    gzip = true;
    const damaged: [Buffer, boolean, RegExp][] = [
      [zlib.gzipSync(list).subarray(0, 900), true, /corrupt gzip/],
      [zlib.gzipSync(list.subarray(0, list.length - 500)), true, /invalid protobuf/],
      [
        zlib.gzipSync(Buffer.concat([list.subarray(0, 40), Buffer.alloc(5000, 0xff)])),
        true,
        /invalid protobuf/,
      ],
      [Buffer.from('not gzip at all, and long enough to be more than one piece'), true, /corrupt gzip/],
    ];
    for (const [b, gz, message] of damaged) {
      body = b;
      gzip = gz;
      codes.length = 0;
      assert.match(String(await read()), message);
    }
    // a decoder that fails midway cancels the stream (RST_STREAM CANCEL) instead of reading the rest
    body = zlib.gzipSync(Buffer.concat([list.subarray(0, 40), Buffer.alloc(200_000, 0xff)]));
    codes.length = 0;
    assert.match(String(await read()), /invalid protobuf/);
    while (codes.length < 1) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(codes, [http2.constants.NGHTTP2_CANCEL]);
  });

  it('a JSON list is gunzipped and cut into its items as it arrives; a damaged one is invalid JSON', async () => {
    await start(true);
    const list = {
      kind: 'NodeList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '99' },
      items: Array.from({ length: 400 }, (_, i) => ({
        metadata: { name: `node-${i}`, annotations: { a: '},{"metadata":{ ✓' } },
        status: { addresses: [{ type: 'InternalIP', address: `10.0.${i >> 8}.${i & 255}` }] },
      })),
    };
    const text = Buffer.from(JSON.stringify(list));
    let body: Buffer = Buffer.alloc(0);
    let gzip = true;
    handler = (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      inPieces(res, body);
    };
    let d: JsonListStream | undefined;
    const received = { bytes: 0, protobuf: true };
    const read = (): Promise<unknown> =>
      client.request('GET', '/api/v1/nodes', { jsonList: () => (d = jsonListDecoder()), received }).then(
        (v) => v,
        (e: Error) => e.message,
      );
    for (const gz of [true, false]) {
      gzip = gz;
      body = gz ? zlib.gzipSync(text) : text;
      Object.assign(received, { bytes: 0, protobuf: true });
      assert.deepEqual(await read(), list, gz ? 'gzipped' : 'not gzipped');
      assert.equal(d?.itemsParsed, 400);
      assert.deepEqual(received, { bytes: text.length, protobuf: false }, 'the size of the body, gunzipped');
    }
    // cut short, in its gzip and in its JSON; a piece that is not JSON midway (read to its end: the decoder
    // then parses the whole body, whose SyntaxError is the answer's)
    gzip = true;
    for (const [b, message] of [
      [zlib.gzipSync(text).subarray(0, 900), /corrupt gzip/],
      [zlib.gzipSync(text.subarray(0, text.length - 500)), /invalid JSON/],
      [zlib.gzipSync(Buffer.from(text.toString().replace('"node-7"', '"node-7" x'))), /invalid JSON/],
    ] as const) {
      body = b;
      assert.match(String(await read()), message);
    }
    // an answer the decoder does not stream (an error) is parsed whole, as before
    handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'nodes "x" not found' }));
    };
    assert.match(String(await read()), /not found/);
  });

  it("a streamed answer's first bytes that come before its 'response' event are decoded first", async () => {
    // Node emits an HTTP/2 stream's 'response' on the next tick, so a DATA frame consumed with the HEADERS can
    // reach 'data' first (nodejs/undici#2985; a live bench run here failed with "corrupt gzip body"). Rare on
    // a real connection, so here each stream holds its 'response' back until its first 'data' has gone out.
    await start(true);
    const nodes = Array.from({ length: 50 }, (_, i) => len(2, len(1, len(1, `node-${i}`))));
    const list = fullEnvelope([...len(1, len(2, '7')), ...nodes.flat()]);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': PROTOBUF, 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(list));
    };
    const probe = http2.connect(`https://127.0.0.1:${port}`, { ca: cert });
    probe.on('error', () => {});
    const proto = Object.getPrototypeOf(probe) as { request: (...a: unknown[]) => http2.ClientHttp2Stream };
    probe.destroy();
    const request = proto.request;
    proto.request = function (this: unknown, ...a: unknown[]) {
      const stream = request.apply(this, a);
      const emit = stream.emit.bind(stream);
      let held: unknown[] | undefined;
      let dataSeen = false;
      stream.emit = ((event: string, ...args: unknown[]) => {
        if (event === 'response' && !dataSeen) return void (held = args);
        const r = emit(event, ...args);
        if (event === 'data' && !dataSeen) {
          dataSeen = true;
          if (held) emit('response', ...held);
        }
        return r;
      }) as typeof stream.emit;
      return stream;
    };
    try {
      const got = (await client.request('GET', '/api/v1/nodes', { protobuf: nodeListDecoder })) as {
        items: { metadata: { name: string } }[];
      };
      assert.equal(got.items.length, 50);
      assert.equal(got.items[49]!.metadata.name, 'node-49');
      assert.equal(client.bytes.decoded, list.length);
    } finally {
      proto.request = request;
    }
  });

  it("a host name with several addresses: the connection is made to the one that answers (Node's happy eyeballs)", async () => {
    // Node 20 tries each address of a name in turn on a new socket handle: TLS must start on the one that
    // connected, not on the handle of the first attempt
    await start(true);
    const lookup = dns.lookup;
    (dns as { lookup: unknown }).lookup = (host: string, opts: unknown, cb: (...a: unknown[]) => void) => {
      if (host !== 'api.test') return (lookup as (...a: unknown[]) => void)(host, opts, cb);
      const all = [
        { address: '127.0.0.2', family: 4 }, // nothing listens there: refused
        { address: '127.0.0.1', family: 4 },
      ];
      const o = (typeof opts === 'object' ? opts : {}) as { all?: boolean };
      return o.all ? cb(null, all) : cb(null, all[0]!.address, 4);
    };
    try {
      client.close();
      client = new KubeHttp({ ...cfg(), server: `https://api.test:${port}` }, { retry: FAST });
      handler = (_req, res) => answer(res, { kind: 'APIVersions' });
      assert.deepEqual(await client.request('GET', '/api'), { kind: 'APIVersions' });
      assert.equal(seen[0]!.httpVersion, '2.0');
    } finally {
      (dns as { lookup: unknown }).lookup = lookup;
    }
  });

  it('a client certificate and key that do not match are an error of the request, not of the process', async () => {
    await start(true);
    const other = path.join(dir, 'other-key.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', other], {
      stdio: 'ignore',
    });
    client.close();
    client = new KubeHttp({ ...cfg(), clientCert: cert, clientKey: fs.readFileSync(other) }, { retry: FAST });
    handler = (_req, res) => answer(res, {});
    await assert.rejects(client.request('GET', '/api'), /key.values.mismatch/i);
  });

  it('a connection whose handshake never ends fails within the time limit', async () => {
    // (under Node the TCP socket's idle timeout also ended it; the limit is a timer of the client's own so that
    // Bun, which may drop that timeout once the socket is TLS, ends it too: this suite runs under Node only)
    // a TCP server that accepts and never answers the ClientHello
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    await start(true);
    try {
      client.close();
      const p = (silent.address() as AddressInfo).port;
      client = new KubeHttp({ ...cfg(300), server: `https://127.0.0.1:${p}` }, { retry: FAST });
      // (the attempt's limit is what is left of the request's 300 ms once its credentials are read: a
      // millisecond may be gone on a loaded machine, as in one CI run)
      await assert.rejects(client.request('GET', '/api'), /no answer within (2\d\d|300)ms/);
    } finally {
      silent.close();
    }
  });

  it('a reset stream is retried like a reset connection', async () => {
    await start(true);
    handler = (_req, res, n) => {
      if (n === 0) res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else answer(res, { ok: n });
    };
    assert.deepEqual(await client.request('GET', '/api/v1/nodes'), { ok: 1 });
    assert.equal(events.length, 1);
    assert.match(events[0]!.why, /ECONNRESET/);
  });

  it('a connection the server drops is retried on a new one', async () => {
    await start(true);
    handler = (req, res, n) => {
      if (n === 0) req.stream.session?.destroy();
      else answer(res, { ok: n });
    };
    assert.deepEqual(await client.request('GET', '/api/v1/nodes'), { ok: 1 });
    assert.equal(events.length, 1);
    assert.equal(sessions, 2);
  });

  it('an unanswered read ends within its time budget', async () => {
    await start(true);
    handler = () => {}; // never answers
    // 3 s: the first attempt gets half (1.5 s), the retry the rest
    client = new KubeHttp(cfg(3000), { retry: FAST });
    const e = await client.request('GET', '/api/v1/nodes').then(
      () => assert.fail('answered'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof CliError, String(e));
    assert.match(e.message, /did not answer: no answer within/);
    assert.equal(seen.length, 2, 'the first attempt timed out and was retried within the budget');
    assert.equal(sessions, 2, 'the retry does not trust the connection that timed out');
  });

  it('the time limit of an attempt is an idle limit: an answer that keeps coming is read to its end, one that stalls is not', async () => {
    await start(true);
    // the one attempt of a 1 s budget may be idle for 1 s; this answer takes 1.8 s, never pausing 1 s
    const drip = (res: http2.Http2ServerResponse, pieces: number, gapMs: number): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = JSON.stringify({ kind: 'NodeList', items: [] });
      let i = 0;
      const next = (): void => {
        if (res.stream.destroyed) return;
        if (i === pieces - 1) return void res.end(body.slice(i));
        res.write(body.slice(i, i + 1));
        i++;
        setTimeout(next, gapMs);
      };
      setTimeout(next, gapMs);
    };
    handler = (_req, res) => drip(res, 9, 200);
    client = new KubeHttp(cfg(1000), { retry: FAST });
    // (a limit on the whole attempt would cut it at 1 s, with no budget left for a retry)
    assert.deepEqual(await client.request('GET', '/api/v1/nodes'), { kind: 'NodeList', items: [] });
    assert.equal(seen.length, 1, 'one attempt, read to its end');
    // the same answer with a pause longer than the limit ends in a timeout (the attempt used the whole budget)
    handler = (_req, res) => drip(res, 3, 1500);
    const e = await client.request('GET', '/api/v1/nodes').then(
      () => assert.fail('answered'),
      (x: unknown) => x,
    );
    assert.match(String(e), /no answer within/);
  });

  it('a server without HTTP/2 is read over HTTP/1.1', async () => {
    await start(false);
    handler = (req, res) => answer(res, { path: req.url });
    const got = await Promise.all(
      ['/apis', '/version'].map((p) => client.request<{ path: string }>('GET', p)),
    );
    assert.deepEqual(
      got.map((g) => g.path),
      ['/apis', '/version'],
    );
    assert.deepEqual(
      seen.map((s) => s.httpVersion),
      ['1.1', '1.1'],
    );
  });

  it('whenConnected: resolves once the connection is up; a handshake that hangs is not waited for', async () => {
    await start(true);
    handler = (req, res) => answer(res, { path: req.url });
    client.trace = []; // marks the connection's steps
    const read = client.request('GET', '/version');
    performance.clearMarks('h2-ready');
    await client.whenConnected(5_000);
    assert.equal(
      performance.getEntriesByName('h2-ready').length,
      1,
      'the HTTP/2 session was up when it resolved',
    );
    await read;
    await client.whenConnected(5_000); // connected: at once
    client.close();
    await new Promise((r) => server.close(r));

    // a server that accepts the TCP connection and never answers the TLS handshake
    const net = await import('node:net');
    const held: import('node:net').Socket[] = [];
    const tcp = net.createServer((sock) => {
      held.push(sock);
      sock.on('data', () => {});
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    port = (tcp.address() as AddressInfo).port;
    server = tcp as never; // afterEach closes it
    try {
      client = new KubeHttp(cfg(30_000), { retry: FAST });
      const pending = client.request('GET', '/version').catch((e: Error) => e);
      const t0 = performance.now();
      await client.whenConnected(80);
      const waited = performance.now() - t0;
      assert.ok(waited >= 70, `gave up after ${waited} ms, not at the limit`);
      client.abort();
      assert.ok((await pending) instanceof Error);
    } finally {
      for (const sock of held) sock.destroy();
    }
  });

  it('whenConnected ends when no HTTP/2 connection is ever made: credentials that fail, a plain-http server', async () => {
    await start(true); // (for afterEach)
    // the token file cannot be read: the read fails before any connection is attempted. In a process of its
    // own, where nothing else holds the event loop (in mocha's, its timers would)
    const http = new URL('../../../src/kube/http.js', import.meta.url).href;
    const script = `
      const { KubeHttp } = await import(${JSON.stringify(http)});
      const client = new KubeHttp({ server: 'https://127.0.0.1:1', namespace: 'default', insecureSkipTlsVerify: true,
        impersonateGroups: [], origin: 'test', tokenFile: ${JSON.stringify(path.join(dir, 'no-such-token'))} });
      const failed = client.request('GET', '/version').catch((e) => e);
      await client.whenConnected(100);
      console.log('resolved', (await failed) instanceof Error);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(out.trim(), 'resolved true', 'whenConnected settled and the process went on');
    // http://: reads never use HTTP/2, so there is nothing to wait for
    client = new KubeHttp({ ...cfg(), server: 'http://127.0.0.1:1' }, { retry: FAST });
    const r = await Promise.race([
      client.whenConnected(10_000).then(() => 'at once'),
      new Promise((resolve) => setTimeout(() => resolve('waited'), 2_000)),
    ]);
    assert.equal(r, 'at once');
  });

  it('abort() ends a read whose HTTP/2 connection is still being made', async () => {
    // a server that accepts the TCP connection and never answers the TLS handshake
    const held: import('node:net').Socket[] = [];
    let closedByClient = 0;
    const net = await import('node:net');
    const tcp = net.createServer((sock) => {
      held.push(sock);
      sock.on('data', () => {});
      sock.on('close', () => closedByClient++);
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    port = (tcp.address() as AddressInfo).port;
    server = tcp as never; // afterEach closes it
    try {
      client = new KubeHttp(cfg(30_000), { retry: FAST });
      const pending = client.request('GET', '/version').then(
        () => assert.fail('answered'),
        (x: unknown) => x,
      );
      await new Promise((r) => setTimeout(r, 100));
      client.abort();
      const e = await pending;
      assert.ok(e instanceof Error);
      assert.match(e.message, /closed/);
      // the client's end of the connection is gone: the server sees it close
      for (let i = 0; i < 100 && closedByClient < held.length; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.ok(held.length >= 1, 'the client connected');
      assert.equal(closedByClient, held.length, 'every connection the client made is closed');
    } finally {
      for (const sock of held) sock.destroy();
    }
  });
});
