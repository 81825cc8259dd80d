/**
 * Real calico-typha, kube-controllers and Felix (built by `CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh`) behind
 * the test API server's pod proxy, for the monitoring tests.
 *
 * The API server proxies only to pod IPs that are not loopback or link-local, and it listens on 127.0.0.1.
 * So each daemon runs in its own network namespace with a veth to the host: host end 198.18.X.(4i+1)/30,
 * namespace end 198.18.X.(4i+2)/30 (the daemon's "pod IP"). Inside the namespace the API server is reached
 * through a TCP forwarder on the host end (kubeconfig with that address, TLS name check off), and the daemon
 * serves /metrics on its pod IP; a Pod object with that podIP (and the component's k8s-app label) is
 * registered, so `GET /api/v1/namespaces/NS/pods/POD:PORT/proxy/metrics` reaches the real process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tail, type ControlPlane } from './control-plane.js';
import { buildScriptDir, MissingToolsError } from './tools.js';

export type DaemonKind = 'typha' | 'kube-controllers' | 'felix';

export interface CalicoDaemon {
  kind: DaemonKind;
  namespace: string;
  pod: string;
  podIP: string;
  port: number;
  log: string;
  /** The last lines of the daemon's log (for an error that says why it is not serving). */
  logTail(lines?: number): string;
  /** Whether the process has exited, and how (`undefined` while it runs). */
  exited(): string | undefined;
  stop(): Promise<void>;
}

/**
 * The binary of a daemon: calico-typha and kube-controllers from $CALICO_TUNE_DAEMONS_DIR, else
 * `tools/build.sh --daemons`; calico-felix from $CALICO_TUNE_FELIX_DIR, else `tools/build.sh --felix`.
 */
export function calicoDaemonBin(kind: DaemonKind): string {
  const [name, envVar, flag] =
    kind === 'felix'
      ? ['calico-felix', 'CALICO_TUNE_FELIX_DIR', '--felix']
      : [kind === 'typha' ? 'calico-typha' : 'kube-controllers', 'CALICO_TUNE_DAEMONS_DIR', '--daemons'];
  const dir = process.env[envVar] ?? buildScriptDir([flag], `tools/build.sh ${flag}`);
  if (!dir || !fs.existsSync(path.join(dir, name)))
    throw new MissingToolsError(
      `no ${name} in ${dir ?? '(none)'}: build it with CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh (docs/testing.md)`,
    );
  return path.join(dir, name);
}

/** What each daemon is in the cluster: its pod's k8s-app label, pod name prefix and metrics port. */
const DAEMON = {
  typha: { app: 'calico-typha', port: 9093 },
  'kube-controllers': { app: 'calico-kube-controllers', port: 9094 },
  felix: { app: 'calico-node', port: 9091 },
} as const;

/** The daemon's environment: the kubernetes datastore, metrics on, logs to stdout only. */
function daemonEnv(kind: DaemonKind, node: string): NodeJS.ProcessEnv {
  switch (kind) {
    case 'typha':
      return {
        TYPHA_DATASTORETYPE: 'kubernetes',
        TYPHA_PROMETHEUSMETRICSENABLED: 'true',
        TYPHA_PROMETHEUSMETRICSPORT: String(DAEMON.typha.port),
        TYPHA_LOGFILEPATH: 'none',
        TYPHA_LOGSEVERITYSYS: 'none',
        TYPHA_HEALTHENABLED: 'false',
      };
    case 'kube-controllers':
      return { DATASTORE_TYPE: 'kubernetes', ENABLED_CONTROLLERS: 'node', LOG_LEVEL: 'info' };
    case 'felix':
      // the iptables dataplane of the node `node`, inside the namespace. FELIX_DebugSkipCTLBCleanup: with BPF
      // off Felix first removes a BPF connect-time load balancer left by an earlier run, through libbpf, which
      // a CGO_ENABLED=0 build only has as a panicking stub; this switch (Calico's own, for its FV tests) skips
      // that clean-up. Nothing BPF is ever loaded here (BPF and XDP off).
      return {
        FELIX_DATASTORETYPE: 'kubernetes',
        FELIX_FELIXHOSTNAME: node,
        FELIX_PROMETHEUSMETRICSENABLED: 'true',
        FELIX_PROMETHEUSMETRICSPORT: String(DAEMON.felix.port),
        FELIX_LOGFILEPATH: 'none',
        FELIX_LOGSEVERITYSYS: 'none',
        FELIX_LOGSEVERITYSCREEN: 'info',
        FELIX_HEALTHENABLED: 'false',
        FELIX_USAGEREPORTINGENABLED: 'false',
        FELIX_IPV6SUPPORT: 'false',
        FELIX_BPFENABLED: 'false',
        FELIX_XDPENABLED: 'false',
        FELIX_NFTABLESMODE: 'Disabled',
        FELIX_DebugSkipCTLBCleanup: 'true',
      };
  }
}

const ip = (...args: string[]): void =>
  void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * The third octet of this process's 198.18.X.0/24 daemon addresses: 200-249, starting from the pid and
 * skipping any in use by another process (test jobs run in parallel), fixed for the process once chosen.
 */
let third: number | undefined;
function freeThirdOctet(index: number): number {
  if (third !== undefined) return third;
  const used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  for (let i = 0; i < 50; i++) {
    const t = 200 + ((process.pid + i) % 50);
    if (!used.includes(` 198.18.${t}.`)) return (third = t);
  }
  throw new Error(`no free 198.18.200-249.0/24 for calico daemon ${index}`);
}

/** Starts one daemon; `index` (0..31) picks its addresses and names. */
export async function startCalicoDaemon(
  cp: ControlPlane,
  opts: { kind: DaemonKind; index: number; namespace: string; node: string; dir: string },
): Promise<CalicoDaemon> {
  const bin = calicoDaemonBin(opts.kind);
  const tag = `${process.pid % 100000}x${opts.index}`;
  const ns = `ctm${tag}`;
  const host = `ctm${tag}h`.slice(0, 15);
  const third = freeThirdOctet(opts.index);
  const hostIP = `198.18.${third}.${4 * opts.index + 1}`;
  const podIP = `198.18.${third}.${4 * opts.index + 2}`;
  fs.mkdirSync(opts.dir, { recursive: true });
  try {
    ip('netns', 'del', ns);
  } catch {
    /* not there */
  }
  ip('netns', 'add', ns);
  ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
  ip('addr', 'add', `${hostIP}/30`, 'dev', host);
  ip('link', 'set', host, 'up');
  ip('-n', ns, 'addr', 'add', `${podIP}/30`, 'dev', 'eth0');
  ip('-n', ns, 'link', 'set', 'eth0', 'up');
  ip('-n', ns, 'link', 'set', 'lo', 'up');

  // the API server, as seen from the namespace
  const api = new URL(cp.server);
  const fwd = net.createServer((c) => {
    const u = net.connect(Number(api.port), '127.0.0.1');
    c.pipe(u);
    u.pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  const fwdPort = await new Promise<number>((resolve, reject) => {
    fwd.once('error', reject);
    fwd.listen(0, hostIP, () => resolve((fwd.address() as net.AddressInfo).port));
  });
  // one kubeconfig per daemon: they share `dir`, and a daemon may read its file only after the next one started
  const kubeconfig = path.join(opts.dir, `kubeconfig-${opts.kind}-${opts.index}`);
  fs.writeFileSync(
    kubeconfig,
    fs
      .readFileSync(cp.kubeconfig('admin'), 'utf8')
      .replace(/server: .*/g, `server: https://${hostIP}:${fwdPort}`)
      .replace(/certificate-authority(-data)?: .*/g, 'insecure-skip-tls-verify: true'),
  );
  const log = path.join(opts.dir, `${opts.kind}.log`);
  const fd = fs.openSync(log, 'w');
  // `ip netns exec` gives the daemon a mount namespace of its own: Felix gets an empty /run and /var/lib there,
  // so its files (/var/lib/calico/mtu, /var/run/calico/endpoint-status, the xtables lock) stay off the host
  const argv =
    opts.kind === 'felix'
      ? [
          'sh',
          '-c',
          'mount -t tmpfs calico-tune /run && mount -t tmpfs calico-tune /var/lib && exec "$0"',
          bin,
        ]
      : [bin];
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, ...argv], {
    env: { PATH: process.env['PATH'], KUBECONFIG: kubeconfig, ...daemonEnv(opts.kind, opts.node) },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  fs.closeSync(fd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
  const { app, port } = DAEMON[opts.kind];
  const pod = `${app}-real-${opts.index}`;
  const c = cp.client();
  await c.request('POST', `/api/v1/namespaces/${opts.namespace}/pods`, {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod,
        namespace: opts.namespace,
        labels: { 'k8s-app': app },
      },
      spec: { nodeName: opts.node, containers: [{ name: opts.kind, image: 'real-binary-in-a-netns' }] },
    },
  });
  await c.request('PATCH', `/api/v1/namespaces/${opts.namespace}/pods/${pod}/status`, {
    body: { status: { phase: 'Running', podIP, podIPs: [{ ip: podIP }] } },
    contentType: 'application/merge-patch+json',
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
    await new Promise((r) => setTimeout(r, 300));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    fwd.close();
    try {
      ip('netns', 'del', ns); // takes the veth pair with it
    } catch {
      /* already gone */
    }
    await c
      .request('DELETE', `/api/v1/namespaces/${opts.namespace}/pods/${pod}`, { okStatuses: [404] })
      .catch(() => undefined);
  };
  return {
    kind: opts.kind,
    namespace: opts.namespace,
    pod,
    podIP,
    port,
    log,
    logTail: (lines = 30) => tail(log, lines),
    exited: () => exited,
    stop,
  };
}
