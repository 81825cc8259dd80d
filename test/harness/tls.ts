/**
 * A self-signed certificate for a local TLS server (and the CA that verifies it: itself), made by openssl:
 * the client tests (http2, h2-drops, proxy) and the start-up bench's kubeconfig.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function selfSignedCert(
  dir: string,
  opts: { cn?: string; san?: string } = {},
): { key: Buffer; cert: Buffer } {
  const [keyFile, certFile] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${opts.cn ?? '127.0.0.1'}`],
      ...(opts.san ? ['-addext', `subjectAltName=${opts.san}`] : []),
    ],
    { stdio: 'ignore' },
  );
  return { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
}
