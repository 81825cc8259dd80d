/**
 * A pre-parse of a command's argv from its manifest entry alone, for the start-up prefetch
 * (src/kube/connect.ts): the flags when every word is unambiguous, else undefined. It accepts only the
 * forms whose meaning is certain (`--name value`, `--name=value`, `-c value`, boolean `--name`, positional
 * words), rejects anything else (`--`, `--no-x`, `-cvalue`, unknown or repeated flags, a value outside a
 * flag's options or that looks like a flag); oclif still parses argv for the command, and a client is used
 * only when both agree.
 */
import type { CommandMeta } from '../render/help-text.js';

export type PreparsedFlags = Record<string, string | string[] | boolean>;

export function preparse(cmd: CommandMeta, argv: string[]): PreparsedFlags | undefined {
  const flags = Object.values(cmd.flags ?? {});
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byChar = new Map(flags.filter((f) => f.char).map((f) => [f.char!, f]));
  const out: PreparsedFlags = {};
  let positional = 0;
  /** The last option flag read: oclif gives it every later positional word when it is multiple. */
  let lastOption: (typeof flags)[number] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      // oclif's parser (parse.js, currentFlag) hands the word to a multiple flag read before, even past
      // boolean flags (`--as-group a --verbose node-1`: as-group [a, node-1]): not pre-parsed
      if (lastOption?.multiple) return undefined;
      positional++;
      continue;
    }
    let flag;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      flag = byName.get(eq === -1 ? a.slice(2) : a.slice(2, eq));
      if (eq !== -1) value = a.slice(eq + 1);
    } else if (a.length === 2) {
      flag = byChar.get(a[1]!);
    }
    if (!flag) return undefined;
    if (flag.type === 'boolean') {
      if (value !== undefined || flag.name in out) return undefined;
      out[flag.name] = true;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
    }
    if (flag.options && !flag.options.includes(value)) return undefined;
    lastOption = flag;
    if (flag.multiple) out[flag.name] = [...((out[flag.name] as string[] | undefined) ?? []), value];
    else if (flag.name in out) return undefined;
    else out[flag.name] = value;
  }
  if (cmd.strict !== false && positional > Object.keys(cmd.args ?? {}).length) return undefined;
  return out;
}

/**
 * The connection flags to prefetch with, when argv runs a command that reads the cluster (it has kubectl's
 * flags, and none of the words that make it work offline: `--snapshot`, a snapshot `-f` outside `apply`,
 * `typha report --nodes`, `version --client`), else undefined.
 */
export function prefetchFlags(cmd: CommandMeta, argv: string[]): PreparsedFlags | undefined {
  if (!cmd.flags?.['kubeconfig']) return undefined;
  const f = preparse(cmd, argv);
  if (!f) return undefined;
  const offline =
    'snapshot' in f ||
    ('filename' in f && cmd.id !== 'apply') ||
    (cmd.id === 'typha:report' && 'nodes' in f) ||
    (cmd.id === 'version' && 'client' in f);
  return offline ? undefined : f;
}

/** Commands whose run() starts with the report read (loadSnapshot(undefined, { report: true })). */
const REPORTS = new Set(['status', 'bgp:topology', 'rr:list', 'typha:report']);

/** Whether the prefetch may begin the command's whole report read (not `status --watch`: it reads again). */
export function prefetchesReport(id: string, flags: PreparsedFlags): boolean {
  return REPORTS.has(id) && !('watch' in flags);
}
