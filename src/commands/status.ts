import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag, snapshotFlag } from '../base-command.js';
import type { StatusReport } from '../status/report.js';

export default class Status extends BaseCommand {
  static override summary = "Compare the cluster's BGP, route reflectors and Typha with Calico best practice";
  static override description = `Reads the cluster (or a snapshot file) and reports the Calico version, install and API mode, the
networking backend, node counts, the BGP set-up (full mesh, AS number, route reflectors, BGPPeers and the
sessions they create), IP pools and their encapsulation, Typha, and a list of findings with a fix for each.

Exit codes: 0 no critical finding; 1 a critical finding (or a warning with --strict); 2 bad input;
3 the cluster could not be read.`;
  static override examples = [
    'kubectl calico-tune status',
    'kubectl calico-tune status --context prod -o json',
    'kubectl calico-tune status --snapshot examples/cluster-150.yaml --strict',
  ];
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    strict: Flags.boolean({ description: 'Exit 1 on warnings too, not only on critical findings' }),
    ...snapshotFlag,
  };

  async run(): Promise<StatusReport> {
    const { flags } = await this.parse(Status);
    this.setup(flags);
    const snapshot = await this.loadSnapshot(flags.snapshot, { report: true });
    const [{ buildStatus, statusExitCode }, { renderStatus }] = await Promise.all([
      import('../status/report.js'),
      import('../render/status.js'),
    ]);
    const report = buildStatus(snapshot);
    this.setExitCode(statusExitCode(report, flags.strict));
    return this.emit(flags.output, report, () => renderStatus(report, flags.output === 'wide'));
  }
}
