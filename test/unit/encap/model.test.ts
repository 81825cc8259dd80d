import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ENCAP_TARGETS,
  TARGET_MODES,
  cloudOf,
  evaluateMode,
  pathFor,
  poolTarget,
  underlayOf,
  type EncapTarget,
} from '../../../src/encap/model.js';
import type { ClusterSnapshot, KubeObject } from '../../../src/model/types.js';
import { snap, snapshotOf } from '../helpers.js';
import { edited } from '../plan/helpers.js';

const pool0 = (s: ClusterSnapshot) => s.ipPools[0]!;
const codes = (s: ClusterSnapshot, mode: EncapTarget): string[] =>
  evaluateMode(s, pool0(s), mode).problems.map((p) => `${p.level}:${p.rule}`);

function setProvider(objs: KubeObject[], cloud: string): void {
  for (const o of objs)
    if (o.kind === 'Node')
      (o.spec as Record<string, unknown>)['providerID'] = `${cloud}://x/${o.metadata.name}`;
}

describe('encap model', () => {
  it('modes round-trip: each target sets exactly one kind of encapsulation, and poolTarget reads it back', () => {
    for (const t of ENCAP_TARGETS) {
      const m = TARGET_MODES[t];
      assert.ok(m.ipipMode === 'Never' || m.vxlanMode === 'Never', t);
      assert.equal(poolTarget(m), t);
    }
    assert.equal(poolTarget({ ipipMode: 'Always', vxlanMode: 'CrossSubnet' }), 'invalid');
  });

  it('cloudOf reads the scheme of spec.providerID', () => {
    assert.equal(cloudOf('aws:///eu-west-1a/i-0abc'), 'aws');
    assert.equal(cloudOf('azure:///subscriptions/x/vm-1'), 'azure');
    assert.equal(cloudOf('gce://proj/zone/vm'), 'gce');
    assert.equal(cloudOf('kind://docker/kind/kind-worker'), 'kind');
    assert.equal(cloudOf(undefined), undefined);
    assert.equal(cloudOf('i-0abc'), undefined);
  });

  it('subnets from projectcalico.org/IPv4Address: per-zone subnets give cross-subnet pairs', () => {
    const s = snap({ nodes: 12, zones: 3, subnets: 'per-zone', install: 'manifest' });
    const u = underlayOf(s);
    assert.equal(u.subnets.length, 3);
    assert.equal(u.pairs.total, 66);
    assert.equal(u.pairs.sameSubnet, 3 * 6);
    assert.equal(u.pairs.crossSubnet, 48);
    assert.equal(u.pairs.unknown, 0);
    assert.deepEqual(u.clouds, ['aws']);
    const one = underlayOf(snap({ nodes: 6, subnets: 'single', install: 'manifest' }));
    assert.equal(one.subnets.length, 1);
    assert.equal(one.pairs.crossSubnet, 0);
  });

  it("falls back to the v3 Node's spec.bgp.ipv4Address; an address without a prefix is an unknown subnet", () => {
    const s = edited(snap({ nodes: 4, subnets: 'single', install: 'manifest' }), (objs) => {
      const nodes = objs.filter((o) => o.kind === 'Node');
      delete nodes[0]!.metadata.annotations!['projectcalico.org/IPv4Address'];
      delete nodes[1]!.metadata.annotations!['projectcalico.org/IPv4Address'];
      nodes[2]!.metadata.annotations!['projectcalico.org/IPv4Address'] = '10.9.9.9';
      objs.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'Node',
        metadata: { name: nodes[0]!.metadata.name },
        spec: { bgp: { ipv4Address: '10.99.0.5/24' } },
      });
    });
    const u = underlayOf(s);
    assert.deepEqual(
      u.subnets.map((g) => g.subnet),
      ['10.20.0.0/16', '10.99.0.0/24'],
    );
    assert.ok(u.subnets.some((g) => g.subnet === '10.99.0.0/24'));
    assert.equal(u.unknown.length, 2);
    assert.equal(u.pairs.unknown, 6 - 1); // 4 nodes, 2 known: 6 pairs, 1 between the known ones
  });

  it('pair counts add up and each mode tunnels the right pairs (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), {
          minLength: 2,
          maxLength: 12,
        }),
        (subs) => {
          const base = snap({ nodes: subs.length, subnets: 'single', install: 'manifest', controlPlane: 1 });
          const s = edited(base, (objs) => {
            objs
              .filter((o) => o.kind === 'Node')
              .forEach((n, i) => {
                const sub = subs[i];
                if (sub === undefined) delete n.metadata.annotations!['projectcalico.org/IPv4Address'];
                else n.metadata.annotations!['projectcalico.org/IPv4Address'] = `10.${sub}.0.${i + 1}/24`;
              });
          });
          const u = underlayOf(s);
          const n = subs.length;
          assert.equal(u.pairs.total, (n * (n - 1)) / 2);
          assert.equal(u.pairs.sameSubnet + u.pairs.crossSubnet + u.pairs.unknown, u.pairs.total);
          // brute force
          let same = 0;
          let cross = 0;
          for (let i = 0; i < n; i++)
            for (let j = i + 1; j < n; j++) {
              if (subs[i] === undefined || subs[j] === undefined) continue;
              if (subs[i] === subs[j]) same++;
              else cross++;
            }
          assert.equal(u.pairs.sameSubnet, same);
          assert.equal(u.pairs.crossSubnet, cross);
          for (const t of ENCAP_TARGETS) {
            const o = evaluateMode(s, pool0(s), t, u);
            assert.equal(o.pairs.native + o.pairs.ipip + o.pairs.vxlan + o.pairs.unknown, u.pairs.total);
            if (t === 'ipip-crosssubnet') assert.equal(o.pairs.ipip, cross);
            if (t === 'vxlan-crosssubnet') assert.equal(o.pairs.vxlan, cross);
            if (t === 'none') assert.equal(o.pairs.native, same + cross);
            // never native across subnets unless the mode is none
            if (t !== 'none') assert.ok(o.pairs.native <= same);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('pathFor: CrossSubnet tunnels only across subnets', () => {
    assert.equal(pathFor('ipip-crosssubnet', true), 'native');
    assert.equal(pathFor('ipip-crosssubnet', false), 'ipip');
    assert.equal(pathFor('vxlan-crosssubnet', false), 'vxlan');
    assert.equal(pathFor('ipip', true), 'ipip');
    assert.equal(pathFor('none', false), 'native');
  });

  describe('refusals and warnings', () => {
    const perZone = snap({
      nodes: 12,
      zones: 3,
      subnets: 'per-zone',
      install: 'manifest',
      encapsulation: 'IPIP',
    });

    it('none across subnets with no external peer is refused; with a ToR peer it is allowed', () => {
      assert.ok(codes(perZone, 'none').includes('refuse:NATIVE_ACROSS_SUBNETS'));
      const withTor = edited(perZone, (objs) => {
        objs.push({
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'BGPPeer',
          metadata: { name: 'tor' },
          spec: { peerIP: '10.20.0.1', asNumber: 65001 },
        });
      });
      assert.ok(!codes(withTor, 'none').some((c) => c.startsWith('refuse:')));
      // one subnet: none is fine
      const single = snap({ nodes: 6, subnets: 'single', install: 'manifest', encapsulation: 'IPIP' });
      assert.ok(!codes(single, 'none').some((c) => c.startsWith('refuse:')));
    });

    it('CrossSubnet with nodes of unknown subnet is refused; with known subnets it is not', () => {
      assert.ok(!codes(perZone, 'ipip-crosssubnet').some((c) => c.startsWith('refuse:')));
      const unknown = edited(perZone, (objs) => {
        delete objs.find((o) => o.kind === 'Node')!.metadata.annotations!['projectcalico.org/IPv4Address'];
      });
      assert.ok(codes(unknown, 'ipip-crosssubnet').includes('refuse:CROSSSUBNET_UNKNOWN_SUBNETS'));
      assert.ok(codes(unknown, 'vxlan-crosssubnet').includes('refuse:CROSSSUBNET_UNKNOWN_SUBNETS'));
      assert.ok(codes(unknown, 'none').includes('refuse:NATIVE_ACROSS_SUBNETS'));
      assert.ok(!codes(unknown, 'vxlan').some((c) => c.startsWith('refuse:')));
    });

    it('AWS: native pairs warn about the source/destination check; full tunnels do not', () => {
      assert.ok(codes(perZone, 'ipip-crosssubnet').includes('warn:AWS_SRC_DST_CHECK'));
      assert.ok(!codes(perZone, 'ipip').includes('warn:AWS_SRC_DST_CHECK'));
      const gce = edited(perZone, (objs) => setProvider(objs, 'gce'));
      assert.ok(!codes(gce, 'ipip-crosssubnet').includes('warn:AWS_SRC_DST_CHECK'));
    });

    it('AWS: pairs over IPIP warn that the security groups must allow IP protocol 4 (a review); VXLAN and GCE do not', () => {
      assert.ok(codes(perZone, 'ipip').includes('warn:AWS_IPIP_PROTOCOL'));
      assert.ok(codes(perZone, 'ipip-crosssubnet').includes('warn:AWS_IPIP_PROTOCOL'));
      assert.ok(!codes(perZone, 'vxlan').includes('warn:AWS_IPIP_PROTOCOL'));
      const gce = edited(perZone, (objs) => setProvider(objs, 'gce'));
      assert.ok(!codes(gce, 'ipip').includes('warn:AWS_IPIP_PROTOCOL'));
    });

    it('Azure: only VXLAN (Always)', () => {
      const az = edited(perZone, (objs) => setProvider(objs, 'azure'));
      for (const t of ENCAP_TARGETS)
        assert.equal(codes(az, t).includes('refuse:AZURE_VXLAN_ONLY'), t !== 'vxlan', t);
    });

    it('IPIP and none need BGP: refused with calico_backend vxlan', () => {
      const vx = snap(
        { nodes: 6, subnets: 'single', install: 'manifest', encapsulation: 'VXLAN' },
        (objs) => {
          const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'calico-config')!;
          (cm['data'] as Record<string, string>)['calico_backend'] = 'vxlan';
        },
      );
      assert.equal(vx.calico.networkingBackend, 'vxlan');
      for (const t of ['ipip', 'ipip-crosssubnet', 'none'] as const)
        assert.ok(codes(vx, t).includes('refuse:NEEDS_BGP'), t);
      assert.ok(!codes(vx, 'vxlan-crosssubnet').some((c) => c.startsWith('refuse:')));
    });

    it('IPIP → VXLAN on a manifest install with bird keeps BGP (warning), and lowers the MTU headroom', () => {
      const c = codes(perZone, 'vxlan');
      assert.ok(c.includes('warn:KEEPS_BGP'));
      assert.ok(c.includes('warn:MTU_UNTIL_RESTART'));
      const op = snap({
        nodes: 12,
        zones: 3,
        subnets: 'per-zone',
        install: 'operator',
        encapsulation: 'IPIP',
      });
      assert.ok(!codes(op, 'vxlan').includes('warn:KEEPS_BGP'));
    });

    it('IPIP on an IPv6 pool is refused', () => {
      const s = snapshotOf([
        ...perZone.objects.filter((o) => o.kind !== 'IPPool'),
        {
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'IPPool',
          metadata: { name: 'v6' },
          spec: { cidr: 'fd00::/48', ipipMode: 'Never', vxlanMode: 'Never' },
        },
      ]);
      assert.ok(codes(s, 'ipip').includes('refuse:IPIP_IPV6'));
    });
  });
});
