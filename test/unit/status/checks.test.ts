import assert from 'node:assert/strict';
import { configFindings } from '../../../src/status/checks.js';
import type { Finding } from '../../../src/model/finding.js';
import { analyseTypha } from '../../../src/typha/analysis.js';
import { buildMonitoringReport } from '../../../src/monitoring/report.js';
import type { ClusterSnapshot, KubeObject } from '../../../src/model/types.js';
import { addIPv6Underlay, type ClusterSpec } from '../../fixtures/generate.js';
import { find, nodes, setCalicoNodeEnv, snap } from '../helpers.js';

function codes(s: ClusterSnapshot): string[] {
  return [...configFindings(s), ...analyseTypha(s).findings].map((f) => f.code);
}
function finding(s: ClusterSnapshot, code: string): Finding {
  const f = [...configFindings(s), ...analyseTypha(s).findings].find((x) => x.code === code);
  assert.ok(f, `expected finding ${code}, got ${codes(s).join(', ')}`);
  return f;
}

/** A healthy baseline: 150 nodes, 3 RRs in 3 zones, mesh off, metrics on, IPIP CrossSubnet (BGP carries the routes). */
const healthy: ClusterSpec = {
  nodes: 150,
  zones: 3,
  rrs: 3,
  felixMetrics: true,
  typhaMetrics: true,
  metricsServices: true,
  encapsulation: 'IPIPCrossSubnet',
};

describe('status/checks', () => {
  it('finds nothing on a cluster that follows best practice', () => {
    assert.deepEqual(codes(snap(healthy)), []);
    assert.deepEqual(
      codes(
        snap({
          nodes: 40,
          zones: 3,
          felixMetrics: true,
          typhaMetrics: true,
          metricsServices: true,
          encapsulation: 'IPIPCrossSubnet',
        }),
      ),
      [],
    );
  });

  describe('FULL_MESH_LARGE_CLUSTER', () => {
    it('fires above 100 nodes with the mesh on', () => {
      const f = finding(snap({ ...healthy, rrs: 0, nodes: 101 }), 'FULL_MESH_LARGE_CLUSTER');
      assert.equal(f.severity, 'warning');
      assert.match(f.message, /101 nodes/);
      assert.match(f.message, /5,050 sessions/);
      assert.match(f.fix, /migrate plan --to route-reflectors/);
    });
    it('stays quiet at 100 nodes, or with the mesh off', () => {
      assert.ok(!codes(snap({ ...healthy, rrs: 0, nodes: 100 })).includes('FULL_MESH_LARGE_CLUSTER'));
      assert.ok(!codes(snap(healthy)).includes('FULL_MESH_LARGE_CLUSTER'));
    });
    it('does not apply when BGP is not the backend', () => {
      const s = snap({ ...healthy, rrs: 0, nodes: 200 });
      s.calico.networkingBackend = 'vxlan';
      assert.ok(!codes(s).includes('FULL_MESH_LARGE_CLUSTER'));
    });
  });

  describe('RR_CLUSTER_ID_INVALID', () => {
    for (const bad of ['288.0.4.5', 'fd10::10', '10.0.0.1/24']) {
      it(`fires for ${bad}`, () => {
        const s = snap(healthy, (items) => {
          nodes(items).find((n) => n.metadata.labels?.['route-reflector'])!.metadata.annotations![
            'projectcalico.org/RouteReflectorClusterID'
          ] = bad;
        });
        const f = finding(s, 'RR_CLUSTER_ID_INVALID');
        assert.equal(f.severity, 'critical');
        assert.ok(f.message.includes(bad));
      });
    }
    it('stays quiet for valid IDs', () => assert.ok(!codes(snap(healthy)).includes('RR_CLUSTER_ID_INVALID')));
  });

  describe('RR_CLUSTER_ID_NETWORK', () => {
    // a review against libcalico-go: the annotation is checked with ValidateIPv4Network, which accepts a masked
    // network; confd then renders `rr cluster id 10.0.0.0/24;`, which BIRD refuses (`bird -p`: syntax error)
    for (const net of ['10.0.0.0/24', '244.0.0.1/32']) {
      it(`${net}: Calico keeps it, so the node is a reflector to every other node, and its own BIRD refuses its config`, () => {
        let name = '';
        const s = snap(healthy, (items) => {
          const n = nodes(items).find((x) => x.metadata.labels?.['route-reflector'])!;
          name = n.metadata.name;
          n.metadata.annotations!['projectcalico.org/RouteReflectorClusterID'] = net;
        });
        const f = finding(s, 'RR_CLUSTER_ID_NETWORK');
        assert.equal(f.severity, 'critical');
        assert.ok(f.message.includes(net) && f.message.includes(name), f.message);
        assert.match(f.message, /BIRD/);
        assert.ok(!codes(s).includes('RR_CLUSTER_ID_INVALID'));
        const rr = s.nodes.find((n) => n.name === name)!;
        assert.equal(
          rr.bgp.rrClusterId,
          net,
          'Calico keeps the value: other nodes leave it out of their mesh',
        );
      });
    }
  });

  describe('RR_LABEL_WITHOUT_CLUSTER_ID', () => {
    it('fires for a node labelled route-reflector=true without a cluster ID', () => {
      let name = '';
      const s = snap(healthy, (items) => {
        const n = nodes(items)[10]!;
        n.metadata.labels!['route-reflector'] = 'true';
        name = n.metadata.name;
      });
      const f = finding(s, 'RR_LABEL_WITHOUT_CLUSTER_ID');
      assert.equal(f.objects[0]!.name, name);
    });
    it('stays quiet for labelled nodes that have an ID, and for route-reflector=false', () => {
      assert.ok(!codes(snap(healthy)).includes('RR_LABEL_WITHOUT_CLUSTER_ID'));
      const s = snap(healthy, (items) => {
        nodes(items)[10]!.metadata.labels!['route-reflector'] = 'false';
      });
      assert.ok(!codes(s).includes('RR_LABEL_WITHOUT_CLUSTER_ID'));
    });
  });

  describe('RR_NOT_PEERED', () => {
    it('fires for an RR no BGPPeer selects', () => {
      const s = snap({ ...healthy, rrPeering: false, mesh: true });
      const fs = [...configFindings(s)].filter((f) => f.code === 'RR_NOT_PEERED');
      assert.equal(fs.length, 3);
      assert.equal(fs[0]!.severity, 'critical');
    });
    it('stays quiet when a peerSelector matches the RR', () =>
      assert.ok(!codes(snap(healthy)).includes('RR_NOT_PEERED')));
  });

  describe('RR_SINGLE and RR_SINGLE_ZONE', () => {
    it('fires RR_SINGLE with one reflector', () =>
      assert.equal(finding(snap({ ...healthy, rrs: 1 }), 'RR_SINGLE').severity, 'warning'));
    it('fires RR_SINGLE_ZONE when all reflectors share a zone but nodes do not', () => {
      const s = snap(healthy, (items) => {
        for (const n of nodes(items))
          if (n.metadata.labels?.['route-reflector'])
            n.metadata.labels['topology.kubernetes.io/zone'] = 'eu-west-1a';
      });
      assert.equal(finding(s, 'RR_SINGLE_ZONE').objects.length, 3);
    });
    it('stays quiet with 3 RRs in 3 zones, or a single-zone cluster', () => {
      assert.ok(!codes(snap(healthy)).some((c) => c.startsWith('RR_SINGLE')));
      assert.ok(!codes(snap({ ...healthy, zones: 1 })).some((c) => c.startsWith('RR_SINGLE')));
    });
  });

  describe('MESH_OFF_NO_PEERS', () => {
    it('fires with the mesh off and no BGPPeer', () => {
      const s = snap({ ...healthy, rrs: 0, mesh: false });
      assert.equal(finding(s, 'MESH_OFF_NO_PEERS').severity, 'critical');
    });
    it('stays quiet with a peer, or the mesh on', () => {
      assert.ok(!codes(snap(healthy)).includes('MESH_OFF_NO_PEERS'));
      assert.ok(!codes(snap({ ...healthy, rrs: 0 })).includes('MESH_OFF_NO_PEERS'));
    });
  });

  describe('BGP_PEER_EMPTY_SELECTOR', () => {
    it('fires for an explicitly empty nodeSelector (the unquoted !has(...) YAML trap)', () => {
      const s = snap(healthy, (items) => {
        find(items, 'BGPPeer').spec!['nodeSelector'] = '';
      });
      const f = finding(s, 'BGP_PEER_EMPTY_SELECTOR');
      assert.match(f.message, /applies to every node/);
    });
    it('stays quiet when the selector is set, or absent', () => {
      assert.ok(!codes(snap(healthy)).includes('BGP_PEER_EMPTY_SELECTOR'));
      const s = snap(healthy, (items) => {
        delete find(items, 'BGPPeer').spec!['nodeSelector'];
      });
      assert.ok(!codes(s).includes('BGP_PEER_EMPTY_SELECTOR'));
    });
  });

  describe('MESH_FIELDS_WITH_MESH_OFF', () => {
    it('fires when nodeMeshPassword or nodeMeshMaxRestartTime is set with the mesh off', () => {
      const s = snap(healthy, (items) => {
        find(items, 'BGPConfiguration', 'default').spec!['nodeMeshMaxRestartTime'] = '120s';
      });
      const f = finding(s, 'MESH_FIELDS_WITH_MESH_OFF');
      assert.match(f.fix, /"nodeMeshMaxRestartTime":null/);
    });
    it('stays quiet when the mesh is on', () => {
      const s = snap({ ...healthy, rrs: 0 }, (items) => {
        find(items, 'BGPConfiguration', 'default').spec!['nodeMeshPassword'] = {
          secretKeyRef: { name: 's', key: 'k' },
        };
      });
      assert.ok(!codes(s).includes('MESH_FIELDS_WITH_MESH_OFF'));
    });
  });

  describe('ENCAP_ALWAYS_SAME_SUBNET', () => {
    it('fires for IPIP Always when all nodes share a subnet', () => {
      const f = finding(
        snap({ ...healthy, encapsulation: 'IPIP', subnets: 'single' }),
        'ENCAP_ALWAYS_SAME_SUBNET',
      );
      assert.match(f.fix, /encap plan --pool default-ipv4-ippool --mode ipip-crosssubnet/);
    });
    it('fires for VXLAN Always too', () => {
      assert.match(
        finding(snap({ ...healthy, encapsulation: 'VXLAN', subnets: 'single' }), 'ENCAP_ALWAYS_SAME_SUBNET')
          .fix,
        /--mode vxlan-crosssubnet/,
      );
    });
    it('stays quiet across subnets, or with CrossSubnet', () => {
      assert.ok(
        !codes(snap({ ...healthy, encapsulation: 'IPIP', subnets: 'per-zone' })).includes(
          'ENCAP_ALWAYS_SAME_SUBNET',
        ),
      );
      assert.ok(
        !codes(snap({ ...healthy, encapsulation: 'IPIPCrossSubnet', subnets: 'single' })).includes(
          'ENCAP_ALWAYS_SAME_SUBNET',
        ),
      );
    });
    it('stays quiet when one node has an address without its subnet (no prefix, or /32)', () => {
      for (const addr of ['10.0.0.5', '10.0.0.5/32']) {
        const s = snap({ ...healthy, encapsulation: 'IPIP', subnets: 'single' });
        const last = s.nodes.at(-1)!;
        const nodes = [...s.nodes.slice(0, -1), { ...last, bgp: { ...last.bgp, ipv4Address: addr } }];
        assert.ok(!codes({ ...s, nodes }).includes('ENCAP_ALWAYS_SAME_SUBNET'), addr);
      }
    });
  });

  describe('POOL_IPV6_NO_NODE_ADDRESS (a review: an IPv6 pool on nodes without IPv6 raised nothing)', () => {
    const v6pool = (items: KubeObject[]): void => {
      items.push({
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'IPPool',
        metadata: { name: 'default-ipv6-ippool' },
        spec: { cidr: 'fd00:10:244::/48', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false },
      });
    };
    it('warns when no node has an IPv6 address, and not once they do', () => {
      const f = finding(snap(healthy, v6pool), 'POOL_IPV6_NO_NODE_ADDRESS');
      assert.equal(f.severity, 'warning');
      assert.match(f.message, /default-ipv6-ippool \(fd00:10:244::\/48\)/);
      const withV6 = snap(healthy, (items) => {
        v6pool(items);
        items
          .filter((o) => o.kind === 'Node')
          .forEach((o, i) => {
            o.metadata.annotations = {
              ...o.metadata.annotations,
              'projectcalico.org/IPv6Address': `fd00::${i + 1}/64`,
            };
          });
      });
      assert.ok(!codes(withV6).includes('POOL_IPV6_NO_NODE_ADDRESS'));
    });
  });

  describe('ENCAP_OPERATOR_PENDING (a review: after encap apply, status showed the old mode with no hint)', () => {
    it('the Installation asks for IPIP, the pool still uses VXLANCrossSubnet: a warning naming both; quiet when they agree', () => {
      const spec = { ...healthy, install: 'operator' as const, encapsulation: 'VXLANCrossSubnet' as const };
      assert.ok(!codes(snap(spec)).includes('ENCAP_OPERATOR_PENDING'));
      const s = snap(spec, (items) => {
        const inst = items.find((o) => o.kind === 'Installation')!;
        const pools = (inst.spec as { calicoNetwork: { ipPools: Record<string, unknown>[] } }).calicoNetwork
          .ipPools;
        pools[0]!['encapsulation'] = 'IPIP';
      });
      const f = finding(s, 'ENCAP_OPERATOR_PENDING');
      assert.equal(f.severity, 'warning');
      assert.match(f.message, /asks for ipip for .*still uses vxlan-crosssubnet/);
    });
    it('a pending IPIP keeps BGP in use: no ENCAP_BGP_UNUSED telling to turn BGP off (a review), and BGP advice applies', () => {
      const spec = { ...healthy, install: 'operator' as const, encapsulation: 'VXLAN' as const, rrs: 1 };
      assert.ok(codes(snap(spec)).includes('ENCAP_BGP_UNUSED'), 'all VXLAN, nothing pending');
      const s = snap(spec, (items) => {
        const inst = items.find((o) => o.kind === 'Installation')!;
        (inst.spec as { calicoNetwork: { ipPools: Record<string, unknown>[] } }).calicoNetwork.ipPools[0]![
          'encapsulation'
        ] = 'IPIPCrossSubnet';
      });
      const c = codes(s);
      assert.ok(c.includes('ENCAP_OPERATOR_PENDING'), c.join(', '));
      assert.ok(!c.includes('ENCAP_BGP_UNUSED'), c.join(', '));
      assert.ok(c.includes('RR_SINGLE'), 'reflector advice applies again: BGP is to carry the pod routes');
    });
  });

  describe('ENCAP_TUNNEL_ADDRESS_MISSING (a review: after IPIP -> VXLAN, nodes had no VXLAN tunnel address and status said nothing)', () => {
    const VX = 'projectcalico.org/IPv4VXLANTunnelAddr';
    it('a VXLAN pool and Ready nodes without a VXLAN tunnel address: a warning naming them', () => {
      const ok = snap({ ...healthy, encapsulation: 'VXLANCrossSubnet' });
      assert.ok(
        ok.nodes.filter((n) => n.os === 'linux').every((n) => n.annotations[VX]),
        'the fixture gives them one',
      );
      assert.ok(!codes(ok).includes('ENCAP_TUNNEL_ADDRESS_MISSING'));
      const s = snap({ ...healthy, encapsulation: 'VXLANCrossSubnet' }, (items) => {
        for (const o of items.filter((x) => x.kind === 'Node').slice(0, 2))
          delete o.metadata.annotations![VX];
      });
      const f = finding(s, 'ENCAP_TUNNEL_ADDRESS_MISSING');
      assert.equal(f.severity, 'warning');
      assert.match(f.message, /^2 nodes have no VXLAN tunnel address/);
      assert.equal(f.objects.filter((o) => o.kind === 'Node').length, 2);
    });
    it('an IPv6 VXLAN pool: nodes with an IPv6 address and no IPv6 VXLAN tunnel address (the domain review)', () => {
      const V6 = 'projectcalico.org/IPv6VXLANTunnelAddr';
      /** An IPv6 VXLAN pool on every node; the nodes from index `from` on have an IPv6 tunnel address. */
      const v6Vxlan = (from: number) =>
        snap({ ...healthy, encapsulation: 'VXLAN' }, (items) => {
          addIPv6Underlay(items);
          (items.find((o) => o.metadata.name === 'default-ipv6-ippool')!.spec as Record<string, unknown>)[
            'vxlanMode'
          ] = 'Always';
          items
            .filter((x) => x.kind === 'Node')
            .forEach((o, i) => {
              if (i >= from) o.metadata.annotations![V6] = `fd00:10:244::${(i + 1).toString(16)}`;
            });
        });
      const s = v6Vxlan(3);
      const f = finding(s, 'ENCAP_TUNNEL_ADDRESS_MISSING');
      assert.match(
        f.message,
        /^3 nodes have no IPv6 VXLAN tunnel address \(projectcalico.org\/IPv6VXLANTunnelAddr\)/,
      );
      assert.match(f.message, /default-ipv6-ippool/);
      assert.equal(f.objects.filter((o) => o.kind === 'Node').length, 3);
      // every node has one: no finding (their IPv4 VXLAN addresses are there, from the fixture)
      const all = v6Vxlan(0);
      assert.ok(!codes(all).includes('ENCAP_TUNNEL_ADDRESS_MISSING'), codes(all).join(', '));
    });
    it('IPIP pools, or a VXLAN pool whose nodeSelector leaves the node out: no warning', () => {
      const ipip = snap({ ...healthy, encapsulation: 'IPIP' });
      assert.ok(!codes(ipip).includes('ENCAP_TUNNEL_ADDRESS_MISSING'));
      const out = snap({ ...healthy, encapsulation: 'VXLAN' }, (items) => {
        for (const o of items.filter((x) => x.kind === 'Node')) delete o.metadata.annotations![VX];
        (items.find((o) => o.kind === 'IPPool')!.spec as Record<string, unknown>)['nodeSelector'] =
          "pool == 'x'";
      });
      assert.ok(!codes(out).includes('ENCAP_TUNNEL_ADDRESS_MISSING'));
      // a pool for workloads only (allowedUses without Tunnel) gives no tunnel address
      const workloads = snap({ ...healthy, encapsulation: 'VXLAN' }, (items) => {
        for (const o of items.filter((x) => x.kind === 'Node')) delete o.metadata.annotations![VX];
        (items.find((o) => o.kind === 'IPPool')!.spec as Record<string, unknown>)['allowedUses'] = [
          'Workload',
        ];
      });
      assert.ok(!codes(workloads).includes('ENCAP_TUNNEL_ADDRESS_MISSING'));
    });
  });

  describe('ENCAP_TUNNEL_OFF (a review: encap report refused the current mode, status said nothing)', () => {
    const calicoNodeEnv = setCalicoNodeEnv;
    it('FelixConfiguration default ipipEnabled: false with an IPIP pool: critical, the pool and the object named', () => {
      const s = snap({ ...healthy, encapsulation: 'IPIP' }, (items) => {
        (items.find((o) => o.kind === 'FelixConfiguration')!.spec as Record<string, unknown>)['ipipEnabled'] =
          false;
      });
      const f = finding(s, 'ENCAP_TUNNEL_OFF');
      assert.equal(f.severity, 'critical');
      assert.match(f.message, /ipipEnabled: false/);
      assert.ok(f.objects.some((o) => o.kind === 'IPPool'));
    });
    for (const off of ['false', '0', 'no', 'F', 'n']) {
      it(`calico-node's FELIX_VXLANENABLED=${off} with a VXLAN pool (Felix reads ${off} as false)`, () => {
        const s = snap({ ...healthy, install: 'manifest', encapsulation: 'VXLAN' }, (items) =>
          calicoNodeEnv(items, 'FELIX_VXLANENABLED', off),
        );
        assert.match(finding(s, 'ENCAP_TUNNEL_OFF').message, new RegExp(`FELIX_VXLANENABLED=${off}`));
      });
    }
    it('stays quiet when the switch is on, unset, or for the other tunnel', () => {
      assert.ok(!codes(snap({ ...healthy, encapsulation: 'IPIP' })).includes('ENCAP_TUNNEL_OFF'));
      const other = snap({ ...healthy, install: 'manifest', encapsulation: 'IPIP' }, (items) =>
        calicoNodeEnv(items, 'FELIX_VXLANENABLED', 'false'),
      );
      assert.ok(!codes(other).includes('ENCAP_TUNNEL_OFF'));
      const on = snap({ ...healthy, install: 'manifest', encapsulation: 'VXLAN' }, (items) =>
        calicoNodeEnv(items, 'FELIX_VXLANENABLED', 'yes'),
      );
      assert.ok(!codes(on).includes('ENCAP_TUNNEL_OFF'));
    });
  });

  describe('ENCAP_BGP_UNUSED (status follows the mode)', () => {
    it('a disabled IPIP pool still needs BGP: its pods keep their addresses and routes (a review: "turn BGP off")', () => {
      const s = snap({ ...healthy, rrs: 1, nodes: 150, encapsulation: 'VXLAN' }, (items) => {
        items.push({
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'IPPool',
          metadata: { name: 'old-pool' },
          spec: {
            cidr: '10.200.0.0/16',
            ipipMode: 'Always',
            vxlanMode: 'Never',
            disabled: true,
            natOutgoing: true,
          },
        });
      });
      assert.ok(!codes(s).includes('ENCAP_BGP_UNUSED'), codes(s).join());
    });
    it('VXLAN everywhere with BIRD running: one info finding instead of reflector advice', () => {
      const s = snap({ ...healthy, rrs: 1, nodes: 150, encapsulation: 'VXLAN' });
      const c = codes(s);
      assert.ok(c.includes('ENCAP_BGP_UNUSED'), c.join());
      for (const no of ['RR_SINGLE', 'FULL_MESH_LARGE_CLUSTER', 'BGP_RR_SINGLE_POINT_OF_FAILURE'])
        assert.ok(!c.includes(no), no);
      const mesh = codes(snap({ ...healthy, rrs: 0, nodes: 150, encapsulation: 'VXLANCrossSubnet' }));
      assert.ok(!mesh.includes('FULL_MESH_LARGE_CLUSTER'));
      assert.match(finding(s, 'ENCAP_BGP_UNUSED').fix, /bgp":"Disabled"|calico_backend: vxlan/);
    });
    it('stays quiet when a pool needs BGP, or an external peer takes routes', () => {
      const ipip = codes(snap({ ...healthy, rrs: 1, encapsulation: 'IPIP' }));
      assert.ok(!ipip.includes('ENCAP_BGP_UNUSED'));
      assert.ok(ipip.includes('RR_SINGLE'));
      const tor = snap({ ...healthy, encapsulation: 'VXLAN' }, (objs) => {
        objs.push({
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'BGPPeer',
          metadata: { name: 'tor' },
          spec: { peerIP: '10.20.0.1', asNumber: 65001 },
        });
      });
      assert.ok(!codes(tor).includes('ENCAP_BGP_UNUSED'));
    });
  });

  describe('metrics', () => {
    it('reports Felix and Typha metrics disabled as info', () => {
      const s = snap({ ...healthy, felixMetrics: false, typhaMetrics: false });
      assert.equal(finding(s, 'FELIX_METRICS_DISABLED').severity, 'info');
      assert.equal(finding(s, 'TYPHA_METRICS_DISABLED').severity, 'info');
      assert.match(finding(s, 'TYPHA_METRICS_DISABLED').fix, /typhaMetricsPort/);
      const m = snap({ ...healthy, install: 'manifest', felixMetrics: false, typhaMetrics: false });
      assert.match(finding(m, 'TYPHA_METRICS_DISABLED').fix, /TYPHA_PROMETHEUSMETRICSENABLED=true/);
    });
    it('says TYPHA_METRICS_DISABLED in the same words as monitoring status, in both install modes', () => {
      // (a review: status and monitoring status gave one finding two messages, fixes and objects)
      for (const install of ['operator', 'manifest'] as const) {
        const s = snap({ ...healthy, install, typhaMetrics: false });
        const mon = buildMonitoringReport(s).findings.find((f) => f.code === 'TYPHA_METRICS_DISABLED');
        assert.deepEqual(mon, finding(s, 'TYPHA_METRICS_DISABLED'), install);
      }
    });
    it('accepts operator nodeMetricsPort as Felix metrics', () => {
      const s = snap({ ...healthy, felixMetrics: false }, (items) => {
        find(items, 'Installation').spec!['nodeMetricsPort'] = 9091;
      });
      assert.ok(!codes(s).includes('FELIX_METRICS_DISABLED'));
    });
  });

  describe('Typha replicas', () => {
    it('operator: fires when replicas differ from the formula', () => {
      const f = finding(snap({ ...healthy, typhaReplicas: 2 }), 'TYPHA_REPLICAS_OFF_FORMULA');
      assert.match(f.message, /runs 2 replicas; the operator's formula gives 3 for 150 schedulable nodes/);
      assert.match(f.fix, /operator owns the replica count/);
    });
    it('manifest: fires outside the guidance with the exact kubectl scale command', () => {
      const under = finding(
        snap({ ...healthy, install: 'manifest', typhaReplicas: 1 }),
        'TYPHA_UNDER_PROVISIONED',
      );
      assert.equal(under.fix, 'kubectl scale deployment -n kube-system calico-typha --replicas=3');
      const over = finding(
        snap({ ...healthy, install: 'manifest', typhaReplicas: 25 }),
        'TYPHA_OVER_PROVISIONED',
      );
      assert.equal(over.fix, 'kubectl scale deployment -n kube-system calico-typha --replicas=20');
    });
    it('stays quiet within the guidance, and never fights an autoscaler', () => {
      assert.ok(
        !codes(snap({ ...healthy, install: 'manifest', typhaReplicas: 5 })).some(
          (c) => c.startsWith('TYPHA_') && c !== 'TYPHA_METRICS_DISABLED',
        ),
      );
      const auto = codes(snap({ ...healthy, install: 'manifest', typhaReplicas: 1, typhaAutoscaler: true }));
      assert.ok(auto.includes('TYPHA_AUTOSCALED'));
      assert.ok(!auto.includes('TYPHA_UNDER_PROVISIONED'));
    });
    it('manifest without Typha above 50 nodes: TYPHA_MISSING', () => {
      assert.ok(codes(snap({ ...healthy, install: 'manifest', typhaReplicas: 0 })).includes('TYPHA_MISSING'));
      assert.ok(
        !codes(snap({ ...healthy, nodes: 40, rrs: 0, install: 'manifest', typhaReplicas: 0 })).includes(
          'TYPHA_MISSING',
        ),
      );
    });
  });
});
