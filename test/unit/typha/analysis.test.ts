import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/model/types.js';
import {
  analyseTypha,
  pdbBlocksDisruption,
  typhaConnectionCap,
  typhaWhatIf,
  TYPHA_MAX_CONNECTIONS_LOWER,
  TYPHA_MAX_CONNECTIONS_UPPER,
} from '../../../src/typha/analysis.js';
import { find, snap } from '../helpers.js';
import type { ClusterSpec } from '../../fixtures/generate.js';

const healthy: ClusterSpec = { nodes: 150, zones: 3, typhaMetrics: true };
const codes = (spec: ClusterSpec, edit?: (o: KubeObject[]) => void): string[] =>
  analyseTypha(snap(spec, edit)).findings.map((f) => f.code);
const finding = (spec: ClusterSpec, code: string, edit?: (o: KubeObject[]) => void) => {
  const f = analyseTypha(snap(spec, edit)).findings.find((x) => x.code === code);
  assert.ok(f, `expected ${code}`);
  return f;
};
const typhaPods = (items: KubeObject[]) =>
  items.filter((o) => o.kind === 'Pod' && o.metadata.labels?.['k8s-app'] === 'calico-typha');

describe('typha/analysis', () => {
  describe('install mode and node counts', () => {
    it('operator: Typha in calico-system, healthy, no findings', () => {
      const a = analyseTypha(snap(healthy));
      assert.equal(a.installMode, 'operator');
      assert.deepEqual(a.nodes, {
        total: 150,
        counted: 150,
        linux: 150,
        excluded: { unschedulable: 0, virtualKubelet: 0 },
        calicoNodes: 150,
        zones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
        withoutZone: 0,
      });
      // nodes without the zone label are counted, not silently left out (a review)
      const noZone = analyseTypha(
        snap(healthy, (objs) => {
          for (const o of objs.filter((x) => x.kind === 'Node').slice(0, 7))
            delete o.metadata.labels!['topology.kubernetes.io/zone'];
        }),
      );
      assert.equal(noZone.nodes.withoutZone, 7);
      assert.equal(a.recommended.operator, 3);
      assert.equal(a.recommended.applies, 'operator');
      assert.equal(a.actual?.namespace, 'calico-system');
      assert.equal(a.actual?.desired, 3);
      assert.deepEqual(a.findings, []);
    });

    it('manifest: Typha in kube-system, the manifest range applies', () => {
      const a = analyseTypha(snap({ ...healthy, install: 'manifest' }));
      assert.equal(a.installMode, 'manifest');
      assert.equal(a.recommended.applies, 'manifest');
      assert.deepEqual(
        { min: a.recommended.manifest.min, max: a.recommended.manifest.max },
        { min: 3, max: 20 },
      );
      assert.deepEqual(a.findings, []);
    });

    it('calico-node told to use Typha while none runs (0 replicas, or no Deployment): critical, Felix cannot start', () => {
      // found by trying the tool: 0/0 replicas was only TYPHA_UNDER_PROVISIONED (a warning, exit 0), and a deleted
      // Deployment was TYPHA_MISSING, "every Felix watching the API server directly", which it does not:
      // with FELIX_TYPHAK8SSERVICENAME set Felix looks for Typha's endpoints and does not start without them
      // (calico-typha.yaml: "You must set a non-zero value for Typha replicas")
      const scaled = finding({ ...healthy, install: 'manifest' }, 'TYPHA_UNAVAILABLE', (objs) => {
        const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'calico-typha')!;
        (d.spec as Record<string, unknown>)['replicas'] = 0;
        d.status = { replicas: 0, readyReplicas: 0, availableReplicas: 0 };
        for (const p of typhaPods(objs)) objs.splice(objs.indexOf(p), 1);
      });
      assert.equal(scaled.severity, 'critical');
      assert.match(scaled.message, /typha_service_name.*calico-typha/);
      assert.match(scaled.message, /0 ready/);
      const gone = (spec: ClusterSpec) =>
        codes(spec, (objs) => {
          const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'calico-typha')!;
          objs.splice(objs.indexOf(d), 1);
        });
      for (const spec of [{ ...healthy, install: 'manifest' as const }, healthy]) {
        const c = gone(spec);
        assert.ok(c.includes('TYPHA_UNAVAILABLE'), `${spec.install ?? 'operator'}: ${c.join(',')}`);
        assert.ok(!c.includes('TYPHA_MISSING'), c.join(','));
      }
      // a Deployment the tool could not read (403) is not a missing one: no critical (a review)
      const unread = snap(healthy, (objs) => {
        const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'calico-typha')!;
        objs.splice(objs.indexOf(d), 1);
      });
      unread.source.warnings = [
        ...(unread.source.warnings ?? []),
        'could not read Deployment calico-system/calico-typha: forbidden',
      ];
      assert.ok(!analyseTypha(unread).findings.some((f) => f.code === 'TYPHA_UNAVAILABLE'));
      // the manifest without Typha says so in calico-config (typha_service_name: none): nothing critical
      assert.ok(!codes({ nodes: 40, install: 'manifest', typhaReplicas: 0 }).includes('TYPHA_UNAVAILABLE'));
    });

    it('no Typha: installMode none, actual null', () => {
      const a = analyseTypha(snap({ nodes: 40, install: 'manifest', typhaReplicas: 0 }));
      assert.equal(a.installMode, 'none');
      assert.equal(a.actual, null);
      assert.equal(a.recommended.applies, 'manifest');
      assert.deepEqual(a.findings, []);
    });

    it('leaves unschedulable and virtual-kubelet nodes out of the count, but not out of the load', () => {
      const a = analyseTypha(snap({ ...healthy, unschedulable: 5, virtualKubelet: 3 }));
      assert.equal(a.nodes.total, 150);
      assert.equal(a.nodes.counted, 142);
      assert.deepEqual(a.nodes.excluded, { unschedulable: 5, virtualKubelet: 3 });
      assert.equal(a.nodes.linux, 142);
      // cordoned nodes still run calico-node and connect to Typha; virtual-kubelet nodes do not
      assert.equal(a.nodes.calicoNodes, 147);
      assert.equal(a.load.connections, 147 * 4);
    });

    it('counts Linux nodes among the counted ones (Windows nodes count for the formula, not for placement)', () => {
      const a = analyseTypha(snap({ nodes: 12, controlPlane: 1, windows: 10 }));
      assert.equal(a.nodes.counted, 12);
      assert.equal(a.nodes.linux, 2);
    });

    it('a Linux node counts by its kubernetes.io/os label only, as the operator counts and Typha is scheduled (the domain review)', () => {
      // typha_autoscaler.go getNodeCounts: n.Labels["kubernetes.io/os"] == "linux"; calico-typha's nodeSelector
      // is the same label: a node with only the beta label or nodeInfo.operatingSystem takes no Typha
      const a = analyseTypha(
        snap({ nodes: 12, controlPlane: 1 }, (items) => {
          for (const o of items.filter((x) => x.kind === 'Node').slice(0, 3)) {
            delete o.metadata.labels!['kubernetes.io/os'];
            o.metadata.labels!['beta.kubernetes.io/os'] = 'linux';
          }
        }),
      );
      assert.equal(a.nodes.counted, 12);
      assert.equal(a.nodes.linux, 9);
    });
  });

  describe('findings', () => {
    it('TYPHA_NOT_ENOUGH_LINUX_NODES (critical): the operator refuses to scale', () => {
      const f = finding({ nodes: 12, controlPlane: 1, windows: 10 }, 'TYPHA_NOT_ENOUGH_LINUX_NODES');
      assert.equal(f.severity, 'critical');
      assert.match(f.message, /needs 3 Typhas for 12 nodes but only 2 schedulable Linux node\(s\)/);
      assert.match(f.message, /not enough linux nodes to schedule typha pods on/);
      assert.match(f.fix, /add schedulable Linux nodes/);
    });

    it('TYPHA_NOT_ENOUGH_LINUX_NODES (manifest): replicas above the Linux nodes stay Pending; fix scales down', () => {
      const f = finding(
        { nodes: 12, controlPlane: 1, windows: 8, install: 'manifest', typhaReplicas: 5 },
        'TYPHA_NOT_ENOUGH_LINUX_NODES',
      );
      assert.match(
        f.message,
        /5 Typha replicas but only 4 schedulable Linux node\(s\).*1 replica\(s\) stay Pending/,
      );
      assert.equal(
        f.fix,
        'add schedulable Linux nodes, or scale down: kubectl scale deployment -n kube-system calico-typha --replicas=3',
      );
    });

    it('TYPHA_NO_SPARE_NODE: as many replicas as Linux nodes', () => {
      const f = finding({ nodes: 12, controlPlane: 1, windows: 9 }, 'TYPHA_NO_SPARE_NODE');
      assert.equal(f.severity, 'warning');
      assert.match(f.message, /3 Typha replicas on exactly 3 schedulable Linux nodes/);
      // not on top of TYPHA_OVER_PROVISIONED, which already says "fewer than the nodes"
      assert.ok(!codes({ nodes: 4, install: 'manifest', typhaReplicas: 4 }).includes('TYPHA_NO_SPARE_NODE'));
      assert.ok(
        codes({ nodes: 4, install: 'manifest', typhaReplicas: 4 }).includes('TYPHA_OVER_PROVISIONED'),
      );
    });

    it('TYPHA_SINGLE_ZONE: all pods in one zone while the nodes span three', () => {
      const edit = (items: KubeObject[]): void => {
        const zoneA = items.filter(
          (o) =>
            o.kind === 'Node' &&
            o.metadata.labels?.['topology.kubernetes.io/zone'] === 'eu-west-1a' &&
            !o.metadata.labels['node-role.kubernetes.io/control-plane'],
        );
        typhaPods(items).forEach((p, i) => (p.spec!['nodeName'] = zoneA[i]!.metadata.name));
      };
      const op = finding(healthy, 'TYPHA_SINGLE_ZONE', edit);
      assert.match(op.message, /all 3 Typha pods run in zone eu-west-1a while the nodes span 3 zones/);
      assert.match(
        op.fix,
        /^kubectl patch installation default --type=merge -p '\{"spec":\{"typhaDeployment":\{"spec":\{"template":\{"spec":\{"topologySpreadConstraints":\[/,
      );
      const man = finding({ ...healthy, install: 'manifest' }, 'TYPHA_SINGLE_ZONE', edit);
      assert.match(man.fix, /^kubectl patch deployment -n kube-system calico-typha --type=merge -p '/);
      // the patch is valid JSON
      const json = /-p '(.*)'$/.exec(man.fix)![1]!;
      assert.equal(
        JSON.parse(json).spec.template.spec.topologySpreadConstraints[0].topologyKey,
        'topology.kubernetes.io/zone',
      );
      // one zone only: nothing to spread over
      assert.ok(!codes({ ...healthy, zones: 1 }).includes('TYPHA_SINGLE_ZONE'));
    });

    it('TYPHA_NO_PDB: missing PodDisruptionBudget; the manifest fix creates one', () => {
      const m = finding({ ...healthy, install: 'manifest', typhaPdb: false }, 'TYPHA_NO_PDB');
      assert.equal(
        m.fix,
        'kubectl create poddisruptionbudget calico-typha -n kube-system --selector=k8s-app=calico-typha --max-unavailable=1',
      );
      const o = finding({ ...healthy, typhaPdb: false }, 'TYPHA_NO_PDB');
      assert.match(o.fix, /the operator creates PodDisruptionBudget calico-system\/calico-typha itself/);
    });

    it('TYPHA_NO_PDB stays quiet when the PDB could not be read', () => {
      const s = snap({ ...healthy, typhaPdb: false });
      s.source.warnings = ['could not read PodDisruptionBudget calico-system/calico-typha: forbidden'];
      assert.ok(!analyseTypha(s).findings.some((f) => f.code === 'TYPHA_NO_PDB'));
    });

    it('TYPHA_PDB_BLOCKS_DRAIN: a PDB that allows no eviction', () => {
      const f = finding({ ...healthy, install: 'manifest' }, 'TYPHA_PDB_BLOCKS_DRAIN', (items) => {
        find(items, 'PodDisruptionBudget').spec!['maxUnavailable'] = 0;
      });
      assert.match(f.fix, /kubectl patch poddisruptionbudget -n kube-system calico-typha/);
      assert.equal(pdbBlocksDisruption({ name: 'x', minAvailable: '100%' }, 3), true);
      assert.equal(pdbBlocksDisruption({ name: 'x', minAvailable: 3 }, 3), true);
      assert.equal(pdbBlocksDisruption({ name: 'x', minAvailable: 2 }, 3), false);
      assert.equal(pdbBlocksDisruption({ name: 'x', maxUnavailable: '10%' }, 3), false); // rounds up to 1
      assert.equal(pdbBlocksDisruption({ name: 'x', maxUnavailable: '0%' }, 3), true);
      assert.equal(pdbBlocksDisruption({ name: 'x', minAvailable: '66%' }, 3), false); // ceil(1.98) = 2
    });

    it('TYPHA_NOT_READY: warning with some ready, critical with none', () => {
      const some = finding(healthy, 'TYPHA_NOT_READY', (items) => {
        find(items, 'Deployment', 'calico-typha').status!['readyReplicas'] = 2;
      });
      assert.equal(some.severity, 'warning');
      assert.match(some.message, /^2 of 3 Typha replicas are ready/);
      const none = finding(healthy, 'TYPHA_NOT_READY', (items) => {
        find(items, 'Deployment', 'calico-typha').status!['readyReplicas'] = 0;
      });
      assert.equal(none.severity, 'critical');
    });

    it('TYPHA_AUTOSCALED: info on a manifest install (never a scale command), warning on an operator install', () => {
      const man = analyseTypha(
        snap({ ...healthy, install: 'manifest', typhaReplicas: 2, typhaAutoscaler: true }),
      );
      const f = man.findings.find((x) => x.code === 'TYPHA_AUTOSCALED')!;
      assert.equal(f.severity, 'info');
      assert.match(f.message, /outside the guidance 3-20/);
      assert.ok(
        !man.findings.some((x) => /kubectl scale/.test(x.fix)),
        'no finding recommends scaling by hand',
      );
      const op = finding({ ...healthy, typhaAutoscaler: true }, 'TYPHA_AUTOSCALED');
      assert.equal(op.severity, 'warning');
      assert.match(op.message, /operator install/);
    });

    it('operator fixes never say kubectl scale: the operator owns the count', () => {
      const a = analyseTypha(snap({ ...healthy, typhaReplicas: 7, typhaPdb: false, typhaMetrics: false }));
      assert.ok(a.findings.length >= 3);
      for (const f of a.findings) assert.ok(!/kubectl scale/.test(f.fix), `${f.code}: ${f.fix}`);
    });
  });

  describe('what-if', () => {
    it('fills the recommendation for N nodes and leaves actual null', () => {
      const a = typhaWhatIf(1200);
      assert.equal(a.recommended.operator, 8);
      assert.deepEqual(
        { min: a.recommended.manifest.min, max: a.recommended.manifest.max },
        { min: 6, max: 20 },
      );
      assert.equal(a.actual, null);
      assert.equal(a.nodes.counted, 1200);
      assert.equal(a.load.connections, 4800);
      assert.equal(a.load.perReplica, 600);
      assert.equal(typhaWhatIf(1200, 'manifest').recommended.applies, 'manifest');
    });
  });
});

describe('typhaConnectionCap: Go integer arithmetic (typha/pkg/k8s/rebalance.go CalculateMaxConnLimit)', () => {
  it('1,001 nodes over 4 Typhas: 4 * (1 + 1001*120/3/100) = 1,604, each division truncated (was 1,605)', () => {
    assert.equal(typhaConnectionCap(1001, 4), 1604);
    // against the Go expression for a range of sizes
    for (const nodes of [10, 99, 151, 1000, 1234, 4999])
      for (const replicas of [2, 3, 4, 7])
        assert.equal(
          typhaConnectionCap(nodes, replicas),
          Math.max(
            TYPHA_MAX_CONNECTIONS_LOWER,
            Math.min(
              TYPHA_MAX_CONNECTIONS_UPPER,
              4 * (1 + Math.trunc(Math.trunc((nodes * 120) / (replicas - 1)) / 100)),
            ),
          ),
          `${nodes}/${replicas}`,
        );
  });
});
