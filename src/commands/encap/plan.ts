import { encapFlags, encapPlanner } from '../../encap-flags.js';
import { planOnlyFlags, PlanCommand, saveFlags, type PlanResult } from '../../plan-command.js';

export default class EncapPlan extends PlanCommand {
  static override summary = "Plan switching an IP pool's encapsulation (IPIP, VXLAN, CrossSubnet, none)";
  static override description = `Builds the plan that switches one pool to --mode, in the object whose change lasts: the IPPool, or on operators
that own their pools (Calico 3.28+) the Installation's calicoNetwork.ipPools[].encapsulation (docs/calico-facts.md).
Refused (exit 2, nothing changed) when the mode would cut traffic or cannot work: none across subnets with no
external BGP peer, CrossSubnet with nodes of unknown subnet, anything but VXLAN in Azure, IPIP or none without
BGP, IPIP on IPv6. Warns about AWS source/destination checks, BGP left running, and pod MTUs.
The plan says which node pairs route natively or through a tunnel before and after. Nothing is changed: save it
with --save FILE and apply it with 'kubectl calico-tune encap apply -f FILE'.`;
  static override examples = [
    'kubectl calico-tune encap plan --pool default-ipv4-ippool --mode ipip-crosssubnet',
    'kubectl calico-tune encap plan --pool default-ipv4-ippool --mode vxlan --save plan.yaml',
    'kubectl calico-tune encap plan --pool default-ipv4-ippool --mode none --snapshot cluster.yaml -o yaml',
  ];
  // only plans: the apply-time flags (--yes, --on-timeout, --resume, --rollback) belong to encap apply
  static override flags = {
    ...planOnlyFlags,
    ...encapFlags,
    ...saveFlags('encap plan', 'encap apply'),
  };

  async run(): Promise<PlanResult> {
    const { flags } = await this.parse(EncapPlan);
    this.setup(flags);
    return this.showPlan(flags, flags.save ?? flags.filename, () => encapPlanner(flags, 'plan'));
  }
}
