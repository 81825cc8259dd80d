/** Flags shared by `migrate plan` and `migrate apply` (CLI layer; the planner options are pure: migrate/plan.ts). */
import { Flags } from '@oclif/core';
import { planName } from './plan/name.js';
import { roleFlags, type Planner } from './plan-command.js';
import type { MigrateOptions } from './migrate/plan.js';

export const migrateFlags = {
  ...roleFlags,
  to: Flags.option({ description: 'Target topology', options: ['route-reflectors', 'mesh'] as const })(),
  'rr-count': Flags.integer({
    description: 'How many route reflectors (default: max(3, zones))',
    min: 2,
    max: 100,
  }),
  rr: Flags.string({
    description: 'Use these nodes as route reflectors (comma-separated)',
    helpValue: 'NODE,...',
  }),
  'cluster-id': Flags.string({
    description:
      'Route-reflector cluster ID shared by the new reflectors (bare IPv4; default: one of its own for each, the lowest unused 244.0.0.N)',
  }),
  label: Flags.string({
    description:
      'Label that BGPPeer selectors use to find reflectors (default: the one the existing reflectors carry and a BGPPeer selects, else route-reflector=true)',
  }),
};

interface MigrateFlagValues {
  'rr-count'?: number | undefined;
  rr?: string | undefined;
  'cluster-id'?: string | undefined;
  label?: string | undefined;
  drain: boolean;
  'allow-zone-loss'?: boolean | undefined;
}

/** The planner options from the migrate flags (one place for both commands). */
export function migrationOptions(
  flags: MigrateFlagValues & { timeout: string },
  to: 'route-reflectors' | 'mesh',
  verb: 'plan' | 'apply',
): MigrateOptions {
  return {
    to,
    rrCount: flags['rr-count'],
    rr: flags.rr
      ?.split(',')
      .map((x) => x.trim())
      .filter(Boolean),
    clusterId: flags['cluster-id'],
    label: flags.label,
    drain: flags.drain,
    allowZoneLoss: flags['allow-zone-loss'],
    timeout: flags.timeout,
    name: planName('migrate-to', to),
    command: `kubectl calico-tune migrate ${verb} --to ${to}`,
  };
}

/**
 * Bad flag values are refused before the cluster is read, whatever the cluster's state (a review found them
 * accepted with "nothing to do" when the cluster was already at the target, and refused otherwise).
 */
export async function checkMigrateFlags(
  flags: MigrateFlagValues,
  to: 'route-reflectors' | 'mesh',
): Promise<void> {
  const { parseLabel, validateClusterId } = await import('./rr/plan.js');
  const { usageError } = await import('./errors.js');
  if (to === 'mesh') {
    const chosen = (['rr', 'rr-count', 'cluster-id'] as const).filter((f) => flags[f] !== undefined);
    if (chosen.length)
      throw usageError(
        `${chosen.map((f) => `--${f}`).join(', ')} choose${chosen.length === 1 ? 's' : ''} route reflectors: only with --to route-reflectors`,
        '--to mesh demotes every reflector',
      );
  }
  if (flags.rr !== undefined && !flags.rr.split(',').some((x) => x.trim()))
    throw usageError(`--rr "${flags.rr}" names no node`, '--rr NODE,NODE,...');
  if (flags.label !== undefined) parseLabel(flags.label);
  if (flags['cluster-id'] !== undefined) validateClusterId(flags['cluster-id']);
}

/** The planner that `migrate plan|apply --to TO` runs. */
export async function migrationPlanner(
  flags: MigrateFlagValues,
  to: 'route-reflectors' | 'mesh',
  verb: 'plan' | 'apply',
): Promise<Planner> {
  await checkMigrateFlags(flags, to);
  const { planMigration } = await import('./migrate/plan.js');
  return (s, timeout) => planMigration(s, migrationOptions({ ...flags, timeout }, to, verb));
}
