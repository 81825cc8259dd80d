/** RFC 7386 JSON merge patch, and the inverse patch that undoes it. Pure. */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Applies `patch` to `target` (neither is modified); returns the result. */
export function applyMergePatch<T>(target: T, patch: unknown): T {
  if (!isObject(patch)) return structuredClone(patch) as T;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out as T;
}

/**
 * The merge patch that restores `before` from `applyMergePatch(before, patch)`, limited to the keys the
 * patch touches (so concurrent unrelated changes are left alone).
 */
export function inverseMergePatch(before: unknown, patch: unknown): Record<string, unknown> {
  if (!isObject(patch)) return {};
  const out: Record<string, unknown> = {};
  const b = isObject(before) ? before : {};
  for (const [k, v] of Object.entries(patch)) {
    const prev = b[k];
    if (prev === undefined) out[k] = null;
    else if (isObject(v) && isObject(prev)) out[k] = inverseMergePatch(prev, v);
    else out[k] = structuredClone(prev as Json);
  }
  return out;
}

/** True when applying `patch` to `target` changes nothing (the step is already done). */
export function patchIsNoop(target: unknown, patch: unknown): boolean {
  if (!isObject(patch)) return JSON.stringify(target) === JSON.stringify(patch);
  const t = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      if (t[k] !== undefined) return false;
    } else if (isObject(v)) {
      if (!patchIsNoop(t[k], v)) return false;
    } else if (JSON.stringify(t[k]) !== JSON.stringify(v)) return false;
  }
  return true;
}

/**
 * True when `live` holds everything `want` sets: objects by key, arrays element by element (same length),
 * scalars equal. Fields the API server adds (a Service's clusterIPs, defaults) do not count against it.
 */
export function contains(live: unknown, want: unknown): boolean {
  if (isObject(want)) {
    if (!isObject(live)) return false;
    return Object.entries(want).every(([k, v]) => v === undefined || contains(live[k], v));
  }
  if (Array.isArray(want)) {
    return Array.isArray(live) && live.length === want.length && want.every((v, i) => contains(live[i], v));
  }
  return JSON.stringify(live) === JSON.stringify(want);
}

/** What a created object's content is, for comparing with the live object: spec, and data for ConfigMaps. */
export function createdContent(
  m:
    | { spec?: unknown; data?: unknown; metadata?: { labels?: Record<string, string> | undefined } }
    | undefined,
): Record<string, unknown> {
  // a kind without spec (ConfigMap) by its data
  const out: Record<string, unknown> =
    m?.spec === undefined && m?.data !== undefined ? {} : { spec: m?.spec ?? {} };
  if (m?.data !== undefined) out['data'] = m.data;
  if (m?.metadata?.labels) out['metadata'] = { labels: m.metadata.labels };
  return out;
}

/**
 * The fields of `target` (dotted paths) that hold neither what `patch` wrote nor what `undo` would write back:
 * someone else changed them since the patch. Compared field by field over the undo's keys, so a field
 * someone already put back (what the undo writes) is no conflict, nor is one still as the patch left it.
 */
export function fieldsChangedSince(target: unknown, patch: unknown, undo: unknown, at = ''): string[] {
  if (!isObject(undo)) return [];
  const t = isObject(target) ? target : {};
  const p = isObject(patch) ? patch : {};
  const out: string[] = [];
  const holds = (value: unknown, want: unknown): boolean =>
    want === null
      ? value === undefined
      : isObject(want)
        ? patchIsNoop(value, want)
        : JSON.stringify(value) === JSON.stringify(want);
  for (const [k, u] of Object.entries(undo)) {
    const path = at ? `${at}.${k}` : k;
    if (isObject(u) && isObject(p[k])) out.push(...fieldsChangedSince(t[k], p[k], u, path));
    else if (!(k in p && holds(t[k], p[k])) && !holds(t[k], u)) out.push(path);
  }
  return out;
}
