import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/model/types.js';
import {
  cidrWithin,
  installFindings,
  kubeadmPodSubnets,
  NETWORKMANAGER_CONF,
  scaleNumbers,
} from '../../../src/status/install.js';
import { buildStatus } from '../../../src/status/report.js';
import { snap } from '../helpers.js';

function kubeadm(podSubnet: string | undefined): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
    data: {
      ClusterConfiguration: `apiServer: {}\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  dnsDomain: cluster.local\n${podSubnet === undefined ? '' : `  podSubnet: ${podSubnet}\n`}  serviceSubnet: 10.96.0.0/12\n`,
    },
  } as KubeObject;
}
const codes = (objs: (o: KubeObject[]) => void, spec = {}): string[] =>
  installFindings(snap({ nodes: 6, install: 'operator', ...spec }, objs)).map((f) => f.code);

describe('status/install: the guide install checks', () => {
  it('cidrWithin', () => {
    assert.equal(cidrWithin('192.168.0.0/16', '192.168.0.0/16'), true);
    assert.equal(cidrWithin('192.168.4.0/24', '192.168.0.0/16'), true);
    assert.equal(cidrWithin('192.168.0.0/16', '192.168.0.0/24'), false);
    assert.equal(cidrWithin('172.20.64.0/18', '192.168.0.0/16'), false);
    assert.equal(cidrWithin('10.0.0.0/8', '0.0.0.0/0'), true);
  });

  it('reads podSubnet from kubeadm-config (also dual stack), undefined without the ConfigMap', () => {
    assert.deepEqual(kubeadmPodSubnets(snap({ nodes: 3 }, (o) => void o.push(kubeadm('192.168.0.0/16')))), [
      '192.168.0.0/16',
    ]);
    assert.deepEqual(
      kubeadmPodSubnets(snap({ nodes: 3 }, (o) => void o.push(kubeadm('"10.244.0.0/16,fd00:10:244::/56"')))),
      ['10.244.0.0/16', 'fd00:10:244::/56'],
    );
    assert.equal(kubeadmPodSubnets(snap({ nodes: 3 })), undefined);
  });

  it('POD_CIDR_OUTSIDE_PODSUBNET: a pool outside podSubnet (the guide: 172.20.64.0/18), with the exact fix', () => {
    const s = snap({ nodes: 6, install: 'operator' }, (o) => void o.push(kubeadm('172.20.64.0/18')));
    const f = installFindings(s).find((x) => x.code === 'POD_CIDR_OUTSIDE_PODSUBNET');
    assert.ok(f);
    assert.match(f.message, /default-ipv4-ippool \(192\.168\.0\.0\/16\)/);
    assert.match(f.fix, /podSubnet: 192\.168\.0\.0\/16/);
    // negative: the pool inside (equal or wider podSubnet), or no kubeadm ConfigMap
    assert.ok(!codes((o) => void o.push(kubeadm('192.168.0.0/16'))).includes('POD_CIDR_OUTSIDE_PODSUBNET'));
    assert.ok(!codes((o) => void o.push(kubeadm('192.0.0.0/8'))).includes('POD_CIDR_OUTSIDE_PODSUBNET'));
    assert.deepEqual(
      codes(() => undefined),
      [],
    );
  });

  it('POD_CIDR_PODSUBNET_UNSET when kubeadm has no podSubnet', () => {
    assert.deepEqual(
      codes((o) => void o.push(kubeadm(undefined))),
      ['POD_CIDR_PODSUBNET_UNSET'],
    );
  });

  it('POD_CIDR_INSTALLATION_MISMATCH: the Installation names a CIDR no IPPool has', () => {
    const c = codes((objs) => {
      const inst = objs.find((o) => o.kind === 'Installation')!;
      const pools = (inst.spec as { calicoNetwork: { ipPools: { cidr: string }[] } }).calicoNetwork.ipPools;
      pools[0]!.cidr = '172.20.64.0/18';
    });
    assert.deepEqual(c, ['POD_CIDR_INSTALLATION_MISMATCH']);
    assert.ok(!codes(() => undefined).includes('POD_CIDR_INSTALLATION_MISMATCH'));
    // what the operator does about it depends on its IP pool controller (Calico 3.28+; the domain review)
    const message = (calico: 'v3.27.3' | 'v3.31.3'): string =>
      installFindings(
        snap({ nodes: 6, install: 'operator', calico }, (objs) => {
          const inst = objs.find((o) => o.kind === 'Installation')!;
          (inst.spec as { calicoNetwork: { ipPools: { cidr: string }[] } }).calicoNetwork.ipPools[0]!.cidr =
            '172.20.64.0/18';
        }),
      ).find((f) => f.code === 'POD_CIDR_INSTALLATION_MISMATCH')!.message;
    assert.match(message('v3.31.3'), /keeps recreating a pool or reports itself degraded/);
    assert.doesNotMatch(message('v3.27.3'), /keeps recreating/);
    assert.match(message('v3.27.3'), /this operator does not act on it/);
    // manifest installs have no Installation to compare
    assert.deepEqual(
      codes(() => undefined, { install: 'manifest' }),
      [],
    );
  });

  it('NODE_NETWORKMANAGER for RHEL-family / SUSE images, with the guide calico.conf; not for Ubuntu', () => {
    const s = snap({ nodes: 5, install: 'manifest' }, (objs) => {
      const nodes = objs.filter((o) => o.kind === 'Node');
      for (const [i, img] of ['Rocky Linux 9.3 (Blue Onyx)', 'SUSE Linux Enterprise Server 15 SP5'].entries())
        ((nodes[i]!.status as Record<string, unknown>)['nodeInfo'] as Record<string, unknown>)['osImage'] =
          img;
    });
    const f = installFindings(s).find((x) => x.code === 'NODE_NETWORKMANAGER');
    assert.ok(f);
    assert.equal(f.objects.length, 2);
    assert.equal(f.severity, 'info');
    assert.ok(f.fix.includes('interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico'));
    assert.ok(NETWORKMANAGER_CONF.includes('interface-name:wg-v6.cali'));
    assert.ok(!codes(() => undefined, { install: 'manifest' }).includes('NODE_NETWORKMANAGER'));
  });

  it('scale numbers: nodes, objects per kind, Typha fan-out; in the status report', () => {
    const s = snap({ nodes: 40, install: 'operator', typhaReplicas: 3 });
    const n = scaleNumbers(s);
    assert.equal(n.nodes, 40);
    assert.equal(n.objectsByKind['Node'], 40);
    assert.equal(n.typhaReplicas, 3);
    assert.equal(n.nodesPerTypha, Math.ceil(s.nodes.filter((x) => x.os !== 'windows').length / 3));
    assert.match(scaleNumbers(snap({ nodes: 400 })).note, /past a few hundred nodes/);
    assert.deepEqual(buildStatus(s).scale, n);
  });
});

describe('status: the AS line when nodes have their own AS numbers', () => {
  it('an AS per zone is shown with its node counts, not the global AS alone (a review: a ToR configured from it gets the wrong AS)', async () => {
    const { renderStatus } = await import('../../../src/render/status.js');
    const { setColor } = await import('../../../src/render/color.js');
    setColor(false);
    const plain = buildStatus(snap({ nodes: 9, zones: 3 }));
    assert.deepEqual(plain.bgp.nodeAsNumbers, []);
    assert.match(renderStatus(plain, false), /· AS 64512 ·/);
    const zonal = buildStatus(snap({ nodes: 9, zones: 3, asPerZone: true }));
    assert.deepEqual(zonal.bgp.nodeAsNumbers, [
      { asNumber: 64600, nodes: 3 },
      { asNumber: 64601, nodes: 3 },
      { asNumber: 64602, nodes: 3 },
    ]);
    assert.match(
      renderStatus(zonal, false),
      /AS 64512 \(default, used by no node\); per node: 64600 ×3, 64601 ×3, 64602 ×3/,
    );
  });
});
