/**
 * What every command shares: kubectl's connection flags (parsed by the plugin itself, since kubectl passes
 * none), `-o` output, the lazily created API client, snapshot loading (live or `--snapshot FILE`), and the
 * one place that turns errors into a one-line message and an exit code (docs/architecture.md).
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { CliError, ExitCode, NothingToDo, usageError, type ExitCodeValue } from './errors.js';
import type { KubeApi } from './kube/api.js';
import { connect, kubeFlagsOf, takePrefetched } from './kube/connect.js';
import type { KubeFlags } from './kube/kubeconfig.js';
import { parseDurationMs } from './model/duration.js';
import type { ClusterSnapshot } from './model/types.js';
import { c, setColor } from './render/color.js';
import { toJson, toYaml } from './render/output.js';
import { setTableWidth, tableWidth } from './render/table-width.js';
import { fitText } from './render/wrap.js';

export const kubeFlags = {
  kubeconfig: Flags.string({
    description: 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)',
    helpGroup: 'KUBECTL',
  }),
  context: Flags.string({ description: 'The kubeconfig context to use', helpGroup: 'KUBECTL' }),
  cluster: Flags.string({ description: 'The kubeconfig cluster to use', helpGroup: 'KUBECTL' }),
  user: Flags.string({ description: 'The kubeconfig user to use', helpGroup: 'KUBECTL' }),
  namespace: Flags.string({ char: 'n', description: 'Namespace (where it matters)', helpGroup: 'KUBECTL' }),
  server: Flags.string({
    char: 's',
    description: 'The address and port of the Kubernetes API server',
    helpGroup: 'KUBECTL',
  }),
  token: Flags.string({
    description: 'Bearer token for authentication to the API server',
    helpGroup: 'KUBECTL',
  }),
  as: Flags.string({ description: 'Username to impersonate for the operation', helpGroup: 'KUBECTL' }),
  'as-group': Flags.string({
    description: 'Group to impersonate (repeat for several)',
    multiple: true,
    helpGroup: 'KUBECTL',
  }),
  'request-timeout': Flags.string({
    description: 'Timeout for a single API request (e.g. 30s, 1m; 0 = default)',
    helpGroup: 'KUBECTL',
  }),
  'insecure-skip-tls-verify': Flags.boolean({
    description: "Don't verify the server's certificate (insecure)",
    helpGroup: 'KUBECTL',
  }),
  'certificate-authority': Flags.string({
    description: 'Path to a CA certificate file',
    helpGroup: 'KUBECTL',
  }),
};

/** The flags that point at a cluster: the kubectl ones and --snapshot. */
export const clusterFlagNames: readonly string[] = ['snapshot', ...Object.keys(kubeFlags)];

export const commonFlags = {
  verbose: Flags.boolean({ description: 'Show API calls and stack traces on errors', helpGroup: 'GLOBAL' }),
  'no-color': Flags.boolean({ description: 'Disable colour (also NO_COLOR=1)', helpGroup: 'GLOBAL' }),
};

export const snapshotFlag = {
  snapshot: Flags.string({
    description:
      'Read the cluster from a snapshot file (kubectl List, YAML or JSON) instead of the API server',
    helpValue: 'FILE',
  }),
};

/** `-o` with the formats a command supports; the first is the default. */
export function outputFlag<const T extends string>(formats: readonly T[]) {
  return Flags.string({
    char: 'o',
    description: `Output format: ${formats.join('|')}`,
    options: formats as unknown as string[],
    default: formats[0],
  }) as unknown as Interfaces.OptionFlag<T, Interfaces.CustomOptions>;
}

type BaseFlags = Interfaces.InferredFlags<typeof BaseCommand.baseFlags>;

export abstract class BaseCommand extends Command {
  static override baseFlags = { ...kubeFlags, ...commonFlags };
  /** Exit codes come from errors and findings, not oclif. */
  static override enableJsonFlag = false;

  private apiPromise?: Promise<KubeApi>;
  private api?: KubeApi;
  /** The report read the start-up prefetch began with this client, for the first loadSnapshot of a report. */
  private prefetchedReport?: Promise<ClusterSnapshot> | undefined;
  protected base!: BaseFlags;
  protected machineOutput = false;
  /** -o json or -o yaml: error and nothing-to-do documents are printed in it too. */
  private machineFormat: 'json' | 'yaml' = 'json';
  private machineDoc(v: unknown): string {
    return this.machineFormat === 'yaml' ? toYaml(v) : toJson(v);
  }

  /** Call first in run() with the parsed flags: remembers the connection flags and the output format. */
  protected setup(flags: BaseFlags & { output?: string }): void {
    this.base = flags;
    if (flags['no-color']) setColor(false);
    this.machineOutput = flags.output === 'json' || flags.output === 'yaml';
    if (flags.output === 'yaml') this.machineFormat = 'yaml';
    // `-o table` on a terminal fits its width (COLUMNS first, as kubectl and less read it); -o wide, pipes and
    // files get whole cells
    const tty = process.stdout.isTTY === true;
    setTableWidth(
      tty && (flags.output === undefined || flags.output === 'table')
        ? Number(process.env['COLUMNS']) || process.stdout.columns
        : undefined,
    );
  }

  protected kubeFlags(): KubeFlags {
    return kubeFlagsOf(this.base);
  }

  /**
   * The API client, created on first use (so `--help` and offline commands never load it), or the one the
   * start-up prefetch made for the same connection flags (kube/connect.ts).
   */
  protected kube(): Promise<KubeApi> {
    if (!this.apiPromise) {
      const pre = takePrefetched(this.base);
      this.prefetchedReport = pre?.report;
      this.apiPromise = (pre?.api ?? connect(this.base)).then((api) => (this.api = api));
    }
    return this.apiPromise;
  }

  /**
   * Loads the snapshot from `--snapshot FILE` or the live cluster. `report`: a read-only report, which may
   * read lists from the API server's cache (never for a command that plans or writes).
   */
  protected async loadSnapshot(
    file: string | undefined,
    opts: { nodeStatuses?: boolean; report?: boolean } = {},
  ): Promise<ClusterSnapshot> {
    if (file) {
      // a flag that picks a live cluster says the person meant one (an operator trial: it was ignored)
      const live = (['context', 'cluster', 'user', 'server', 'token', 'as'] as const).find(
        (k) => (this.base as Record<string, unknown>)[k] !== undefined,
      );
      if (live)
        throw usageError(
          `--${live} picks a live cluster; --snapshot reads a file: give one of them`,
          `kubectl calico-tune ${this.id?.replace(/:/g, ' ') ?? ''} --snapshot ${file}   (or without --snapshot, on the cluster)`,
        );
      const { readSnapshotFile } = await import('./kube/snapshot.js');
      return readSnapshotFile(file);
    }
    const api = await this.kube();
    const pre = this.prefetchedReport;
    this.prefetchedReport = undefined;
    const { readLiveSnapshot } = await import('./kube/snapshot.js');
    return this.withProgress('Reading the cluster', async () => {
      // the same read (kube/connect.ts: readLiveSnapshot with cachedOk), begun while the command loaded
      if (pre && opts.report && !opts.nodeStatuses) return pre;
      return readLiveSnapshot(api, {
        context: api.http.cfg.contextName,
        nodeStatuses: opts.nodeStatuses,
        cachedOk: opts.report,
      });
    });
  }

  /** Runs `work` with the spinner of `progress(text)`. */
  protected async withProgress<T>(text: string, work: () => Promise<T>): Promise<T> {
    const stop = this.progress(text);
    try {
      return await work();
    } finally {
      stop();
    }
  }

  /** A spinner on stderr while waiting (only on a terminal); returns the function that stops it. */
  protected progress(text: string): () => void {
    if (!process.stderr.isTTY || process.env['TERM'] === 'dumb' || process.env['CI']) return () => {};
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let i = 0;
    const t = setInterval(
      () => process.stderr.write(`\r${c.cyan(frames[i++ % frames.length]!)} ${text}…`),
      80,
    );
    return () => {
      clearInterval(t);
      process.stderr.write('\r\u001b[K');
    };
  }

  /** Human output fitted to the terminal's width (`-o table` on a terminal; BaseCommand.setup), else as it is. */
  protected fitted(text: string): string {
    const w = tableWidth();
    return w === undefined ? text : fitText(text, w);
  }

  /** Prints the document (-o json|yaml) or its human rendering, and returns it: `run()` returns what it printed. */
  protected emit<T>(format: string, data: T, human: () => string): T {
    if (format === 'json') process.stdout.write(`${toJson(data)}\n`);
    else if (format === 'yaml') process.stdout.write(`${toYaml(data)}\n`);
    else process.stdout.write(`${this.fitted(human())}\n`);
    return data;
  }

  /**
   * A duration flag's value in milliseconds. A malformed value, or zero or less unless `zeroOk`, is a usage
   * error naming the flag (with `examples` when given).
   */
  protected durationFlag(
    flag: string,
    value: string,
    opts: { examples?: string; zeroOk?: boolean } = {},
  ): number {
    const ms = parseDurationMs(value);
    if (ms === undefined || (ms <= 0 && !opts.zeroOk))
      throw usageError(`invalid --${flag} "${value}"${opts.examples ? ` (examples: ${opts.examples})` : ''}`);
    return ms;
  }

  /**
   * `--watch`: runs `tick`, then again every `intervalMs`, until one of `signals` arrives. A signal during a
   * tick lets it finish and then stops; during the wait it stops at once.
   */
  protected async repeatUntilSignal(
    intervalMs: number,
    tick: () => Promise<void>,
    signals: NodeJS.Signals[] = ['SIGINT'],
  ): Promise<void> {
    let stop = false;
    let wake = (): void => {};
    const onSignal = (): void => {
      stop = true;
      wake();
    };
    for (const s of signals) process.once(s, onSignal);
    try {
      while (!stop) {
        await tick();
        if (stop) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, intervalMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    } finally {
      for (const s of signals) process.removeListener(s, onSignal);
    }
  }

  protected setExitCode(code: ExitCodeValue): void {
    process.exitCode = code;
  }

  /** Warnings go to stderr so machine output stays clean. */
  protected warnLine(msg: string): void {
    process.stderr.write(`${c.yellow('warning:')} ${msg}\n`);
  }

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    const verbose = this.base?.verbose ?? process.argv.includes('--verbose');
    // a flag oclif could not parse: setup() never ran, so -o json|yaml is read from the words themselves (a
    // review: `status -o json --bogus` printed no error document)
    if (!this.base) {
      const format = outputOfArgv(this.argv);
      this.machineOutput = format === 'json' || format === 'yaml';
      if (format === 'yaml') this.machineFormat = 'yaml';
    }
    let code: number;
    let message = err.message.split('\n')[0] ?? String(err);
    let hints: string[] = [];
    if (err instanceof NothingToDo) {
      if (this.machineOutput)
        process.stdout.write(
          `${this.machineDoc({
            apiVersion: 'calico-tune/v1',
            kind: 'ApplyResult',
            outcome: 'nothing-to-do',
            // the fields every ApplyResult has (null, not missing: docs/json-output.md); no plan was made
            plan: null,
            steps: 0,
            done: 0,
            message: err.message,
            differences: null,
          })}\n`,
        );
      process.stderr.write(`${c.green('✔')} nothing to do: ${err.message}\n`);
      process.exitCode = ExitCode.OK;
      return undefined;
    }
    if (err instanceof CliError) {
      code = err.exitCode;
      hints = err.hints;
      if (err.changed) hints.unshift(err.changed);
    } else if (err.oclif?.exit !== undefined && err.oclif.exit !== 0 && isParseError(err)) {
      code = ExitCode.USAGE;
      // oclif puts the reason on the lines after "Parsing --flag" or "The following errors occurred:": one
      // line, its items after the heading's colon; its notes (flags with multiple values) become hints
      const lines = err.message
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !/^See more help/.test(l));
      const notes = lines.filter((l) => /^(Note:|Alternatively,)/.test(l));
      const [head = '', ...items] = lines
        .filter((l) => !notes.includes(l))
        .map((l) => l.replace(/^(\S+) {2,}(.+)$/, '$1 ($2)')); // an argument and its description
      message =
        (items.length
          ? `${head.replace(/:$/, '')}: ${items.map((l) => l.replace(/:$/, '')).join('; ')}`
          : head
        ).replace(/ +:/g, ':') || err.message;
      hints = [...notes, `see: kubectl calico-tune ${this.id?.replace(/:/g, ' ') ?? ''} --help`.trimEnd()];
    } else if (err.oclif?.exit === 0) {
      return;
    } else {
      code = ExitCode.CLUSTER;
      message = `unexpected error: ${message}`;
      if (!verbose) hints = ['run again with --verbose for details'];
    }
    if (this.machineOutput) {
      // one document (a refused plan travels in it: an operator trial found two JSON documents on stdout)
      const more = err instanceof CliError ? (err.document ?? {}) : {};
      process.stdout.write(`${this.machineDoc({ error: { message, exitCode: code, hints }, ...more })}\n`);
    }
    process.stderr.write(`${c.red('error:')} ${message}\n`);
    for (const h of hints) process.stderr.write(`  ${c.gray(h)}\n`);
    if (verbose && err.stack) process.stderr.write(`${c.gray(err.stack)}\n`);
    process.exitCode = code;
    return undefined;
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    // the command is over: reads still in flight (a prefetched report it never used, the rest of a read that
    // failed on its first error) end for good, without retries: a retry would open a new connection while
    // the process exits (with HTTP/2, Node 20 then aborted in 1-3 of 40 runs: Realm base_object_count_)
    this.api?.http.abort();
    return super.finally(err);
  }
}

/** The value of -o / --output in raw arguments (`-o json`, `-ojson`, `-o=json`, `--output json`, `--output=json`). */
export function outputOfArgv(argv: readonly string[]): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '-o' || a === '--output') out = argv[++i];
    else if (a.startsWith('--output=')) out = a.slice('--output='.length);
    else if (a.startsWith('-o')) out = a.slice(a[2] === '=' ? 3 : 2);
  }
  return out;
}

function isParseError(err: Error): boolean {
  return (
    /Error$/.test(err.constructor.name) &&
    (err.constructor.name !== 'Error' ||
      /Expected|flag|argument|Missing|Unexpected|Nonexistent/i.test(err.message))
  );
}
