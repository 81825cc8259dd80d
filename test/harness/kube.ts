/**
 * The harness's own small Kubernetes REST client (test code only; independent of src/kube so the
 * simulator and the fixture loader never share code with the product they test): bearer-token auth,
 * a keep-alive https agent, bounded parallelism, discovery-based REST mapping, and a line-delimited
 * JSON watch.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import yaml from 'js-yaml';

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export class KubeError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    const b = body as { message?: string; reason?: string } | undefined;
    super(
      `${method} ${path}: HTTP ${status} ${b?.reason ?? ''} ${b?.message ?? (typeof body === 'string' ? body.slice(0, 300) : '')}`.trim(),
    );
    this.name = 'KubeError';
  }
}

export interface ClientConfig {
  server: string;
  token?: string | undefined;
  ca?: Buffer | undefined;
  insecure?: boolean | undefined;
  /** Sockets kept open to the server (default 64). */
  maxSockets?: number | undefined;
  userAgent?: string | undefined;
}

export interface RequestOpts {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  /** Treat these statuses as success (the parsed body is returned). */
  okStatuses?: number[];
}

export interface RestMapping {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  hasStatus: boolean;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Obj;
}

/** Reads server, token and CA from a kubeconfig (current context; token/CA file or data). */
export function configFromKubeconfig(file: string, context?: string): ClientConfig {
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  type Entry = { name: string } & Record<string, unknown>;
  const list = (k: string): Entry[] => (Array.isArray(doc[k]) ? (doc[k] as Entry[]) : []);
  const ctxName = context ?? (doc['current-context'] as string);
  const ctx = list('contexts').find((c) => c.name === ctxName)?.['context'] as
    Record<string, string> | undefined;
  if (!ctx) throw new Error(`kubeconfig ${file}: no context ${ctxName}`);
  const cluster = list('clusters').find((c) => c.name === ctx['cluster'])?.['cluster'] as
    Record<string, unknown> | undefined;
  const user = (list('users').find((u) => u.name === ctx['user'])?.['user'] ?? {}) as Record<string, unknown>;
  if (!cluster) throw new Error(`kubeconfig ${file}: no cluster ${ctx['cluster']}`);
  const dir = path.dirname(path.resolve(file));
  const rel = (p: unknown): string => (path.isAbsolute(String(p)) ? String(p) : path.join(dir, String(p)));
  let ca: Buffer | undefined;
  if (typeof cluster['certificate-authority-data'] === 'string')
    ca = Buffer.from(cluster['certificate-authority-data'], 'base64');
  else if (typeof cluster['certificate-authority'] === 'string')
    ca = fs.readFileSync(rel(cluster['certificate-authority']));
  let token = typeof user['token'] === 'string' ? user['token'] : undefined;
  if (!token && typeof user['tokenFile'] === 'string')
    token = fs.readFileSync(rel(user['tokenFile']), 'utf8').trim();
  return {
    server: String(cluster['server']),
    token,
    ca,
    insecure: cluster['insecure-skip-tls-verify'] === true,
  };
}

export class KubeClient {
  readonly cfg: ClientConfig;
  private readonly agent: https.Agent | http.Agent;
  private readonly discovery = new Map<string, Promise<Map<string, RestMapping>>>();
  /** Requests sent, for measurements. */
  requests = 0;

  constructor(cfg: ClientConfig) {
    this.cfg = cfg;
    const maxSockets = cfg.maxSockets ?? 64;
    this.agent = cfg.server.startsWith('https:')
      ? new https.Agent({ keepAlive: true, maxSockets, ca: cfg.ca, rejectUnauthorized: !cfg.insecure })
      : new http.Agent({ keepAlive: true, maxSockets });
  }

  static fromKubeconfig(file: string, context?: string): KubeClient {
    return new KubeClient(configFromKubeconfig(file, context));
  }

  close(): void {
    this.agent.destroy();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.cfg.userAgent ?? 'calico-tune-test-harness',
      ...extra,
    };
    if (this.cfg.token) h['Authorization'] = `Bearer ${this.cfg.token}`;
    return h;
  }

  private url(p: string, query?: RequestOpts['query']): URL {
    const u = new URL(p, this.cfg.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /**
   * One request; JSON in and out. Non-2xx statuses throw KubeError unless listed in okStatuses. A request sent
   * on a kept-alive connection that the server had just closed (ECONNRESET, "socket hang up" on a reused
   * socket: it never reached the server) is sent again once on a new connection, as Node's documentation
   * advises; a loaded machine makes that race common.
   */
  async request<T = unknown>(method: string, p: string, opts: RequestOpts = {}): Promise<T> {
    try {
      return await this.requestOnce<T>(method, p, opts);
    } catch (e) {
      if (!(e as { staleSocket?: boolean }).staleSocket) throw e;
      return this.requestOnce<T>(method, p, opts);
    }
  }

  private requestOnce<T>(method: string, p: string, opts: RequestOpts): Promise<T> {
    const u = this.url(p, opts.query);
    const payload =
      opts.body === undefined
        ? undefined
        : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const headers = this.headers(
      payload
        ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': String(payload.length) }
        : {},
    );
    const mod = u.protocol === 'https:' ? https : http;
    this.requests++;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(u, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : {};
          } catch {
            /* keep the text */
          }
          const status = res.statusCode ?? 0;
          if ((status >= 200 && status < 300) || opts.okStatuses?.includes(status)) resolve(body as T);
          else reject(new KubeError(method, u.pathname, status, body));
        });
      });
      req.setTimeout(opts.timeoutMs ?? 60_000, () =>
        req.destroy(new Error(`${method} ${u.pathname}: no answer within ${opts.timeoutMs ?? 60_000} ms`)),
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (req.reusedSocket && e.code === 'ECONNRESET') Object.assign(e, { staleSocket: true });
        reject(e);
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  get<T = Obj>(p: string, query?: RequestOpts['query']): Promise<T> {
    return this.request<T>('GET', p, query ? { query } : {});
  }

  /** GET that returns undefined on 404. */
  async getOptional<T = Obj>(p: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', p);
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Lists a collection, following `continue`. */
  async list(
    p: string,
    query: Record<string, string | number | undefined> = {},
  ): Promise<{ items: Obj[]; resourceVersion: string }> {
    const items: Obj[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const res = await this.get<{
        items?: Obj[];
        metadata?: { continue?: string; resourceVersion?: string };
      }>(p, { limit: 1000, ...query, continue: cont });
      items.push(...(res.items ?? []));
      cont = res.metadata?.continue || undefined;
      rv = res.metadata?.resourceVersion ?? rv;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  /** Discovery for one group/version ('v1' is the core group): kind -> REST mapping. Cached; see invalidate(). */
  resources(apiVersion: string): Promise<Map<string, RestMapping>> {
    let p = this.discovery.get(apiVersion);
    if (!p) {
      const [group, version] = apiVersion.includes('/')
        ? (apiVersion.split('/') as [string, string])
        : ['', apiVersion];
      p = this.get<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>(
        group ? `/apis/${apiVersion}` : `/api/${version}`,
      ).then((res) => {
        const names = new Set((res.resources ?? []).map((r) => r.name));
        const out = new Map<string, RestMapping>();
        for (const r of res.resources ?? []) {
          if (r.name.includes('/')) continue;
          out.set(r.kind, {
            group,
            version,
            plural: r.name,
            namespaced: r.namespaced,
            hasStatus: names.has(`${r.name}/status`),
          });
        }
        return out;
      });
      p.catch(() => this.discovery.delete(apiVersion));
      this.discovery.set(apiVersion, p);
    }
    return p;
  }

  invalidateDiscovery(): void {
    this.discovery.clear();
  }

  async mapping(apiVersion: string, kind: string): Promise<RestMapping> {
    const m = (await this.resources(apiVersion)).get(kind);
    if (!m) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    return m;
  }

  /** The collection path of a kind (namespaced kinds need a namespace, except for cluster-wide lists). */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const m = await this.mapping(apiVersion, kind);
    return collectionPathOf(m, namespace);
  }

  /** The object path; a namespaced object without a namespace goes to `default`, as kubectl does. */
  async objectPath(o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): Promise<string> {
    const m = await this.mapping(o.apiVersion, o.kind);
    return `${collectionPathOf(m, m.namespaced ? (o.metadata.namespace ?? 'default') : undefined)}/${encodeURIComponent(o.metadata.name)}`;
  }

  /**
   * Watches a collection from `resourceVersion`; calls onEvent for each event until the stream ends,
   * the signal aborts, or the server sends an ERROR event (410 Gone: the caller relists).
   * Resolves with the last resourceVersion seen, or rejects on a transport error.
   */
  watch(
    p: string,
    resourceVersion: string,
    onEvent: (e: WatchEvent) => void,
    signal: AbortSignal,
    timeoutSeconds = 300,
  ): Promise<string> {
    const u = this.url(p, { watch: 1, resourceVersion, allowWatchBookmarks: true, timeoutSeconds });
    const mod = u.protocol === 'https:' ? https : http;
    let last = resourceVersion;
    return new Promise<string>((resolve, reject) => {
      if (signal.aborted) return resolve(last);
      // a dedicated socket: a long-lived watch must not occupy a pooled keep-alive socket
      const agent =
        u.protocol === 'https:'
          ? new https.Agent({ ca: this.cfg.ca, rejectUnauthorized: !this.cfg.insecure })
          : new http.Agent();
      const req = mod.request(u, { method: 'GET', headers: this.headers(), agent, signal }, (res) => {
        if ((res.statusCode ?? 0) !== 200) {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString('utf8')));
          res.on('end', () => reject(new KubeError('WATCH', u.pathname, res.statusCode ?? 0, text)));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (!line.trim()) continue;
            const ev = JSON.parse(line) as WatchEvent;
            if (ev.type === 'ERROR') {
              req.destroy();
              agent.destroy();
              resolve('');
              return;
            }
            const rv = ev.object?.metadata?.resourceVersion;
            if (rv) last = rv;
            if (ev.type !== 'BOOKMARK') onEvent(ev);
          }
        });
        res.on('end', () => {
          agent.destroy();
          resolve(last);
        });
        res.on('error', (e) => {
          agent.destroy();
          if (signal.aborted) resolve(last);
          else reject(e);
        });
      });
      req.on('error', (e) => {
        agent.destroy();
        if (signal.aborted) resolve(last);
        else reject(e);
      });
      req.end();
    });
  }
}

export function collectionPathOf(m: RestMapping, namespace?: string): string {
  const base = m.group ? `/apis/${m.group}/${m.version}` : `/api/${m.version}`;
  return m.namespaced && namespace
    ? `${base}/namespaces/${encodeURIComponent(namespace)}/${m.plural}`
    : `${base}/${m.plural}`;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first error. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
