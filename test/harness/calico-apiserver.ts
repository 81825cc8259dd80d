/**
 * Calico's aggregated API server (projectcalico.org/v3) under the test control plane (issue 17,
 * docs/test-cluster.md §9): the real calico-apiserver built from Calico v3.31.0 by
 * `CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh` (tools/calico-apiserver), serving the v3 API over the same
 * etcd-backed crd.projectcalico.org objects, registered as the `v3.projectcalico.org` APIService.
 *
 * The pieces the aggregation layer needs:
 * - kube-apiserver started with `aggregation: true` (ControlPlane.start): a front-proxy CA and client
 *   certificate (--requestheader-*, --proxy-client-*), and --enable-aggregator-routing (it proxies to the
 *   Endpoints address; there is no kube-proxy);
 * - an address the API server agrees to proxy to: it refuses loopback and link-local ones, and this kernel
 *   has no `dummy` driver, so the harness makes a veth pair whose one end lives in a network namespace of its
 *   own and puts a 198.18.0.0/15 address (RFC 2544 test range) on the host end; the calico-apiserver binds
 *   that address, and reaches the kube-apiserver on 127.0.0.1;
 * - a Service without selector, its Endpoints and EndpointSlice, and the APIService, then a wait until the
 *   APIService is Available and discovery lists projectcalico.org/v3.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { calicoToolsBinDir } from './calico-tools.js';
import type { KubeClient, Obj } from './kube.js';
import { sleep } from './kube.js';

export const APISERVICE_NAME = 'v3.projectcalico.org';
export const CALICO_API_NAMESPACE = 'calico-apiserver';
export const CALICO_API_SERVICE = 'calico-api';

/** Front-proxy certificates (the aggregation layer's client identity) for a kube-apiserver state dir. */
export function frontProxyFlags(pki: string): string[] {
  const o = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  o(
    [
      'req',
      '-x509',
      ...key,
      '-keyout',
      `${pki}/front-proxy-ca.key`,
      '-out',
      `${pki}/front-proxy-ca.crt`,
    ].concat(['-days', '2', '-subj', '/CN=front-proxy-ca']),
  );
  o(
    [
      'req',
      ...key,
      '-keyout',
      `${pki}/front-proxy-client.key`,
      '-out',
      `${pki}/front-proxy-client.csr`,
    ].concat(['-subj', '/CN=front-proxy-client']),
  );
  fs.writeFileSync(`${pki}/front-proxy-client.ext`, 'extendedKeyUsage=clientAuth\n');
  o(
    ['x509', '-req', '-in', `${pki}/front-proxy-client.csr`, '-CA', `${pki}/front-proxy-ca.crt`]
      .concat(['-CAkey', `${pki}/front-proxy-ca.key`, '-CAcreateserial', '-days', '2'])
      .concat(['-extfile', `${pki}/front-proxy-client.ext`, '-out', `${pki}/front-proxy-client.crt`]),
  );
  return [
    `--requestheader-client-ca-file=${pki}/front-proxy-ca.crt`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki}/front-proxy-client.crt`,
    `--proxy-client-key-file=${pki}/front-proxy-client.key`,
    '--enable-aggregator-routing=true',
  ];
}

/** A free 198.18.254.0/24 host address not on any interface yet. */
function freeTestAddress(): string {
  const used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  const start = (process.pid % 200) + 10;
  for (let i = 0; i < 240; i++) {
    const a = `198.18.254.${((start + i) % 240) + 10}`;
    if (!used.includes(` ${a}/`)) return a;
  }
  throw new Error('no free address in 198.18.254.0/24 for the calico-apiserver');
}

async function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface CalicoApiserverOptions {
  /** State dir of the control plane (logs, the on-exit script). */
  dir: string;
  /** kubeconfig of a system:masters user: the datastore access and delegated authn/authz. */
  kubeconfig: string;
  client: KubeClient;
  /** Starts the process in the control plane's process groups (so it stops with them). */
  spawn: (
    name: string,
    bin: string,
    args: string[],
    log: string,
    env: NodeJS.ProcessEnv,
  ) => {
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  };
  /** Appends a line to the control plane's on-exit script. */
  onExit: (line: string) => void;
  timeoutMs?: number;
}

export interface CalicoApiserver {
  address: string;
  port: number;
  /** ms from spawn to the APIService Available. */
  readyMs: number;
  /** Deletes the APIService (the v3 API disappears; the process keeps running). */
  unregister(): Promise<void>;
}

/** Starts the calico-apiserver and registers it; resolves when projectcalico.org/v3 is served. */
export async function startCalicoApiserver(o: CalicoApiserverOptions): Promise<CalicoApiserver> {
  const t0 = performance.now();
  const bin = path.join(calicoToolsBinDir(), 'calico-apiserver');
  if (!fs.existsSync(bin))
    throw new Error(`${bin} is missing: run CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh (tests never skip)`);
  const tag = `cta${process.pid % 100000}${Math.floor(Math.random() * 100)}`.slice(0, 12);
  const ns = `${tag}-ns`;
  const address = freeTestAddress();
  execFileSync('ip', ['netns', 'add', ns]);
  o.onExit(`ip link del ${tag}h 2>/dev/null; ip netns del ${ns} 2>/dev/null`);
  const ip = (args: string[]): void => {
    execFileSync('ip', args, { stdio: 'ignore' });
  };
  ip(['link', 'add', `${tag}h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  ip(['addr', 'add', `${address}/32`, 'dev', `${tag}h`]);
  ip(['link', 'set', `${tag}h`, 'up']);
  ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  const port = await freePortOn(address);
  const certDir = path.join(o.dir, 'calico-apiserver-certs');
  fs.mkdirSync(certDir, { recursive: true });
  const proc = o.spawn(
    'calico-apiserver',
    bin,
    [
      `--bind-address=${address}`,
      `--secure-port=${port}`,
      `--cert-dir=${certDir}`,
      `--kubeconfig=${o.kubeconfig}`,
      `--authentication-kubeconfig=${o.kubeconfig}`,
      `--authorization-kubeconfig=${o.kubeconfig}`,
      '--enable-validating-admission-policy=false',
    ],
    path.join(o.dir, 'calico-apiserver.log'),
    { ...process.env, DATASTORE_TYPE: 'kubernetes', KUBECONFIG: o.kubeconfig, LOG_LEVEL: 'info' },
  );
  let exited: string | undefined;
  void proc.exited.then((r) => (exited = `calico-apiserver exited (${r.code ?? r.signal})`));

  const c = o.client;
  const create = async (p: string, body: Obj): Promise<void> => {
    await c.request('POST', p, { body, okStatuses: [409] });
  };
  await create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: CALICO_API_NAMESPACE },
  });
  const meta = { name: CALICO_API_SERVICE, namespace: CALICO_API_NAMESPACE };
  await create(`/api/v1/namespaces/${CALICO_API_NAMESPACE}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta,
    spec: { ports: [{ name: 'apiserver', port: 443, protocol: 'TCP', targetPort: port }] },
  });
  await create(`/api/v1/namespaces/${CALICO_API_NAMESPACE}/endpoints`, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: meta,
    subsets: [{ addresses: [{ ip: address }], ports: [{ name: 'apiserver', port, protocol: 'TCP' }] }],
  });
  await create(`/apis/discovery.k8s.io/v1/namespaces/${CALICO_API_NAMESPACE}/endpointslices`, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${CALICO_API_SERVICE}-1`,
      namespace: CALICO_API_NAMESPACE,
      labels: { 'kubernetes.io/service-name': CALICO_API_SERVICE },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: 'apiserver', port, protocol: 'TCP' }],
  });
  const apiService = {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: APISERVICE_NAME },
    spec: {
      group: 'projectcalico.org',
      version: 'v3',
      groupPriorityMinimum: 1500,
      versionPriority: 200,
      insecureSkipTLSVerify: true, // the calico-apiserver's certificate is self-signed (--cert-dir)
      service: { name: CALICO_API_SERVICE, namespace: CALICO_API_NAMESPACE, port: 443 },
    },
  };
  await create('/apis/apiregistration.k8s.io/v1/apiservices', apiService);

  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  let last = '';
  for (;;) {
    if (exited)
      throw new Error(`${exited}; tail of its log:\n${tail(path.join(o.dir, 'calico-apiserver.log'))}`);
    const s = await c.get<Obj>(`/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE_NAME}`);
    const cond = (
      (s.status?.['conditions'] as { type: string; status: string; message?: string }[]) ?? []
    ).find((x) => x.type === 'Available');
    last = `${cond?.status ?? 'no condition'} ${cond?.message ?? ''}`;
    if (cond?.status === 'True') {
      try {
        await c.request('GET', '/apis/projectcalico.org/v3', { timeoutMs: 5000 });
        break;
      } catch (e) {
        last = `discovery: ${(e as Error).message}`;
      }
    }
    if (Date.now() > deadline)
      throw new Error(
        `APIService ${APISERVICE_NAME} not Available after ${o.timeoutMs ?? 120_000} ms (${last}); tail of the calico-apiserver log:\n${tail(path.join(o.dir, 'calico-apiserver.log'))}`,
      );
    await sleep(250);
  }
  c.invalidateDiscovery();
  return {
    address,
    port,
    readyMs: Math.round(performance.now() - t0),
    unregister: async () => {
      await c.request('DELETE', `/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE_NAME}`, {
        okStatuses: [404],
      });
      c.invalidateDiscovery();
    },
  };
}

function tail(file: string, n = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
