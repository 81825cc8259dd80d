import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/model/types.js';
import { cautions, ineligibility, OPT_OUT_LABEL, recommend } from '../../../src/rr/recommend.js';
import { snap } from '../helpers.js';
import { CORDON_ANN, edited, node, rrNames } from '../plan/helpers.js';

const BIG = { cpu: '8', memory: `${32 * 1024 * 1024}Ki` };
const SMALL = { cpu: '4', memory: `${16 * 1024 * 1024}Ki` };

function size(
  objs: KubeObject[],
  pick: (name: string) => boolean,
  cap: { cpu: string; memory: string },
): void {
  for (const o of objs)
    if (o.kind === 'Node' && pick(o.metadata.name))
      (o.status as { capacity: Record<string, string> }).capacity = { ...cap, pods: '110' };
}

describe('rr/recommend: which nodes should be route reflectors', () => {
  const s = snap({ nodes: 30, zones: 3 });

  it('one per zone, eligible and large enough, never a control-plane or Typha node while workers remain', () => {
    const r = recommend(s);
    assert.equal(r.count, 3);
    assert.equal(
      r.countReason,
      'max(3, 3 zones): one reflector can fail or be maintained while the others carry every client',
    );
    assert.deepEqual(r.chosen.map((c) => c.zone).sort(), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    const typha = new Set(s.typha.pods.map((p) => p.node));
    for (const c of r.chosen) {
      const n = node(s, c.node);
      assert.equal(c.existing, false);
      assert.equal(n.controlPlane, false, c.node);
      assert.equal(typha.has(c.node), false, c.node);
      assert.deepEqual(cautions(s, n), [], c.node);
      assert.match(
        c.reason,
        new RegExp(`^zone ${c.zone} has no reflector yet; \\d+ CPU / \\d+Gi; worker; created 2026-03-02$`),
      );
    }
    assert.deepEqual(r.zones, [
      { zone: 'eu-west-1a', nodes: 10, reflectors: 1 },
      { zone: 'eu-west-1b', nodes: 10, reflectors: 1 },
      { zone: 'eu-west-1c', nodes: 10, reflectors: 1 },
    ]);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.zoneLabel, 'topology.kubernetes.io/zone');
    assert.equal(r.candidates.length, 30);
  });

  it('deterministic: the same choice every time and whatever the order of the objects', () => {
    const a = recommend(s);
    assert.deepEqual(recommend(s), a);
    const shuffled = edited(s, (objs) => [...objs].reverse());
    assert.deepEqual(recommend(shuffled).chosen, a.chosen);
  });

  it('ranks by size, then age, then name; Typha nodes after other workers, control-plane nodes last', () => {
    // one zone, every node equally large: only the Typha and control-plane rules tell them apart
    const one = snap({ nodes: 6, zones: 1, controlPlane: 1, typhaReplicas: 1 }, (objs) =>
      size(objs, () => true, BIG),
    );
    const typhaNode = one.typha.pods[0]!.node!;
    const r = recommend(one, { count: 6 });
    assert.equal(r.chosen.length, 6);
    assert.equal(r.chosen[4]!.node, typhaNode);
    assert.equal(r.chosen[5]!.node, 'node-cp-a1');
    assert.match(r.chosen[5]!.reason, /control-plane node \(no eligible worker left in this zone\)/);
    assert.match(r.chosen[1]!.reason, /^zone eu-west-1a has the fewest reflectors \(1\)/);
    // among equals, the oldest first (creation time follows the node order in the generator)
    const workers = r.chosen.slice(0, 4).map((c) => c.node);
    assert.deepEqual(
      workers,
      [...workers].sort((x, y) => (node(one, x).createdAt ?? '').localeCompare(node(one, y).createdAt ?? '')),
    );
    // a larger node goes first
    const bigger = edited(one, (objs) =>
      size(objs, (n) => n === workers[3], { cpu: '16', memory: BIG.memory }),
    );
    assert.equal(recommend(bigger, { count: 1 }).chosen[0]!.node, workers[3]);
  });

  it('existing reflectors first, and only as many new ones as the count allows', () => {
    const rr = snap({ nodes: 30, zones: 3, rrs: 2 });
    const r = recommend(rr);
    assert.deepEqual(
      r.chosen.slice(0, 2).map((c) => [c.node, c.existing, c.reason]),
      rrNames(rr).map((n) => [n, true, 'already a route reflector (cluster ID 244.0.0.1)']),
    );
    assert.equal(r.chosen.length, 3);
    assert.equal(r.chosen[2]!.zone, 'eu-west-1c', 'the zone without a reflector');
    const many = snap({ nodes: 30, zones: 3, rrs: 5 });
    const m = recommend(many, { count: 3 });
    assert.equal(m.chosen.length, 5);
    assert.deepEqual(m.warnings, [
      '5 reflectors exist, more than the 3 recommended; each one holds a session with every node',
    ]);
  });

  it('--count, and what cannot be met', () => {
    const two = recommend(s, { count: 2 });
    assert.equal(two.count, 2);
    assert.equal(two.countReason, 'requested with --count');
    assert.equal(new Set(two.chosen.map((c) => c.zone)).size, 2);
    const tiny = snap({ nodes: 4, zones: 1 }, (objs) => size(objs, (n) => n !== 'node-a-002', SMALL));
    const t = recommend(tiny);
    assert.equal(t.count, 1);
    assert.deepEqual(t.warnings, [
      'only 1 node(s) can be reflectors (eligible and large enough); recommending 1 instead of 3',
      'fewer than 2 reflectors: no redundancy, the mesh cannot be turned off safely',
    ]);
    assert.deepEqual(
      t.chosen.map((c) => c.node),
      ['node-a-002'],
    );
    // smaller limits make small nodes eligible
    assert.equal(recommend(tiny, { minCpu: 4, minMemoryBytes: 16 * 2 ** 30 }).chosen.length, 3);
  });

  it('warns when every recommended reflector is in one zone', () => {
    const lopsided = snap({ nodes: 12, zones: 3 }, (objs) =>
      size(objs, (n) => !n.startsWith('node-a-'), SMALL),
    );
    const r = recommend(lopsided, { count: 2 });
    assert.deepEqual(
      r.chosen.map((c) => c.zone),
      ['eu-west-1a', 'eu-west-1a'],
    );
    assert.deepEqual(r.warnings, ['all recommended reflectors are in one zone: no eligible node elsewhere']);
  });

  it('another zone label; nodes without it form "(no zone)"', () => {
    const racks = snap({ nodes: 9, zones: 1 }, (objs) => {
      size(objs, () => true, BIG);
      objs
        .filter((o) => o.kind === 'Node')
        .forEach((o, i) => {
          if (i < 6) o.metadata.labels!['rack'] = `r${i % 2}`;
        });
    });
    const r = recommend(racks, { zoneLabel: 'rack' });
    assert.equal(r.count, 3);
    assert.equal(r.zoneLabel, 'rack');
    assert.deepEqual(
      r.zones.map((z) => [z.zone, z.nodes]),
      [
        ['(no zone)', 3],
        ['r0', 3],
        ['r1', 3],
      ],
    );
    assert.deepEqual(new Set(r.chosen.map((c) => c.zone)), new Set([null, 'r0', 'r1']));
    assert.match(r.countReason, /^max\(3, 2 zones\)/);
  });

  describe('eligibility', () => {
    const odd = snap({ nodes: 12, zones: 3, windows: 1, notReady: 1, unschedulable: 1, virtualKubelet: 1 });
    it('says why a node cannot be a reflector', () => {
      const why = (pick: (n: (typeof odd.nodes)[number]) => boolean): string[] =>
        ineligibility(odd.nodes.find(pick)!);
      assert.deepEqual(
        why((n) => n.os === 'windows'),
        [
          'not Linux (windows)',
          'no projectcalico.org/IPv4Address (calico-node has not configured BGP on it)',
        ],
      );
      assert.deepEqual(
        why((n) => !n.ready),
        ['not Ready', 'tainted node.kubernetes.io/not-ready, node.kubernetes.io/unreachable'],
      );
      assert.deepEqual(
        why((n) => n.unschedulable && n.ready),
        ['cordoned (not by calico-tune)'],
      );
      assert.deepEqual(
        why((n) => n.virtualKubelet),
        [
          'virtual-kubelet node',
          'no projectcalico.org/IPv4Address (calico-node has not configured BGP on it)',
        ],
      );
      const marked = edited(odd, (objs) => {
        const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === 'node-a-003')!;
        n.metadata.labels![OPT_OUT_LABEL] = 'never';
        n.spec!['unschedulable'] = true;
        n.metadata.annotations![CORDON_ANN] = 'kubectl-calico-tune';
        (n.status as { conditions: { type: string; status: string }[] }).conditions.find(
          (c) => c.type === 'DiskPressure',
        )!.status = 'True';
      });
      // its own cordon (annotated by calico-tune) does not count
      assert.deepEqual(ineligibility(node(marked, 'node-a-003')), [
        'conditions DiskPressure',
        `opted out (${OPT_OUT_LABEL}=never)`,
      ]);
      assert.deepEqual(ineligibility(node(odd, 'node-a-003')), []);
    });
    it('ineligible nodes are never chosen and carry their reasons', () => {
      const r = recommend(odd, { count: 12 });
      for (const c of r.candidates.filter((x) => !x.eligible)) {
        assert.ok(c.notes.length > 0, c.node);
        assert.ok(!r.chosen.some((x) => x.node === c.node), c.node);
      }
      const small = r.candidates.find((c) => c.cpu === 4 && c.notes.length === 2)!;
      assert.deepEqual(small.notes, ['too small: 4 CPU < 8', 'too small: 16Gi < 32Gi']);
      assert.equal(small.memory, '16Gi');
    });
    it('cautions honour custom limits', () => {
      const n = node(s, s.nodes.find((x) => x.cpuCapacityMillis === 4000 && !x.controlPlane)!.name);
      assert.ok(cautions(s, n).includes('small: 4 CPU < 8'));
      assert.deepEqual(
        cautions(s, n, { minCpu: 4, minMemoryBytes: 16 * 2 ** 30 }).filter((c) => c.startsWith('small')),
        [],
      );
    });
  });
});

describe('rr/recommend: a zone label no node has', () => {
  it('warns that the cluster counts as one zone (found by a review: silently one zone)', () => {
    const r = recommend(snap({ nodes: 30, zones: 3 }), { zoneLabel: 'example.com/no-such-zone' });
    assert.ok(
      r.warnings.some((w) =>
        /no node has the zone label example\.com\/no-such-zone: the cluster counts as one zone/.test(w),
      ),
      r.warnings.join('\n'),
    );
    assert.ok(!recommend(snap({ nodes: 30, zones: 3 })).warnings.some((w) => /zone label/.test(w)));
  });
});
