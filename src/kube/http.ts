/**
 * A small REST client for the Kubernetes API over node:https: JSON in and out, merge patches, dryRun,
 * impersonation (several `Impersonate-Group` headers, which fetch would merge), keep-alive sockets
 * for fan-out, one timeout per request, and errors that say what happened.
 */
import http from 'node:http';
import https from 'node:https';
import { URL } from 'node:url';
import { clusterError, CliError, ExitCode } from '../errors.js';
import { getCredentials, type Credentials } from './auth.js';
import type { ResolvedConfig } from './kubeconfig.js';

/** A response from the API server with a non-2xx status. */
export class ApiError extends CliError {
  readonly status: number;
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, reason: string, message: string, body: unknown) {
    super(message, ExitCode.CLUSTER, {
      hints:
        status === 403
          ? [
              'the ClusterRole calico-tune in docs/rbac.yaml grants what the plugin needs (calico-tune-readonly for read-only use)',
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
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  contentType?: string | undefined;
  timeoutMs?: number | undefined;
  /** Return the raw text instead of parsing JSON (pod proxy, logs). */
  raw?: boolean | undefined;
}

export const MERGE_PATCH = 'application/merge-patch+json';

const DEFAULT_TIMEOUT_MS = 60_000;

export class KubeHttp {
  readonly cfg: ResolvedConfig;
  private creds?: Credentials;
  private credsPromise?: Promise<Credentials> | undefined;
  private agent?: https.Agent | http.Agent;
  /** Count of requests sent, by method (for tests and --verbose). */
  readonly counts: Record<string, number> = {};

  constructor(cfg: ResolvedConfig) {
    this.cfg = cfg;
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
    return this.agent;
  }

  /** Closes keep-alive sockets so the process can exit promptly. */
  close(): void {
    this.agent?.destroy();
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    let creds = await this.credentials();
    try {
      return await this.send<T>(method, path, opts, creds);
    } catch (e) {
      // exec plugins and rotated tokens: refresh once on 401, as kubectl does
      if (
        e instanceof ApiError &&
        e.status === 401 &&
        (this.cfg.exec || this.cfg.tokenFile || this.cfg.authProvider)
      ) {
        creds = await this.credentials(true);
        this.agent?.destroy();
        this.agent = undefined;
        return this.send<T>(method, path, opts, creds);
      }
      throw e;
    }
  }

  private send<T>(method: string, path: string, opts: RequestOptions, creds: Credentials): Promise<T> {
    const base = new URL(this.cfg.server);
    const prefix = base.pathname.replace(/\/$/, '');
    const url = new URL(prefix + path, base);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string | string[]> = {
      Accept: opts.raw ? '*/*' : 'application/json',
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
    const timeout = opts.timeoutMs ?? (this.cfg.requestTimeoutMs || DEFAULT_TIMEOUT_MS);
    this.counts[method] = (this.counts[method] ?? 0) + 1;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: this.getAgent(creds) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            if (opts.raw) return resolve(text as T);
            try {
              resolve((text ? JSON.parse(text) : {}) as T);
            } catch {
              reject(clusterError(`${method} ${url.pathname}: the server answered with invalid JSON`));
            }
            return;
          }
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            /* not a Status object */
          }
          const reason = typeof body['reason'] === 'string' ? body['reason'] : (res.statusMessage ?? '');
          const message =
            typeof body['message'] === 'string' ? body['message'] : text.slice(0, 200) || `HTTP ${status}`;
          reject(
            new ApiError(
              method,
              url.pathname,
              status,
              reason,
              describeStatus(status, message, this.cfg),
              body,
            ),
          );
        });
        res.on('error', (err) => reject(networkError(err, this.cfg)));
      });
      req.setTimeout(timeout, () => {
        req.destroy(
          Object.assign(
            new Error(
              `no answer within ${timeout < 1000 ? `${timeout}ms` : `${Math.round(timeout / 1000)}s`}`,
            ),
            { code: 'ETIMEDOUT' },
          ),
        );
      });
      req.on('error', (err) => reject(networkError(err as NodeJS.ErrnoException, this.cfg)));
      if (payload) req.write(payload);
      req.end();
    });
  }
}

function describeStatus(status: number, message: string, cfg: ResolvedConfig): string {
  if (status === 401)
    return `the API server ${cfg.server} rejected the credentials of user "${cfg.userName ?? '?'}" (401 Unauthorized)`;
  if (status === 403)
    return message.startsWith('forbidden') || message.includes(' is forbidden')
      ? message
      : `forbidden: ${message}`;
  return message;
}

function networkError(err: NodeJS.ErrnoException, cfg: ResolvedConfig): CliError {
  const code = err.code ?? '';
  let why = err.message;
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
