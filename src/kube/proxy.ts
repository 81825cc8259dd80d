/**
 * Reaching the API server through a proxy, as kubectl does: a cluster's `proxy-url` in the kubeconfig, else
 * the environment (`HTTPS_PROXY` for an https server, `HTTP_PROXY` for an http one, `NO_PROXY` for the
 * exceptions, with Go's rules: golang.org/x/net/http/httpproxy). Schemes: `http` and `https` (an HTTP CONNECT
 * tunnel, to the proxy in clear or over TLS, which is verified as Go's transport does: with the cluster's
 * CA when the kubeconfig names one, and not at all with insecure-skip-tls-verify) and `socks5` (RFC 1928, the host name resolved by the proxy,
 * user and password of RFC 1929 from the URL). The tunnel is a socket to the API server's host and port; TLS
 * to the API server, HTTP/2 or HTTP/1.1, runs inside it as on a direct connection (kube/http.ts).
 */
import net from 'node:net';
import tls from 'node:tls';

export const PROXY_SCHEMES = ['http:', 'https:', 'socks5:'];

/** A proxy URL as kubectl takes it: a scheme it supports (none: http, as Go assumes for the environment). */
export function parseProxyUrl(raw: string): URL | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
    return PROXY_SCHEMES.includes(url.protocol) && url.hostname ? url : undefined;
  } catch {
    return undefined;
  }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1)$/i;

/**
 * The proxy of the environment for `server`, or undefined: none set, `NO_PROXY` matches, or the host is
 * localhost or a loopback address (never proxied, as in Go). NO_PROXY: `*`, or a comma-separated list of
 * host names (the name and its subdomains; a leading dot: subdomains), IP addresses and CIDR ranges, each
 * with an optional port.
 */
export function proxyFromEnv(server: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const https = server.protocol === 'https:';
  // (the first one set and not empty, as Go reads them)
  const raw = https ? env['HTTPS_PROXY'] || env['https_proxy'] : env['HTTP_PROXY'] || env['http_proxy'];
  if (!raw) return undefined;
  const host = server.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK.test(host)) return undefined;
  const port = server.port || (https ? '443' : '80');
  const noProxy = env['NO_PROXY'] || env['no_proxy'] || '';
  for (const entry of noProxy.split(',').map((e) => e.trim().toLowerCase())) {
    if (!entry) continue;
    if (entry === '*') return undefined;
    if (noProxyMatches(entry, host, port)) return undefined;
  }
  return raw;
}

function noProxyMatches(entry: string, host: string, port: string): boolean {
  // CIDR
  const slash = entry.indexOf('/');
  if (slash > 0) {
    const ip = entry.slice(0, slash);
    const bits = Number(entry.slice(slash + 1));
    const family = net.isIP(ip);
    if (!family || !net.isIP(host) || !Number.isInteger(bits)) return false;
    const list = new net.BlockList();
    try {
      list.addSubnet(ip, bits, family === 6 ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
    return list.check(host, net.isIP(host) === 6 ? 'ipv6' : 'ipv4');
  }
  // host or IP, with an optional port ([v6]:port, name:port)
  let name = entry;
  let entryPort: string | undefined;
  const v6 = /^\[(.+)\](?::(\d+))?$/.exec(entry);
  if (v6) [name, entryPort] = [v6[1]!, v6[2]];
  else if (!net.isIP(entry)) {
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m) [name, entryPort] = [m[1]!, m[2]];
  }
  if (entryPort !== undefined && entryPort !== port) return false;
  if (net.isIP(name)) {
    // as addresses, not text (fd00:0::5 is fd00::5)
    if (net.isIP(name) !== net.isIP(host)) return false;
    const one = new net.BlockList();
    one.addAddress(name, net.isIP(name) === 6 ? 'ipv6' : 'ipv4');
    return one.check(host, net.isIP(host) === 6 ? 'ipv6' : 'ipv4');
  }
  if (name.startsWith('*.')) name = name.slice(1);
  if (name.startsWith('.')) return host.endsWith(name);
  return host === name || host.endsWith(`.${name}`);
}

/** A failure of the proxy itself (unreachable, refusing the tunnel): kube/http.ts says so in its error. */
export interface ProxyFailure extends NodeJS.ErrnoException {
  proxy: string;
}

/** A proxy URL as given (parsed or not), its password hidden: for messages. */
export function redactProxy(raw: string): string {
  return raw.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?[^/@:]*:)[^/@]*@/i, '$1***@');
}

/** The proxy URL to show: without its password. */
export function showProxy(proxy: URL): string {
  const u = new URL(proxy.href);
  if (u.password) u.password = '***';
  return u.href.replace(/\/$/, '');
}

function proxyError(proxy: URL, message: string, code: string, cause?: unknown): ProxyFailure {
  return Object.assign(new Error(message), { code, proxy: showProxy(proxy), cause });
}

/**
 * A socket to `host`:`port` through `proxy`, ready for the API server's TLS (or plain HTTP): resolves once
 * the proxy has opened the tunnel. Rejects with a ProxyFailure (the proxy's own error, or its refusal), or
 * when `signal` aborts (the caller's time limit); the sockets are destroyed then.
 */
export function tunnel(
  proxy: URL,
  host: string,
  port: number,
  opts: {
    signal?: AbortSignal | undefined;
    /** An https proxy's TLS: as Go's transport makes it, with the cluster's CA and insecure-skip-tls-verify. */
    ca?: Buffer | undefined;
    insecure?: boolean | undefined;
  } = {},
): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const proxyPort = Number(
      proxy.port || (proxy.protocol === 'https:' ? 443 : proxy.protocol === 'socks5:' ? 1080 : 80),
    );
    const proxyHost = proxy.hostname.replace(/^\[|\]$/g, '');
    const socket: net.Socket =
      proxy.protocol === 'https:'
        ? tls.connect({
            host: proxyHost,
            port: proxyPort,
            servername: net.isIP(proxyHost) ? undefined : proxyHost,
            ALPNProtocols: ['http/1.1'],
            ca: opts.ca,
            rejectUnauthorized: opts.insecure !== true,
          })
        : net.connect({ host: proxyHost, port: proxyPort });
    let done = false;
    const finish = (err: ProxyFailure | undefined): void => {
      if (done) return;
      done = true;
      opts.signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onAbort = (): void =>
      finish(
        Object.assign(proxyError(proxy, 'the time limit ran out', 'ETIMEDOUT'), {
          cause: opts.signal?.reason,
        }),
      );
    const onError = (e: NodeJS.ErrnoException): void =>
      finish(
        proxyError(
          proxy,
          e.code === 'ECONNREFUSED' ? 'connection refused' : e.message,
          e.code ?? 'EPROXY',
          e,
        ),
      );
    const onClose = (): void => finish(proxyError(proxy, 'the proxy closed the connection', 'EPROXY'));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', onError);
    socket.on('close', onClose);
    let buf = Buffer.alloc(0);
    /** What the protocol waits for next: a function of the bytes so far, which returns how many it used. */
    let expect = (_b: Buffer): number | undefined => {
      throw proxyError(proxy, 'the proxy spoke first', 'EPROXY');
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (done) return;
        let used: number | undefined;
        try {
          used = expect(buf);
        } catch (e) {
          return finish(e as ProxyFailure);
        }
        if (used === undefined) return; // more bytes needed
        buf = buf.subarray(used);
        if (done) {
          // the tunnel is open: bytes past the proxy's answer belong to the API server's side
          if (buf.length) socket.unshift(buf);
          return;
        }
      }
    };
    socket.on('data', onData);
    const decode = (v: string): string => {
      try {
        return decodeURIComponent(v);
      } catch {
        return v; // (a bare % in it: as written)
      }
    };
    const user = decode(proxy.username);
    const pass = decode(proxy.password);
    const start = (): void => {
      if (proxy.protocol === 'socks5:') socks5();
      else connectTunnel();
    };
    const connectTunnel = (): void => {
      const authority = `${net.isIP(host) === 6 ? `[${host}]` : host}:${port}`;
      const auth =
        user || pass
          ? `Proxy-Authorization: Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}\r\n`
          : '';
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
      expect = (b) => {
        const end = b.indexOf('\r\n\r\n');
        if (end < 0) {
          if (b.length > 16384)
            throw proxyError(proxy, 'the proxy answered the CONNECT with no end of headers', 'EPROXY');
          return undefined;
        }
        const status = /^HTTP\/1\.[01] (\d{3})(.*)/.exec(b.subarray(0, b.indexOf('\r\n')).toString('latin1'));
        if (!status) throw proxyError(proxy, 'the proxy did not answer the CONNECT in HTTP', 'EPROXY');
        if (status[1] !== '200')
          throw proxyError(
            proxy,
            `the proxy refused the tunnel to ${authority}: ${status[1]}${status[2]}`,
            'EPROXY',
          );
        finish(undefined);
        return end + 4;
      };
    };
    const socks5 = (): void => {
      const withAuth = Boolean(user || pass);
      socket.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]));
      const request = (): void => {
        // (an IPv6 address with an IPv4 tail goes as a name, the proxy parses it)
        const ip = host.includes('.') && net.isIP(host) === 6 ? 0 : net.isIP(host);
        const addr =
          ip === 4
            ? Buffer.from([1, ...host.split('.').map(Number)])
            : ip === 6
              ? Buffer.concat([Buffer.from([4]), ipv6Bytes(host)])
              : Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host)]);
        socket.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, Buffer.from([port >> 8, port & 0xff])]));
        expect = (b) => {
          if (b.length < 5) return undefined;
          if (b[0] !== 5) throw proxyError(proxy, 'the proxy does not speak SOCKS5', 'EPROXY');
          if (b[1] !== 0)
            throw proxyError(
              proxy,
              `the SOCKS5 proxy refused the connection to ${host}:${port}: ${SOCKS_REPLIES[b[1]!] ?? `reply ${b[1]}`}`,
              'EPROXY',
            );
          const len = b[3] === 1 ? 4 : b[3] === 4 ? 16 : b[3] === 3 ? 1 + b[4]! : -1;
          if (len < 0)
            throw proxyError(proxy, 'the SOCKS5 proxy answered with an unknown address type', 'EPROXY');
          if (b.length < 4 + len + 2) return undefined;
          finish(undefined);
          return 4 + len + 2;
        };
      };
      expect = (b) => {
        if (b.length < 2) return undefined;
        if (b[0] !== 5) throw proxyError(proxy, 'the proxy does not speak SOCKS5', 'EPROXY');
        if (b[1] === 0) {
          request();
          return 2;
        }
        if (b[1] === 2 && withAuth) {
          const u = Buffer.from(user);
          const p = Buffer.from(pass);
          socket.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
          expect = (a) => {
            if (a.length < 2) return undefined;
            if (a[1] !== 0)
              throw proxyError(proxy, 'the SOCKS5 proxy refused the user and password', 'EPROXY');
            request();
            return 2;
          };
          return 2;
        }
        throw proxyError(
          proxy,
          withAuth
            ? 'the SOCKS5 proxy accepts none of our methods'
            : 'the SOCKS5 proxy wants a user and password (socks5://USER:PASSWORD@HOST:PORT)',
          'EPROXY',
        );
      };
    };
    if (socket instanceof tls.TLSSocket) socket.once('secureConnect', start);
    else socket.once('connect', start);
  });
}

const SOCKS_REPLIES: Record<number, string> = {
  1: 'general failure',
  2: 'not allowed by its rules',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

function ipv6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
