/** Local input files (plans; snapshots are read by snapshot.ts). Unreadable files are usage errors (exit 2). */
import fs from 'node:fs';
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

/** Saves a plan as YAML (JSON for a .json name), as `-o yaml|json` prints it. */
export function writePlanFile(path: string, plan: Plan): void {
  try {
    fs.writeFileSync(path, `${path.endsWith('.json') ? toJson(plan) : toYaml(plan)}\n`);
  } catch (e) {
    throw usageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}
