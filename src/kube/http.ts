/**
 * A small REST client for the Kubernetes API over node:https: JSON in and out, merge patches, dryRun,
 * impersonation (several `Impersonate-Group` headers, which fetch would merge), keep-alive sockets
 * for fan-out, one time budget per request, bounded retries of transient faults (see `RetryPolicy`),
 * and errors that say what happened.
 */
import http from 'node:http';
import type http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { URL } from 'node:url';
import zlib from 'node:zlib';
import { clusterError, CliError, ExitCode, usageError } from '../errors.js';
import { getCredentials, type Credentials } from './auth.js';
import type { ResolvedConfig } from './kubeconfig.js';
import { decodeStatus, PROTOBUF, type StreamDecoder } from './protobuf.js';
import { parseProxyUrl, proxyFromEnv, redactProxy, tunnel, type ProxyFailure } from './proxy.js';

/** node:http2, loaded with the first HTTP/2 connection (as a static import, about 5 ms of every start). */
let http2Module: Promise<typeof import('node:http2')> | undefined;
const loadHttp2 = (): Promise<typeof import('node:http2')> => (http2Module ??= import('node:http2'));
/** RST_STREAM's CANCEL (RFC 9113, section 7), http2.constants.NGHTTP2_CANCEL. */
const NGHTTP2_CANCEL = 0x8;
/** RST_STREAM's REFUSED_STREAM: the stream was not processed (RFC 9113, section 8.7), so not ambiguous. */
const NGHTTP2_REFUSED_STREAM = 0x7;
/** The code of a stream the server did not process (refused, or above its GOAWAY's last stream): always safe to send again. */
const REFUSED = 'ERR_CALICO_TUNE_H2_REFUSED';
/** Each HTTP/2 session's GOAWAY: the last stream the server says it processed or may process. */
const goawayLast = new WeakMap<object, number>();

/** A response from the API server with a non-2xx status. */
export class ApiError extends CliError {
  readonly status: number;
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  /** The server's `Retry-After`, in ms, when it sent one. */
  retryAfterMs?: number | undefined;
  /** How many times the request was sent (1 = not retried). */
  attempts = 1;
  /**
   * An earlier attempt of this same request may have been applied by the server (it failed after the
   * request was sent: connection reset, timeout, 5xx). A 409 then may be the answer to our own earlier
   * write, and a 404 on a delete may mean our earlier delete landed. `KubeApi` resolves these by re-reading.
   */
  afterAmbiguousAttempt = false;
  constructor(method: string, path: string, status: number, reason: string, message: string, body: unknown) {
    super(message, ExitCode.CLUSTER, {
      hints:
        status === 403
          ? [
              path.includes('/caliconodestatuses')
                ? 'bgp peers creates CalicoNodeStatus objects: the calico-tune role in docs/rbac.yaml grants it (calico-tune-readonly covers the reports only)'
                : 'the ClusterRole calico-tune in docs/rbac.yaml grants what the plugin needs (calico-tune-readonly covers the reports only)',
            ]
          : status === 401
            ? ['check the credentials of this context: kubectl auth whoami']
            : [],
    });
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.method = method;
    this.path = path;
    this.body = body;
  }

  /** A create refused because an object of that name exists (409 AlreadyExists). */
  get alreadyExists(): boolean {
    return this.status === 409 && this.reason === 'AlreadyExists';
  }

  /** An optimistic-concurrency or precondition conflict (409, not AlreadyExists). */
  get conflict(): boolean {
    return this.status === 409 && this.reason !== 'AlreadyExists';
  }
}

/**
 * How a request may be repeated after a transient fault:
 * - `idempotent`: reads, and POSTs that persist nothing (access reviews); repeat freely.
 * - `conditional`: a write guarded by a precondition (`metadata.resourceVersion` in a PATCH/PUT body, a
 *   DELETE with `preconditions`): a repeat after the first attempt landed gets 409 (or 404), never a second
 *   effect.
 * - `create`: a create of a named object: a repeat after the first landed gets 409 AlreadyExists.
 * - `unsafe`: anything else (a write without a precondition, evictions): repeated only when the server said
 *   it did not process it (429, or a 5xx with `Retry-After`).
 * - `never`: not repeated at all (the caller has its own loop, e.g. evictions blocked by a PDB).
 */
export type Repeat = 'idempotent' | 'conditional' | 'create' | 'unsafe' | 'never';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before retry k (k = 1, 2, ...): base * 2^(k-1), capped at maxDelayMs, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is cut to it. */
  retryAfterCapMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 2_000,
  retryAfterCapMs: 5_000,
};

/** What happened on one retry, for --verbose and tests. */
export interface RetryEvent {
  method: string;
  path: string;
  attempt: number;
  delayMs: number;
  why: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  contentType?: string | undefined;
  timeoutMs?: number | undefined;
  /** Return the raw text instead of parsing JSON (pod proxy, logs). */
  raw?: boolean | undefined;
  /** The Accept header (default application/json), e.g. to ask for metadata only. */
  accept?: string | undefined;
  /**
   * Ask for Kubernetes protobuf (built-in kinds) and decode a 2xx answer with this; a server that answers in
   * JSON (an aggregated API, a proxy) is parsed as JSON as usual.
   */
  protobuf?: (() => StreamDecoder) | undefined;
  /**
   * Decode a 2xx JSON answer with this as it arrives (a long list, kube/json-list.ts), instead of parsing it
   * after its last byte. Over HTTP/1.1 the answer is parsed whole, to the same value.
   */
  jsonList?: (() => StreamDecoder) | undefined;
  /** Filled when a 2xx answer is read: its body's size once gunzipped, and whether it came in protobuf. */
  received?: { bytes: number; protobuf: boolean } | undefined;
  /** How the request may be repeated after a transient fault (default: from the method and body, see `repeatOf`). */
  repeat?: Repeat | undefined;
  /** Filled by HTTP/2 reads when tracing: when the headers, the first and the last byte of the body arrived. */
  stamps?: Stamps | undefined;
}

/** performance.now() of an answer's parts (CALICO_TUNE_HTTP_STATS=trace). */
export interface Stamps {
  headers?: number;
  first?: number;
  last?: number;
}

const REVIEW_PATH = /\/apis\/authorization\.k8s\.io\/v1\/(selfsubjectaccessreviews|selfsubjectrulesreviews)$/;

/** The default `Repeat` of a request: reads are idempotent, writes carrying a precondition are conditional. */
export function repeatOf(method: string, path: string, body: unknown): Repeat {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return 'idempotent';
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (m === 'PATCH' || m === 'PUT') {
    const meta = b['metadata'];
    const rv =
      meta !== null && typeof meta === 'object'
        ? (meta as Record<string, unknown>)['resourceVersion']
        : undefined;
    return typeof rv === 'string' && rv !== '' ? 'conditional' : 'unsafe';
  }
  if (m === 'DELETE') {
    const pre = b['preconditions'];
    if (pre !== null && typeof pre === 'object') {
      const p = pre as Record<string, unknown>;
      if (
        (typeof p['resourceVersion'] === 'string' && p['resourceVersion']) ||
        (typeof p['uid'] === 'string' && p['uid'])
      )
        return 'conditional';
    }
    return 'unsafe';
  }
  if (m === 'POST' && REVIEW_PATH.test(path)) return 'idempotent';
  return 'unsafe';
}

/** Network errors worth another attempt (the server went away, or did not answer in time). */
const TRANSIENT_NET = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

/** `Retry-After`: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Backoff before retry `k` (1-based): exponential, capped, "equal jitter" (half fixed, half random). */
export function backoffMs(k: number, p: RetryPolicy, random: () => number = Math.random): number {
  const d = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (k - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

class NetError extends Error {
  constructor(
    readonly err: NodeJS.ErrnoException,
    /** The request was (at least partly) sent before it failed, so the server may have acted on it. */
    readonly sent: boolean,
  ) {
    super(err.message);
  }
}

export const MERGE_PATCH = 'application/merge-patch+json';

const DEFAULT_TIMEOUT_MS = 60_000;

export class KubeHttp {
  readonly cfg: ResolvedConfig;
  private creds?: Credentials;
  private credsPromise?: Promise<Credentials> | undefined;
  private agent?: https.Agent | http.Agent;
  /** Count of requests sent, by method (for tests and --verbose); retries included. */
  readonly counts: Record<string, number> = {};
  /** Response body bytes as received (compressed when the server gzipped them) and after decoding. */
  readonly bytes = { wire: 0, decoded: 0 };
  /** Retries done (each retry also counts in `counts`). */
  retries = 0;
  /** When set (bench/live.ts, through CALICO_TUNE_HTTP_STATS): each answered request, ms since the process began. */
  trace?: ({ req: string; sent: number; answered: number; protobuf?: true } & Stamps)[] | undefined;
  /** Called before each retry (BaseCommand prints it with --verbose). */
  onRetry?: ((e: RetryEvent) => void) | undefined;
  readonly retry: RetryPolicy;
  /** Whether any request got an HTTP answer: ECONNREFUSED is retried only after that (a restarting server). */
  private answered = false;

  constructor(cfg: ResolvedConfig, opts: { retry?: Partial<RetryPolicy> } = {}) {
    this.cfg = cfg;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
  }

  private async credentials(refresh = false): Promise<Credentials> {
    if (
      !refresh &&
      this.creds &&
      (this.creds.expiresAt === undefined || this.creds.expiresAt - Date.now() > 10_000)
    ) {
      return this.creds;
    }
    if (!this.credsPromise) {
      this.credsPromise = getCredentials(this.cfg).finally(() => (this.credsPromise = undefined));
    }
    this.creds = await this.credsPromise;
    return this.creds;
  }

  private getAgent(c: Credentials): https.Agent | http.Agent {
    if (this.agent) return this.agent;
    const isHttps = this.cfg.server.startsWith('https:');
    this.agent = isHttps
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 16,
          ca: this.cfg.ca,
          cert: c.cert,
          key: c.key,
          rejectUnauthorized: !this.cfg.insecureSkipTlsVerify,
          servername: this.cfg.tlsServerName,
        })
      : new http.Agent({ keepAlive: true, maxSockets: 16 });
    const proxy = this.proxy();
    if (proxy) {
      // each connection through the proxy's tunnel; TLS to the server inside it, as the agent makes it
      const limit = this.cfg.requestTimeoutMs || DEFAULT_TIMEOUT_MS;
      (this.agent as unknown as { createConnection: unknown }).createConnection = (
        options: tls.ConnectionOptions & { host: string; port: number },
        done: (err: Error | null, socket?: net.Socket) => void,
      ): undefined => {
        this.tunnelTo(proxy, String(options.host), Number(options.port), AbortSignal.timeout(limit)).then(
          (s) => {
            if (!isHttps) return done(null, s);
            // the TLS handshake inside the tunnel ends before the request has its socket: so it is bounded
            // (Bun's request timeout does not cover a handshake) and a failed one is not a request sent
            const t = tls.connect({ ...options, socket: s });
            const timer = setTimeout(() => fail(timeoutError(limit)), limit);
            const fail = (e: Error): void => {
              clearTimeout(timer);
              t.destroy();
              done(e);
            };
            t.once('error', fail);
            t.once('secureConnect', () => {
              clearTimeout(timer);
              t.off('error', fail);
              done(null, t);
            });
          },
          (e: Error) => done(e),
        );
        return undefined;
      };
    }
    return this.agent;
  }

  /** Closes keep-alive sockets (and the HTTP/2 session, or the connection being made for it) so the process can exit promptly. */
  close(): void {
    this.agent?.destroy();
    const h2 = this.h2;
    this.h2 = undefined;
    if (h2 && h2.inflight.size === 0) h2.session.destroy();
    else if (h2) {
      // streams in flight (the rest of a read that failed on its first error): each is cancelled, and the
      // session closes once they are gone, holding the process until then. Destroying it under them let the
      // process exit with their native halves alive: Node 20 aborted (Realm base_object_count_, 1-6 runs in 40)
      h2.session.ref();
      for (const s of h2.inflight) s.close(NGHTTP2_CANCEL);
      h2.session.close();
    }
    // a connection still being made belongs to this generation: it ends, and its waiters get an error
    this.h2Generation++;
    this.h2Socket?.destroy();
    this.h2Socket = undefined;
    this.h2Tunnel?.abort();
    this.h2Tunnel = undefined;
  }

  private aborted = false;

  /**
   * Closes the sockets and ends the requests in flight for good (no retry): for a client made by the start-up
   * prefetch (kube/connect.ts) that no command took, or whose read was left unused.
   */
  abort(): void {
    this.aborted = true;
    this.close();
  }

  /**
   * Sends a request, retrying transient faults within one time budget: `timeoutMs`, else `--request-timeout`,
   * else 60 s, for all attempts together (as kubectl's --request-timeout bounds client-go's retries). An
   * attempt that may be retried gets at most half the budget, so one held connection leaves room for another.
   *
   * Retried (up to `retry.attempts` in all, exponential backoff with jitter, `Retry-After` honoured up to
   * `retry.retryAfterCapMs`): 429 and a 5xx with `Retry-After` for every request but `never` (the server did
   * not process it); 500/502/503/504 without `Retry-After`, connection resets, timeouts, and a refused
   * connection to a server that answered before, only for `idempotent`, `conditional` and `create` requests.
   */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const budget = opts.timeoutMs ?? (this.cfg.requestTimeoutMs || DEFAULT_TIMEOUT_MS);
    const deadline = Date.now() + budget;
    const repeat = opts.repeat ?? repeatOf(method, path, opts.body);
    const safe = repeat === 'idempotent' || repeat === 'conditional' || repeat === 'create';
    const attemptCap =
      safe && this.retry.attempts > 1 ? Math.max(Math.ceil(budget / 2), Math.min(budget, 1000)) : budget;
    let creds = await this.credentials();
    let refreshed = false;
    let ambiguous = false;
    for (let attempt = 1; ; attempt++) {
      if (this.aborted) throw clusterError(`${method} ${path}: the client was closed`);
      const remaining = deadline - Date.now();
      try {
        const sent = performance.now();
        const stamps: Stamps | undefined = this.trace ? {} : undefined;
        const r = await this.send<T>(
          method,
          path,
          stamps ? { ...opts, stamps } : opts,
          creds,
          Math.max(1, Math.min(attemptCap, remaining)),
        );
        this.trace?.push({
          req: `${method} ${path}`,
          sent: Math.round(sent),
          ...roundStamps(stamps),
          answered: Math.round(performance.now()),
          ...(opts.protobuf ? { protobuf: true as const } : {}),
        });
        this.answered = true;
        return r;
      } catch (e) {
        if (e instanceof ApiError) this.answered = true;
        // exec plugins and rotated tokens: refresh once on 401, as kubectl does
        if (
          e instanceof ApiError &&
          e.status === 401 &&
          !refreshed &&
          (this.cfg.exec || this.cfg.tokenFile || this.cfg.authProvider)
        ) {
          refreshed = true;
          creds = await this.credentials(true);
          this.close(); // new credentials may carry a new client certificate: new connections
          this.agent = undefined;
          attempt--;
          continue;
        }
        const verdict = this.retryable(e, repeat, safe);
        const final = (): Error => {
          if (e instanceof ApiError) {
            e.attempts = attempt;
            e.afterAmbiguousAttempt = ambiguous;
            if (attempt > 1) e.message = `${e.message} (after ${attempt} attempts)`;
            return e;
          }
          const err = e instanceof NetError ? networkError(e.err, this.cfg) : (e as Error);
          if (attempt > 1 && err instanceof CliError)
            err.message = `${err.message} (after ${attempt} attempts)`;
          return err;
        };
        if (!verdict || attempt >= this.retry.attempts || this.aborted) throw final();
        let delay = verdict.now ? 0 : backoffMs(attempt, this.retry);
        if (e instanceof ApiError && e.retryAfterMs !== undefined) {
          delay = Math.max(delay, Math.min(e.retryAfterMs, this.retry.retryAfterCapMs));
        }
        // no time left for the wait and a useful attempt: give up now with the real error
        if (Date.now() + delay + 50 >= deadline) throw final();
        if (verdict.ambiguous) ambiguous = true;
        this.retries++;
        this.onRetry?.({ method, path, attempt: attempt + 1, delayMs: delay, why: verdict.why });
        await new Promise((r) => setTimeout(r, delay));
        if (this.aborted) throw final();
      }
    }
  }

  /** Whether a failed attempt is retried, and whether the server may have applied it. */
  private retryable(
    e: unknown,
    repeat: Repeat,
    safe: boolean,
  ): { why: string; ambiguous: boolean; now?: boolean } | undefined {
    if (repeat === 'never') return undefined;
    // not processed by the server (RFC 9113, section 8.7): sent again at once on a new connection, any method,
    // as Go's HTTP/2 transport does; the server's GOAWAY after an answer (--goaway-chance) is routine
    if (e instanceof NetError && e.err.code === REFUSED)
      return { why: 'not processed (the server closed the connection: GOAWAY)', ambiguous: false, now: true };
    if (e instanceof ApiError) {
      if (e.status === 429) return { why: '429 Too Many Requests', ambiguous: false };
      if (e.status >= 500 && e.retryAfterMs !== undefined)
        return { why: `${e.status} with Retry-After`, ambiguous: false };
      if (TRANSIENT_STATUS.has(e.status) && safe)
        // a 500 or 504 on a write may come after etcd applied it
        return { why: `${e.status} ${e.reason}`.trim(), ambiguous: e.method !== 'GET' };
      return undefined;
    }
    if (e instanceof NetError && safe) {
      const code = e.err.code ?? '';
      if (TRANSIENT_NET.has(code) || (code === 'ECONNREFUSED' && this.answered))
        return { why: code, ambiguous: e.sent };
    }
    return undefined;
  }

  private send<T>(
    method: string,
    path: string,
    opts: RequestOptions,
    creds: Credentials,
    timeout: number,
  ): Promise<T> {
    const base = new URL(this.cfg.server);
    const prefix = base.pathname.replace(/\/$/, '');
    const url = new URL(prefix + path, base);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string | string[]> = {
      Accept: opts.raw
        ? '*/*'
        : opts.protobuf
          ? `${PROTOBUF},application/json`
          : (opts.accept ?? 'application/json'),
      // the API server gzips responses over 128 KiB (a 5,000-node list: 13 MB -> under 1 MB)
      'Accept-Encoding': 'gzip',
      'User-Agent': 'kubectl-calico_tune',
      ...creds.headers,
    };
    if (this.cfg.impersonateUser) headers['Impersonate-User'] = this.cfg.impersonateUser;
    if (this.cfg.impersonateGroups.length) headers['Impersonate-Group'] = this.cfg.impersonateGroups;
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    this.counts[method] = (this.counts[method] ?? 0) + 1;
    // reads go over HTTP/2 when the server offers it: one TLS connection for all of them (a report's 28
    // reads took 84 ms and 38 ms of CPU instead of 113 and 77 over up to 16 HTTP/1.1 connections, 1,000
    // nodes); writes keep HTTP/1.1 and its retry rules
    if (method === 'GET' && !payload && url.protocol === 'https:' && this.useHttp2()) {
      return this.h2Session(creds, timeout).then((session) =>
        session
          ? this.sendH2<T>(session, method, url, headers, opts, timeout)
          : this.sendH1<T>(method, url, headers, payload, opts, creds, timeout),
      );
    }
    return this.sendH1<T>(method, url, headers, payload, opts, creds, timeout);
  }

  private sendH1<T>(
    method: string,
    url: URL,
    headers: Record<string, string | string[]>,
    payload: Buffer | undefined,
    opts: RequestOptions,
    creds: Credentials,
    timeout: number,
  ): Promise<T> {
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: this.getAgent(creds) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const r = this.complete<T>(
            method,
            url,
            opts,
            res.statusCode ?? 0,
            res.statusMessage,
            res.headers,
            chunks,
          );
          if (r.ok) resolve(r.value);
          else reject(r.error);
        });
        res.on('error', (err) => reject(new NetError(err, true)));
      });
      req.setTimeout(timeout, () => {
        req.destroy(timeoutError(timeout));
      });
      // "sent": the request reached a socket, so the server may have read and applied it
      let connected = false;
      req.on('socket', (sock) => {
        if (!sock.connecting) return void (connected = true);
        // req.setTimeout counts only once the socket is connected: a connection never accepted (SYNs dropped
        // by a firewall, a dead address) waited for the kernel's own limit, about two minutes. Over TLS the
        // timer runs to the end of the handshake, which Bun's request timeout does not cover (and before which
        // no byte of the request has left)
        const connecting = setTimeout(() => req.destroy(timeoutError(timeout)), timeout);
        sock.once(sock instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
          connected = true;
          clearTimeout(connecting);
        });
        req.once('close', () => clearTimeout(connecting));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(new NetError(err, connected));
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  /**
   * Resolves once the HTTP/2 connection being made is up (its first requests then go out at once), or after
   * `maxMs`; never rejects (a failed connection is its requests' error). At once when reads do not use
   * HTTP/2 (http://, CALICO_TUNE_HTTP2=0, a server that declined it) or the connection is up. The start-up
   * prefetch waits for it before loading oclif: the TLS handshake runs on this thread, and a module load
   * blocks it. The timer holds the process (at most `maxMs`): when no connection is ever made (credentials
   * that fail first), nothing else may, and an unsettled wait let Node exit mid-command.
   */
  whenConnected(maxMs: number): Promise<void> {
    const live = this.h2?.session;
    if (
      !this.useHttp2() ||
      new URL(this.cfg.server).protocol !== 'https:' ||
      (live && !live.closed && !live.destroyed)
    )
      return Promise.resolve();
    return new Promise<void>((resolve) => {
      let finished = false;
      const done = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        const i = this.connectWaiters.indexOf(done);
        if (i >= 0) this.connectWaiters.splice(i, 1);
        setImmediate(resolve); // the streams waiting for the session write their frames first
      };
      const timer = setTimeout(done, maxMs);
      this.connectWaiters.push(done);
    });
  }

  /** Called once the connection being made is up or has failed (whenConnected). */
  private connectWaiters: (() => void)[] = [];

  /** Whether reads may try HTTP/2 (not after the server declined it; CALICO_TUNE_HTTP2=0 turns it off). */
  private useHttp2(): boolean {
    return !this.h2Declined && process.env['CALICO_TUNE_HTTP2'] !== '0';
  }

  private h2?: { session: http2.ClientHttp2Session; inflight: Set<http2.ClientHttp2Stream> } | undefined;
  private h2Connecting?: Promise<http2.ClientHttp2Session | undefined> | undefined;
  /** The server did not choose h2 in ALPN: HTTP/1.1 from then on. */
  private h2Declined = false;
  /** Counts close() calls: a connection begun before one is not used after it (old credentials, abort). */
  private h2Generation = 0;
  /** The socket of the HTTP/2 connection being made (TCP, then TLS), until it is a session or fails. */
  private h2Socket?: net.Socket | undefined;
  /** Ends the proxy tunnel being made for that connection (kube/proxy.ts). */
  private h2Tunnel?: AbortController | undefined;

  /** A tunnel through `proxy` to the server's `host` and `port`, its TLS (an https proxy) as the cluster's. */
  private tunnelTo(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
    return tunnel(proxy, host.replace(/^\[|\]$/g, ''), port, {
      signal,
      ca: this.cfg.ca,
      insecure: this.cfg.insecureSkipTlsVerify,
    });
  }

  /** The proxy the server is reached through: the cluster's proxy-url, else the environment's (kube/proxy.ts). */
  private proxy(): URL | undefined {
    if (this.proxyChosen === undefined) {
      const raw = this.cfg.proxyUrl ?? proxyFromEnv(new URL(this.cfg.server));
      const url = raw === undefined ? undefined : parseProxyUrl(raw);
      if (raw !== undefined && !url)
        throw usageError(
          `the proxy "${redactProxy(raw)}" of the environment (HTTPS_PROXY or HTTP_PROXY) is not one calico-tune can use`,
          'give an http://, https:// or socks5:// URL, or leave the server out of it with NO_PROXY',
        );
      this.proxyChosen = url ?? null;
    }
    return this.proxyChosen ?? undefined;
  }
  private proxyChosen?: URL | null;

  /**
   * The HTTP/2 session, connected on first use with the same TLS settings as the HTTP/1.1 agent; undefined
   * when the server does not choose h2 in ALPN (HTTP/1.1 from then on). A connection that fails or does not
   * complete within `timeout` is the request's NetError, as on HTTP/1.1 (nothing was sent).
   */
  private h2Session(creds: Credentials, timeout: number): Promise<http2.ClientHttp2Session | undefined> {
    const live = this.h2?.session;
    if (live && !live.closed && !live.destroyed) return Promise.resolve(live);
    this.h2Connecting ??= new Promise<http2.ClientHttp2Session | undefined>((resolve, reject) => {
      const server = new URL(this.cfg.server);
      const host = server.hostname.replace(/^\[|\]$/g, '');
      if (this.trace) performance.mark('tls-connect');
      // the TCP handshake first, the TLS context on the tick after net's (which sends the SYN to an address;
      // a host name is being resolved meanwhile): building it takes Node 20 about 17 ms (its root store, even
      // for a kubeconfig's own CA, unless NODE_EXTRA_CA_CERTS made it at start). TLS starts on the connected
      // socket (Node tries each address of a name on a new handle: a TLS socket made before would keep the
      // first), and node:http2 loads once the ClientHello is out (docs/benchmarks.md, "Start-up")
      const port = Number(server.port || 443);
      const proxy = this.proxy();
      // through a proxy, its tunnel to the server comes first (kube/proxy.ts); else the TCP connection
      let tcp: net.Socket | undefined = proxy ? undefined : net.connect({ host, port });
      const tunnelling = proxy ? new AbortController() : undefined;
      const generation = this.h2Generation;
      this.h2Socket = tcp;
      this.h2Tunnel = tunnelling;
      let socket: tls.TLSSocket | undefined;
      let settled = false;
      // one limit for the whole connection (name, TCP, TLS), a timer of its own: the same in Node and Bun
      const deadline = setTimeout(() => fail(timeoutError(timeout)), timeout);
      const fail = (err: NodeJS.ErrnoException): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (this.h2Socket === (socket ?? tcp)) this.h2Socket = undefined;
        if (this.h2Tunnel === tunnelling) this.h2Tunnel = undefined;
        socket?.destroy();
        tcp?.destroy();
        tunnelling?.abort();
        reject(new NetError(err, false));
      };
      const closed = (): Error => Object.assign(new Error('the client was closed'), { code: 'ECONNABORTED' });
      // destroyed by close() before the handshake ended: no 'error' comes, only 'close'
      const onClose = (): void => fail(closed());
      const watch = (s: net.Socket): void => {
        s.once('error', fail);
        s.once('close', onClose);
      };
      let context: tls.SecureContext | undefined;
      const secureContext = (): tls.SecureContext =>
        (context ??= tls.createSecureContext({ ca: this.cfg.ca, cert: creds.cert, key: creds.key }));
      process.nextTick(() => {
        if (settled || tcp?.destroyed) return;
        try {
          secureContext();
        } catch (e) {
          fail(e as NodeJS.ErrnoException); // a client certificate and key that do not match, say
        }
      });
      const onTcp = (tcp: net.Socket): void => {
        if (settled) return;
        let tlsSocket: tls.TLSSocket;
        try {
          tlsSocket = tls.connect({
            socket: tcp,
            secureContext: secureContext(),
            host,
            rejectUnauthorized: !this.cfg.insecureSkipTlsVerify,
            servername: this.cfg.tlsServerName ?? (net.isIP(host) ? undefined : host),
            ALPNProtocols: ['h2', 'http/1.1'],
          });
        } catch (e) {
          return fail(e as NodeJS.ErrnoException);
        }
        socket = tlsSocket;
        if (this.h2Socket === tcp) this.h2Socket = tlsSocket;
        tlsSocket.once('error', fail);
        tlsSocket.once('close', onClose);
        const h2module = loadHttp2(); // (the ClientHello is written)
        tlsSocket.once('secureConnect', () => void h2module.then((h2) => connected(tlsSocket, h2), fail));
      };
      if (tcp) {
        watch(tcp);
        tcp.once('connect', () => onTcp(tcp!));
      } else
        this.tunnelTo(proxy!, host, port, tunnelling!.signal).then((s) => {
          if (settled) return void s.destroy();
          tcp = s;
          if (this.h2Tunnel === tunnelling) this.h2Tunnel = undefined;
          if (this.h2Socket === undefined) this.h2Socket = s;
          watch(s);
          onTcp(s);
        }, fail);
      const connected = (socket: tls.TLSSocket, http2: typeof import('node:http2')): void => {
        if (this.trace) performance.mark('tls-ready');
        if (settled) return;
        clearTimeout(deadline);
        socket.off('error', fail);
        tcp?.off('error', fail);
        if (this.h2Socket === socket) this.h2Socket = undefined;
        if (this.aborted || generation !== this.h2Generation) return fail(closed());
        if (socket.alpnProtocol !== 'h2') {
          settled = true;
          this.h2Declined = true;
          socket.destroy();
          resolve(undefined);
          return;
        }
        let session: http2.ClientHttp2Session;
        try {
          // windows large enough for a big list in one go: with the default 64 KiB the server waits for our
          // WINDOW_UPDATEs, which wait for the event loop while it decodes other answers
          session = http2.connect(server.origin, {
            createConnection: () => socket,
            settings: { initialWindowSize: H2_WINDOW },
          });
          session.once('connect', () => {
            if (this.trace) performance.mark('h2-ready');
            session.setLocalWindowSize(H2_WINDOW);
          });
          session.unref(); // held only while a stream is open (sendH2)
        } catch (e) {
          return fail(e as NodeJS.ErrnoException); // (settles: a throw here must not leave reads waiting)
        }
        settled = true;
        // the session watches the socket from here
        socket.off('close', onClose);
        tcp?.off('close', onClose);
        const entry = { session, inflight: new Set<http2.ClientHttp2Stream>() };
        const drop = (): void => {
          if (this.h2 === entry) this.h2 = undefined;
        };
        // a failed or closed session fails its streams (each reports its own error); the next read connects again
        session.on('error', drop);
        session.on('goaway', (_code: number, last: number) => {
          goawayLast.set(session, last);
          drop();
        });
        session.on('close', drop);
        this.h2 = entry;
        resolve(session);
      };
    }).finally(() => {
      this.h2Connecting = undefined;
      for (const w of this.connectWaiters.splice(0)) w();
    });
    return this.h2Connecting;
  }

  private sendH2<T>(
    session: http2.ClientHttp2Session,
    method: string,
    url: URL,
    headers: Record<string, string | string[]>,
    opts: RequestOptions,
    timeout: number,
  ): Promise<T> {
    const entry = this.h2?.session === session ? this.h2 : undefined;
    return new Promise<T>((resolve, reject) => {
      const h2headers: http2.OutgoingHttpHeaders = { ':method': method, ':path': url.pathname + url.search };
      for (const [k, v] of Object.entries(headers)) h2headers[k.toLowerCase()] = v;
      let req: http2.ClientHttp2Stream;
      try {
        req = session.request(h2headers, { endStream: true });
      } catch (e) {
        // the session closed between the look-up and the request: nothing was sent
        reject(new NetError(h2Error(e as NodeJS.ErrnoException), false));
        return;
      }
      if (entry) {
        if (entry.inflight.size === 0) session.ref();
        entry.inflight.add(req);
      }
      /**
       * The stream's idle limit (no headers or data for `timeout` ms), as Node's `req.setTimeout` keeps it, on a
       * timer of our own: Bun's `setTimeout` of a stream hangs a 'timeout' listener on the session for each
       * stream and never removes it (the 17 reads of a `status` printed a MaxListenersExceededWarning).
       */
      const idle = setTimeout(() => {
        if (req.destroyed) return; // closed already (its 'close' clears this timer): the session is not at fault
        abandon();
        settle(() => reject(new NetError(timeoutError(timeout), true)));
        // the connection may be dead without a sign (a failover, a NAT drop): the retry and the reads after
        // it make a new one, as a timed-out HTTP/1.1 request destroys its socket
        if (this.h2?.session === session) this.h2 = undefined;
        session.destroy();
      }, timeout);
      let status = 0;
      let resHeaders: http.IncomingHttpHeaders = {};
      let settled = false;
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        f();
      };
      const chunks: Buffer[] = [];
      const stamps = opts.stamps;
      // a report's Node list (protobuf or JSON) is decoded as it arrives, gunzipped on the thread pool:
      // decoding overlaps the server's encoding and compressing, instead of starting after its last byte
      let stream:
        | {
            decoder: StreamDecoder;
            /** The error for an answer the decoder refused. */
            invalid: (method: string, url: URL) => Error;
            protobuf: boolean;
            /** Body bytes decoded so far (gunzipped). */
            decoded: number;
            gunzip?: zlib.Gunzip | undefined;
            failed: boolean;
            queued: Buffer[];
            writing: boolean;
          }
        | undefined;
      /** The answer's last byte has come in. */
      let ended = false;
      /** Input reaches the gunzip one write at a time, joined: each write is a round trip to the thread pool. */
      const pump = (): void => {
        const s = stream;
        if (!s?.gunzip || s.failed || s.writing) return;
        if (s.queued.length) {
          const chunk = s.queued.length === 1 ? s.queued[0]! : Buffer.concat(s.queued);
          s.queued = [];
          s.writing = true;
          s.gunzip.write(chunk, () => {
            s.writing = false;
            pump();
          });
        } else if (ended) s.gunzip.end();
      };
      /** The answer will not be used (a timeout, a stream error, a reset, a failed decode): its gunzip stops. */
      const abandon = (): boolean => {
        if (!stream || stream.failed) return false;
        stream.failed = true;
        stream.gunzip?.destroy();
        return true;
      };
      /**
       * The stream failed without an answer and the server did not process it: refused, or above the last
       * stream of the session's GOAWAY (Bun sends a request on a session whose GOAWAY is on its way).
       */
      const unanswered = (): NetError => {
        const last = goawayLast.get(session);
        // above the GOAWAY's last stream: the next read goes on a new connection, at once
        if (status === 0 && last !== undefined && (req.id === undefined || req.id > last))
          return new NetError(
            Object.assign(new Error('the server did not process the request (HTTP/2 GOAWAY)'), {
              code: REFUSED,
            }),
            false,
          );
        // refused on a session that goes on (too many streams at once): not processed, retried after the
        // usual backoff on the same connection
        if (status === 0 && req.rstCode === NGHTTP2_REFUSED_STREAM) return new NetError(resetError(), false);
        return new NetError(resetError(), true);
      };
      /**
       * Bun ended the stream on a session already closed, with no code: a cut, or a whole answer followed by
       * the server's GOAWAY (the API server's --goaway-chance). The body decides: one that does not decode
       * whole (or is empty) was cut, a reset as below; one that does is the answer, read once.
       */
      let maybeCut = false;
      const failStream = (err: Error): void => {
        if (!abandon()) return;
        if (maybeCut) err = new NetError(resetError(), true);
        settle(() => reject(err));
        if (!req.closed) req.close(NGHTTP2_CANCEL);
      };
      /** Decodes one more chunk of the (gunzipped) body, or its end (`undefined`). */
      const decode = (out: Buffer | undefined): void => {
        if (!stream || stream.failed) return;
        let value: unknown;
        try {
          if (out) {
            this.bytes.decoded += out.length;
            stream.decoded += out.length;
            return stream.decoder.push(out);
          }
          if (maybeCut && stream.decoded === 0) throw new Error('cut after its headers');
          value = stream.decoder.end();
          if (opts.received)
            Object.assign(opts.received, { bytes: stream.decoded, protobuf: stream.protobuf });
        } catch {
          return failStream(stream.invalid(method, url));
        }
        settle(() => resolve(value as T));
      };
      req.on('response', (h) => {
        idle.refresh();
        if (stamps) stamps.headers = performance.now();
        status = Number(h[':status'] ?? 0);
        resHeaders = h as http.IncomingHttpHeaders;
        const type = String(h['content-type'] ?? '');
        const protobuf = type.startsWith(PROTOBUF);
        const decoder =
          status < 200 || status >= 300
            ? undefined
            : protobuf
              ? opts.protobuf
              : type.startsWith('application/json')
                ? opts.jsonList
                : undefined;
        if (decoder) {
          stream = {
            decoder: decoder(),
            invalid: protobuf ? invalidProtobuf : invalidJson,
            protobuf,
            decoded: 0,
            failed: false,
            queued: [],
            writing: false,
          };
          if (isGzip(h['content-encoding'])) {
            // output in large pieces: each is a round trip from the thread pool through the event loop
            const gunzip = zlib.createGunzip({ chunkSize: GUNZIP_CHUNK });
            gunzip.on('data', decode);
            gunzip.on('end', () => decode(undefined));
            gunzip.on('error', () => failStream(corruptGzip(method, url)));
            stream.gunzip = gunzip;
          }
          // Node emits 'response' on the next tick, and a DATA frame that came in the same read as the HEADERS
          // can reach 'data' first (nodejs/undici#2985): those bytes, kept in `chunks`, go first
          for (const d of chunks.splice(0)) receive(d);
        }
      });
      /** One piece of a streamed answer's body, in order: to the gunzip's queue, or to the decoder. */
      const receive = (d: Buffer): void => {
        this.bytes.wire += d.length;
        if (!stream || stream.failed) return;
        if (stream.gunzip) {
          stream.queued.push(d);
          pump();
        } else decode(d);
      };
      req.on('data', (d: Buffer) => {
        idle.refresh();
        if (stamps)
          stamps.last = stamps.first === undefined ? (stamps.first = performance.now()) : performance.now();
        if (!stream) return void chunks.push(d);
        receive(d);
      });
      req.on('end', () => {
        ended = true;
        // no response headers, or an end without the answer's last frame: the connection went away under the
        // stream. Node ends such a stream with a code (NGHTTP2_CANCEL; NO_ERROR when the answer was whole), Bun
        // with none on a closed session (`maybeCut`). A reset, as on HTTP/1.1, and retried as one: never a
        // shorter answer (a list cut after its headers read as an empty list), nor a body blamed for being
        // invalid JSON, an invalid protobuf or a corrupt gzip
        if (status === 0 || (req.rstCode ?? 0) !== 0) {
          abandon();
          return settle(() => reject(unanswered()));
        }
        maybeCut = BUN && (session.closed || session.destroyed);
        // a gzipped answer settles when the gunzip has given its last byte
        if (stream) return stream.gunzip ? pump() : decode(undefined);
        const r = this.complete<T>(method, url, opts, status, http.STATUS_CODES[status], resHeaders, chunks);
        if (maybeCut && status >= 200 && status < 300 && (!r.ok || chunks.every((c) => c.length === 0)))
          return settle(() => reject(new NetError(resetError(), true)));
        settle(() => (r.ok ? resolve(r.value) : reject(r.error)));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        abandon();
        const refused = unanswered();
        settle(() => reject(refused.err.code === REFUSED ? refused : new NetError(h2Error(err), true)));
      });
      req.on('close', () => {
        clearTimeout(idle);
        if (entry?.inflight.delete(req) && entry.inflight.size === 0 && !session.closed) session.unref();
        // closed without an end or an error (the session went away): a reset, as on HTTP/1.1
        if (ended) return;
        abandon();
        settle(() => reject(unanswered()));
      });
    });
  }

  /** An HTTP answer (either protocol) as the value or the error `request` gives the caller. */
  private complete<T>(
    method: string,
    url: URL,
    opts: RequestOptions,
    status: number,
    statusMessage: string | undefined,
    headers: http.IncomingHttpHeaders,
    chunks: Buffer[],
  ): { ok: true; value: T } | { ok: false; error: Error } {
    const raw = Buffer.concat(chunks);
    let buf = raw;
    if (isGzip(headers['content-encoding'])) {
      try {
        buf = zlib.gunzipSync(raw);
      } catch {
        return {
          ok: false,
          error: corruptGzip(method, url),
        };
      }
    }
    this.bytes.wire += raw.length;
    this.bytes.decoded += buf.length;
    const protobuf = String(headers['content-type'] ?? '').startsWith(PROTOBUF);
    if (opts.received && status >= 200 && status < 300)
      Object.assign(opts.received, { bytes: buf.length, protobuf });
    if (protobuf) {
      try {
        if (status >= 200 && status < 300 && opts.protobuf) {
          const d = opts.protobuf();
          d.push(buf);
          return { ok: true, value: d.end() as T };
        }
        const st = decodeStatus(buf);
        const err = new ApiError(
          method,
          url.pathname,
          status,
          st.reason ?? statusMessage ?? '',
          describeStatus(status, st.message ?? `HTTP ${status}`, this.cfg),
          { reason: st.reason, message: st.message },
        );
        err.retryAfterMs = parseRetryAfter(headers['retry-after']);
        return { ok: false, error: err };
      } catch {
        return {
          ok: false,
          error: invalidProtobuf(method, url),
        };
      }
    }
    const text = buf.toString('utf8');
    if (status >= 200 && status < 300) {
      if (opts.raw) return { ok: true, value: text as T };
      try {
        return { ok: true, value: (text ? JSON.parse(text) : {}) as T };
      } catch {
        return { ok: false, error: invalidJson(method, url) };
      }
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* not a Status object */
    }
    const reason = typeof body['reason'] === 'string' ? body['reason'] : (statusMessage ?? '');
    const message =
      typeof body['message'] === 'string' ? body['message'] : text.slice(0, 200) || `HTTP ${status}`;
    const err = new ApiError(
      method,
      url.pathname,
      status,
      reason,
      describeStatus(status, message, this.cfg),
      body,
    );
    err.retryAfterMs = parseRetryAfter(headers['retry-after']);
    return { ok: false, error: err };
  }
}

function timeoutError(timeout: number): NodeJS.ErrnoException {
  return Object.assign(
    new Error(`no answer within ${timeout < 1000 ? `${timeout}ms` : `${Math.round(timeout / 1000)}s`}`),
    { code: 'ETIMEDOUT' },
  );
}

function roundStamps(s: Stamps | undefined): Stamps {
  const out: Stamps = {};
  if (s?.headers !== undefined) out.headers = Math.round(s.headers);
  if (s?.first !== undefined) out.first = Math.round(s.first);
  if (s?.last !== undefined) out.last = Math.round(s.last);
  return out;
}

function corruptGzip(method: string, url: URL): CliError {
  return clusterError(`${method} ${url.pathname}: the server sent a corrupt gzip body`);
}

function invalidJson(method: string, url: URL): CliError {
  return clusterError(`${method} ${url.pathname}: the server answered with invalid JSON`);
}

function invalidProtobuf(method: string, url: URL): CliError {
  return clusterError(`${method} ${url.pathname}: the server answered with an invalid protobuf`);
}

function isGzip(contentEncoding: string | string[] | undefined): boolean {
  return /^\s*(x-)?gzip\s*$/i.test(String(contentEncoding ?? ''));
}

/** Output piece of a streamed gunzip (bytes). */
const GUNZIP_CHUNK = 1024 * 1024;

/** HTTP/2 receive window, per stream and per connection (bytes). */
const H2_WINDOW = 32 * 1024 * 1024;

const BUN = typeof process.versions['bun'] === 'string';

function resetError(): NodeJS.ErrnoException {
  return Object.assign(new Error('the HTTP/2 stream closed without an answer'), { code: 'ECONNRESET' });
}

/** An HTTP/2 stream or session failure, classified like the HTTP/1.1 failure it stands for (a reset). */
function h2Error(err: NodeJS.ErrnoException): NodeJS.ErrnoException {
  if (err.code && TRANSIENT_NET.has(err.code)) return err;
  // a TLS alert (with TLS 1.3 the server's refusal of our certificate comes after the handshake, as a
  // session error): the TLS failure it is, not a reset to retry
  const tls = tlsCode(err);
  if (tls) return Object.assign(new Error(err.message), { code: tls, cause: err });
  return Object.assign(new Error(`${err.message} (HTTP/2)`), { code: 'ECONNRESET', cause: err });
}

function describeStatus(status: number, message: string, cfg: ResolvedConfig): string {
  if (status === 401)
    return cfg.tokenFromFlag
      ? `the API server ${cfg.server} rejected the token given with --token (401 Unauthorized)`
      : `the API server ${cfg.server} rejected the credentials of user "${cfg.userName ?? '?'}" (401 Unauthorized)`;
  if (status === 403)
    return message.startsWith('forbidden') || message.includes(' is forbidden')
      ? message
      : `forbidden: ${message}`;
  return message;
}

/** The OpenSSL code of a TLS failure (ERR_SSL_...), in the error or its cause. */
function tlsCode(err: NodeJS.ErrnoException): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code?.startsWith('ERR_SSL_')) return code;
  }
  return undefined;
}

/** The server's TLS alert refusing the client's certificate, or demanding one (TLS 1.3 or 1.2). */
const CLIENT_CERT_REFUSED =
  /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|CERTIFICATE_UNKNOWN|UNKNOWN_CA|UNSUPPORTED_CERTIFICATE)$/;

function networkError(err: NodeJS.ErrnoException, cfg: ResolvedConfig): CliError {
  const code = err.code ?? '';
  let why = err.message;
  const proxy = (err as Partial<ProxyFailure>).proxy;
  if (proxy)
    return clusterError(
      `cannot reach the API server ${cfg.server} through the proxy ${proxy}: ${err.message}`,
      {
        hints: [
          cfg.proxyUrl
            ? `check proxy-url of cluster "${cfg.clusterName ?? ''}" in the kubeconfig`
            : 'check HTTPS_PROXY (HTTP_PROXY for an http:// server) and NO_PROXY in the environment',
        ],
        cause: err,
      },
    );
  if (CLIENT_CERT_REFUSED.test(code)) {
    const alert = code
      .replace(/^.*ALERT_/, '')
      .toLowerCase()
      .replace(/_/g, ' ');
    return clusterError(
      `the API server ${cfg.server} refused the TLS connection: ${cfg.clientCert ? 'it did not accept our client certificate' : 'it wants a client certificate and the kubeconfig has none'} (TLS alert: ${alert})`,
      {
        hints: [
          cfg.clientCert
            ? `check client-certificate and client-key of user "${cfg.userName ?? '?'}": the certificate may have expired (kubeadm's admin.conf lasts a year: kubeadm certs check-expiration) or come from another cluster's CA`
            : `give user "${cfg.userName ?? '?'}" a client-certificate and client-key, or a token the server accepts`,
        ],
        cause: err,
      },
    );
  }
  if (code === 'ECONNREFUSED') why = 'connection refused';
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') why = 'host name not found';
  else if (code === 'ETIMEDOUT') {
    return clusterError(`the API server ${cfg.server} did not answer: ${err.message}`, {
      hints: ['the cluster may be overloaded or unreachable; raise --request-timeout if it is just slow'],
      cause: err,
    });
  } else if (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
    why = `TLS verification failed (${code})`;
    return clusterError(`cannot reach the API server ${cfg.server}: ${why}`, {
      hints: ['check certificate-authority in the kubeconfig, or pass --certificate-authority FILE'],
      cause: err,
    });
  }
  return clusterError(`cannot reach the API server ${cfg.server}: ${why}`, {
    hints: [`check that the cluster is up and that context "${cfg.contextName ?? ''}" points at it`],
    cause: err,
  });
}
