/** The finding type shared by `status`, `typha report` and the planners' preflight. */
import type { ObjectRef } from '../model/types.js';

export type Severity = 'critical' | 'warning' | 'info';

export interface Finding {
  /** Stable identifier, documented in docs/findings.md. */
  code: string;
  severity: Severity;
  /** One or two sentences: what is wrong, with names and numbers. */
  message: string;
  /** The objects it concerns. */
  objects: ObjectRef[];
  /** What to do about it (a command where one exists). */
  fix: string;
}

export const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export function sortFindings(fs: Finding[]): Finding[] {
  return [...fs].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

export function nodeRef(name: string): ObjectRef {
  return { kind: 'Node', name };
}

/** At most `n` refs, so a finding about 5,000 nodes stays readable; the message carries the count. */
export function firstRefs(refs: ObjectRef[], n = 20): ObjectRef[] {
  return refs.slice(0, n);
}
