/** Local input files (plans; snapshots are read by snapshot.ts). Unreadable files are usage errors (exit 2). */
import fs from 'node:fs';
import nodePath from 'node:path';
import { usageError } from '../errors.js';
import { parsePlan } from '../plan/file.js';
import type { Plan } from '../plan/types.js';
import { toJson, toYaml } from '../render/output.js';

/** Reads a text file, or stdin for `-`. */
export function readInputFile(path: string, what: string): string {
  try {
    return fs.readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

export function readPlanFile(path: string): Plan {
  return parsePlan(
    readInputFile(path, 'plan file'),
    path === '-' ? 'the plan on stdin' : `plan file ${path}`,
  );
}

/** Refuses (exit 2) a file to write whose directory does not exist: checked before the cluster is read. */
export function requireDirectoryOf(path: string): void {
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) || '/' : '.';
  if (!fs.existsSync(dir)) throw usageError(`directory ${dir} does not exist`);
}

/** Saves a plan as YAML (JSON for a .json name), as `-o yaml|json` prints it. */
export function writePlanFile(path: string, plan: Plan): void {
  try {
    fs.writeFileSync(path, `${path.endsWith('.json') ? toJson(plan) : toYaml(plan)}\n`);
  } catch (e) {
    throw usageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** The releases whose Felix and Typha dashboards are shipped in assets/grafana/ (Apache-2.0, see its NOTICE). */
export const DASHBOARD_RELEASES = ['v3.27.3', 'v3.31.3'] as const;
const DASHBOARD_FILES = ['felix', 'typha'] as const;

/**
 * Calico's Felix and Typha Grafana dashboards (file name → parsed JSON) by Calico minor: those of v3.27.3 for
 * Calico 3.27 and older, else v3.31.3's. They are JSON modules, so both installs read them the same way: the
 * npm install imports assets/grafana/<release>/*.json, and scripts/package.js's bundle (esbuild) inlines the
 * same imports into the single binary.
 */
export async function loadCalicoDashboards(): Promise<
  (calicoMinor: number | undefined) => Record<string, unknown>
> {
  const byRelease: Record<string, Record<string, unknown>> = {};
  for (const release of DASHBOARD_RELEASES) {
    byRelease[release] = {};
    for (const name of DASHBOARD_FILES) {
      try {
        // relative to dist/src/kube/ (the template literal is what esbuild bundles as a glob)
        const m = (await import(`../../../assets/grafana/${release}/${name}-dashboard.json`, {
          with: { type: 'json' },
        })) as { default: unknown };
        byRelease[release][`${name}-dashboard.json`] = m.default;
      } catch (e) {
        throw usageError(
          `--dashboards: cannot read Calico's ${name} dashboard of ${release}: ${(e as Error).message.split('\n')[0]}`,
          'reinstall kubectl calico-tune, or plan without --dashboards',
        );
      }
    }
  }
  return (calicoMinor) => byRelease[calicoMinor !== undefined && calicoMinor <= 27 ? 'v3.27.3' : 'v3.31.3']!;
}

/**
 * Writes the kubectl completion helper (`completion install`) into `dir`, else into the first PATH directory
 * that holds `bin` (where krew, npm or a from-source install put it: the helper must be on PATH too).
 */
export function installKubectlCompletion(
  dir: string | undefined,
  name: string,
  bin: string,
  script: string,
): string {
  let target = dir;
  if (!target) {
    const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
    target = (process.env['PATH'] ?? '')
      .split(nodePath.delimiter)
      .filter(Boolean)
      .find((d) => exts.some((e) => fs.existsSync(nodePath.join(d, bin + e))));
    if (!target)
      throw usageError(
        `${bin} is not on PATH, so kubectl would not find ${name} either`,
        'pass --dir DIR (a directory on PATH)',
      );
  }
  if (!fs.existsSync(target)) throw usageError(`directory ${target} does not exist`);
  const file = nodePath.join(target, name);
  try {
    fs.writeFileSync(file, script, { mode: 0o755 });
    fs.chmodSync(file, 0o755);
  } catch (e) {
    throw usageError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return file;
}
