/**
 * Which command an argv names, from command metadata alone (oclif.manifest.json, or the manifest embedded
 * in the single binary): no oclif, no command module is loaded. Unknown words get "did you mean" suggestions
 * (an edit distance, also used for unknown node names).
 */
import type { ManifestLike } from '../render/help-text.js';

export type Resolved =
  | { kind: 'command'; id: string; rest: string[] }
  | { kind: 'topic'; topic: string; rest: string[] }
  | { kind: 'unknown'; typed: string; suggestions: string[] }
  | { kind: 'none' };

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
 * The candidates closest to `typed`: within a third of its length (at least 1, at most 3 edits), or sharing
 * its prefix (`promot` -> `promote`); best first, ties in name order, at most `max`.
 */
export function suggest(typed: string, candidates: Iterable<string>, max = 3): string[] {
  const t = typed.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(t.length / 3)));
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

/** Leading words of argv up to the first flag (or `--`). */
function leadingWords(argv: string[]): string[] {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  return words;
}

/** Command ids and topics (`rr`, and `a:b` for `a:b:c`), space-separated as typed. */
export function commandWords(m: ManifestLike): { commands: string[]; topics: string[] } {
  const commands = Object.values(m.commands)
    .filter((c) => !c.hidden)
    .map((c) => c.id);
  const topics = new Set<string>();
  for (const id of Object.keys(m.commands)) {
    const parts = id.split(':');
    for (let k = 1; k < parts.length; k++) topics.add(parts.slice(0, k).join(':'));
  }
  return { commands, topics: [...topics] };
}

/** Resolves argv to the command it names (the longest id made of its leading words), a topic, or an unknown word. */
export function resolveArgv(m: ManifestLike, argv: string[]): Resolved {
  const words = leadingWords(argv);
  if (words.length === 0) return { kind: 'none' };
  for (let k = words.length; k > 0; k--) {
    const id = words.slice(0, k).join(':');
    if (m.commands[id]) return { kind: 'command', id, rest: argv.slice(k) };
  }
  const { commands, topics } = commandWords(m);
  // the longest topic the words name, then the first word under it that is neither a command nor a topic
  let k = 0;
  while (k < words.length && topics.includes(words.slice(0, k + 1).join(':'))) k++;
  if (k === words.length) return { kind: 'topic', topic: words.join(':'), rest: argv.slice(k) };
  const prefix = words.slice(0, k).join(':');
  const under = (id: string): string | undefined => {
    if (k === 0) return id.split(':')[0];
    if (!id.startsWith(`${prefix}:`)) return undefined;
    return id.slice(prefix.length + 1).split(':')[0];
  };
  const next = new Set<string>();
  for (const id of [...commands, ...topics]) {
    const w = under(id);
    if (w) next.add(w);
  }
  const typedWord = words[k]!;
  const before = words.slice(0, k).join(' ');
  const join = (w: string): string => (before ? `${before} ${w}` : w);
  const close = suggest(typedWord, next);
  // under a topic, with nothing close (`rr node-1`), the topic's commands are the useful list
  const suggestions = close.length === 0 && k > 0 ? [...next].sort() : close;
  return { kind: 'unknown', typed: join(typedWord), suggestions: suggestions.map(join) };
}
