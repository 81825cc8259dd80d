import { BaseCommand, outputFlag, snapshotFlag } from '../../base-command.js';
import type { EncapReport as EncapReportDoc } from '../../encap/plan.js';

export default class EncapReport extends BaseCommand {
  static override summary =
    'Per IP pool: the encapsulation, which node pairs cross subnets, what each mode would do and cost';
  static override description = `Reads the cluster (or a snapshot file) and shows the underlay (node subnets from projectcalico.org/IPv4Address,
the cloud from spec.providerID), and for every IP pool: its mode, the object whose change lasts (the IPPool, or the
operator's Installation), and for each mode (ipip, ipip-crosssubnet, vxlan, vxlan-crosssubnet, none) how many node
pairs would route natively or through a tunnel, whether BGP is needed, the cost per the guide's measurements, and
whether encap plan would refuse it (and why).`;
  static override examples = [
    'kubectl calico-tune encap report',
    'kubectl calico-tune encap report -o wide',
    'kubectl calico-tune encap report --snapshot cluster.yaml -o json',
  ];
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'] as const),
    ...snapshotFlag,
  };

  async run(): Promise<EncapReportDoc> {
    const { flags } = await this.parse(EncapReport);
    this.setup(flags);
    const [{ encapReport }, { renderEncapReport }] = await Promise.all([
      import('../../encap/plan.js'),
      import('../../render/encap.js'),
    ]);
    const snapshot = await this.loadSnapshot(flags.snapshot);
    const report = encapReport(snapshot);
    return this.emit(flags.output, report, () => renderEncapReport(report, flags.output === 'wide'));
  }
}
