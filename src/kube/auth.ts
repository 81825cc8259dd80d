/**
 * Credentials for a resolved kubeconfig: bearer tokens, token files, basic auth, client certificates,
 * exec credential plugins (client.authentication.k8s.io v1/v1beta1, cached until expiry), and legacy
 * auth-providers through @kubernetes/client-node (imported only when such a user is configured).
 */
import fs from 'node:fs';
import { clusterError, usageError } from '../errors.js';
import type { ResolvedConfig } from './kubeconfig.js';

export interface Credentials {
  headers: Record<string, string>;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** When the credentials stop being valid (exec plugins), ms since epoch. */
  expiresAt?: number | undefined;
}

interface ExecStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

async function runExecPlugin(cfg: ResolvedConfig): Promise<ExecStatus> {
  const exec = cfg.exec!;
  const interactive = exec.interactiveMode !== 'Never' && process.stdin.isTTY === true;
  const info: Record<string, unknown> = {
    apiVersion: exec.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive },
  };
  if (exec.provideClusterInfo) {
    (info['spec'] as Record<string, unknown>)['cluster'] = {
      server: cfg.server,
      'insecure-skip-tls-verify': cfg.insecureSkipTlsVerify,
      ...(cfg.ca ? { 'certificate-authority-data': cfg.ca.toString('base64') } : {}),
    };
  }
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const e of exec.env) env[e.name] = e.value;
  // loaded here: most kubeconfigs have no exec plugin, and every command's start would pay for it
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(exec.command, exec.args, {
      env,
      stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const hint = exec.installHint
        ? exec.installHint.trim()
        : `install ${exec.command} or fix users[].user.exec in the kubeconfig`;
      reject(
        usageError(
          `exec credential plugin "${exec.command}" could not start: ${err.code ?? err.message}`,
          hint,
        ),
      );
    });
    child.on('close', (code) => {
      if (code !== 0) {
        reject(clusterError(`exec credential plugin "${exec.command}" exited with code ${code}`));
        return;
      }
      try {
        const parsed = JSON.parse(out) as { status?: ExecStatus };
        if (!parsed.status) throw new Error('no status in output');
        resolve(parsed.status);
      } catch (e) {
        reject(
          clusterError(
            `exec credential plugin "${exec.command}" printed invalid ExecCredential JSON: ${(e as Error).message}`,
          ),
        );
      }
    });
  });
}

async function authProviderHeaders(cfg: ResolvedConfig): Promise<Record<string, string>> {
  // Legacy auth-providers (oidc, gcp, azure) are rare today; reuse client-node's implementation for them.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: cfg.server, skipTLSVerify: cfg.insecureSkipTlsVerify }],
    users: [{ name: 'u', authProvider: cfg.authProvider }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const opts: { headers?: Record<string, string> } = {};
  await kc.applyToHTTPSOptions(opts as never);
  return opts.headers ?? {};
}

/** Computes the credentials for a request. Callers cache the result until `expiresAt`. */
export async function getCredentials(cfg: ResolvedConfig): Promise<Credentials> {
  const headers: Record<string, string> = {};
  let cert = cfg.clientCert;
  let key = cfg.clientKey;
  let expiresAt: number | undefined;
  if (cfg.token) headers['Authorization'] = `Bearer ${cfg.token}`;
  else if (cfg.tokenFile) {
    try {
      headers['Authorization'] = `Bearer ${fs.readFileSync(cfg.tokenFile, 'utf8').trim()}`;
    } catch (e) {
      throw usageError(`cannot read token file ${cfg.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    expiresAt = Date.now() + 60_000; // re-read rotated service-account tokens
  } else if (cfg.exec) {
    const st = await runExecPlugin(cfg);
    if (st.token) headers['Authorization'] = `Bearer ${st.token}`;
    if (st.clientCertificateData) cert = Buffer.from(st.clientCertificateData);
    if (st.clientKeyData) key = Buffer.from(st.clientKeyData);
    if (st.expirationTimestamp) expiresAt = Date.parse(st.expirationTimestamp);
  } else if (cfg.authProvider) {
    Object.assign(headers, await authProviderHeaders(cfg));
    expiresAt = Date.now() + 60_000;
  } else if (cfg.username !== undefined && cfg.password !== undefined) {
    headers['Authorization'] = `Basic ${Buffer.from(`${cfg.username}:${cfg.password}`).toString('base64')}`;
  }
  return { headers, cert, key, expiresAt };
}
