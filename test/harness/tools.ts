/**
 * Where the harness finds its tools: the Go-built binaries (tools/build.sh) and the Calico manifests.
 * Missing tools are an error, never a skip: CI must not pass by running nothing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type CalicoRelease = 'v3.27.3' | 'v3.31.3';
export const CALICO_RELEASES: readonly CalicoRelease[] = ['v3.27.3', 'v3.31.3'];
export const DEFAULT_CALICO: CalicoRelease = 'v3.31.3';

/** The repository root (works from test/harness/*.ts and from dist/test/harness/*.js). */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json) above the harness');
    dir = up;
  }
  return dir;
})();

export const REQUIRED_BINARIES = ['etcd', 'kube-apiserver', 'kubectl', 'kubectl-krew'] as const;

export class MissingToolsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingToolsError';
  }
}

let binDirCache: string | undefined;

/**
 * The tools' bin dir: $CALICO_TUNE_BIN_DIR, else what `tools/build.sh --dir` prints (one cache key for every
 * tool, calicoctl and confd included). `command` names the build command in the error.
 */
export function toolsDirFromBuildScript(command: string): string | undefined {
  const fromEnv = process.env['CALICO_TUNE_BIN_DIR'];
  if (fromEnv) return fromEnv;
  try {
    return execFileSync(path.join(REPO_ROOT, 'tools', 'build.sh'), ['--dir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .trim()
      .split('\n')
      .pop();
  } catch (e) {
    throw new MissingToolsError(
      `${command} --dir failed (${(e as Error).message.split('\n')[0]}); is Go installed? See docs/testing.md`,
    );
  }
}

/**
 * The directory with etcd, kube-apiserver, kubectl and kubectl-krew: $CALICO_TUNE_BIN_DIR, else what
 * `tools/build.sh --dir` prints. Throws MissingToolsError (with the command to run) when any is missing.
 */
export function binDir(): string {
  if (binDirCache) return binDirCache;
  const dir = toolsDirFromBuildScript('tools/build.sh');
  const missing = REQUIRED_BINARIES.filter((b) => !fs.existsSync(path.join(dir!, b)));
  if (!dir || missing.length) {
    throw new MissingToolsError(
      `the integration tests need ${missing.join(', ')} in ${dir}: run tools/build.sh (cold build ~6-12 min on 2 cores) ` +
        'or set CALICO_TUNE_BIN_DIR; see docs/testing.md. The integration suite never skips itself.',
    );
  }
  binDirCache = dir;
  return dir;
}

/** $CALICO_TUNE_CALICO_DIR, else <repo>/../shared/calico. */
export function calicoDir(): string {
  return process.env['CALICO_TUNE_CALICO_DIR'] ?? path.resolve(REPO_ROOT, '..', 'shared', 'calico');
}

/** A file of one Calico release's manifests (operator-crds.yaml, calico-typha.yaml, ...); throws clearly if missing. */
export function calicoFile(version: CalicoRelease, file: string): string {
  const dir = calicoDir();
  const p = path.join(dir, version, file);
  if (!fs.existsSync(p)) {
    throw new MissingToolsError(
      `missing ${p}: the Calico manifests are expected in $CALICO_TUNE_CALICO_DIR/<version>/ ` +
        `(default ${path.resolve(REPO_ROOT, '..', 'shared', 'calico')}); set CALICO_TUNE_CALICO_DIR to the directory that holds ${CALICO_RELEASES.join(' and ')}`,
    );
  }
  return p;
}
