/**
 * Where the harness finds its tools: the Go-built binaries (tools/build.sh) and the Calico manifests.
 * Missing tools are an error, never a skip: CI must not pass by running nothing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export class MissingToolsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingToolsError';
  }
}

export type CalicoRelease = 'v3.27.3' | 'v3.31.3';
export const CALICO_RELEASES: readonly CalicoRelease[] = ['v3.27.3', 'v3.31.3'];

/** The Kubernetes version the full suite runs on (tools/k8s-1.34); the matrix subset also runs on the others. */
export const DEFAULT_K8S = '1.34';
/** The Kubernetes versions tools/build.sh builds (tools/k8s-<minor>/), oldest first. */
export const K8S_VERSIONS: readonly string[] = ['1.28', '1.33', '1.34'];

/**
 * The Kubernetes version (minor, e.g. "1.28") the control planes of this run use: $CALICO_TUNE_K8S
 * ("1.28", "1.28.15" or "v1.28.15"), default 1.34. An unknown version throws.
 */
export function k8sVersion(): string {
  const raw = process.env['CALICO_TUNE_K8S']?.trim();
  if (!raw) return DEFAULT_K8S;
  const m = /^v?(1\.\d+)(\.\d+)?$/.exec(raw);
  if (!m || !K8S_VERSIONS.includes(m[1]!))
    throw new MissingToolsError(
      `CALICO_TUNE_K8S=${raw}: the test matrix has Kubernetes ${K8S_VERSIONS.join(', ')} (tools/k8s-<minor>/)`,
    );
  return m[1]!;
}

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

/** What a control plane needs, in the bin dir of its Kubernetes version. */
export const REQUIRED_BINARIES = ['etcd', 'kube-apiserver', 'kubectl'] as const;
/** What the default bin dir has on top (the e2e krew test). */
export const DEFAULT_DIR_BINARIES = [...REQUIRED_BINARIES, 'kubectl-krew'] as const;

/** What `tools/build.sh ARGS` prints last. `command` names the build command in the error. */
export function buildScriptDir(args: string[], command: string): string | undefined {
  try {
    return execFileSync(path.join(REPO_ROOT, 'tools', 'build.sh'), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .trim()
      .split('\n')
      .pop();
  } catch (e) {
    throw new MissingToolsError(
      `${command} failed (${(e as Error).message.split('\n')[0]}); is Go installed? See docs/testing.md`,
    );
  }
}

/**
 * The default tools' bin dir (the v1.34 kube tools, kubectl-krew, calicoctl, confd): $CALICO_TUNE_BIN_DIR,
 * else what `tools/build.sh --dir` prints (one dir of hard links for every tool). `command` names the
 * build command in the error.
 */
export function toolsDirFromBuildScript(command: string): string | undefined {
  const fromEnv = process.env['CALICO_TUNE_BIN_DIR'];
  if (fromEnv) return fromEnv;
  return buildScriptDir(['--dir'], `${command} --dir`);
}

function missingIn(dir: string | undefined, binaries: readonly string[]): string[] {
  return binaries.filter((b) => !dir || !fs.existsSync(path.join(dir, b)));
}

const binDirCache = new Map<string, string>();

/**
 * The directory with etcd, kube-apiserver and kubectl of Kubernetes `version` (default: $CALICO_TUNE_K8S,
 * else 1.34). For 1.34 that is the default bin dir ($CALICO_TUNE_BIN_DIR, else `tools/build.sh --dir`, which
 * also has kubectl-krew); for another version what `tools/build.sh --k8s <version> --dir` prints. Throws
 * MissingToolsError (with the command to run) when anything is missing: the suite never skips itself.
 */
export function binDir(version = k8sVersion()): string {
  const cached = binDirCache.get(version);
  if (cached) return cached;
  const isDefault = version === DEFAULT_K8S;
  const command = isDefault ? 'tools/build.sh' : `tools/build.sh --k8s ${version}`;
  const dir = isDefault
    ? toolsDirFromBuildScript(command)
    : buildScriptDir(['--k8s', version, '--dir'], `${command} --dir`);
  const missing = missingIn(dir, isDefault ? DEFAULT_DIR_BINARIES : REQUIRED_BINARIES);
  if (!dir || missing.length) {
    throw new MissingToolsError(
      `the integration tests on Kubernetes ${version} need ${missing.join(', ')} in ${dir}: run ${command} ` +
        `(cold build ~6-12 min per Kubernetes version on 2 cores)${isDefault ? ' or set CALICO_TUNE_BIN_DIR' : ''}; ` +
        'see docs/testing.md. The integration suite never skips itself.',
    );
  }
  binDirCache.set(version, dir);
  return dir;
}

/** The default bin dir (kubectl-krew, and the v1.34 kube tools), whatever $CALICO_TUNE_K8S says. */
export function defaultBinDir(): string {
  return binDir(DEFAULT_K8S);
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

/**
 * The dir of the monitoring.coreos.com CRDs (ServiceMonitor, PodMonitor, Prometheus, PrometheusRule) from the
 * prometheus-operator Go module: $CALICO_TUNE_MONITORING_CRDS_DIR, else what `tools/build.sh --crds` prints
 * (it fetches them with go mod download when missing). Throws clearly when neither works.
 */
export function monitoringCrdsDir(): string {
  const fromEnv = process.env['CALICO_TUNE_MONITORING_CRDS_DIR'];
  const dir = fromEnv ?? buildScriptDir(['--crds'], 'tools/build.sh --crds');
  if (!dir || !fs.existsSync(path.join(dir, 'monitoring.coreos.com_servicemonitors.yaml')))
    throw new MissingToolsError(
      `no monitoring.coreos.com CRDs in ${dir ?? '(none)'}: run tools/build.sh --crds (needs Go and the module proxy)`,
    );
  return dir;
}
