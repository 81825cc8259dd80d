/**
 * kubeconfig loading as kubectl does it (k8s.io/client-go tools/clientcmd):
 * - `--kubeconfig FILE` alone, else every file in `KUBECONFIG` (path-list; missing files skipped), else
 *   `~/.kube/config`, else the in-cluster service account;
 * - with several files, the first file that defines a cluster/user/context name wins, and the first
 *   non-empty `current-context` wins;
 * - relative file paths are resolved against the directory of the file that holds them;
 * - `--context`, `--cluster`, `--user`, `--server`, `--token`, `--certificate-authority`,
 *   `--insecure-skip-tls-verify`, `--as`, `--as-group`, `-n` override the result.
 * Pure apart from reading the files; no Kubernetes client is loaded here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { usageError } from '../errors.js';
import { parseProxyUrl, redactProxy } from './proxy.js';
import { parseDurationMs } from '../model/duration.js';

export interface KubeFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  cluster?: string | undefined;
  user?: string | undefined;
  namespace?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
  as?: string | undefined;
  asGroups?: string[] | undefined;
  certificateAuthority?: string | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
  requestTimeoutMs?: number | undefined;
}

export interface ExecConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  interactiveMode?: string | undefined;
  provideClusterInfo?: boolean | undefined;
  installHint?: string | undefined;
}

/** Everything needed to talk to one API server. */
export interface ResolvedConfig {
  contextName?: string | undefined;
  clusterName?: string | undefined;
  userName?: string | undefined;
  /** The credentials are --token's (the user's from the kubeconfig are not used). */
  tokenFromFlag?: boolean | undefined;
  server: string;
  namespace: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string | undefined;
  /** The cluster's proxy-url (http, https or socks5), else the environment's proxy applies (kube/proxy.ts). */
  proxyUrl?: string | undefined;
  ca?: Buffer | undefined;
  clientCert?: Buffer | undefined;
  clientKey?: Buffer | undefined;
  token?: string | undefined;
  tokenFile?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  exec?: ExecConfig | undefined;
  /** Legacy auth-provider (oidc, gcp, azure): handled by @kubernetes/client-node, loaded lazily. */
  authProvider?: { name: string; config: Record<string, string> } | undefined;
  /** The raw user entry, for the auth-provider path. */
  rawUser?: Record<string, unknown> | undefined;
  impersonateUser?: string | undefined;
  impersonateGroups: string[];
  requestTimeoutMs?: number | undefined;
  /** Where the configuration came from, for error messages. */
  origin: string;
}

type Obj = Record<string, unknown>;
interface Named {
  name: string;
  value: Obj;
  dir: string;
}
interface Merged {
  clusters: Map<string, Named>;
  users: Map<string, Named>;
  contexts: Map<string, Named>;
  currentContext?: string | undefined;
  files: string[];
}

function o(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

function readKubeconfigFile(file: string, merged: Merged, required: boolean): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (required)
      throw usageError(`cannot read kubeconfig ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return;
  }
  let doc: Obj;
  try {
    doc = o(yaml.load(text));
  } catch (e) {
    throw usageError(`kubeconfig ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  merged.files.push(file);
  const dir = path.dirname(path.resolve(file));
  const add = (list: unknown, key: string, into: Map<string, Named>): void => {
    for (const item of Array.isArray(list) ? list : []) {
      const it = o(item);
      const name = typeof it['name'] === 'string' ? it['name'] : undefined;
      if (name === undefined || into.has(name)) continue; // first file wins
      into.set(name, { name, value: o(it[key]), dir });
    }
  };
  add(doc['clusters'], 'cluster', merged.clusters);
  add(doc['users'], 'user', merged.users);
  add(doc['contexts'], 'context', merged.contexts);
  const cc = doc['current-context'];
  if (merged.currentContext === undefined && typeof cc === 'string' && cc !== '') merged.currentContext = cc;
}

/** The kubeconfig files kubectl would read, in precedence order. */
export function kubeconfigFiles(
  flags: KubeFlags,
  env: NodeJS.ProcessEnv = process.env,
): { files: string[]; explicit: boolean } {
  if (flags.kubeconfig) return { files: [flags.kubeconfig], explicit: true };
  const list = env['KUBECONFIG'];
  if (list) return { files: list.split(path.delimiter).filter((f) => f !== ''), explicit: false };
  return { files: [path.join(env['HOME'] ?? os.homedir(), '.kube', 'config')], explicit: false };
}

function abs(dir: string, p: unknown): string | undefined {
  if (typeof p !== 'string' || p === '') return undefined;
  return path.isAbsolute(p) ? p : path.join(dir, p);
}

function fileOrData(dir: string, file: unknown, data: unknown, what: string): Buffer | undefined {
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  const f = abs(dir, file);
  if (!f) return undefined;
  try {
    return fs.readFileSync(f);
  } catch (e) {
    throw usageError(`cannot read ${what} ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Context, cluster and user names of the kubeconfig these flags select (shell completion); unreadable files count as empty. */
export function kubeconfigNames(
  flags: KubeFlags,
  env: NodeJS.ProcessEnv = process.env,
): { contexts: string[]; clusters: string[]; users: string[] } {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), files: [] };
  for (const f of kubeconfigFiles(flags, env).files) {
    try {
      readKubeconfigFile(f, merged, false);
    } catch {
      // invalid YAML: nothing to offer from it
    }
  }
  return {
    contexts: [...merged.contexts.keys()],
    clusters: [...merged.clusters.keys()],
    users: [...merged.users.keys()],
  };
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function inCluster(env: NodeJS.ProcessEnv): ResolvedConfig | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port || !fs.existsSync(`${SA_DIR}/token`)) return undefined;
  let namespace = 'default';
  try {
    namespace = fs.readFileSync(`${SA_DIR}/namespace`, 'utf8').trim() || 'default';
  } catch {
    /* default */
  }
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace,
    insecureSkipTlsVerify: false,
    ca: fs.existsSync(`${SA_DIR}/ca.crt`) ? fs.readFileSync(`${SA_DIR}/ca.crt`) : undefined,
    tokenFile: `${SA_DIR}/token`,
    impersonateGroups: [],
    origin: 'in-cluster service account',
  };
}

/** Resolves the configuration kubectl would use for these flags. Throws a usage error (exit 2) on bad input. */
export function resolveKubeconfig(flags: KubeFlags, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const { files, explicit } = kubeconfigFiles(flags, env);
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), files: [] };
  for (const f of files) readKubeconfigFile(f, merged, explicit);

  if (merged.files.length === 0 && !flags.server) {
    const ic = inCluster(env);
    if (ic) return applyOverrides(ic, flags);
    throw usageError(
      `no kubeconfig found (looked at ${files.join(', ')})`,
      'pass --kubeconfig FILE, set KUBECONFIG, or use --snapshot FILE to work offline',
    );
  }

  const contextName = flags.context ?? merged.currentContext;
  let ctx: Obj = {};
  if (contextName !== undefined) {
    const c = merged.contexts.get(contextName);
    if (!c) {
      if (flags.context !== undefined || !flags.server) {
        const known = [...merged.contexts.keys()];
        throw usageError(
          `context "${contextName}" does not exist in ${merged.files.join(', ') || 'the kubeconfig'}`,
          known.length ? `known contexts: ${known.join(', ')}` : 'the kubeconfig defines no contexts',
        );
      }
    } else ctx = c.value;
  } else if (!flags.server && !flags.cluster) {
    throw usageError(
      'no current context is set in the kubeconfig',
      'pass --context NAME or run `kubectl config use-context NAME`',
    );
  }

  const clusterName = flags.cluster ?? (typeof ctx['cluster'] === 'string' ? ctx['cluster'] : undefined);
  const userName = flags.user ?? (typeof ctx['user'] === 'string' ? ctx['user'] : undefined);
  const cluster = clusterName !== undefined ? merged.clusters.get(clusterName) : undefined;
  if (clusterName !== undefined && !cluster && !flags.server) {
    throw usageError(`cluster "${clusterName}" does not exist in the kubeconfig`);
  }
  const user = userName !== undefined ? merged.users.get(userName) : undefined;
  if (flags.user !== undefined && !user)
    throw usageError(`user "${flags.user}" does not exist in the kubeconfig`);

  const cv = cluster?.value ?? {};
  const cdir = cluster?.dir ?? process.cwd();
  const uv = user?.value ?? {};
  const udir = user?.dir ?? process.cwd();
  const server = typeof cv['server'] === 'string' ? cv['server'] : '';
  const proxyUrl =
    typeof cv['proxy-url'] === 'string' && cv['proxy-url'] !== '' ? cv['proxy-url'] : undefined;
  if (proxyUrl !== undefined && !parseProxyUrl(proxyUrl))
    throw usageError(
      `cluster "${clusterName ?? ''}": proxy-url "${redactProxy(proxyUrl)}" is not a proxy calico-tune can use`,
      'give an http://, https:// or socks5:// URL, as kubectl takes',
    );

  const execRaw = o(uv['exec']);
  let exec: ExecConfig | undefined;
  if (typeof execRaw['command'] === 'string') {
    const cmd = execRaw['command'];
    exec = {
      // clientcmd resolves a relative command that contains a path separator against the kubeconfig's dir
      command: cmd.includes('/') && !path.isAbsolute(cmd) ? path.join(udir, cmd) : cmd,
      args: Array.isArray(execRaw['args']) ? execRaw['args'].map(String) : [],
      env: Array.isArray(execRaw['env'])
        ? execRaw['env'].map((e) => ({ name: String(o(e)['name']), value: String(o(e)['value'] ?? '') }))
        : [],
      apiVersion:
        typeof execRaw['apiVersion'] === 'string' ? execRaw['apiVersion'] : 'client.authentication.k8s.io/v1',
      interactiveMode:
        typeof execRaw['interactiveMode'] === 'string' ? execRaw['interactiveMode'] : undefined,
      provideClusterInfo: execRaw['provideClusterInfo'] === true,
      installHint: typeof execRaw['installHint'] === 'string' ? execRaw['installHint'] : undefined,
    };
  }
  const ap = o(uv['auth-provider']);
  const impersonateGroups = Array.isArray(uv['as-groups']) ? uv['as-groups'].map(String) : [];

  const resolved: ResolvedConfig = {
    contextName,
    clusterName,
    userName,
    server,
    namespace: typeof ctx['namespace'] === 'string' && ctx['namespace'] !== '' ? ctx['namespace'] : 'default',
    insecureSkipTlsVerify: cv['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cv['tls-server-name'] === 'string' ? cv['tls-server-name'] : undefined,
    proxyUrl,
    ca: fileOrData(
      cdir,
      cv['certificate-authority'],
      cv['certificate-authority-data'],
      'certificate authority',
    ),
    clientCert: fileOrData(
      udir,
      uv['client-certificate'],
      uv['client-certificate-data'],
      'client certificate',
    ),
    clientKey: fileOrData(udir, uv['client-key'], uv['client-key-data'], 'client key'),
    token: typeof uv['token'] === 'string' && uv['token'] !== '' ? uv['token'] : undefined,
    tokenFile: abs(udir, uv['tokenFile']),
    username: typeof uv['username'] === 'string' ? uv['username'] : undefined,
    password: typeof uv['password'] === 'string' ? uv['password'] : undefined,
    exec,
    authProvider:
      typeof ap['name'] === 'string'
        ? {
            name: ap['name'],
            config: Object.fromEntries(Object.entries(o(ap['config'])).map(([k, v]) => [k, String(v)])),
          }
        : undefined,
    rawUser: user ? { name: user.name, ...uv } : undefined,
    impersonateUser: typeof uv['as'] === 'string' ? uv['as'] : undefined,
    impersonateGroups,
    origin: merged.files.join(path.delimiter),
  };
  return applyOverrides(resolved, flags);
}

function applyOverrides(r: ResolvedConfig, flags: KubeFlags): ResolvedConfig {
  const out = { ...r };
  if (flags.server) out.server = flags.server;
  if (flags.certificateAuthority) {
    try {
      out.ca = fs.readFileSync(flags.certificateAuthority);
    } catch (e) {
      throw usageError(
        `cannot read --certificate-authority ${flags.certificateAuthority}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      );
    }
  }
  if (flags.insecureSkipTlsVerify) {
    out.insecureSkipTlsVerify = true;
  }
  if (flags.token) {
    // kubectl: an explicit token replaces the user's other credentials
    out.token = flags.token;
    out.tokenFromFlag = true;
    out.tokenFile = undefined;
    out.exec = undefined;
    out.authProvider = undefined;
    out.username = undefined;
    out.password = undefined;
  }
  if (flags.as) out.impersonateUser = flags.as;
  if (flags.asGroups && flags.asGroups.length > 0) out.impersonateGroups = flags.asGroups;
  if (flags.namespace) out.namespace = flags.namespace;
  if (flags.requestTimeoutMs !== undefined) out.requestTimeoutMs = flags.requestTimeoutMs;
  if (!out.server) {
    throw usageError(
      `no server is set for cluster "${out.clusterName ?? ''}" in ${out.origin}`,
      'pass --server URL',
    );
  }
  if (!/^https?:\/\//.test(out.server)) {
    throw usageError(`server "${out.server}" is not an http(s) URL`);
  }
  if (out.impersonateGroups.length > 0 && !out.impersonateUser) {
    throw usageError('--as-group requires --as (impersonating groups needs a user)');
  }
  return out;
}

/** Parses kubectl's `--request-timeout` (`0`, `30`, `30s`, `1m`, `1h`) to milliseconds (0 = none). */
export function parseDuration(s: string): number {
  const ms = parseDurationMs(s);
  if (ms === undefined) throw usageError(`invalid duration "${s}" (examples: 30s, 10m, 1h)`);
  return ms;
}
