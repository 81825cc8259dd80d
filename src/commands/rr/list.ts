import { BaseCommand, outputFlag, snapshotFlag } from '../../base-command.js';
import { ExitCode } from '../../errors.js';
import type { RrList as RrListDoc } from '../../rr/list.js';

export default class RrList extends BaseCommand {
  static override summary = 'List route reflectors: cluster IDs, zones, clients and sessions';
  static override examples = [
    'kubectl calico-tune rr list',
    'kubectl calico-tune rr list -o wide',
    'kubectl calico-tune rr list -o json',
  ];
  static override flags = { output: outputFlag(['table', 'wide', 'json', 'yaml'] as const), ...snapshotFlag };

  async run(): Promise<RrListDoc> {
    const { flags } = await this.parse(RrList);
    this.setup(flags);
    const s = await this.loadSnapshot(flags.snapshot, { report: true });
    const [{ listRouteReflectors }, { renderRrList }] = await Promise.all([
      import('../../rr/list.js'),
      import('../../render/rr.js'),
    ]);
    const l = listRouteReflectors(s);
    // as status does: exit 1 when the model finds node pairs that cannot reach each other
    if (l.unreachablePairs > 0) this.setExitCode(ExitCode.FINDINGS);
    return this.emit(flags.output, l, () => renderRrList(l, flags.output === 'wide'));
  }
}
