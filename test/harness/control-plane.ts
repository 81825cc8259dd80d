/**
 * A real Kubernetes control plane for the integration tests: etcd + kube-apiserver (built by
 * tools/build.sh) on free loopback ports, with static-token authentication, RBAC, and an audit log of
 * every write. The flags mirror tools/control-plane.sh (the tested shell reference) exactly.
 *
 * Users (tokens.csv):
 *   admin                    system:masters; the harness's own setup and fixture loading
 *   calico-tune-plugin       group calico-tune:operators  -> ClusterRole calico-tune (docs/rbac.yaml)
 *   calico-tune-readonly     group calico-tune:viewers    -> ClusterRole calico-tune-readonly
 *   calico-tune-noaccess     no bindings at all (authenticated only)
 *   calico-node-simulator    system:masters; the calico-node stand-in's writes
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import { AuditLog } from './audit.js';
import { run, type RunOptions, type RunResult } from './exec.js';
import { collectionPathOf, KubeClient, KubeError, mapLimit, sleep, type Obj } from './kube.js';
import { frontProxyFlags, startCalicoApiserver, type CalicoApiserver } from './calico-apiserver.js';
import { harnessBaseDir, ON_EXIT, ProcessGroupSet, sweepStale } from './procs.js';
import { binDir, calicoFile, k8sVersion, monitoringCrdsDir, REPO_ROOT, type CalicoRelease } from './tools.js';

export type UserKey = 'admin' | 'plugin' | 'readonly' | 'noaccess' | 'simulator';

export const USERS: Record<UserKey, { name: string; groups: string[] }> = {
  admin: { name: 'admin', groups: ['system:masters'] },
  plugin: { name: 'calico-tune-plugin', groups: ['calico-tune:operators'] },
  readonly: { name: 'calico-tune-readonly', groups: ['calico-tune:viewers'] },
  noaccess: { name: 'calico-tune-noaccess', groups: [] },
  simulator: { name: 'calico-node-simulator', groups: ['system:masters'] },
};

/** The context name in every kubeconfig the harness writes. */
export const CONTEXT = 'calico-tune-test';

/** Namespaces whose contents reset() deletes (namespaces themselves cannot be deleted without a controller-manager). */
export const FIXTURE_NAMESPACES = ['calico-system', 'kube-system', 'tigera-operator', 'default'];

const CALICO_GROUPS = ['crd.projectcalico.org', 'operator.tigera.io'];
/** Requests in flight for apply() and big deletes: $CALICO_TUNE_APPLY_CONCURRENCY, default 64 (see docs/testing.md). */
const APPLY_CONCURRENCY = Number(process.env['CALICO_TUNE_APPLY_CONCURRENCY'] ?? 64) || 64;
/** Kinds whose status the API server keeps on create (the others need a write to /status afterwards). */
const STATUS_KEPT_ON_CREATE = new Set(['Node']);
/** Objects the API server creates itself; reset() leaves them alone. */
const SYSTEM_CONFIGMAPS = [
  'kube-apiserver-legacy-service-account-token-tracking',
  'extension-apiserver-authentication',
  'kube-root-ca.crt',
];

export interface StartOptions {
  /** Kubernetes version (minor, e.g. "1.28") of kube-apiserver, etcd and kubectl (default: $CALICO_TUNE_K8S, else 1.34). */
  k8s?: string | undefined;
  /** Install this Calico release's CRDs after start (default none). */
  calico?: CalicoRelease | undefined;
  /** How long one start may take to get /readyz 200 before it is stopped and started again (default 90 s). */
  readyTimeoutMs?: number | undefined;
  /** CPU seconds the kube-apiserver must use in a window to count as slow, not stuck (default 2; for tests). */
  busyCpuSeconds?: number | undefined;
  /** Abandons a start that is waiting for readiness (the harness's stopAll, at the end of a run). */
  signal?: AbortSignal | undefined;
  /** A label for the state directory name. */
  label?: string | undefined;
  /**
   * Serve projectcalico.org/v3 through Calico's real aggregated API server (test/harness/calico-apiserver.ts):
   * kube-apiserver gets the aggregation-layer flags, and after the CRDs are installed the calico-apiserver is
   * started and registered. Needs `calico`.
   */
  calicoApi?: 'v3' | undefined;
}

export interface Timings {
  /** Spawn of etcd to /readyz 200 (ms). */
  readyMs: number;
  /** Spawn to kubeconfigs written and RBAC applied (ms). */
  startMs: number;
  /** CRD install (create + Established + discovery) per version (ms). */
  crdInstallMs: Partial<Record<CalicoRelease, number>>;
  /** Start of the calico-apiserver to projectcalico.org/v3 served (ms), when started. */
  calicoApiMs?: number;
}

export interface ApplyOptions {
  /** Requests in flight (default $CALICO_TUNE_APPLY_CONCURRENCY or 64). */
  concurrency?: number;
  /** Replace objects that already exist (default true); false makes a conflict an error. */
  replace?: boolean;
}

export interface ApplyResult {
  created: number;
  replaced: number;
  statusWrites: number;
  ms: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Same test as tools/control-plane.sh: kube-apiserver needs a default route unless told its address. */
function advertiseFlags(): string[] {
  const env = process.env['ADVERTISE_ADDRESS'];
  if (env)
    return [
      `--advertise-address=${env}`,
      ...(env.startsWith('127.') ? ['--endpoint-reconciler-type=none'] : []),
    ];
  let hasDefault = false;
  try {
    hasDefault = fs
      .readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .slice(1)
      .some((l) => l.split(/\s+/)[1] === '00000000');
  } catch {
    /* not Linux */
  }
  return hasDefault ? [] : ['--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none'];
}

/** Log lines that are always there and never the problem (see docs/test-cluster.md §5). */
const LOG_NOISE = [
  /grpc: addrConn\.createTransport failed/,
  /Running http and grpc server on single port/,
  /it isn't recommended to use default name/,
  /simple token is not cryptographically signed/,
  /Adding GroupVersion .* to ResourceManager/,
];

/**
 * How long one kube-apiserver may take to answer /readyz 200 (ms) before it is replaced. It usually takes 2.5-5.5 s;
 * beside the 5,000-node fixture under four parallel jobs one took over 2 min, and three (CI runs 23 and 25, and
 * the run of the stop of 2026-12-02) never got ready in 240 s. A start is given 90 s; one whose kube-apiserver
 * used at least BUSY_CPU_SECONDS of CPU in that time is slow, not stuck, and gets READY_EXTEND_MS more at a time
 * (while it keeps using the CPU) up to READY_MAX_MS. One that does not is stopped with its diagnostics (the
 * failing /readyz checks, each process's state and CPU time, the log tails) and started again.
 */
const READY_TIMEOUT_MS = 90_000;
const BUSY_CPU_SECONDS = 2;
const READY_EXTEND_MS = 30_000;
const READY_MAX_MS = 240_000;

const ABANDONED = 'control plane start abandoned (the test run is ending)';

/** A kube-apiserver that did not get ready in time (ControlPlane.start starts a new one). */
class NotReadyError extends Error {}

/** The last `lines` lines of a log, without the known noise. */
export function tail(file: string, lines: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 1024 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf
        .toString('utf8')
        .split('\n')
        .filter((l) => !LOG_NOISE.some((re) => re.test(l)))
        .slice(-lines - 1)
        .join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return `(no ${path.basename(file)})`;
  }
}

let swept = false;

export class ControlPlane {
  readonly dir: string;
  readonly bin: string;
  readonly server: string;
  readonly audit: AuditLog;
  readonly timings: Timings = { readyMs: 0, startMs: 0, crdInstallMs: {} };
  /** The Calico release whose CRDs are installed, if any. */
  calico: CalicoRelease | undefined;
  /** The Kubernetes version asked for (minor, e.g. "1.28"). */
  readonly k8s: string;
  /** What the API server's /version says (gitVersion, e.g. "v1.28.15"); set by start(). */
  serverVersion = '';
  private readonly procs: ProcessGroupSet;
  private readonly tokens: Record<UserKey, string>;
  private readonly clients = new Map<UserKey, KubeClient>();
  /** Objects apply() created whose kinds reset() does not clear by type. */
  private readonly extras = new Map<string, Obj>();
  private stopped = false;

  private constructor(
    dir: string,
    bin: string,
    port: number,
    procs: ProcessGroupSet,
    tokens: Record<UserKey, string>,
    k8s: string,
  ) {
    this.dir = dir;
    this.k8s = k8s;
    this.bin = bin;
    this.server = `https://127.0.0.1:${port}`;
    this.procs = procs;
    this.tokens = tokens;
    this.audit = new AuditLog(path.join(dir, 'audit.log'), this.client('admin'));
  }

  /**
   * Starts etcd + kube-apiserver, waits for /readyz, writes kubeconfigs, applies docs/rbac.yaml. Ports are
   * chosen free and then bound by the servers: when another process (test jobs run in parallel) takes one in
   * between, or the kube-apiserver does not get ready (NotReadyError, READY_TIMEOUT_MS), the start is tried
   * again with new ports (3 attempts in all). An aborted start (`signal`) is not tried again.
   */
  static async start(opts: StartOptions = {}): Promise<ControlPlane> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ControlPlane.startOnce(opts);
      } catch (e) {
        if (attempt >= 3 || opts.signal?.aborted) throw e;
        if (e instanceof NotReadyError)
          // not ready and not busy (READY_TIMEOUT_MS): its diagnostics go to stderr, and a new one is started
          process.stderr.write(`[harness] ${e.message}\n[harness] starting a new control plane\n`);
        else if (/address already in use/.test(String(e)))
          process.stderr.write(`[harness] a port was taken before the server bound it; starting again\n`);
        else throw e;
      }
    }
  }

  private static async startOnce(opts: StartOptions): Promise<ControlPlane> {
    const k8s = opts.k8s ?? k8sVersion();
    const bin = binDir(k8s); // throws (never skips) when the tools are missing
    if (opts.calico) calicoFile(opts.calico, 'operator-crds.yaml'); // likewise for the Calico manifests, before starting anything
    const base = harnessBaseDir();
    fs.mkdirSync(base, { recursive: true });
    if (!swept) {
      swept = true;
      for (const line of sweepStale(base)) process.stderr.write(`[harness] ${line}\n`);
    }
    if (opts.signal?.aborted) throw new Error(ABANDONED);
    const dir = fs.mkdtempSync(path.join(base, `${opts.label ?? 'cp'}-`));
    const t0 = performance.now();
    const procs = new ProcessGroupSet(dir);
    try {
      fs.mkdirSync(path.join(dir, 'pki'));
      fs.mkdirSync(path.join(dir, 'etcd'), { mode: 0o700 });
      const [etcdPort, peerPort, port] = await Promise.all([freePort(), freePort(), freePort()]);
      const tokens = Object.fromEntries(
        Object.keys(USERS).map((u) => [u, `${u}-${crypto.randomBytes(16).toString('hex')}`]),
      ) as Record<UserKey, string>;
      fs.writeFileSync(
        path.join(dir, 'tokens.csv'),
        (Object.keys(USERS) as UserKey[])
          .map(
            (u) =>
              `${tokens[u]},${USERS[u].name},${USERS[u].name}-uid${USERS[u].groups.length ? `,"${USERS[u].groups.join(',')}"` : ''}`,
          )
          .join('\n') + '\n',
        { mode: 0o600 },
      );
      const { privateKey } = crypto.generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      fs.writeFileSync(path.join(dir, 'sa.key'), privateKey, { mode: 0o600 });
      // Audit: every write at Request level (request body included), reads not logged.
      fs.writeFileSync(
        path.join(dir, 'audit-policy.yaml'),
        [
          'apiVersion: audit.k8s.io/v1',
          'kind: Policy',
          'omitStages: ["RequestReceived"]',
          'rules:',
          '  - level: Request',
          '    verbs: ["create", "update", "patch", "delete", "deletecollection"]',
          '  - level: None',
          '',
        ].join('\n'),
      );

      const etcd = procs.spawn(
        'etcd',
        path.join(bin, 'etcd'),
        [
          '--name=default',
          `--data-dir=${dir}/etcd`,
          `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
          `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
          `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
          `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
          '--unsafe-no-fsync=true',
          '--log-level=warn',
        ],
        path.join(dir, 'etcd.log'),
      );
      const kas = procs.spawn(
        'kube-apiserver',
        path.join(bin, 'kube-apiserver'),
        [
          `--etcd-servers=http://127.0.0.1:${etcdPort}`,
          `--cert-dir=${dir}/pki`,
          '--bind-address=127.0.0.1',
          `--secure-port=${port}`,
          '--service-cluster-ip-range=10.0.0.0/24',
          '--allow-privileged=true',
          '--authorization-mode=RBAC',
          '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition', // no node controller here to lift the not-ready taint it adds
          `--service-account-issuer=https://127.0.0.1:${port}/`,
          `--service-account-key-file=${dir}/sa.key`,
          `--service-account-signing-key-file=${dir}/sa.key`,
          `--token-auth-file=${dir}/tokens.csv`,
          `--audit-policy-file=${dir}/audit-policy.yaml`,
          `--audit-log-path=${dir}/audit.log`,
          ...advertiseFlags(),
          ...(opts.calicoApi === 'v3' ? frontProxyFlags(path.join(dir, 'pki')) : []),
        ],
        path.join(dir, 'kube-apiserver.log'),
      );
      procs.startGuardian();

      let exited: string | undefined;
      void etcd.exited.then((r) => (exited ??= `etcd exited (${r.code ?? r.signal})`));
      void kas.exited.then((r) => (exited ??= `kube-apiserver exited (${r.code ?? r.signal})`));
      const crt = path.join(dir, 'pki', 'apiserver.crt');
      const readyMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
      const started = Date.now();
      let deadline = started + readyMs;
      // a kube-apiserver that keeps using the CPU is slow (a loaded machine), not stuck: it gets more time
      let windowCpu = 0;
      let probe: KubeClient | undefined;
      let lastProbe = 'no answer yet';
      try {
        for (;;) {
          if (exited)
            throw new Error(
              `${exited} while starting; tail of the logs:\n${tail(path.join(dir, 'etcd.log'), 20)}\n${tail(path.join(dir, 'kube-apiserver.log'), 30)}`,
            );
          if (opts.signal?.aborted) throw new Error(ABANDONED);
          if (Date.now() > deadline) {
            const cpu = procs.cpuSeconds('kube-apiserver');
            if (
              cpu - windowCpu >= (opts.busyCpuSeconds ?? BUSY_CPU_SECONDS) &&
              Date.now() - started < READY_MAX_MS
            ) {
              windowCpu = cpu;
              deadline = Date.now() + READY_EXTEND_MS;
            } else
              throw new NotReadyError(
                `kube-apiserver not ready after ${Date.now() - started} ms (attempt in ${dir}); processes: ${procs.describe()}; last /readyz: ${lastProbe}\ntail of its log:\n${tail(path.join(dir, 'kube-apiserver.log'), 30)}\ntail of etcd's log:\n${tail(path.join(dir, 'etcd.log'), 15)}`,
              );
          }
          if (!probe && fs.existsSync(crt)) {
            try {
              probe = new KubeClient({
                server: `https://127.0.0.1:${port}`,
                token: tokens.admin,
                ca: fs.readFileSync(crt),
                maxSockets: 1,
              });
            } catch {
              /* cert half written */
            }
          }
          if (probe) {
            try {
              // verbose: a failing answer names the checks that fail (kept for the error above)
              await probe.request('GET', '/readyz?verbose', { timeoutMs: 2000 });
              break;
            } catch (e) {
              const body = (e as { body?: unknown }).body;
              lastProbe = `${(e as Error).message}${
                typeof body === 'string'
                  ? `\n${body
                      .split('\n')
                      .filter((l) => !l.startsWith('[+]'))
                      .join('\n')}`
                  : ''
              }`;
            }
          }
          await sleep(100);
        }
      } finally {
        probe?.close();
      }
      const cp = new ControlPlane(dir, bin, port, procs, tokens, k8s);
      cp.timings.readyMs = Math.round(performance.now() - t0);
      // The binaries must be the version asked for (a stale CALICO_TUNE_BIN_DIR would run the wrong one).
      cp.serverVersion = (await cp.client().get<{ gitVersion: string }>('/version')).gitVersion;
      if (!cp.serverVersion.startsWith(`v${k8s}.`))
        throw new Error(`kube-apiserver in ${bin} is ${cp.serverVersion}, not Kubernetes ${k8s}`);
      cp.writeKubeconfigs();
      await cp.applyRbac();
      cp.timings.startMs = Math.round(performance.now() - t0);
      if (opts.calico) await cp.installCalico(opts.calico);
      if (opts.calicoApi === 'v3') {
        if (!opts.calico) throw new Error('calicoApi: v3 needs the Calico CRDs (calico: ...)');
        await cp.startCalicoApi();
      }
      return cp;
    } catch (e) {
      // the processes always go (a failed start must not leave servers running); the directory stays on request
      await procs.stop(2000, process.env['CALICO_TUNE_KEEP_CONTROL_PLANE'] === '1');
      throw e;
    }
  }

  /** The aggregated calico-apiserver, when started (start({ calicoApi: 'v3' })). */
  calicoApi: CalicoApiserver | undefined;

  /** Starts Calico's aggregated API server and waits until projectcalico.org/v3 is served. */
  async startCalicoApi(): Promise<CalicoApiserver> {
    const t0 = performance.now();
    this.calicoApi = await startCalicoApiserver({
      dir: this.dir,
      kubeconfig: this.kubeconfig('admin'),
      client: this.client(),
      spawn: (name, bin, args, log, env) => this.procs.spawn(name, bin, args, log, env),
      onExit: (line) => fs.appendFileSync(path.join(this.dir, ON_EXIT), `${line}\n`),
    });
    for (const c of this.clients.values()) c.invalidateDiscovery();
    this.timings.calicoApiMs = Math.round(performance.now() - t0);
    return this.calicoApi;
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Pids of etcd and kube-apiserver (each leads its own process group). */
  pids(): { name: string; pid: number }[] {
    return this.procs.pids().map((p) => ({ name: p.name, pid: p.pid }));
  }

  token(user: UserKey = 'admin'): string {
    return this.tokens[user];
  }

  /** A kubeconfig file for one user (single context `calico-tune-test`). */
  kubeconfig(user: UserKey = 'admin'): string {
    return path.join(this.dir, `kubeconfig-${user}`);
  }

  /** A kubeconfig with one context per user (named after the UserKey), current context `admin`. */
  get kubeconfigAll(): string {
    return path.join(this.dir, 'kubeconfig');
  }

  private writeKubeconfigs(): void {
    const ca = path.join(this.dir, 'pki', 'apiserver.crt');
    const cluster = { name: CONTEXT, cluster: { server: this.server, 'certificate-authority': ca } };
    for (const u of Object.keys(USERS) as UserKey[]) {
      const doc = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [cluster],
        users: [{ name: USERS[u].name, user: { token: this.tokens[u] } }],
        contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: USERS[u].name } }],
        'current-context': CONTEXT,
      };
      fs.writeFileSync(this.kubeconfig(u), yaml.dump(doc), { mode: 0o600 });
    }
    const all = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [cluster],
      users: (Object.keys(USERS) as UserKey[]).map((u) => ({
        name: USERS[u].name,
        user: { token: this.tokens[u] },
      })),
      contexts: (Object.keys(USERS) as UserKey[]).map((u) => ({
        name: u,
        context: { cluster: CONTEXT, user: USERS[u].name },
      })),
      'current-context': 'admin',
    };
    fs.writeFileSync(this.kubeconfigAll, yaml.dump(all), { mode: 0o600 });
  }

  /** A REST client authenticated as `user` (keep-alive, up to 64 sockets). */
  client(user: UserKey = 'admin'): KubeClient {
    let c = this.clients.get(user);
    if (!c) {
      c = new KubeClient({
        server: this.server,
        token: this.tokens[user],
        ca: fs.readFileSync(path.join(this.dir, 'pki', 'apiserver.crt')),
        userAgent: `calico-tune-harness/${user}`,
      });
      this.clients.set(user, c);
    }
    return c;
  }

  /** docs/rbac.yaml (the roles the plugin documents), after creating the namespaces it binds in. */
  private async applyRbac(): Promise<void> {
    const docs = (
      yaml.loadAll(fs.readFileSync(path.join(REPO_ROOT, 'docs', 'rbac.yaml'), 'utf8')) as Obj[]
    ).filter((d) => d && typeof d === 'object');
    await this.ensureNamespaces(FIXTURE_NAMESPACES);
    await mapLimit(docs, 8, (d) => this.createOrReplace(d));
  }

  private async ensureNamespaces(names: Iterable<string>): Promise<void> {
    const c = this.client();
    await Promise.all(
      [...new Set(names)].map((ns) =>
        c.request('POST', '/api/v1/namespaces', {
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
          okStatuses: [409],
        }),
      ),
    );
  }

  /** Creates the object, or replaces it (PUT with the current resourceVersion) when it exists. Returns whether it was created. */
  private async createOrReplace(o: Obj, replace = true): Promise<boolean> {
    const c = this.client();
    const m = await c.mapping(o.apiVersion, o.kind);
    const coll = collectionPathOf(m, m.namespaced ? (o.metadata.namespace ?? 'default') : undefined);
    const { resourceVersion: _rv, uid: _uid, ...meta } = o.metadata;
    const body = { ...o, metadata: meta };
    try {
      await c.request('POST', coll, { body });
      return true;
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 409) || !replace) throw e;
    }
    const objPath = `${coll}/${encodeURIComponent(o.metadata.name)}`;
    for (let attempt = 0; ; attempt++) {
      const cur = await c.get<Obj>(objPath);
      try {
        await c.request('PUT', objPath, {
          body: { ...body, metadata: { ...meta, resourceVersion: cur.metadata.resourceVersion } },
        });
        return false;
      } catch (e) {
        if (!(e instanceof KubeError && e.status === 409) || attempt > 3) throw e;
      }
    }
  }

  /**
   * Creates (or replaces) the objects as a running cluster would have them: namespaces and CRDs first,
   * then everything else with bounded parallelism; `status` is written through the /status
   * subresource where the API server resets it on create (Deployments, Pods, PDBs, Installation...).
   */
  async apply(
    objects: readonly Obj[] | readonly { apiVersion: string; kind: string; metadata: { name: string } }[],
    opts: ApplyOptions = {},
  ): Promise<ApplyResult> {
    const t0 = performance.now();
    const objs = objects as readonly Obj[];
    const c = this.client();
    const result: ApplyResult = { created: 0, replaced: 0, statusWrites: 0, ms: 0 };
    const ns = new Set<string>(objs.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
    for (const o of objs) if (o.metadata.namespace) ns.add(o.metadata.namespace);
    await this.ensureNamespaces(ns);
    const crds = objs.filter((o) => o.kind === 'CustomResourceDefinition');
    if (crds.length) {
      await mapLimit(crds, 16, (o) => this.createOrReplace(o, opts.replace ?? true));
      await this.waitCrdsEstablished(crds.map((o) => o.metadata.name));
    }
    const rest = objs.filter((o) => o.kind !== 'Namespace' && o.kind !== 'CustomResourceDefinition');
    await mapLimit(rest, opts.concurrency ?? APPLY_CONCURRENCY, async (o) => {
      const created = await this.createOrReplace(o, opts.replace ?? true);
      if (created) result.created++;
      else result.replaced++;
      const m = await c.mapping(o.apiVersion, o.kind);
      if (o.status && m.hasStatus && (!created || !STATUS_KEPT_ON_CREATE.has(o.kind))) {
        const objPath = `${collectionPathOf(m, m.namespaced ? (o.metadata.namespace ?? 'default') : undefined)}/${encodeURIComponent(o.metadata.name)}/status`;
        await c.request('PATCH', objPath, {
          body: { status: o.status },
          contentType: 'application/merge-patch+json',
        });
        result.statusWrites++;
      }
      if (!this.clearedByReset(o, m.group))
        this.extras.set(`${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
    });
    result.ms = Math.round(performance.now() - t0);
    return result;
  }

  /** Applies the objects of a YAML file (multi-document, or a List), minus the kinds in skipKinds. */
  async applyManifest(
    file: string,
    opts: ApplyOptions & { skipKinds?: string[] } = {},
  ): Promise<ApplyResult> {
    const objs: Obj[] = [];
    for (const d of yaml.loadAll(fs.readFileSync(file, 'utf8')) as Obj[]) {
      if (!d || typeof d !== 'object') continue;
      if (d.kind.endsWith('List') && Array.isArray(d['items'])) objs.push(...(d['items'] as Obj[]));
      else objs.push(d);
    }
    return this.apply(
      objs.filter((o) => !opts.skipKinds?.includes(o.kind)),
      opts,
    );
  }

  /** The real calico-typha.yaml of a release (manifest install in kube-system), without its CRDs. */
  applyTyphaManifest(version: CalicoRelease): Promise<ApplyResult> {
    return this.applyManifest(calicoFile(version, 'calico-typha.yaml'), {
      skipKinds: ['CustomResourceDefinition'],
    });
  }

  private clearedByReset(o: Obj, group: string): boolean {
    if (o.kind === 'Node' || CALICO_GROUPS.includes(group)) return true;
    const ns = o.metadata.namespace;
    return (
      ns !== undefined &&
      FIXTURE_NAMESPACES.includes(ns) &&
      NAMESPACED_RESET_KINDS.some((k) => k.kind === o.kind)
    );
  }

  private async waitCrdsEstablished(names: string[], timeoutMs = 60_000): Promise<void> {
    const c = this.client();
    const want = new Set(names);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { items } = await c.list('/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
      const ok = items.filter(
        (crd) =>
          want.has(crd.metadata.name) &&
          ((crd.status?.['conditions'] as { type: string; status: string }[] | undefined) ?? []).some(
            (x) => x.type === 'Established' && x.status === 'True',
          ),
      );
      if (ok.length === want.size) break;
      if (Date.now() > deadline)
        throw new Error(
          `CRDs not Established after ${timeoutMs} ms: ${[...want].filter((n) => !ok.some((o) => o.metadata.name === n)).join(', ')}`,
        );
      await sleep(100);
    }
    // Established is not yet "served": wait until discovery lists every new resource.
    const byGv = new Map<string, Set<string>>();
    for (const name of want) {
      const crd = crdInfo(
        await c.get<Obj>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`),
      );
      const gv = `${crd.group}/${crd.version}`;
      if (!byGv.has(gv)) byGv.set(gv, new Set());
      byGv.get(gv)!.add(crd.plural);
    }
    for (const [gv, plurals] of byGv) {
      for (;;) {
        c.invalidateDiscovery();
        try {
          const served = new Set([...(await c.resources(gv)).values()].map((m) => m.plural));
          if ([...plurals].every((p) => served.has(p))) break;
        } catch {
          /* 404 until the group appears */
        }
        if (Date.now() > deadline)
          throw new Error(
            `discovery of ${gv} does not list ${[...plurals].join(', ')} after ${timeoutMs} ms`,
          );
        await sleep(100);
      }
    }
    c.invalidateDiscovery();
  }

  /**
   * Installs the CRDs of a Calico release (operator-crds.yaml: crd.projectcalico.org and
   * operator.tigera.io). If another release is installed, its CRDs (and so every Calico object) are
   * deleted first. Records the time in timings.crdInstallMs.
   */
  async installCalico(version: CalicoRelease): Promise<void> {
    if (this.calico === version) return;
    if (this.calico) await this.uninstallCalico();
    const t0 = performance.now();
    const crds = (
      yaml.loadAll(fs.readFileSync(calicoFile(version, 'operator-crds.yaml'), 'utf8')) as Obj[]
    ).filter((d) => d && d.kind === 'CustomResourceDefinition');
    await mapLimit(crds, 16, (o) => this.createOrReplace(o));
    await this.waitCrdsEstablished(crds.map((o) => o.metadata.name));
    this.calico = version;
    this.timings.crdInstallMs[version] = Math.round(performance.now() - t0);
  }

  /** Installs the monitoring.coreos.com CRDs of prometheus-operator (tools/build.sh --crds); returns ms. */
  async installMonitoringCrds(): Promise<number> {
    const t0 = performance.now();
    const dir = monitoringCrdsDir();
    const crds = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => yaml.loadAll(fs.readFileSync(path.join(dir, f), 'utf8')) as Obj[])
      .filter((d) => d && d.kind === 'CustomResourceDefinition');
    await mapLimit(crds, 4, (o) => this.createOrReplace(o));
    await this.waitCrdsEstablished(crds.map((o) => o.metadata.name));
    const c = this.client();
    c.invalidateDiscovery();
    // Established is not yet listable: the watch cache answers 429 "storage is (re)initializing" for a while
    const deadline = Date.now() + 60_000;
    for (const crd of crds) {
      const plural = String((crd.spec?.['names'] as { plural?: string } | undefined)?.plural);
      for (;;) {
        try {
          await c.list(`/apis/monitoring.coreos.com/v1/${plural}`);
          break;
        } catch (e) {
          if (!(e instanceof KubeError && e.status === 429) || Date.now() > deadline) throw e;
          await sleep(200);
        }
      }
    }
    return Math.round(performance.now() - t0);
  }

  /** Deletes the monitoring.coreos.com CRDs (and so every object of them) and waits until they are gone. */
  uninstallMonitoringCrds(timeoutMs = 120_000): Promise<void> {
    return this.deleteCrds(['monitoring.coreos.com'], 'monitoring', timeoutMs);
  }

  /** Deletes every Calico and operator CRD (the API server deletes their objects) and waits until they are gone. */
  async uninstallCalico(timeoutMs = 120_000): Promise<void> {
    await this.deleteCrds(CALICO_GROUPS, 'Calico', timeoutMs);
    this.calico = undefined;
  }

  /** Deletes the CRDs of these API groups and waits until they are gone. */
  private async deleteCrds(groups: string[], what: string, timeoutMs: number): Promise<void> {
    const c = this.client();
    const ofGroups = (o: Obj): boolean => groups.includes(String(o.spec?.['group']));
    const { items } = await c.list('/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    await mapLimit(items.filter(ofGroups), 16, (o) =>
      c.request('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${o.metadata.name}`, {
        okStatuses: [404],
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while ((await c.list('/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).items.some(ofGroups)) {
      if (Date.now() > deadline) throw new Error(`${what} CRDs still present ${timeoutMs} ms after delete`);
      await sleep(200);
    }
    c.invalidateDiscovery();
  }

  /**
   * A clean slate for the next test: deletes every Node, every object of the Calico and operator
   * CRDs, the fixture kinds (Pods, Deployments, DaemonSets, PDBs, ConfigMaps, Leases, Services,
   * ServiceAccounts, Secrets, ReplicaSets) in the fixture namespaces, and whatever else apply()
   * created. Namespaces, CRDs and the RBAC of docs/rbac.yaml stay.
   */
  async reset(): Promise<{ ms: number }> {
    const t0 = performance.now();
    const c = this.client();
    const tasks: Promise<unknown>[] = [this.deleteNodes()];
    for (const group of CALICO_GROUPS) {
      let res: Map<string, import('./kube.js').RestMapping>;
      try {
        res = await c.resources(`${group}/v1`);
      } catch (e) {
        if (e instanceof KubeError && e.status === 404) continue;
        throw e;
      }
      for (const m of res.values()) {
        if (m.namespaced)
          for (const ns of FIXTURE_NAMESPACES) tasks.push(this.deleteAll(collectionPathOf(m, ns)));
        else tasks.push(this.deleteAll(collectionPathOf(m)));
      }
    }
    for (const ns of FIXTURE_NAMESPACES) {
      for (const k of NAMESPACED_RESET_KINDS) {
        const p = `${k.base}/namespaces/${ns}/${k.plural}`;
        if (k.kind === 'ConfigMap')
          tasks.push(
            this.deleteAll(p, {
              fieldSelector: SYSTEM_CONFIGMAPS.map((n) => `metadata.name!=${n}`).join(','),
            }),
          );
        else if (k.kind === 'Lease')
          tasks.push(this.deleteAll(p, { labelSelector: '!apiserver.kubernetes.io/identity' }));
        else if (k.kind === 'Service')
          tasks.push(this.deleteEach(p, (o) => !(ns === 'default' && o.metadata.name === 'kubernetes')));
        else if (k.kind === 'ServiceAccount')
          tasks.push(this.deleteAll(p, { fieldSelector: 'metadata.name!=default' }));
        else tasks.push(this.deleteAll(p));
      }
    }
    const extras = [...this.extras.values()];
    this.extras.clear();
    tasks.push(
      mapLimit(extras, 16, async (o) => {
        try {
          await c.request('DELETE', await c.objectPath(o), {
            query: { gracePeriodSeconds: 0 },
            okStatuses: [404],
          });
        } catch (e) {
          if (!(e instanceof Error && /does not serve/.test(e.message))) throw e;
        }
      }),
    );
    await Promise.all(tasks);
    return { ms: Math.round(performance.now() - t0) };
  }

  /**
   * Nodes: deletecollection deletes one object after the other on the server (about 2 ms each);
   * for big fixtures, parallel deletes from here are about twice as fast.
   */
  private async deleteNodes(): Promise<void> {
    const c = this.client();
    const { items } = await c.list('/api/v1/nodes');
    if (items.length <= 200) {
      if (items.length) await this.deleteAll('/api/v1/nodes');
      return;
    }
    await mapLimit(items, APPLY_CONCURRENCY, (o) =>
      c.request('DELETE', `/api/v1/nodes/${encodeURIComponent(o.metadata.name)}`, { okStatuses: [404] }),
    );
  }

  /** deletecollection (immediate: gracePeriodSeconds=0, so Pods on fake nodes do not wait for a kubelet). */
  private async deleteAll(collection: string, query: Record<string, string> = {}): Promise<void> {
    const c = this.client();
    try {
      await c.request('DELETE', collection, {
        query: { gracePeriodSeconds: 0, ...query },
        timeoutMs: 300_000,
      });
    } catch (e) {
      if (e instanceof KubeError && (e.status === 404 || e.status === 405)) {
        if (e.status === 405) await this.deleteEach(collection, () => true, query);
        return;
      }
      throw e;
    }
  }

  private async deleteEach(
    collection: string,
    keep: (o: Obj) => boolean,
    query: Record<string, string> = {},
  ): Promise<void> {
    const c = this.client();
    const { items } = await c.list(collection, query);
    await mapLimit(items.filter(keep), 32, (o) =>
      c.request('DELETE', `${collection}/${encodeURIComponent(o.metadata.name)}`, {
        query: { gracePeriodSeconds: 0 },
        okStatuses: [404],
      }),
    );
  }

  /** The last `lines` lines of the kube-apiserver log (and of etcd's when it has anything), known noise left out. */
  logTail(lines = 50): string {
    const etcd = tail(path.join(this.dir, 'etcd.log'), Math.min(lines, 20)).trim();
    return `--- ${this.dir}/kube-apiserver.log (last ${lines} lines) ---\n${tail(path.join(this.dir, 'kube-apiserver.log'), lines)}${
      etcd ? `\n--- etcd.log ---\n${etcd}` : ''
    }`;
  }

  /** Runs the real kubectl as `user` (default admin) against this control plane. */
  kubectl(args: string[], opts: RunOptions & { user?: UserKey } = {}): Promise<RunResult> {
    return run(
      path.join(this.bin, 'kubectl'),
      [`--kubeconfig=${this.kubeconfig(opts.user ?? 'admin')}`, ...args],
      {
        ...opts,
        env: { ...process.env, KUBECACHEDIR: path.join(this.dir, 'kubectl-cache'), ...opts.env },
        timeoutMs: opts.timeoutMs ?? 60_000,
      },
    );
  }

  /** Stops both servers (SIGTERM, then SIGKILL after 5 s) and removes the state directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const c of this.clients.values()) c.close();
    await this.procs.stop(5000, process.env['CALICO_TUNE_KEEP_CONTROL_PLANE'] === '1');
  }
}

/** Namespaced kinds reset() clears in the fixture namespaces. */
const NAMESPACED_RESET_KINDS = [
  { kind: 'Pod', base: '/api/v1', plural: 'pods' },
  { kind: 'ConfigMap', base: '/api/v1', plural: 'configmaps' },
  { kind: 'Service', base: '/api/v1', plural: 'services' },
  { kind: 'ServiceAccount', base: '/api/v1', plural: 'serviceaccounts' },
  { kind: 'Secret', base: '/api/v1', plural: 'secrets' },
  { kind: 'Deployment', base: '/apis/apps/v1', plural: 'deployments' },
  { kind: 'DaemonSet', base: '/apis/apps/v1', plural: 'daemonsets' },
  { kind: 'ReplicaSet', base: '/apis/apps/v1', plural: 'replicasets' },
  { kind: 'PodDisruptionBudget', base: '/apis/policy/v1', plural: 'poddisruptionbudgets' },
  { kind: 'Lease', base: '/apis/coordination.k8s.io/v1', plural: 'leases' },
];

function crdInfo(crd: Obj): { group: string; version: string; plural: string } {
  const spec = crd.spec as {
    group: string;
    names: { plural: string };
    versions: { name: string; served: boolean; storage: boolean }[];
  };
  const v = spec.versions.find((x) => x.storage) ?? spec.versions[0]!;
  return { group: spec.group, version: v.name, plural: spec.names.plural };
}
