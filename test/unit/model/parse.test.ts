import assert from 'node:assert/strict';
import fc from 'fast-check';
import { effectiveBgp, parseCalicoVersion, parseNode, detectApiMode } from '../../../src/model/parse.js';
import {
  clusterIdProblem,
  ipv4Network,
  ipv4ToInt,
  isStrictIPv4,
  parseASNumber,
  parseIPv4Cidr,
} from '../../../src/model/net.js';
import { parseQuantity } from '../../../src/model/quantity.js';
import { find, nodes, objects, snapshotOf } from '../helpers.js';

describe('model/parse', () => {
  for (const calico of ['v3.27.3', 'v3.31.3'] as const) {
    for (const install of ['operator', 'manifest'] as const) {
      it(`parses a ${calico} ${install} cluster`, () => {
        const items = objects({ nodes: 12, zones: 3, rrs: 2, calico, install, typhaMetrics: true });
        const s = snapshotOf(items);
        assert.equal(s.nodes.length, 12);
        assert.equal(s.calico.version?.raw, calico);
        assert.equal(s.calico.installMode, install);
        assert.equal(s.calico.apiMode, 'crd.projectcalico.org/v1');
        assert.equal(s.calico.networkingBackend, 'bird');
        assert.equal(s.calico.nodeNamespace, install === 'operator' ? 'calico-system' : 'kube-system');
        const rrs = s.nodes.filter((n) => n.bgp.rrClusterId);
        assert.equal(rrs.length, 2);
        assert.equal(rrs[0]!.bgp.rrClusterId, '244.0.0.1');
        assert.equal(rrs[0]!.labels['route-reflector'], 'true');
        const bgp = effectiveBgp(s);
        assert.equal(bgp.meshEnabled, false);
        assert.equal(bgp.asNumber, 64512);
        assert.equal(s.bgpPeers[0]?.peerSelector, "route-reflector == 'true'");
        assert.equal(s.bgpPeers[0]?.nodeSelector, 'all()');
        assert.equal(s.ipPools[0]?.cidr, '192.168.0.0/16');
        assert.equal(s.typha.deployment?.namespace, install === 'operator' ? 'calico-system' : 'kube-system');
        assert.equal(s.typha.deployment?.replicas, install === 'operator' ? 3 : 3);
        assert.equal(s.typha.pods.length, 3);
        assert.deepEqual(new Set(s.typha.pods.map((p) => p.zone)).size, 3);
        assert.equal(s.typha.pdb?.maxUnavailable, 1);
        if (install === 'operator') {
          assert.equal(s.installation?.typhaMetricsPort, 9093);
          assert.equal(s.typha.deployment?.antiAffinity, 'preferred');
          assert.deepEqual(s.typha.deployment?.antiAffinityTopologyKeys, ['topology.kubernetes.io/zone']);
        } else {
          assert.equal(s.typha.deployment?.metricsEnabled, true);
          assert.equal(s.typha.deployment?.metricsPort, 9093);
        }
      });
    }
  }

  it('reads node facts: zone, os, capacity, readiness, taints, calico labels', () => {
    const items = objects({ nodes: 5, zones: 1, notReady: 1, unschedulable: 1 });
    const n0 = nodes(items)[0]!;
    n0.metadata.annotations!['projectcalico.org/labels'] = JSON.stringify({
      'calico-only': 'x',
      'kubernetes.io/os': 'override-loses',
    });
    n0.metadata.annotations!['projectcalico.org/ASNumber'] = '1.10';
    const n = parseNode(n0);
    assert.equal(n.zone, 'eu-west-1a');
    assert.equal(n.os, 'linux');
    assert.equal(n.calicoLabels['calico-only'], 'x');
    assert.equal(
      n.calicoLabels['kubernetes.io/os'],
      'linux',
      'kubernetes labels win over calico-only labels',
    );
    assert.equal(n.bgp.asNumber, 65546);
    assert.ok(n.cpuMillis > 0 && n.memoryBytes > 0);
    assert.equal(n.controlPlane, true);
    const s = snapshotOf(items);
    assert.equal(s.nodes.filter((x) => !x.ready).length, 1);
    assert.equal(s.nodes.filter((x) => x.unschedulable).length, 1);
    assert.ok(s.nodes.find((x) => !x.ready)!.taints.some((t) => t.key === 'node.kubernetes.io/unreachable'));
  });

  it('drops invalid cluster IDs as Calico does, keeping the raw value', () => {
    // a masked network is kept, as ValidateIPv4Network keeps it (RR_CLUSTER_ID_NETWORK); an unmasked one is not
    for (const bad of [
      '288.0.4.5',
      'fd10::10',
      '10.0.0.1/24',
      '10.0.0.0/33',
      '010.0.0.1',
      ' 1.2.3.4',
      '1.2.3',
      'abc',
    ]) {
      const items = objects({ nodes: 2, zones: 1 });
      const target = nodes(items)[1]!;
      target.metadata.annotations!['projectcalico.org/RouteReflectorClusterID'] = bad;
      const n = snapshotOf(items).nodes.find((x) => x.name === target.metadata.name)!;
      assert.equal(n.bgp.rrClusterId, undefined, bad);
      assert.equal(n.bgp.rrClusterIdRaw, bad);
      assert.ok(clusterIdProblem(bad), bad);
    }
    for (const net of ['10.0.0.0/24', '244.0.0.1/32', '0.0.0.0/0']) {
      const items = objects({ nodes: 2, zones: 1 });
      const target = nodes(items)[1]!;
      target.metadata.annotations!['projectcalico.org/RouteReflectorClusterID'] = net;
      const n = snapshotOf(items).nodes.find((x) => x.name === target.metadata.name)!;
      assert.equal(n.bgp.rrClusterId, net, net);
    }
    assert.equal(isStrictIPv4('244.0.0.1'), true);
    assert.equal(isStrictIPv4('0.0.0.0'), true);
    for (const bad of [
      '01.0.0.1',
      '1.2.3',
      '1.2.3.4.',
      '.1.2.3',
      '1..2.3',
      '256.0.0.1',
      '1.2.3.4 ',
      '1.2.3.1000',
      '１.2.3.4',
      '',
    ])
      assert.equal(isStrictIPv4(bad), false, bad);
    assert.equal(clusterIdProblem('288.0.4.5'), 'has an octet above 255');
    assert.equal(clusterIdProblem('fd10::10'), 'is IPv6; Calico only accepts IPv4 cluster IDs');
    assert.equal(clusterIdProblem('10.0.0.0/24'), 'is a CIDR, not an address');
  });

  it('maps legacy v1 IPPool fields and v3 objects', () => {
    const items = objects({ nodes: 2, zones: 1 });
    const pool = find(items, 'IPPool');
    pool.spec = {
      cidr: '10.244.0.0/16',
      ipip: { enabled: true, mode: 'cross-subnet' },
      'nat-outgoing': true,
    };
    const s = snapshotOf(items);
    assert.equal(s.ipPools[0]!.ipipMode, 'CrossSubnet');
    assert.equal(s.ipPools[0]!.natOutgoing, true);
    assert.equal(s.ipPools[0]!.nodeSelector, 'all()');

    const v3 = objects({ nodes: 2, zones: 1, rrs: 1 }).map((o) =>
      o.apiVersion === 'crd.projectcalico.org/v1' ? { ...o, apiVersion: 'projectcalico.org/v3' } : o,
    );
    const s3 = snapshotOf(v3);
    assert.equal(s3.calico.apiMode, 'projectcalico.org/v3');
    assert.equal(s3.bgpPeers.length, 1);
    assert.equal(s3.bgpConfigurations[0]!.apiVersion, 'projectcalico.org/v3');
  });

  it('detects the API mode from discovery as Calico does', () => {
    assert.equal(detectApiMode(['crd.projectcalico.org/v1'], []), 'crd.projectcalico.org/v1');
    assert.equal(
      detectApiMode(['crd.projectcalico.org/v1', 'projectcalico.org/v3'], []),
      'projectcalico.org/v3',
    );
    assert.equal(detectApiMode(['projectcalico.org/v3'], []), 'projectcalico.org/v3-crd');
    assert.equal(detectApiMode([], []), 'none');
  });

  it('defaults the mesh to on and AS to 64512 without a default BGPConfiguration', () => {
    const s = snapshotOf(objects({ nodes: 3, zones: 1, defaultBgpConfig: false }));
    assert.deepEqual(
      { ...effectiveBgp(s), defaultConfig: undefined },
      { defaultConfig: undefined, meshEnabled: true, asNumber: 64512 },
    );
  });

  it('reads the Calico version from ClusterInformation, Installation or image tags', () => {
    assert.deepEqual(parseCalicoVersion('quay.io/calico/node:v3.27.3', 'image'), {
      raw: 'v3.27.3',
      major: 3,
      minor: 27,
      patch: 3,
      source: 'image',
    });
    const items = objects({ nodes: 2, zones: 1, calico: 'v3.27.3', install: 'manifest' }).filter(
      (o) => o.kind !== 'ClusterInformation',
    );
    assert.equal(snapshotOf(items).calico.version?.raw, 'v3.27.3');
    assert.match(snapshotOf(items).calico.version?.source ?? '', /image/);
  });

  it('finds a Typha autoscaler and VXLAN-only backends', () => {
    const s = snapshotOf(objects({ nodes: 6, zones: 1, install: 'manifest', typhaAutoscaler: true }));
    assert.equal(s.typha.autoscaler?.name, 'calico-typha-horizontal-autoscaler');
    const items = objects({ nodes: 3, zones: 1, install: 'operator', encapsulation: 'VXLAN' });
    const inst = find(items, 'Installation');
    (inst.spec!['calicoNetwork'] as Record<string, unknown>)['bgp'] = 'Disabled';
    const ds = find(items, 'DaemonSet');
    const containers = (ds.spec!['template'] as Record<string, Record<string, unknown>>)['spec']![
      'containers'
    ] as { env: { name: string; value?: string }[] }[];
    containers[0]!.env = containers[0]!.env.map((e) =>
      e.name === 'CALICO_NETWORKING_BACKEND' ? { ...e, value: 'vxlan' } : e,
    );
    assert.equal(snapshotOf(items).calico.networkingBackend, 'vxlan');
  });
});

describe('model/net and quantity', () => {
  it('parses AS numbers in plain and asdot form', () => {
    assert.equal(parseASNumber('64512'), 64512);
    assert.equal(parseASNumber(64512), 64512);
    assert.equal(parseASNumber('1.10'), 65546);
    assert.equal(parseASNumber('x'), undefined);
    assert.equal(parseASNumber(-1), undefined);
  });
  it('parses IPv4 CIDRs', () => {
    assert.deepEqual(parseIPv4Cidr('10.0.0.5/24'), { addr: 167772165, prefix: 24, ip: '10.0.0.5' });
    assert.equal(parseIPv4Cidr('10.0.0.5/33'), undefined);
    assert.equal(parseIPv4Cidr('10.0.0/24'), undefined);
  });
  it('parses quantities', () => {
    assert.equal(parseQuantity('32Gi'), 32 * 2 ** 30);
    assert.equal(parseQuantity('7910m'), 7.91);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity('8'), 8);
    assert.throws(() => parseQuantity('8 cores'));
  });

  it('isStrictIPv4 answers as a regular expression per dotted part (property)', () => {
    const octet = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
    const reference = (s: string): boolean => {
      const parts = s.split('.');
      return parts.length === 4 && parts.every((p) => octet.test(p));
    };
    const part = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.stringMatching(/^[0-9]{0,4}$/),
      fc.constantFrom('', ' 1', '1 ', '0x1', '+1', '-1', '٣', '1e2'),
    );
    const dotted = fc.array(part, { minLength: 1, maxLength: 6 }).map((ps) => ps.join('.'));
    fc.assert(
      fc.property(fc.oneof(dotted, fc.string({ maxLength: 20 })), (s) => {
        assert.equal(isStrictIPv4(s), reference(s), JSON.stringify(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('ipv4ToInt and ipv4Network: the address as a number and its network, for every address and prefix (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 32 }),
        (o, prefix) => {
          const n = ((o[0]! * 256 + o[1]!) * 256 + o[2]!) * 256 + o[3]!;
          assert.equal(ipv4ToInt(o.join('.')), n);
          const kept = o.map((x, i) => x & (0xff << Math.max(0, Math.min(8, 8 * (i + 1) - prefix))) & 0xff);
          assert.equal(ipv4Network(n, prefix), `${kept.join('.')}/${prefix}`);
        },
      ),
      { numRuns: 3000 },
    );
    assert.equal(ipv4ToInt('255.255.255.255'), 4294967295);
    assert.equal(ipv4ToInt('10.0.0.01'), undefined);
    assert.equal(ipv4Network(ipv4ToInt('10.1.2.3')!, 0), '0.0.0.0/0');
    assert.equal(ipv4Network(ipv4ToInt('10.1.2.3')!, 23), '10.1.2.0/23');
  });
});
