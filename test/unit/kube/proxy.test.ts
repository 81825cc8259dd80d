/**
 * Proxies (src/kube/proxy.ts), as kubectl takes them: a cluster's proxy-url (http and https CONNECT, socks5),
 * else HTTPS_PROXY / HTTP_PROXY with NO_PROXY. A review found proxy-url silently ignored (the tool connected
 * around the proxy). Each test runs a real proxy in this process in front of a local HTTPS server that speaks
 * HTTP/2 and HTTP/1.1, and checks that the answer came through it, over both protocols, reads and writes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeHttp, type RetryEvent } from '../../../src/kube/http.js';
import { resolveKubeconfig, type ResolvedConfig } from '../../../src/kube/kubeconfig.js';
import { parseProxyUrl, proxyFromEnv, redactProxy } from '../../../src/kube/proxy.js';
import { selfSignedCert } from '../../harness/tls.js';
import { openTunnel } from '../../harness/tunnel.js';

const FAST = { baseDelayMs: 5, maxDelayMs: 20, retryAfterCapMs: 300 };

describe('proxies: which one applies (the environment, as Go reads it)', () => {
  const https = new URL('https://api.example.com:6443');
  it('HTTPS_PROXY for an https server, HTTP_PROXY for an http one; none for localhost and loopback', () => {
    const env = { HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://q:3128' };
    assert.equal(proxyFromEnv(https, env), 'http://p:3128');
    assert.equal(proxyFromEnv(new URL('http://api.example.com:8080'), env), 'http://q:3128');
    assert.equal(proxyFromEnv(https, { https_proxy: 'http://lower:1' }), 'http://lower:1');
    assert.equal(proxyFromEnv(https, {}), undefined);
    for (const local of ['https://localhost:6443', 'https://127.0.0.1:6443', 'https://[::1]:6443'])
      assert.equal(proxyFromEnv(new URL(local), env), undefined, local);
  });
  it('NO_PROXY: *, names and their subdomains, .subdomains only, IPs, CIDRs, ports', () => {
    const p = (server: string, noProxy: string): string | undefined =>
      proxyFromEnv(new URL(server), { HTTPS_PROXY: 'http://p:1', NO_PROXY: noProxy });
    assert.equal(p('https://api.example.com', '*'), undefined);
    assert.equal(p('https://api.example.com', 'example.com'), undefined);
    assert.equal(p('https://example.com', 'example.com'), undefined);
    assert.equal(p('https://example.com', '.example.com'), 'http://p:1');
    assert.equal(p('https://api.example.com', '.example.com'), undefined);
    assert.equal(p('https://api.example.com', '*.example.com'), undefined);
    assert.equal(p('https://notexample.com', 'example.com'), 'http://p:1');
    assert.equal(p('https://10.1.2.3:6443', '10.0.0.0/8'), undefined);
    assert.equal(p('https://11.1.2.3:6443', '10.0.0.0/8'), 'http://p:1');
    assert.equal(p('https://10.1.2.3:6443', '10.1.2.3'), undefined);
    assert.equal(p('https://api.example.com:6443', 'api.example.com:6443'), undefined);
    assert.equal(p('https://api.example.com:6443', 'api.example.com:443'), 'http://p:1');
    assert.equal(p('https://[fd00::5]:6443', 'fd00::/8'), undefined);
    assert.equal(p('https://api.example.com', ' other.org , example.com '), undefined);
    assert.equal(p('https://[fd00::5]:6443', 'fd00:0::5'), undefined, 'IPv6 as an address');
    // an empty variable is not set: the lower-case one applies (as in Go)
    assert.equal(
      proxyFromEnv(https, {
        HTTPS_PROXY: '',
        https_proxy: 'http://lower:1',
        NO_PROXY: '',
        no_proxy: 'example.com',
      }),
      undefined,
    );
    assert.equal(proxyFromEnv(https, { HTTPS_PROXY: '', https_proxy: 'http://lower:1' }), 'http://lower:1');
  });
  it('takes http, https and socks5 proxies (a bare host:port is http), nothing else', () => {
    assert.equal(parseProxyUrl('proxy.corp:3128')?.href, 'http://proxy.corp:3128/');
    assert.equal(parseProxyUrl('socks5://127.0.0.1:1080')?.protocol, 'socks5:');
    assert.equal(parseProxyUrl('https://user:pw@p:443')?.username, 'user');
    assert.equal(parseProxyUrl('ftp://p:21'), undefined);
    assert.equal(parseProxyUrl('socks4://p:1080'), undefined);
  });
});

describe('proxies: requests go through them', function () {
  this.timeout(20_000);
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  let api: http2.Http2SecureServer;
  let apiPort: number;
  let proxy: net.Server;
  let proxyPort: number;
  /** What the proxy was asked for: `CONNECT host:port` (and its Proxy-Authorization), or `SOCKS host:port`. */
  let asked: string[];
  let refuse: number | undefined;
  const clients: KubeHttp[] = [];
  const envBefore: Record<string, string | undefined> = {};

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-proxy-'));
    ({ key, cert } = selfSignedCert(dir, { san: 'IP:127.0.0.1' }));
    api = http2.createSecureServer({ key, cert, allowHTTP1: true }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ path: req.url, method: req.method, http: req.httpVersion, body }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiPort = (api.address() as AddressInfo).port;
    for (const k of ['CALICO_TUNE_HTTP2', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'])
      envBefore[k] = process.env[k];
  });
  after(async () => {
    await new Promise((r) => api.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await new Promise((r) => proxy.close(r));
    for (const [k, v] of Object.entries(envBefore)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  /** A CONNECT proxy (in clear, or over TLS with the API server's certificate), or with `refuse` its refusal. */
  async function connectProxy(overTls = false): Promise<void> {
    asked = [];
    refuse = undefined;
    const server = overTls
      ? https.createServer({ key, cert }, (_req, res) => res.writeHead(405).end())
      : http.createServer((_req, res) => res.writeHead(405).end());
    server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      asked.push(
        `CONNECT ${req.url}${req.headers['proxy-authorization'] ? ` ${req.headers['proxy-authorization']}` : ''}`,
      );
      if (refuse) return void client.end(`HTTP/1.1 ${refuse} ${http.STATUS_CODES[refuse]}\r\n\r\n`);
      openTunnel(req.url!, client, head);
    });
    proxy = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxyPort = (server.address() as AddressInfo).port;
  }

  /** A SOCKS5 proxy (no authentication, or `user:pass`), domain names and IPv4. */
  async function socksProxy(auth?: string): Promise<void> {
    asked = [];
    proxy = net.createServer((client) => {
      let buf = Buffer.alloc(0);
      let stage = 0;
      const onData = (d: Buffer): void => {
        buf = Buffer.concat([buf, d]);
        if (stage === 0 && buf.length >= 2 + buf[1]!) {
          const methods = [...buf.subarray(2, 2 + buf[1]!)];
          buf = buf.subarray(2 + buf[1]!);
          const want = auth ? 2 : 0;
          client.write(Buffer.from([5, methods.includes(want) ? want : 0xff]));
          stage = auth ? 1 : 2;
        }
        if (
          stage === 1 &&
          buf.length >= 2 &&
          buf.length >= 3 + buf[1]! &&
          buf.length >= 3 + buf[1]! + buf[2 + buf[1]!]!
        ) {
          const u = buf.subarray(2, 2 + buf[1]!).toString();
          const p = buf.subarray(3 + buf[1]!, 3 + buf[1]! + buf[2 + buf[1]!]!).toString();
          buf = buf.subarray(3 + buf[1]! + buf[2 + buf[1]!]!);
          const ok = `${u}:${p}` === auth;
          client.write(Buffer.from([1, ok ? 0 : 1]));
          if (!ok) return void client.end();
          stage = 2;
        }
        if (stage === 2 && buf.length >= 5) {
          const type = buf[3];
          const len = type === 1 ? 4 : type === 3 ? 1 + buf[4]! : 16;
          if (buf.length < 4 + len + 2) return;
          const host =
            type === 1 ? [...buf.subarray(4, 8)].join('.') : buf.subarray(5, 5 + buf[4]!).toString();
          const port = buf.readUInt16BE(4 + len);
          asked.push(`SOCKS ${host}:${port}`);
          client.off('data', onData);
          const rest = buf.subarray(4 + len + 2);
          const up = net.connect(port, host, () => {
            client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
            if (rest.length) up.write(rest);
            up.pipe(client);
            client.pipe(up);
          });
          up.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
          client.on('error', () => up.destroy());
        }
      };
      client.on('data', onData);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyPort = (proxy.address() as AddressInfo).port;
  }

  const client = (proxyUrl: string | undefined, server = `https://127.0.0.1:${apiPort}`): KubeHttp => {
    const cfg: ResolvedConfig = {
      server,
      namespace: 'default',
      insecureSkipTlsVerify: false,
      impersonateGroups: [],
      ca: cert,
      proxyUrl,
      requestTimeoutMs: 5000,
      origin: 'test',
    };
    const c = new KubeHttp(cfg, { retry: FAST });
    clients.push(c);
    return c;
  };
  type Echo = { path: string; method: string; http: string; body: string };

  for (const h2 of [true, false])
    it(`an http:// proxy-url: reads and writes through its CONNECT tunnel (${h2 ? 'HTTP/2 reads' : 'HTTP/1.1'})`, async () => {
      if (!h2) process.env['CALICO_TUNE_HTTP2'] = '0';
      await connectProxy();
      const c = client(`http://127.0.0.1:${proxyPort}`);
      const read = await c.request<Echo>('GET', '/api/v1/nodes');
      assert.deepEqual([read.path, read.http], ['/api/v1/nodes', h2 ? '2.0' : '1.1']);
      const write = await c.request<Echo>('POST', '/api/v1/namespaces', { body: { kind: 'Namespace' } });
      assert.deepEqual(
        [write.method, write.http, JSON.parse(write.body)],
        ['POST', '1.1', { kind: 'Namespace' }],
      );
      assert.ok(
        asked.length >= 1 && asked.every((a) => a === `CONNECT 127.0.0.1:${apiPort}`),
        asked.join(', '),
      );
    });

  it('an https:// proxy-url: TLS to the proxy (verified with the cluster CA, as kubectl does), then to the server', async () => {
    await connectProxy(true);
    // (the certificate is for 127.0.0.1: by the name localhost it does not match, and the proxy is refused)
    const wrongName = (await client(`https://localhost:${proxyPort}`)
      .request('GET', '/version')
      .catch((x: unknown) => x)) as Error;
    assert.match(wrongName.message, /through the proxy https:\/\/localhost:\d+: .*localhost/i);
    const ok = await client(`https://127.0.0.1:${proxyPort}`).request<Echo>('GET', '/version');
    assert.equal(ok.http, '2.0');
    assert.ok(asked.includes(`CONNECT 127.0.0.1:${apiPort}`), asked.join(', '));
  });

  it("the proxy URL's user and password go as Proxy-Authorization: Basic", async () => {
    await connectProxy();
    await client(`http://ops:s%40cret@127.0.0.1:${proxyPort}`).request('GET', '/version');
    assert.deepEqual(asked, [
      `CONNECT 127.0.0.1:${apiPort} Basic ${Buffer.from('ops:s@cret').toString('base64')}`,
    ]);
  });

  it('a proxy that refuses the tunnel (407), or that nobody answers at: exit 3 naming the proxy, no retry', async () => {
    await connectProxy();
    refuse = 407;
    const retries: RetryEvent[] = [];
    const c = client(`http://ops:secret@127.0.0.1:${proxyPort}`);
    c.onRetry = (e) => retries.push(e);
    const e = (await c.request('GET', '/version').catch((x: unknown) => x)) as Error & {
      exitCode?: number;
      hints?: string[];
    };
    assert.equal(e.exitCode, 3);
    assert.match(
      e.message,
      new RegExp(
        `through the proxy http://ops:\\*\\*\\*@127.0.0.1:${proxyPort}: the proxy refused the tunnel to 127.0.0.1:${apiPort}: 407 Proxy Authentication Required`,
      ),
    );
    assert.doesNotMatch(e.message, /secret/);
    assert.match(String(e.hints), /proxy-url/);
    assert.equal(retries.length, 0);
    const closed = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => r(port));
      });
    });
    const gone = (await client(`http://127.0.0.1:${closed}`)
      .request('GET', '/version')
      .catch((x: unknown) => x)) as Error;
    assert.match(
      gone.message,
      new RegExp(`through the proxy http://127.0.0.1:${closed}: connection refused`),
    );
  });

  for (const auth of [undefined, 'ops:secret'])
    it(`a socks5:// proxy-url${auth ? ' with a user and password' : ''}: the host goes to the proxy, reads and writes through it`, async () => {
      await socksProxy(auth);
      const c = client(`socks5://${auth ? `${auth}@` : ''}127.0.0.1:${proxyPort}`);
      assert.equal((await c.request<Echo>('GET', '/version')).http, '2.0');
      assert.equal((await c.request<Echo>('POST', '/x', { body: {} })).http, '1.1');
      assert.ok(
        asked.length >= 1 && asked.every((a) => a === `SOCKS 127.0.0.1:${apiPort}`),
        asked.join(', '),
      );
    });

  it('HTTPS_PROXY applies when the kubeconfig has no proxy-url (here a name, as loopback is never proxied)', async () => {
    await connectProxy();
    process.env['HTTPS_PROXY'] = `http://127.0.0.1:${proxyPort}`;
    // a name for the server (the proxy resolves it): the certificate is for 127.0.0.1, so skip verification
    const c = new KubeHttp(
      {
        server: `https://calico-tune-test.invalid:${apiPort}`,
        namespace: 'default',
        insecureSkipTlsVerify: true,
        impersonateGroups: [],
        requestTimeoutMs: 5000,
        origin: 'test',
      },
      { retry: FAST },
    );
    clients.push(c);
    // the proxy connects to the name: make it resolve to the server by asking for 127.0.0.1 instead
    proxy.removeAllListeners('connect');
    proxy.on('connect', (req: http.IncomingMessage, sock: net.Socket) => {
      asked.push(`CONNECT ${req.url}`);
      const up = net.connect(apiPort, '127.0.0.1', () => {
        sock.write('HTTP/1.1 200 OK\r\n\r\n');
        up.pipe(sock);
        sock.pipe(up);
      });
    });
    assert.equal((await c.request<Echo>('GET', '/version')).path, '/version');
    assert.deepEqual(asked, [`CONNECT calico-tune-test.invalid:${apiPort}`]);
    process.env['NO_PROXY'] = '.invalid';
    const d = new KubeHttp({ ...c.cfg, requestTimeoutMs: 2000 }, { retry: FAST });
    clients.push(d);
    const direct = (await d.request('GET', '/version').catch((x: unknown) => x)) as Error;
    assert.match(direct.message, /host name not found/, 'NO_PROXY: straight to the (unresolvable) name');
  });

  it('a kubeconfig proxy-url the tool cannot use is exit 2; a usable one is kept', () => {
    const kc = path.join(dir, 'config');
    const write = (proxyUrl: string): void =>
      fs.writeFileSync(
        kc,
        `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n    proxy-url: ${proxyUrl}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
      );
    write('ftp://proxy:21');
    assert.throws(
      () => resolveKubeconfig({ kubeconfig: kc }, {}),
      (e: Error & { exitCode?: number }) =>
        e.exitCode === 2 && /proxy-url "ftp:\/\/proxy:21"/.test(e.message),
    );
    // its password is never printed
    write('socks5h://alice:S3cret@proxy:1080');
    assert.throws(
      () => resolveKubeconfig({ kubeconfig: kc }, {}),
      (e: Error) => /socks5h:\/\/alice:\*\*\*@proxy:1080/.test(e.message) && !e.message.includes('S3cret'),
    );
    assert.equal(redactProxy('alice:pw@proxy:3128'), 'alice:***@proxy:3128');
    write('socks5://127.0.0.1:1080');
    assert.equal(resolveKubeconfig({ kubeconfig: kc }, {}).proxyUrl, 'socks5://127.0.0.1:1080');
  });
});
