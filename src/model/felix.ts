/**
 * Felix's configuration as a node's Felix resolves it from the datastore. Pure.
 *
 * Felix reads, first found wins: its environment, its config file, the host's own FelixConfiguration
 * `node.<nodename>`, then the global `default` (felix/config/config_params.go, "Configuring Felix"). Calico-node's
 * environment is the same on every node of the DaemonSet, so callers check it (`calicoNodeEnv`) before this.
 */
import type { KubeObject } from './types.js';

export const FELIX_NODE_PREFIX = 'node.';

/**
 * A boolean as Felix and Typha read one (felix/config/param_types.go BoolParam): 1, t, true, y, yes and 0, f,
 * false, n, no, any case, nothing trimmed; anything else is invalid (undefined).
 */
export function felixBool(v: string | undefined): boolean | undefined {
  const x = v?.toLowerCase();
  if (x === '1' || x === 't' || x === 'true' || x === 'y' || x === 'yes') return true;
  if (x === '0' || x === 'f' || x === 'false' || x === 'n' || x === 'no') return false;
  return undefined;
}

/**
 * A boolean set in Felix's or Typha's environment, as they resolve it: unset (or empty) is undefined, and the
 * datastore decides; an invalid value is the parameter's default, still at the environment's priority
 * (felix/config/config_params.go: the datastore is not consulted).
 */
export function envBool(raw: string | undefined, dflt: boolean): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  return felixBool(raw) ?? dflt;
}

/** Where a node's Felix takes `field` from: the object's name, and the value it sets. */
export interface FelixFieldSource {
  object: string;
  value: unknown;
}

/**
 * For each node, the FelixConfiguration that decides `field` (its `node.<name>` object when that sets the
 * field, else `default` when it does), or undefined when neither sets it (Felix's built-in default applies).
 */
export function felixFieldByNode(
  objects: readonly KubeObject[],
  nodeNames: readonly string[],
  field: string,
): Map<string, FelixFieldSource | undefined> {
  let global: FelixFieldSource | undefined;
  const perNode = new Map<string, FelixFieldSource>();
  for (const o of objects) {
    if (o.kind !== 'FelixConfiguration') continue;
    const spec = o.spec as Record<string, unknown> | undefined;
    const value = spec?.[field];
    if (value === undefined || value === null) continue;
    const name = o.metadata.name;
    if (name === 'default') global = { object: name, value };
    else if (name.startsWith(FELIX_NODE_PREFIX))
      perNode.set(name.slice(FELIX_NODE_PREFIX.length), { object: name, value });
  }
  const out = new Map<string, FelixFieldSource | undefined>();
  for (const n of nodeNames) out.set(n, perNode.get(n) ?? global);
  return out;
}
