/**
 * Over HTTP/1.1 (an http:// server such as `kubectl proxy`, a server that declines h2,
 * CALICO_TUNE_HTTP2=0, and every write) the request's time budget does not cover the TCP connect:
 * `req.setTimeout` arms the socket's idle timer only once the socket has connected, and `request()` has no
 * deadline of its own, so a server whose SYNs go unanswered (a firewall that drops, a dead VIP) holds the
 * command for the kernel's connect timeout (about 130 s on Linux) whatever --request-timeout said (found by a
 * review; failed before the fix: the connect now has a timer of its own). With the listener's accept queue
 * full, Linux may let the client's side of the TCP handshake finish while the server drops it: then the TLS
 * handshake is what never ends, which Bun's request timeout did not bound either (the same test, run under
 * Bun, failed until the timer ran to 'secureConnect').
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { KubeHttp } from '../../../src/kube/http.js';
import type { ResolvedConfig } from '../../../src/kube/kubeconfig.js';

/** A listener that never accepts (its process's event loop is blocked) and whose backlog is full: SYNs are dropped. */
async function blackhole(): Promise<{ port: number; child: ChildProcess; fill: net.Socket[] }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(String(s.address().port)+'\\n');setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,60000),50)})`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((r) =>
    child.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))),
  );
  await new Promise((r) => setTimeout(r, 200));
  const fill = Array.from({ length: 6 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((r) => setTimeout(r, 200));
  return { port, child, fill };
}

describe('the HTTP/1.1 time budget covers the TCP connect', function () {
  this.timeout(30_000);
  let bh: Awaited<ReturnType<typeof blackhole>>;
  before(async () => (bh = await blackhole()));
  after(() => {
    for (const s of bh.fill) s.destroy();
    bh.child.kill('SIGKILL');
  });

  for (const scheme of ['http', 'https']) {
    it(`${scheme}:// (HTTP/1.1): a connection that is never accepted fails within --request-timeout`, async () => {
      const cfg: ResolvedConfig = {
        server: `${scheme}://127.0.0.1:${bh.port}`,
        namespace: 'default',
        insecureSkipTlsVerify: true,
        impersonateGroups: [],
        requestTimeoutMs: 1000,
        origin: 'test',
      };
      const prev = process.env['CALICO_TUNE_HTTP2'];
      process.env['CALICO_TUNE_HTTP2'] = '0';
      const client = new KubeHttp(cfg, { retry: { baseDelayMs: 5, maxDelayMs: 20 } });
      const t0 = Date.now();
      try {
        const r = await Promise.race([
          client.request('GET', '/api/v1/nodes').then(
            () => 'answered',
            (e: unknown) => `rejected: ${String(e)}`,
          ),
          new Promise<string>((r) => setTimeout(() => r('still waiting after 8 s'), 8000)),
        ]);
        assert.match(r, /rejected: .*did not answer/, `${r} (${Date.now() - t0} ms)`);
        assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms with a 1 s budget`);
      } finally {
        client.close();
        if (prev === undefined) delete process.env['CALICO_TUNE_HTTP2'];
        else process.env['CALICO_TUNE_HTTP2'] = prev;
      }
    });
  }
});
