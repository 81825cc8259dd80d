/**
 * Shared helpers of the planner unit tests (plan/, rr/, migrate/): generated snapshots, the cluster state
 * after some steps, every planner run on one snapshot, and refusal assertions.
 */
import assert from 'node:assert/strict';
import { CliError, ExitCode } from '../../../src/errors.js';
import { planMigration, type MigrateOptions } from '../../../src/migrate/plan.js';
import { isRouteReflector } from '../../../src/model/calico.js';
import type { ClusterSnapshot, KubeObject, NodeInfo } from '../../../src/model/types.js';
import { applyStepToObjects, reparse } from '../../../src/plan/simulate.js';
import type { Plan, Step } from '../../../src/plan/types.js';
import { ineligibility } from '../../../src/rr/recommend.js';
import { planDemote, planPromote, planReplace, type RrPlanOptions } from '../../../src/rr/plan.js';

export const RR_ANN = 'projectcalico.org/RouteReflectorClusterID';
export const CORDON_ANN = 'calico-tune.io/cordoned-by';
export const OPTS: RrPlanOptions = { timeout: '10m', name: 'test-plan' };

export function migrateOpts(to: MigrateOptions['to'], extra: Partial<MigrateOptions> = {}): MigrateOptions {
  return {
    to,
    timeout: '10m',
    name: `migrate-${to}`,
    command: `kubectl calico-tune migrate plan --to ${to}`,
    ...extra,
  };
}

/** Route reflectors of a snapshot, by name. */
export function rrNames(s: ClusterSnapshot): string[] {
  return s.nodes.filter(isRouteReflector).map((n) => n.name);
}

/** Workers that may become reflectors (not control plane, not a reflector, eligible), in snapshot order. */
export function candidates(s: ClusterSnapshot): NodeInfo[] {
  return s.nodes.filter((n) => !n.controlPlane && !isRouteReflector(n) && ineligibility(n).length === 0);
}

export function node(s: ClusterSnapshot, name: string): NodeInfo {
  const n = s.nodes.find((x) => x.name === name);
  assert.ok(n, `no node ${name}`);
  return n;
}

export function object(objects: KubeObject[], kind: string, name: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

/** The objects after `steps` (as the builder and the simulator apply them). */
export function objectsAfter(objects: KubeObject[], steps: Step[]): KubeObject[] {
  return steps.reduce((objs, st) => applyStepToObjects(objs, st), objects);
}

/** The snapshot after `steps`. */
export function stateAfter(s: ClusterSnapshot, steps: Step[]): ClusterSnapshot {
  return reparse(s, objectsAfter(s.objects, steps));
}

/** The snapshot with its objects edited (a deep copy is edited; the original stays as it was). */
export function edited(
  s: ClusterSnapshot,
  edit: (objects: KubeObject[]) => KubeObject[] | void,
): ClusterSnapshot {
  let objs = structuredClone(s.objects);
  objs = edit(objs) ?? objs;
  return reparse({ ...s, source: { ...s.source } }, objs);
}

/** `fn` throws a CliError with `code` (usage: 2 by default) whose message matches `re`. */
export function refuses(fn: () => unknown, re: RegExp, code: number = ExitCode.USAGE): CliError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(
    err instanceof CliError,
    `expected a CliError matching ${re}, got ${err === undefined ? 'no error' : String(err)}`,
  );
  assert.equal(err.exitCode, code, err.message);
  assert.match(err.message, re);
  return err;
}

export function ids(p: Plan | Step[]): string[] {
  return (Array.isArray(p) ? p : p.steps).map((st) => st.id);
}

export function actions(p: Plan | Step[]): string[] {
  return (Array.isArray(p) ? p : p.steps).map((st) =>
    `${st.action} ${st.object?.name ?? st.manifest?.metadata.name ?? ''}`.trim(),
  );
}

/**
 * Every planner that applies to `s`: both migrations, promote (of one and of two nodes, with and without
 * --drain), demote (with and without --force) and replace. Refusals (CliError) are skipped: the result is
 * what the planners would hand to the executor.
 */
export function allPlans(s: ClusterSnapshot): { what: string; plan: Plan }[] {
  const out: { what: string; plan: Plan }[] = [];
  const attempt = (what: string, f: () => Plan): void => {
    try {
      out.push({ what, plan: f() });
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
    }
  };
  const rrs = rrNames(s);
  const c = candidates(s).map((n) => n.name);
  attempt('migrate to route-reflectors', () => planMigration(s, migrateOpts('route-reflectors')));
  attempt('migrate to route-reflectors, --drain', () =>
    planMigration(s, migrateOpts('route-reflectors', { drain: true, rrCount: 2 })),
  );
  attempt('migrate to mesh', () => planMigration(s, migrateOpts('mesh')));
  if (c[0]) {
    attempt(`promote ${c[0]}`, () => planPromote(s, [c[0]!], OPTS));
    attempt(`promote ${c[0]} --drain`, () => planPromote(s, [c[0]!], { ...OPTS, drain: true }));
  }
  if (c[1]) attempt(`promote ${c[0]} ${c[1]}`, () => planPromote(s, [c[0]!, c[1]!], OPTS));
  if (rrs[0]) {
    attempt(`demote ${rrs[0]}`, () => planDemote(s, [rrs[0]!], OPTS));
    attempt(`demote ${rrs[0]} --force --drain`, () =>
      planDemote(s, [rrs[0]!], { ...OPTS, force: true, drain: true }),
    );
    if (c[0]) attempt(`replace ${rrs[0]} ${c[0]}`, () => planReplace(s, rrs[0]!, c[0]!, OPTS));
  }
  return out;
}
