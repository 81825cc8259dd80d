/**
 * The front door shared by bin/run.js (Node, oclif's pattern discovery) and the single binary (an explicit
 * command index, scripts/package.js): shell completion (`__complete`, cobra's protocol, which kubectl >= 1.26
 * uses through `kubectl_complete-calico_tune`), help and `--version` from the manifest alone, and "did you
 * mean" for unknown commands. Only a known command id reaches oclif, so oclif never sees `rr:promot`.
 */
import { c, setColor, terminalColor } from '../render/color.js';
import { renderHelp, type ManifestLike } from '../render/help-text.js';
import { resolveArgv } from './resolve.js';

export interface CliHost {
  manifest: ManifestLike;
  version: string;
  /** Runs the command `id` with the rest of argv (through oclif); sets process.exitCode. */
  run(id: string, rest: string[]): Promise<void>;
}

const COMPLETE = new Set(['__complete', '__completeNoDesc']);

function colorOn(): boolean {
  return terminalColor();
}

/** Runs argv; returns the exit code (the caller exits, or leaves process.exitCode as set by the command). */
export async function main(argv: string[], host: CliHost): Promise<number | undefined> {
  if (COMPLETE.has(argv[0] ?? '')) {
    const { completeCommandLine } = await import('./complete.js');
    process.stdout.write(
      await completeCommandLine(host.manifest, argv.slice(1), argv[0] === '__completeNoDesc'),
    );
    return 0;
  }
  const dash = argv.indexOf('--');
  const head = dash === -1 ? argv : argv.slice(0, dash);
  if (head.length === 1 && (head[0] === '--version' || head[0] === '-v')) {
    process.stdout.write(`kubectl-calico_tune v${host.version}\n`);
    return 0;
  }
  const wantsHelp = head.length === 0 || head.includes('--help') || head.includes('-h') || head[0] === 'help';
  if (wantsHelp) {
    const words = head.filter((a) => !a.startsWith('-') && a !== 'help');
    const text = renderHelp(host.manifest, words, host.version, colorOn());
    if (text !== undefined) {
      process.stdout.write(text);
      return 0;
    }
  }
  const r = resolveArgv(host.manifest, head[0] === 'help' ? head.slice(1) : argv);
  switch (r.kind) {
    case 'command':
      await host.run(r.id, r.rest);
      return undefined;
    case 'topic':
      process.stdout.write(renderHelp(host.manifest, r.topic.split(':'), host.version, colorOn()) ?? '');
      return 0;
    case 'unknown': {
      if (!terminalColor(process.stderr)) setColor(false);
      process.stderr.write(`${c.red('error:')} unknown command "${r.typed}" for "kubectl calico-tune"\n`);
      if (r.suggestions.length)
        process.stderr.write(`  ${c.gray(`did you mean: ${r.suggestions.join(', ')}?`)}\n`);
      process.stderr.write(`  ${c.gray('see: kubectl calico-tune --help')}\n`);
      return 2;
    }
    case 'none':
      return 0;
  }
}
