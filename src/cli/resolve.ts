/**
 * Which command an argv names, from command metadata alone (oclif.manifest.json, or the manifest embedded
 * in the single binary): no oclif, no command module is loaded. Unknown words get "did you mean" suggestions
 * (model/names.ts: the same edit distance suggests node names).
 */
import { suggest } from '../model/names.js';
import type { ManifestLike } from '../render/help-text.js';

export { editDistance, suggest } from '../model/names.js';

export type Resolved =
  | { kind: 'command'; id: string; rest: string[] }
  | { kind: 'topic'; topic: string; rest: string[] }
  | { kind: 'unknown'; typed: string; suggestions: string[] }
  | { kind: 'none' };

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
