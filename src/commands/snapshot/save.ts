import fs from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { usageError } from '../../errors.js';
import { num } from '../../model/format.js';

export default class SnapshotSave extends BaseCommand {
  static override summary =
    'Save what the tool reads from the cluster to a file, for offline review (--snapshot FILE)';
  static override description = `Writes a kubectl List (YAML, or JSON when the file name ends in .json) of the nodes, Calico resources,
Typha objects and discovery information that every command reads. Any command accepts it with --snapshot FILE,
so findings and plans can be reviewed without access to the cluster. Managed fields and node image lists are
dropped; nothing secret is read (BGPPeer passwords are secret references, not values).`;
  static override examples = [
    'kubectl calico-tune snapshot save -f cluster.yaml',
    'kubectl calico-tune snapshot save -f - --context prod > prod.json',
  ];
  static override flags = {
    file: Flags.string({
      char: 'f',
      description: 'File to write (- for stdout)',
      required: true,
      helpValue: 'FILE',
    }),
    format: Flags.string({
      description: 'yaml or json (default: from the file extension, else yaml)',
      options: ['yaml', 'json'],
    }),
    'node-statuses': Flags.boolean({ description: 'Also save CalicoNodeStatus objects' }),
  };

  async run(): Promise<Record<string, unknown>> {
    const { flags } = await this.parse(SnapshotSave);
    this.setup(flags);
    const format = flags.format ?? (flags.file.endsWith('.json') ? 'json' : 'yaml');
    if (flags.file !== '-') {
      const dir = flags.file.includes('/') ? flags.file.slice(0, flags.file.lastIndexOf('/')) || '/' : '.';
      if (!fs.existsSync(dir)) throw usageError(`directory ${dir} does not exist`);
    }
    const snapshot = await this.loadSnapshot(undefined, { nodeStatuses: flags['node-statuses'] });
    const { snapshotToList } = await import('../../kube/snapshot.js');
    const { toJson, toYaml } = await import('../../render/output.js');
    const list = snapshotToList(snapshot);
    const text = `${format === 'json' ? toJson(list) : toYaml(list)}\n`;
    if (flags.file === '-') process.stdout.write(text);
    else {
      fs.writeFileSync(flags.file, text);
      process.stderr.write(
        `saved ${num(snapshot.objects.length)} objects (${num(snapshot.nodes.length)} nodes) from ${snapshot.source.server} to ${flags.file}\n`,
      );
    }
    for (const w of snapshot.source.warnings ?? []) this.warnLine(w);
    return list;
  }
}
