/** Flags shared by encap plan|apply (the CLI layer; planner options are pure). */
import { Flags } from '@oclif/core';
import { ENCAP_TARGETS, type EncapTarget } from './encap/model.js';
import type { EncapPlanOptions } from './encap/plan.js';
import { usageError } from './errors.js';
import type { Planner } from './plan-command.js';
import { planName } from './plan/name.js';

export const encapFlags = {
  pool: Flags.string({ description: 'The IP pool to change', helpValue: 'NAME' }),
  mode: Flags.string({
    description: 'The encapsulation to switch it to',
    options: [...ENCAP_TARGETS],
  }),
};

interface EncapFlagValues {
  pool?: string | undefined;
  mode?: string | undefined;
}

export function encapOptions(
  flags: EncapFlagValues & { timeout: string },
  verb: 'plan' | 'apply',
): EncapPlanOptions {
  if (!flags.pool) throw usageError('--pool is required (kubectl calico-tune encap report lists the pools)');
  if (!flags.mode) throw usageError(`--mode is required: ${ENCAP_TARGETS.join(', ')}`);
  const mode = flags.mode as EncapTarget;
  return {
    pool: flags.pool,
    mode,
    timeout: flags.timeout,
    name: planName(`encap-${mode}`, flags.pool),
    command: `kubectl calico-tune encap ${verb} --pool ${flags.pool} --mode ${mode}`,
  };
}

/** The planner that `encap plan|apply` run (the flags are checked with the snapshot, when it plans). */
export async function encapPlanner(flags: EncapFlagValues, verb: 'plan' | 'apply'): Promise<Planner> {
  const { planEncap } = await import('./encap/plan.js');
  return (s, timeout) => planEncap(s, encapOptions({ ...flags, timeout }, verb));
}
