import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag, snapshotFlag } from '../base-command.js';

export interface VersionDoc {
  apiVersion: 'calico-tune/v1';
  kind: 'Version';
  plugin: { version: string; runtime: string };
  cluster?: {
    server?: string | undefined;
    context?: string | undefined;
    kubernetesVersion?: string | undefined;
    calico: {
      version?: string | undefined;
      versionSource?: string | undefined;
      installMode: string;
      apiMode: string;
    };
  };
}

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
    const doc: VersionDoc = {
      apiVersion: 'calico-tune/v1',
      kind: 'Version',
      plugin: {
        version: `v${this.config.version}`,
        runtime: bun ? `single binary, Bun ${bun}` : `Node.js ${process.version}`,
      },
    };
    if (!flags.client) {
      if (!this.machineOutput)
        process.stdout.write(`Plugin:      ${doc.plugin.version} (${doc.plugin.runtime})\n`);
      const s = await this.loadSnapshot(flags.snapshot);
      doc.cluster = {
        server: s.source.server,
        context: s.source.context,
        kubernetesVersion: s.source.kubernetesVersion,
        calico: {
          version: s.calico.version?.raw,
          versionSource: s.calico.version?.source,
          installMode: s.calico.installMode,
          apiMode: s.calico.apiMode,
        },
      };
      if (!this.machineOutput) {
        const c = doc.cluster;
        process.stdout.write(
          `Kubernetes:  ${c.kubernetesVersion ?? 'unknown'}${c.server ? ` (${c.server})` : ''}\n` +
            `Calico:      ${c.calico.version ?? 'not found'}${c.calico.versionSource ? ` (from ${c.calico.versionSource})` : ''} · ${c.calico.installMode} install · API ${c.calico.apiMode}\n`,
        );
        return doc;
      }
    }
    return this.emit(flags.output, doc, () => `Plugin:      ${doc.plugin.version} (${doc.plugin.runtime})`);
  }
}
