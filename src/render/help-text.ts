/**
 * Help text rendered from command metadata (the oclif manifest, or oclif's loaded commands: same shape).
 * It imports nothing heavy, so `kubectl calico-tune --help` is served from oclif.manifest.json without
 * loading oclif (bin/run.js), and oclif's own help (src/render/help.ts) prints the very same text.
 */

export interface FlagMeta {
  name: string;
  char?: string;
  description?: string;
  summary?: string;
  type: 'boolean' | 'option';
  options?: string[];
  default?: unknown;
  multiple?: boolean;
  required?: boolean;
  helpGroup?: string;
  helpValue?: string;
  hidden?: boolean;
  allowNo?: boolean;
}

export interface ArgMeta {
  name: string;
  description?: string;
  required?: boolean;
  options?: string[];
}

export interface CommandMeta {
  id: string;
  summary?: string;
  description?: string;
  examples?: (string | { command: string; description?: string })[];
  flags?: Record<string, FlagMeta>;
  args?: Record<string, ArgMeta>;
  hidden?: boolean;
  strict?: boolean;
  usage?: string | string[];
}

export interface ManifestLike {
  commands: Record<string, CommandMeta>;
}

const BIN = 'kubectl calico-tune';

const TOPICS: Record<string, string> = {
  bgp: 'BGP sessions and topology as Calico configures them',
  encap: 'IP pool encapsulation (IPIP, VXLAN, CrossSubnet): report, plan, apply',
  migrate: 'Plan and apply the move from the full mesh to route reflectors, and back',
  monitoring: 'Felix, Typha and kube-controllers metrics: status, plan, apply',
  plan: 'Apply or inspect saved plans',
  rr: 'Route reflectors: list, recommend, promote, demote, replace',
  snapshot: 'Save the cluster state for offline review',
  typha: 'Typha sizing',
};

/** A topic's one-line description: the written one, else its commands (topics added later need no entry here). */
export function topicSummary(m: ManifestLike, topic: string): string {
  if (TOPICS[topic]) return TOPICS[topic]!;
  const subs = Object.values(m.commands)
    .filter((c) => !c.hidden && c.id.startsWith(`${topic}:`))
    .map((c) => c.id.slice(topic.length + 1).split(':')[0]!);
  return [...new Set(subs)].sort().join(', ');
}

function bold(s: string, color: boolean): string {
  return color ? `\u001b[1m${s}\u001b[22m` : s;
}

/**
 * Re-flows text to `width`: single line breaks join lines, blank lines separate paragraphs, and a line that
 * starts with `- ` starts a list item of its own (its continuation lines indented under its text).
 */
function wrap(text: string, width: number, indent: number): string {
  const pad = ' '.repeat(indent);
  const flow = (words: string[], first: string, rest: string): string[] => {
    const lines: string[] = [];
    let line = '';
    for (const w of words) {
      const room = width - (lines.length ? rest : first).length;
      if (line && line.length + 1 + w.length > room) {
        lines.push(line);
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    lines.push(line);
    return lines.map((l, i) => (i ? rest : first) + l);
  };
  return text
    .split(/\n\s*\n/)
    .map((para) => {
      // list items: a line starting with "- " begins one; other lines continue what they follow
      const blocks: string[] = [];
      for (const l of para.split('\n'))
        if (/^\s*- /.test(l) || !blocks.length) blocks.push(l.trim());
        else blocks[blocks.length - 1] += ` ${l.trim()}`;
      return blocks
        .flatMap((b) =>
          b.startsWith('- ')
            ? flow(b.slice(2).split(/\s+/).filter(Boolean), `${pad}- `, `${pad}  `)
            : flow(b.split(/\s+/).filter(Boolean), pad, pad),
        )
        .join('\n');
    })
    .join('\n\n');
}

function flagLabel(f: FlagMeta): string {
  const short = f.char ? `-${f.char}, ` : '    ';
  const value =
    f.type === 'option'
      ? ` ${f.helpValue ?? (f.options ? f.options.join('|') : f.name.toUpperCase().replace(/-/g, '_'))}`
      : '';
  return `${short}--${f.name}${value}`;
}

function flagsSection(title: string, flags: FlagMeta[], color: boolean, width: number): string {
  if (!flags.length) return '';
  const labels = flags.map(flagLabel);
  const w = Math.min(36, Math.max(...labels.map((l) => l.length)));
  const lines = flags.map((f, i) => {
    let d = f.summary ?? f.description ?? '';
    if (f.required) d += ' (required)';
    if (f.default !== undefined && f.default !== false && typeof f.default !== 'function')
      d += ` [default: ${String(f.default)}]`;
    const label = labels[i]!;
    const descWidth = Math.max(30, width - w - 6);
    const desc = wrap(d, descWidth, 0).split('\n');
    if (label.length > w) return [`  ${label}`, ...desc.map((l) => `  ${' '.repeat(w)}  ${l}`)].join('\n');
    return desc.map((l, j) => `  ${j === 0 ? label.padEnd(w) : ' '.repeat(w)}  ${l}`).join('\n');
  });
  return `${bold(title, color)}\n${lines.join('\n')}\n`;
}

function commandUsage(cmd: CommandMeta): string {
  const args = Object.values(cmd.args ?? {})
    .map(
      (a) =>
        (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`) +
        (cmd.strict === false ? '...' : ''),
    )
    .join(' ');
  return `${BIN} ${cmd.id.replace(/:/g, ' ')}${args ? ` ${args}` : ''} [flags]`;
}

export function renderCommandHelp(cmd: CommandMeta, color = false, width = 100): string {
  const parts: string[] = [];
  parts.push(`${cmd.summary ?? ''}\n`);
  parts.push(`${bold('USAGE', color)}\n  ${commandUsage(cmd)}\n`);
  const args = Object.values(cmd.args ?? {});
  if (args.length) {
    const w = Math.max(...args.map((a) => a.name.length));
    parts.push(
      `${bold('ARGUMENTS', color)}\n${args.map((a) => `  ${a.name.toUpperCase().padEnd(w)}  ${a.description ?? ''}`).join('\n')}\n`,
    );
  }
  const flags = Object.values(cmd.flags ?? {}).filter((f) => !f.hidden);
  const own = flags.filter((f) => !f.helpGroup);
  const groups = [...new Set(flags.map((f) => f.helpGroup).filter((g): g is string => !!g))];
  parts.push(flagsSection('FLAGS', own, color, width));
  for (const g of groups)
    parts.push(
      flagsSection(
        `${g} FLAGS`,
        flags.filter((f) => f.helpGroup === g),
        color,
        width,
      ),
    );
  if (cmd.description) parts.push(`${bold('DESCRIPTION', color)}\n${wrap(cmd.description, width, 2)}\n`);
  if (cmd.examples?.length) {
    const ex = cmd.examples.map((e) => (typeof e === 'string' ? e : e.command));
    parts.push(`${bold('EXAMPLES', color)}\n${ex.map((e) => `  ${e}`).join('\n')}\n`);
  }
  return parts.filter(Boolean).join('\n');
}

function commandList(cmds: CommandMeta[], prefix: string, color: boolean): string {
  const rows = cmds.map((c) => [c.id.slice(prefix.length).replace(/:/g, ' '), c.summary ?? '']);
  const w = Math.max(...rows.map((r) => r[0]!.length));
  return `${bold('COMMANDS', color)}\n${rows.map(([a, b]) => `  ${a!.padEnd(w)}  ${b}`).join('\n')}\n`;
}

export function renderRootHelp(m: ManifestLike, version: string | undefined, color = false): string {
  const cmds = Object.values(m.commands).filter((c) => !c.hidden);
  const top = new Map<string, string>();
  for (const c of cmds) {
    const [head, ...rest] = c.id.split(':');
    if (rest.length === 0) top.set(head!, c.summary ?? '');
    else if (!top.has(head!)) top.set(head!, topicSummary(m, head!));
  }
  const rows = [...top.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const w = Math.max(...rows.map(([a]) => a.length));
  return [
    `Check and safely tune Calico BGP (full mesh, route reflectors) and Typha against best practice.${version ? ` (v${version})` : ''}\n`,
    `${bold('USAGE', color)}\n  ${BIN} COMMAND [flags]\n`,
    `${bold('COMMANDS', color)}\n${rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join('\n')}\n`,
    `${bold('EXAMPLES', color)}\n  ${BIN} status\n  ${BIN} rr recommend\n  ${BIN} migrate plan --to route-reflectors -o yaml > plan.yaml\n`,
    `Run '${BIN} COMMAND --help' for a command's flags. Exit codes: 0 ok, 1 findings, 2 bad input, 3 cluster error, 4 gate failed, 5 stopped by you, 130 interrupted.\n`,
  ].join('\n');
}

/** Finds the command or topic that `args` (non-flag words) name. */
export function resolveHelpTarget(
  m: ManifestLike,
  words: string[],
): { command?: CommandMeta; topic?: string } | undefined {
  for (let k = words.length; k > 0; k--) {
    const id = words.slice(0, k).join(':');
    const cmd = m.commands[id];
    if (cmd) return { command: cmd };
    if (Object.keys(m.commands).some((c) => c.startsWith(`${id}:`))) return { topic: id };
  }
  return words.length === 0 ? {} : undefined;
}

/** Help for argv (already stripped of --help/-h/help). Undefined when argv names no command or topic. */
export function renderHelp(
  m: ManifestLike,
  words: string[],
  version?: string,
  color = false,
): string | undefined {
  const t = resolveHelpTarget(m, words);
  if (!t) return undefined;
  if (t.command) return renderCommandHelp(t.command, color);
  if (t.topic) {
    const cmds = Object.values(m.commands).filter((c) => !c.hidden && c.id.startsWith(`${t.topic}:`));
    return [
      `${topicSummary(m, t.topic)}\n`,
      `${bold('USAGE', color)}\n  ${BIN} ${t.topic.replace(/:/g, ' ')} COMMAND [flags]\n`,
      commandList(cmds, `${t.topic}:`, color),
    ].join('\n');
  }
  return renderRootHelp(m, version, color);
}
