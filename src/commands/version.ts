import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag, snapshotFlag } from '../base-command.js';
import { renderClusterVersions, renderPluginVersion } from '../render/version.js';
import { clusterVersions, versionDoc, type VersionDoc } from '../status/version.js';

export default class Version extends BaseCommand {
  static override summary = "Print the plugin's version and the cluster's Kubernetes and Calico versions";
  static override examples = [
    'kubectl calico-tune version',
    'kubectl calico-tune version --client',
    'kubectl calico-tune version -o json',
  ];
  static override flags = {
    output: outputFlag(['table', 'json', 'yaml'] as const),
    client: Flags.boolean({ description: "Only the plugin's version (no cluster access)" }),
    ...snapshotFlag,
  };

  async run(): Promise<VersionDoc> {
    const { flags } = await this.parse(Version);
    this.setup(flags);
    const bun = (process.versions as Record<string, string | undefined>)['bun'];
    const doc = versionDoc({
      version: `v${this.config.version}`,
      runtime: bun ? `single binary, Bun ${bun}` : `Node.js ${process.version}`,
    });
    if (!flags.client) {
      // on a terminal the plugin's line comes first, before a cluster that may not answer
      if (!this.machineOutput) process.stdout.write(`${renderPluginVersion(doc.plugin)}\n`);
      doc.cluster = clusterVersions(await this.loadSnapshot(flags.snapshot));
    }
    const cluster = doc.cluster;
    return this.emit(flags.output, doc, () =>
      cluster ? renderClusterVersions(cluster) : renderPluginVersion(doc.plugin),
    );
  }
}
