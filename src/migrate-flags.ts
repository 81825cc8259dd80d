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
    description: 'Label that BGPPeer selectors use to find reflectors',
    default: 'route-reflector=true',
  }),
};

interface MigrateFlagValues {
  'rr-count'?: number | undefined;
  rr?: string | undefined;
  'cluster-id'?: string | undefined;
  label: string;
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

/** The planner that `migrate plan|apply --to TO` runs. */
export async function migrationPlanner(
  flags: MigrateFlagValues,
  to: 'route-reflectors' | 'mesh',
  verb: 'plan' | 'apply',
): Promise<Planner> {
  const { planMigration } = await import('./migrate/plan.js');
  return (s, timeout) => planMigration(s, migrationOptions({ ...flags, timeout }, to, verb));
}
