/** oclif's help class, printing exactly what the fast path in bin/run.js prints (src/render/help-text.ts). */
import { Command, HelpBase, type Interfaces } from '@oclif/core';
import { terminalColor } from './color.js';
import { renderCommandHelp, renderHelp, type CommandMeta, type ManifestLike } from './help-text.js';

export default class CalicoTuneHelp extends HelpBase {
  private manifest(): ManifestLike {
    const commands: Record<string, CommandMeta> = {};
    for (const c of this.config.commands) commands[c.id] = c as unknown as CommandMeta;
    return { commands };
  }

  private color(): boolean {
    return terminalColor();
  }

  async showHelp(argv: string[]): Promise<void> {
    const words = argv.filter((a) => !a.startsWith('-'));
    const text = renderHelp(this.manifest(), words, this.config.version, this.color());
    process.stdout.write(text ?? renderHelp(this.manifest(), [], this.config.version, this.color())!);
  }

  async showCommandHelp(command: Command.Loadable, _topics: Interfaces.Topic[]): Promise<void> {
    process.stdout.write(renderCommandHelp(command as unknown as CommandMeta, this.color()));
  }
}
