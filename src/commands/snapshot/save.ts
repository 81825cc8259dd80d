import { Args, Flags } from '@oclif/core';
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
    'kubectl calico-tune snapshot save cluster.yaml',
    'kubectl calico-tune snapshot save - --context prod > prod.json',
  ];
  static override args = {
    file: Args.string({
      description: 'File to write (YAML, or JSON for .json; - for stdout)',
      required: false,
    }),
  };
  static override flags = {
    // -f reads a file everywhere else (apply -f, migrate apply -f, as in kubectl): here it is the old spelling of FILE
    filename: Flags.string({
      char: 'f',
      hidden: true,
      deprecated: {
        message: 'snapshot save -f FILE is now snapshot save FILE (-f reads a file, as in apply -f)',
      },
    }),
    format: Flags.option({
      description: 'yaml or json (default: from the file extension, else yaml)',
      options: ['yaml', 'json'] as const,
    })(),
    'node-statuses': Flags.boolean({ description: 'Also save CalicoNodeStatus objects' }),
  };

  async run(): Promise<Record<string, unknown>> {
    const { args, flags } = await this.parse(SnapshotSave);
    this.setup(flags);
    if (args.file !== undefined && flags.filename !== undefined)
      throw usageError('name the file once: snapshot save FILE');
    const file = args.file ?? flags.filename;
    if (file === undefined)
      throw usageError('name the file to write: kubectl calico-tune snapshot save FILE (- for stdout)');
    const format = flags.format ?? (file.endsWith('.json') ? 'json' : 'yaml');
    const [{ requireDirectoryOf }, { writeSnapshotFile }] = await Promise.all([
      import('../../kube/files.js'),
      import('../../kube/snapshot.js'),
    ]);
    if (file !== '-') requireDirectoryOf(file);
    const snapshot = await this.loadSnapshot(undefined, { nodeStatuses: flags['node-statuses'] });
    const list = writeSnapshotFile(file, snapshot, format);
    if (file !== '-')
      process.stderr.write(
        `saved ${num(snapshot.objects.length)} objects (${num(snapshot.nodes.length)} nodes) from ${snapshot.source.server} to ${file}\n`,
      );
    for (const w of snapshot.source.warnings ?? []) this.warnLine(w);
    return list;
  }
}
