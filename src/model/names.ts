/** "Did you mean": the closest names to a mistyped one (commands in src/cli, nodes in the planners). */
import { usageError } from '../errors.js';
import type { ClusterSnapshot, NodeInfo } from './types.js';

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions: `stauts` -> `status` is 1). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/**
 * The candidates closest to `typed`: within a quarter of its length (at least 1, at most 3 edits), or sharing
 * its prefix (`promot` -> `promote`); best first, ties in name order, at most `max`.
 */
export function suggest(typed: string, candidates: Iterable<string>, max = 3): string[] {
  const t = typed.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(t.length / 4)));
  const scored: [string, number][] = [];
  for (const c of new Set(candidates)) {
    const l = c.toLowerCase();
    if (l === t) continue;
    const dist = editDistance(t, l);
    const prefix = t.length >= 2 && (l.startsWith(t) || t.startsWith(l));
    if (dist <= limit || prefix) scored.push([c, prefix ? Math.min(dist, limit) : dist]);
  }
  scored.sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
  return scored.slice(0, max).map(([c]) => c);
}

/** The node named `name`; a name that is not a node is a usage error with the closest names. */
export function nodeNamed(s: ClusterSnapshot, name: string): NodeInfo {
  const n = s.nodes.find((x) => x.name === name);
  if (n) return n;
  const close = suggest(
    name,
    s.nodes.map((x) => x.name),
  );
  throw usageError(
    `node "${name}" does not exist`,
    close.length ? `did you mean: ${close.join(', ')}` : 'list nodes with: kubectl get nodes',
  );
}
