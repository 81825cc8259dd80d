/**
 * Shell completion in cobra's `__complete` protocol, which kubectl >= 1.26 speaks to plugins through
 * `kubectl_complete-calico_tune` (kubernetes#105867), and which the `completion bash|zsh|fish` scripts use:
 * one candidate a line (`value<TAB>description`), then `:<directive>`.
 *
 * Everything static comes from the command metadata (oclif.manifest.json): commands, topics, flags and `-o`
 * values, so commands added later complete without a change here. What a positional argument or a flag value
 * names comes from a command's static `completion` hints (`{ args: { old: 'reflectors' } }`), else from
 * conventions (an argument called `node(s)` is a node; `--kubeconfig` is a file, `--context` a context).
 * Node and reflector names are read from the cluster with a short timeout; on any error nothing is offered.
 */
import { topicSummary, type CommandMeta, type FlagMeta, type ManifestLike } from '../render/help-text.js';
import { commandWords } from './resolve.js';

/** cobra's ShellCompDirective bits. */
export const Directive = {
  Default: 0,
  Error: 1,
  NoSpace: 2,
  NoFileComp: 4,
  FilterFileExt: 8,
  FilterDirs: 16,
  KeepOrder: 32,
} as const;

export type ValueKind =
  | 'nodes'
  | 'non-reflectors'
  | 'reflectors'
  | 'plan-file'
  | 'data-file'
  | 'file'
  | 'dir'
  | 'contexts'
  | 'clusters'
  | 'users'
  | 'none';

export interface CompletionHints {
  args?: Record<string, ValueKind>;
  flags?: Record<string, ValueKind>;
}

export interface Candidate {
  value: string;
  description?: string | undefined;
}

export interface Completion {
  candidates: Candidate[];
  directive: number;
  /** Values to fetch (from the cluster or the kubeconfig) and filter by `prefix`. */
  dynamic?: ValueKind | undefined;
  /** What the candidates must start with (dynamic ones are filtered by it too). */
  prefix: string;
  /** Put in front of every value (`--output=` when completing `--output=js`). */
  valuePrefix?: string | undefined;
  /** Names already typed (not offered again for a variadic argument). */
  exclude?: string[] | undefined;
  /** Kubeconfig flags seen on the line, for the dynamic lookups. */
  kube: Record<string, string>;
}

type Meta = CommandMeta & { completion?: CompletionHints };

const KUBE_VALUE_FLAGS = new Set([
  'kubeconfig',
  'context',
  'cluster',
  'user',
  'server',
  'token',
  'as',
  'certificate-authority',
  'insecure-skip-tls-verify',
  'namespace',
  'request-timeout',
]);

/** Conventions for flags without a hint. */
function flagKind(cmd: Meta, f: FlagMeta): ValueKind | undefined {
  const hinted = cmd.completion?.flags?.[f.name];
  if (hinted) return hinted;
  switch (f.name) {
    case 'kubeconfig':
    case 'certificate-authority':
      return 'file';
    case 'context':
      return 'contexts';
    case 'cluster':
      return 'clusters';
    case 'user':
      return 'users';
    case 'snapshot':
      return 'data-file';
    case 'filename':
    case 'file':
      return 'plan-file';
    default:
      return undefined;
  }
}

/** Conventions for positional arguments without a hint. */
function argKind(cmd: Meta, name: string): ValueKind {
  const hinted = cmd.completion?.args?.[name];
  if (hinted) return hinted;
  if (/^nodes?$/.test(name)) return 'nodes';
  if (/file$/.test(name)) return 'file';
  return 'none';
}

function staticValues(kind: ValueKind): Pick<Completion, 'candidates' | 'directive'> | undefined {
  switch (kind) {
    case 'plan-file':
    case 'data-file':
      return {
        candidates: [{ value: 'yaml' }, { value: 'yml' }, { value: 'json' }],
        directive: Directive.FilterFileExt,
      };
    case 'file':
      return { candidates: [], directive: Directive.Default };
    case 'dir':
      return { candidates: [], directive: Directive.FilterDirs };
    case 'none':
      return { candidates: [], directive: Directive.NoFileComp };
    default:
      return undefined;
  }
}

function flagCandidates(cmd: Meta | undefined, used: Set<string>, cur: string): Candidate[] {
  // the command's own flags first, then the groups (kubectl's, global)
  const flags = Object.values(cmd?.flags ?? {})
    .filter((f) => !f.hidden)
    .sort((a, b) => Number(a.helpGroup !== undefined) - Number(b.helpGroup !== undefined));
  const out: Candidate[] = [];
  for (const f of flags) {
    if (used.has(f.name) && !f.multiple) continue;
    const description = f.summary ?? f.description;
    out.push({ value: `--${f.name}`, description });
    if (f.type === 'boolean' && f.allowNo) out.push({ value: `--no-${f.name}`, description });
    if (f.char && cur.length <= 2 && !cur.startsWith('--')) out.push({ value: `-${f.char}`, description });
  }
  out.push({ value: '--help', description: 'Show help for the command' });
  return out;
}

/**
 * The pure part: what to offer for `words` (typed after the plugin name, before the cursor) and `cur` (the
 * word under the cursor, maybe empty).
 */
export function complete(m: ManifestLike, words: string[], cur: string): Completion {
  const commands = m.commands as Record<string, Meta>;
  const { topics } = commandWords(m);
  const topicSet = new Set(topics);
  let id = '';
  let i = 0;
  while (i < words.length && !words[i]!.startsWith('-')) {
    const cand = id ? `${id}:${words[i]}` : words[i]!;
    if (!commands[cand] && !topicSet.has(cand)) break;
    id = cand;
    i++;
    if (commands[id]) break;
  }
  const cmd = commands[id];
  const kube: Record<string, string> = {};
  const base = (c: Candidate[], directive: number): Completion => ({
    candidates: c,
    directive,
    prefix: cur,
    kube,
  });
  if (!cmd) {
    if (i < words.length) return base([], Directive.NoFileComp); // an unknown word: nothing sensible
    if (cur.startsWith('-'))
      return base(
        [
          { value: '--help', description: 'Show help' },
          { value: '--version', description: 'Show the plugin version' },
        ],
        Directive.NoFileComp,
      );
    const depth = id ? id.split(':').length : 0;
    const seen = new Map<string, string>();
    for (const c of Object.values(commands)) {
      if (c.hidden) continue;
      if (id && !c.id.startsWith(`${id}:`)) continue;
      const parts = c.id.split(':');
      const w = parts[depth]!;
      const isLeaf = parts.length === depth + 1;
      if (!seen.has(w) || isLeaf)
        seen.set(w, isLeaf ? (c.summary ?? '') : topicSummary(m, parts.slice(0, depth + 1).join(':')));
    }
    return base(
      [...seen.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([value, description]) => ({ value, description })),
      Directive.NoFileComp,
    );
  }

  const flags = Object.values(cmd.flags ?? {});
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byChar = new Map(flags.filter((f) => f.char).map((f) => [f.char!, f]));
  const used = new Set<string>();
  const positional: string[] = [];
  let pending: FlagMeta | undefined;
  let rawArgs = false;
  for (const w of words.slice(i)) {
    if (pending) {
      if (KUBE_VALUE_FLAGS.has(pending.name)) kube[pending.name] = w;
      pending = undefined;
      continue;
    }
    if (rawArgs || w === '-' || !w.startsWith('-')) {
      positional.push(w);
      continue;
    }
    if (w === '--') {
      rawArgs = true;
      continue;
    }
    let f: FlagMeta | undefined;
    let value: string | undefined;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq === -1 ? w.slice(2) : w.slice(2, eq);
      f = byName.get(name) ?? byName.get(name.replace(/^no-/, ''));
      if (eq !== -1) value = w.slice(eq + 1);
    } else {
      f = byChar.get(w[1]!);
      if (w.length > 2) value = w.slice(2).replace(/^=/, '');
    }
    if (!f) continue;
    used.add(f.name);
    if (f.type === 'option') {
      if (value === undefined) pending = f;
      else if (KUBE_VALUE_FLAGS.has(f.name)) kube[f.name] = value;
    }
  }

  const valueOf = (f: FlagMeta, prefix: string, valuePrefix?: string): Completion => {
    if (f.options?.length)
      return {
        candidates: f.options.map((value) => ({ value })),
        directive: Directive.NoFileComp,
        prefix,
        valuePrefix,
        kube,
      };
    const kind = flagKind(cmd, f) ?? 'none';
    const fixed = staticValues(kind);
    if (fixed) return { ...fixed, prefix, valuePrefix, kube };
    return { candidates: [], directive: Directive.NoFileComp, dynamic: kind, prefix, valuePrefix, kube };
  };

  if (pending) return valueOf(pending, cur);
  if (!rawArgs && cur.startsWith('--') && cur.includes('=')) {
    const eq = cur.indexOf('=');
    const f = byName.get(cur.slice(2, eq));
    if (!f || f.type !== 'option') return base([], Directive.NoFileComp);
    return valueOf(f, cur.slice(eq + 1), cur.slice(0, eq + 1));
  }
  if (!rawArgs && cur.startsWith('-')) return base(flagCandidates(cmd, used, cur), Directive.NoFileComp);

  const argNames = Object.keys(cmd.args ?? {});
  const variadic = cmd.strict === false;
  const idx = positional.length;
  const name = idx < argNames.length ? argNames[idx] : variadic ? argNames[argNames.length - 1] : undefined;
  if (!name) return base([], Directive.NoFileComp);
  const options = cmd.args?.[name]?.options;
  if (options?.length)
    return base(
      options.map((value) => ({ value })),
      Directive.NoFileComp,
    );
  const kind = argKind(cmd, name);
  const fixed = staticValues(kind);
  if (fixed) return { ...fixed, prefix: cur, kube };
  return {
    candidates: [],
    directive: Directive.NoFileComp,
    dynamic: kind,
    prefix: cur,
    exclude: variadic ? positional : undefined,
    kube,
  };
}

/** Formats a completion for the shell: filtered by prefix, `value\tdescription` lines, then `:directive`. */
export function formatCompletion(c: Completion, extra: Candidate[], noDesc: boolean): string {
  const all = [...c.candidates, ...extra];
  const fileFilter = c.directive === Directive.FilterFileExt || c.directive === Directive.FilterDirs;
  const exclude = new Set(c.exclude ?? []);
  const lines = all
    .filter((x) => fileFilter || (x.value.startsWith(c.prefix) && !exclude.has(x.value)))
    .map((x) => {
      const v = fileFilter ? x.value : `${c.valuePrefix ?? ''}${x.value}`;
      return noDesc || !x.description ? v : `${v}\t${x.description.split('\n')[0]}`;
    });
  return `${lines.map((l) => `${l}\n`).join('')}:${c.directive}\n`;
}

/** How long a completion may wait for the cluster. */
export const CLUSTER_TIMEOUT_MS = 2_000;

async function dynamicValues(c: Completion): Promise<Candidate[]> {
  const kind = c.dynamic;
  if (!kind) return [];
  const { kubeconfigNames, resolveKubeconfig } = await import('../kube/kubeconfig.js');
  const flags = {
    kubeconfig: c.kube['kubeconfig'],
    context: c.kube['context'],
    cluster: c.kube['cluster'],
    user: c.kube['user'],
    server: c.kube['server'],
    token: c.kube['token'],
    as: c.kube['as'],
    certificateAuthority: c.kube['certificate-authority'],
    insecureSkipTlsVerify: c.kube['insecure-skip-tls-verify'] === 'true',
    requestTimeoutMs: CLUSTER_TIMEOUT_MS,
  };
  if (kind === 'contexts' || kind === 'clusters' || kind === 'users')
    return kubeconfigNames(flags)[kind].map((value) => ({ value }));
  if (kind !== 'nodes' && kind !== 'reflectors' && kind !== 'non-reflectors') return [];
  const [{ KubeHttp }, { parseNode }, { isRouteReflector }] = await Promise.all([
    import('../kube/http.js'),
    import('../model/parse.js'),
    import('../model/calico.js'),
  ]);
  const http = new KubeHttp(resolveKubeconfig(flags), { retry: { attempts: 1 } });
  try {
    const list = await http.request<{ items?: Record<string, unknown>[] }>('GET', '/api/v1/nodes', {
      timeoutMs: CLUSTER_TIMEOUT_MS,
    });
    const nodes = (list.items ?? []).map((o) => parseNode({ apiVersion: 'v1', kind: 'Node', ...o } as never));
    return nodes
      .filter((n) => kind === 'nodes' || isRouteReflector(n) === (kind === 'reflectors'))
      .map((n) => ({ value: n.name, description: n.zone ? `zone ${n.zone}` : undefined }))
      .sort((a, b) => (a.value < b.value ? -1 : 1));
  } finally {
    http.close();
  }
}

/** `__complete WORDS... CUR`: the whole answer for the shell. Never throws: errors give no candidates. */
export async function completeCommandLine(m: ManifestLike, args: string[], noDesc: boolean): Promise<string> {
  const words = args.slice(0, -1);
  const cur = args.length ? args[args.length - 1]! : '';
  let c: Completion;
  try {
    c = complete(m, words, cur);
  } catch {
    return `:${Directive.Error}\n`;
  }
  let extra: Candidate[] = [];
  if (c.dynamic) {
    try {
      extra = await dynamicValues(c);
    } catch {
      extra = [];
    }
  }
  return formatCompletion(c, extra, noDesc);
}
