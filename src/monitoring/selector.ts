/** Kubernetes label selectors (matchLabels, matchExpressions), as Prometheus objects use them. Pure. */
import { labelKeyProblem, labelValueProblem } from '../model/label-syntax.js';

export interface LabelSelector {
  matchLabels?: Record<string, string> | undefined;
  matchExpressions?: { key: string; operator: string; values?: string[] | undefined }[] | undefined;
}

/** Whether `sel` selects an object with `labels`. A null selector selects nothing; `{}` selects everything. */
export function selects(sel: LabelSelector | null, labels: Record<string, string>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // an operator Kubernetes does not know selects nothing
    }
  }
  return true;
}

/**
 * Labels that make `sel` select an object (matchLabels, the first value of each `In`, `"true"` for
 * `Exists`); undefined when none can (a null selector, an empty `In`, or contradicting requirements).
 */
export function labelsSatisfying(sel: LabelSelector | null): Record<string, string> | undefined {
  if (!sel) return undefined;
  const out: Record<string, string> = { ...(sel.matchLabels ?? {}) };
  for (const e of sel.matchExpressions ?? []) {
    if (out[e.key] !== undefined) continue;
    if (e.operator === 'In') {
      if (!e.values?.length) return undefined;
      out[e.key] = e.values[0]!;
    } else if (e.operator === 'Exists') out[e.key] = 'true';
  }
  return selects(sel, out) ? out : undefined;
}

/** `k=v,k2=v2` (the --service-monitor-labels flag); undefined with the reason when malformed. */
export function parseLabelList(text: string): { labels?: Record<string, string>; error?: string } {
  const labels: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) return { error: `"${part}" is not a label (key=value)` };
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) return { error: `"${part}" is not a label: ${keyProblem}` };
    const valueProblem = labelValueProblem(value);
    if (valueProblem) return { error: `"${part}" is not a label: ${valueProblem}` };
    if (labels[key] !== undefined && labels[key] !== value)
      return { error: `label ${key} is given twice, as "${labels[key]}" and "${value}"` };
    labels[key] = value;
  }
  return { labels };
}
