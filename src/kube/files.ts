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

/**
 * Calico's Felix and Typha Grafana dashboards shipped in assets/grafana/<release>/ (Apache-2.0, see
 * assets/grafana/NOTICE): those of v3.27.3 for Calico 3.27 and older, else v3.31.3's.
 */
export function readCalicoDashboards(calicoMinor: number | undefined): Record<string, string> {
  const release = calicoMinor !== undefined && calicoMinor <= 27 ? 'v3.27.3' : 'v3.31.3';
  const dir = new URL(`../../../assets/grafana/${release}/`, import.meta.url);
  const out: Record<string, string> = {};
  for (const f of ['felix-dashboard.json', 'typha-dashboard.json']) {
    try {
      out[f] = fs.readFileSync(new URL(f, dir), 'utf8');
    } catch {
      // the single binary (scripts/package.js) carries no assets/ directory
      throw usageError(
        `--dashboards: Calico's dashboards are not installed with this build (no assets/grafana/${release}/${f})`,
        'use the npm or from-source install for --dashboards, or plan without it',
      );
    }
  }
  return out;
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
