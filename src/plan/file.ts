/** Parsing a saved plan (YAML or JSON, as `-o yaml|json` printed it). Bad files are usage errors (exit 2). Pure: the file is read by kube/files.ts. */
import { usageError } from '../errors.js';
import { loadNoAliases, YamlAnchorError } from '../model/yaml.js';
import { PLAN_API_VERSION, type Plan } from './types.js';

const ACTIONS = new Set(['patch', 'create', 'delete', 'cordon', 'uncordon', 'drain', 'wait']);

export function parsePlan(text: string, origin: string): Plan {
  let doc: unknown;
  try {
    doc = text === '-' ? undefined : loadNoAliases(text);
  } catch (e) {
    if (e instanceof YamlAnchorError)
      throw usageError(
        `${origin}: ${e.message}`,
        'plans printed by calico-tune (-o yaml, -f FILE) have none; save the plan again',
      );
    throw usageError(`${origin} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const p = doc as Partial<Plan> | undefined;
  if (!p || typeof p !== 'object') throw usageError(`${origin} is empty`);
  if (p.apiVersion !== PLAN_API_VERSION || p.kind !== 'Plan') {
    throw usageError(
      `${origin} is not a plan (expected apiVersion ${PLAN_API_VERSION}, kind Plan; found ${String(p.apiVersion)}, ${String(p.kind)})`,
    );
  }
  if (!p.metadata?.name || !p.metadata.cluster || !Array.isArray(p.steps) || !p.summary)
    throw usageError(`${origin}: the plan lacks metadata, summary or steps`);
  const ids = new Set<string>();
  p.steps.forEach((s, i) => {
    if (!s || typeof s.id !== 'string' || !ACTIONS.has(s.action))
      throw usageError(`${origin}: step ${i + 1} has no id or an unknown action "${String(s?.action)}"`);
    if (ids.has(s.id)) throw usageError(`${origin}: step id ${s.id} appears twice`);
    ids.add(s.id);
    if (s.action === 'wait' && !s.gate) throw usageError(`${origin}: wait step ${s.id} has no gate`);
    if (s.action === 'patch' && (!s.patch || !s.object))
      throw usageError(`${origin}: patch step ${s.id} needs object and patch`);
    if (s.action === 'create' && !s.manifest)
      throw usageError(`${origin}: create step ${s.id} needs a manifest`);
    if (!Array.isArray(s.undo)) throw usageError(`${origin}: step ${s.id} has no undo list`);
  });
  return p as Plan;
}
