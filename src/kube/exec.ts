/**
 * Runs a command in a pod container through the exec API (websocket, via @kubernetes/client-node, loaded
 * only when a command needs it) and returns stdout. Used for `birdcl` in calico-node pods.
 */
import { Writable } from 'node:stream';
import { clusterError } from '../errors.js';
import type { KubeApi } from './api.js';
import { getCredentials } from './auth.js';

export async function execInPod(
  api: KubeApi,
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  timeoutMs: number,
): Promise<string> {
  const { KubeConfig, Exec } = await import('@kubernetes/client-node');
  const cfg = api.http.cfg;
  const creds = await getCredentials(cfg);
  const kc = new KubeConfig();
  const token = creds.headers['Authorization']?.startsWith('Bearer ')
    ? creds.headers['Authorization'].slice(7)
    : undefined;
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: cfg.server,
        skipTLSVerify: cfg.insecureSkipTlsVerify,
        caData: cfg.ca?.toString('base64'),
        tlsServerName: cfg.tlsServerName,
      },
    ],
    users: [
      {
        name: 'u',
        token,
        certData: creds.cert?.toString('base64'),
        keyData: creds.key?.toString('base64'),
        impersonateUser: cfg.impersonateUser,
      },
    ],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  let out = '';
  let err = '';
  const stdout = new Writable({ write: (chunk: Buffer, _e, cb) => ((out += chunk.toString('utf8')), cb()) });
  const stderr = new Writable({ write: (chunk: Buffer, _e, cb) => ((err += chunk.toString('utf8')), cb()) });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(clusterError(`exec in ${namespace}/${pod} timed out after ${Math.round(timeoutMs / 1000)}s`)),
      timeoutMs,
    );
    new Exec(kc)
      .exec(namespace, pod, container, command, stdout, stderr, null, false, (status) => {
        clearTimeout(timer);
        if (status.status === 'Success') resolve(out);
        else
          reject(
            clusterError(
              `exec in ${namespace}/${pod}: ${status.message ?? status.status ?? 'failed'}${err ? `: ${err.trim()}` : ''}`,
            ),
          );
      })
      .catch((e: unknown) => {
        clearTimeout(timer);
        reject(clusterError(`exec in ${namespace}/${pod} failed: ${(e as Error).message}`));
      });
  });
}
