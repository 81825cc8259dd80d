import { Args, Flags } from '@oclif/core';
import { BaseCommand, commonFlags } from '../base-command.js';
import { usageError } from '../errors.js';

export default class Completion extends BaseCommand {
  static override summary = 'Shell completion: install it for kubectl, or print a bash, zsh or fish script';
  static override description = `kubectl 1.26 and later completes plugins through an executable named kubectl_complete-<plugin> on
PATH. \`completion install\` writes kubectl_complete-calico_tune next to kubectl-calico_tune (the directory on PATH
that holds it, e.g. ~/.krew/bin), so \`kubectl calico-tune <TAB>\` completes commands, flags, -o values, node and
reflector names (read from the cluster, 2 s at most) and plan files, once kubectl's own completion is enabled.

\`completion bash|zsh|fish\` prints a script for calling kubectl-calico_tune directly.`;
  static override examples = [
    'kubectl calico-tune completion install',
    'source <(kubectl-calico_tune completion bash)',
    'kubectl-calico_tune completion zsh > "${fpath[1]}/_kubectl-calico_tune"',
    'kubectl-calico_tune completion fish | source',
  ];
  /** No cluster access: only the global flags (help lists only the flags a command uses). */
  static override baseFlags = { ...commonFlags } as unknown as typeof BaseCommand.baseFlags;
  static override args = {
    shell: Args.string({
      description: 'install (for kubectl), or the shell to print a script for',
      options: ['install', 'bash', 'zsh', 'fish'],
    }),
  };
  static override flags = {
    dir: Flags.string({
      description:
        'With install: the directory to write kubectl_complete-calico_tune into (default: the one on PATH holding kubectl-calico_tune)',
      helpValue: 'DIR',
    }),
  };

  async run(): Promise<{ file?: string }> {
    const { args, flags } = await this.parse(Completion);
    this.setup(flags as Parameters<BaseCommand['setup']>[0]);
    // (not `required`: oclif's message for a missing argument wraps its description into the list of values)
    if (args.shell === undefined)
      throw usageError(
        'name a shell: kubectl-calico_tune completion bash|zsh|fish, or completion install (for kubectl)',
      );
    const shell = await import('../cli/shell.js');
    if (args.shell !== 'install') {
      const scripts = { bash: shell.bashScript, zsh: shell.zshScript, fish: shell.fishScript };
      process.stdout.write(scripts[args.shell as keyof typeof scripts]());
      return {};
    }
    const { installKubectlCompletion } = await import('../kube/files.js');
    const file = installKubectlCompletion(
      flags.dir,
      shell.KUBECTL_COMPLETE_BIN,
      shell.BIN,
      shell.kubectlCompleteScript(),
    );
    process.stdout.write(
      `wrote ${file}\nkubectl (1.26 or later) now completes \`kubectl calico-tune <TAB>\` where kubectl's own completion is on\n(e.g. source <(kubectl completion bash)).\n`,
    );
    return { file };
  }
}
