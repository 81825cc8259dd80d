/**
 * The single binary's entry (scripts/package.js bundles it with a generated command index): oclif with the
 * explicit command strategy, fed only the one command that argv names, so no file is read from disk and
 * no other command module is evaluated. Help, completion and "did you mean" come from the embedded manifest
 * (main.ts) before oclif is loaded at all. Used by the single binary and by bin/run.js's bundle
 * (scripts/bundle.js); a command that reads the cluster has its client made and its first requests sent
 * from a pre-parse of argv while oclif loads (preparse.ts, kube/connect.ts).
 */
import type { Command } from '@oclif/core';
import type { ManifestLike } from '../render/help-text.js';
import { main } from './main.js';
import { prefetchesReport, prefetchFlags } from './preparse.js';

export type CommandLoader = () => Promise<{ default: Command.Class }>;

export interface StandaloneOptions {
  manifest: ManifestLike;
  /** package.json's name, version and oclif section. */
  pjson: { name: string; version: string; oclif: Record<string, unknown> };
  /** Command id -> lazy import of its module (generated from src/commands at build time). */
  commands: Record<string, CommandLoader>;
}

export async function runStandalone(argv: string[], o: StandaloneOptions): Promise<void> {
  const code = await main(argv, {
    manifest: o.manifest,
    version: o.pjson.version,
    run: (id, rest) => runStandaloneCommand(id, rest, o),
  });
  if (code !== undefined) process.exitCode = code;
  await exitWhenFlushed();
}

/**
 * Ends the process once what it wrote to stdout and stderr is flushed. The command is over (its requests
 * done or aborted, its background work awaited): what is left is Node's teardown of the environment and the
 * heap, which took 15-25 ms after a 1,000-node `status` (strace: the main thread busy with no system call
 * between the last write and exit). `process.exit` still runs the 'exit' handlers (the code cache is saved
 * there). CALICO_TUNE_FAST_EXIT=0 lets the process end by itself.
 */
async function exitWhenFlushed(): Promise<void> {
  if (process.env['CALICO_TUNE_FAST_EXIT'] === '0') return;
  // a write's callback runs once everything written before it is flushed (or the stream failed)
  for (const s of [process.stdout, process.stderr])
    await new Promise<void>((resolve) => {
      if (s.destroyed || !s.writable) resolve();
      else s.write('', () => resolve());
    });
  process.exit();
}

/**
 * Runs the command `id` (main.ts resolved it) with the explicit strategy. bin/run.js calls it through the
 * Node bundle after serving help and completion itself, as it always did (scripts/bundle.js).
 */
export async function runStandaloneCommand(id: string, rest: string[], o: StandaloneOptions): Promise<void> {
  // a command that reads the cluster sends its first requests before oclif loads (kube/connect.ts)
  performance.mark('command');
  const pre = prefetchFlags(o.manifest.commands[id]!, rest);
  const prefetcher = pre ? await import('../kube/connect.js') : undefined;
  if (pre) await prefetcher!.prefetch(pre, { report: prefetchesReport(id, pre) });
  try {
    await runCommand(id, rest, o);
  } finally {
    // a client that the command did not take (other flags, or it failed first) must not hold the process
    await prefetcher?.discardPrefetched();
  }
}

/**
 * Imports @oclif/core without its engine check: evaluating its index reads oclif's own package.json and loads
 * semver to compare Node's version with oclif's `engines` (about 18 ms of a 1,000-node `status` in a CPU
 * profile). The plugin declares its own `engines`; the variable is restored so child processes (exec
 * credential plugins) see the environment as it was.
 */
async function importOclif(): Promise<typeof import('@oclif/core')> {
  const KEY = 'OCLIF_DISABLE_ENGINE_WARNING';
  const before = process.env[KEY];
  process.env[KEY] = '1';
  try {
    return await import('@oclif/core');
  } finally {
    if (before === undefined) delete process.env[KEY];
    else process.env[KEY] = before;
  }
}

async function runCommand(id: string, rest: string[], o: StandaloneOptions): Promise<void> {
  const [core, mod] = await Promise.all([importOclif(), o.commands[id]!()]);
  // a CommonJS module imported from an ES module bundle (the single binary's) has its exports on default
  const { Config, Plugin, flush } = 'Config' in core ? core : (core as { default: typeof core }).default;
  const pjson = {
    ...o.pjson,
    oclif: {
      ...o.pjson.oclif,
      commands: { strategy: 'explicit', target: './commands.js', identifier: 'COMMANDS' },
      helpClass: undefined,
    },
  };
  const root = process.execPath;
  const plugin = new Plugin({ isRoot: true, root, pjson: pjson as never, ignoreManifest: true });
  // the explicit strategy's command cache, filled here instead of by an import of `target`
  (plugin as unknown as { commandCache: Record<string, Command.Class> }).commandCache = {
    [id]: mod.default,
  };
  await plugin.load();
  const config = await Config.load({
    root,
    pjson: pjson as never,
    plugins: new Map([[pjson.name, plugin]]),
  });
  try {
    await config.runCommand(id, rest);
  } catch (err) {
    const e = err as Error & { oclif?: { exit?: number } };
    if (e.oclif?.exit === 0) return;
    process.stderr.write(`error: ${e.message.split('\n')[0]}\n`);
    process.exitCode = e.oclif?.exit ?? 1;
  } finally {
    await flush();
  }
}
