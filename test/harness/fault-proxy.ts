/**
 * A loopback HTTPS proxy in front of the test kube-apiserver that forwards everything and, by rule, injects
 * faults: an error status (500, 429 with Retry-After, 409) without forwarding, a connection reset before
 * forwarding (the server never saw the request) or after it (the server applied it; the client sees the
 * connection drop), and a timeout (forwarded, applied, the response held until the client gives up).
 *
 * TLS is terminated with the kube-apiserver's own self-signed serving certificate (`pki/apiserver.crt`, valid
 * for 127.0.0.1), so `proxy.kubeconfig(user)` is the harness's kubeconfig with only the port changed: the
 * plugin cannot tell the proxy from the API server. Every request is recorded with what was done to it.
 */
import fs from 'node:fs';
import https from 'node:https';
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ControlPlane, UserKey } from './control-plane.js';

export type FaultKind = '500' | '429' | '409' | 'reset-before' | 'reset-after' | 'timeout';
export const FAULT_KINDS: readonly FaultKind[] = [
  '500',
  '429',
  '409',
  'reset-before',
  'reset-after',
  'timeout',
];

export interface FaultRule {
  /** A label for records and messages. */
  name?: string;
  /** HTTP method(s); default any. */
  method?: string | string[];
  /** Matched against the URL path (no query). */
  path: RegExp;
  /** Which matching request (1-based) gets the fault first; default 1. */
  nth?: number;
  /** How many consecutive matching requests, from `nth`, get it; default 1 (Infinity: every one). */
  times?: number;
  fault: FaultKind;
  /** For 429 (default 1). */
  retryAfterSeconds?: number;
}

export interface ProxyRecord {
  seq: number;
  at: number;
  method: string;
  path: string;
  query: string;
  /** The rule that fired, if any. */
  rule?: string;
  fault?: FaultKind;
  /** Whether the request reached the API server. */
  forwarded: boolean;
  /** The API server's status (when forwarded and answered). */
  upstreamStatus?: number;
  /** What the client got: a status, or `reset` / `held`. */
  client: number | 'reset' | 'held' | 'upstream-error';
  body?: string;
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

/** Drops the client connection as abruptly as the socket type allows (RST on TCP, else destroy). */
function dropConnection(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export class FaultProxy {
  readonly records: ProxyRecord[] = [];
  private rules: { rule: FaultRule; seen: number }[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<http.ServerResponse>();
  private readonly upstream: URL;
  private readonly agent: https.Agent;
  private seq = 0;
  port = 0;

  private constructor(
    private readonly cp: ControlPlane,
    private readonly server: https.Server,
  ) {
    this.upstream = new URL(cp.server);
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 32,
      ca: fs.readFileSync(path.join(cp.dir, 'pki', 'apiserver.crt')),
    });
  }

  /** Starts a proxy on a free loopback port in front of `cp`. */
  static async start(cp: ControlPlane): Promise<FaultProxy> {
    const pki = path.join(cp.dir, 'pki');
    const server = https.createServer({
      cert: fs.readFileSync(path.join(pki, 'apiserver.crt')),
      key: fs.readFileSync(path.join(pki, 'apiserver.key')),
      keepAlive: true,
    });
    const p = new FaultProxy(cp, server);
    server.on('secureConnection', (s: Socket) => {
      p.sockets.add(s);
      s.on('close', () => p.sockets.delete(s));
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => p.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    p.port = (server.address() as AddressInfo).port;
    return p;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** The harness kubeconfig of `user`, pointing at the proxy. */
  kubeconfig(user: UserKey = 'plugin'): string {
    const file = path.join(this.cp.dir, `kubeconfig-proxy-${this.port}-${user}`);
    if (!fs.existsSync(file)) {
      const doc = yaml.load(fs.readFileSync(this.cp.kubeconfig(user), 'utf8')) as {
        clusters: { cluster: { server: string } }[];
      };
      for (const c of doc.clusters) c.cluster.server = this.url;
      fs.writeFileSync(file, yaml.dump(doc), { mode: 0o600 });
    }
    return file;
  }

  /** Replaces the rules (and their occurrence counters); the records are kept. */
  setRules(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, seen: 0 }));
  }

  /** Records of the requests a rule fired on. */
  injected(): ProxyRecord[] {
    return this.records.filter((r) => r.fault);
  }

  /** Forgets the records (the rules stay). */
  clearRecords(): void {
    this.records.length = 0;
  }

  private match(method: string, p: string): FaultRule | undefined {
    let fired: FaultRule | undefined;
    for (const r of this.rules) {
      const m = r.rule.method;
      if (m !== undefined && !(Array.isArray(m) ? m : [m]).includes(method)) continue;
      if (!r.rule.path.test(p)) continue;
      r.seen++;
      const nth = r.rule.nth ?? 1;
      const times = r.rule.times ?? 1;
      if (!fired && r.seen >= nth && r.seen < nth + times) fired = r.rule;
    }
    return fired;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', this.url);
      const method = req.method ?? 'GET';
      const rule = this.match(method, url.pathname);
      const rec: ProxyRecord = {
        seq: ++this.seq,
        at: Date.now(),
        method,
        path: url.pathname,
        query: url.search,
        forwarded: false,
        client: 0,
        ...(rule
          ? {
              rule: rule.name ?? `${rule.fault} ${String(rule.method ?? '*')} ${rule.path}`,
              fault: rule.fault,
            }
          : {}),
        ...(method !== 'GET' && body.length < 4096 ? { body: body.toString('utf8') } : {}),
      };
      this.records.push(rec);
      const fault = rule?.fault;
      switch (fault) {
        case '500':
          rec.client = 500;
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(statusBody(500, 'InternalError', 'injected 500 by the fault proxy'));
          return;
        case '429':
          rec.client = 429;
          res.writeHead(429, {
            'Content-Type': 'application/json',
            'Retry-After': String(rule!.retryAfterSeconds ?? 1),
          });
          res.end(statusBody(429, 'TooManyRequests', 'injected 429 by the fault proxy'));
          return;
        case '409':
          rec.client = 409;
          res.writeHead(409, { 'Content-Type': 'application/json' });
          res.end(
            statusBody(
              409,
              'Conflict',
              'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (injected by the fault proxy)',
            ),
          );
          return;
        case 'reset-before':
          rec.client = 'reset';
          dropConnection(req.socket);
          return;
        default:
          this.forward(req, res, body, rec, fault);
      }
    });
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    rec: ProxyRecord,
    fault: FaultKind | undefined,
  ): void {
    const headers = { ...req.headers, host: this.upstream.host };
    delete headers['connection'];
    const up = https.request(
      {
        protocol: 'https:',
        hostname: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      },
      (ur) => {
        rec.forwarded = true;
        rec.upstreamStatus = ur.statusCode;
        if (fault === 'reset-after' || fault === 'timeout') {
          // let the server finish (the write is applied), then drop or hold the answer
          ur.resume();
          ur.on('end', () => {
            if (fault === 'reset-after') {
              rec.client = 'reset';
              dropConnection(req.socket);
            } else {
              rec.client = 'held';
              this.held.add(res);
              res.on('close', () => this.held.delete(res));
            }
          });
          return;
        }
        rec.client = ur.statusCode ?? 0;
        const h = { ...ur.headers };
        delete h['connection'];
        delete h['keep-alive'];
        res.writeHead(ur.statusCode ?? 502, h);
        ur.pipe(res);
      },
    );
    up.on('error', (e) => {
      rec.client = 'upstream-error';
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(statusBody(502, 'BadGateway', `fault proxy: ${e.message}`));
      } else res.destroy();
    });
    up.end(body);
  }

  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
