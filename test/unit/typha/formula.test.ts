import assert from 'node:assert/strict';
import {
  manifestTyphaRange,
  nextOperatorSteps,
  operatorTyphaReplicas,
  typhaCountedNodes,
} from '../../../src/typha/formula.js';
import { parseNode } from '../../../src/model/parse.js';
import { makeNode } from '../../fixtures/generate.js';

/**
 * The expected operator table, derived independently of the implementation: walk the node counts upward and
 * count the multiples of 200 seen so far (no division), applying the small-cluster rules of the seed text.
 */
function expectedOperatorTable(max: number): number[] {
  const table: number[] = [];
  let hundredsSeen = 0; // multiples of 200 that are <= n
  for (let n = 0; n <= max; n++) {
    if (n > 0 && n % 200 === 0) hundredsSeen++;
    let expected: number;
    if (n <= 2) expected = 1;
    else if (n <= 4) expected = 2;
    else expected = Math.max(3, hundredsSeen + 1 + 1);
    table.push(expected);
  }
  return table;
}

describe('typha/formula', () => {
  it('matches the operator formula for every node count from 0 to 10,000', () => {
    const table = expectedOperatorTable(10_000);
    for (let n = 0; n <= 10_000; n++) assert.equal(operatorTyphaReplicas(n), table[n], `nodes=${n}`);
  });

  it('agrees with the documented sample values (calico-domain.md)', () => {
    const samples: [number, number][] = [
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 3],
      [399, 3],
      [400, 4],
      [599, 4],
      [1000, 7],
      [2000, 12],
      [3600, 20],
      [5000, 27],
    ];
    for (const [n, r] of samples) assert.equal(operatorTyphaReplicas(n), r, `nodes=${n}`);
  });

  it('has no upper cap', () => {
    assert.equal(operatorTyphaReplicas(100_000), 502);
  });

  it('rejects negative and fractional counts', () => {
    assert.throws(() => operatorTyphaReplicas(-1), RangeError);
    assert.throws(() => operatorTyphaReplicas(1.5), RangeError);
  });

  it('gives the manifest guidance as a range that respects every rule', () => {
    for (let n = 2; n <= 10_000; n++) {
      const r = manifestTyphaRange(n);
      assert.ok(r.min <= r.max, `min <= max at ${n}`);
      assert.ok(r.max <= 20, `at most 20 at ${n}`);
      assert.ok(r.max < n, `fewer than nodes at ${n}`);
      if (n > 4 && n <= 4000) {
        assert.ok(r.min >= 3, `at least 3 at ${n}`);
        assert.ok(r.min * 200 >= n, `one per 200 at ${n}`);
        assert.equal(r.note, undefined);
      }
    }
    assert.deepEqual(manifestTyphaRange(150), { min: 3, max: 20 });
    assert.deepEqual(manifestTyphaRange(1200), { min: 6, max: 20 });
    assert.equal(manifestTyphaRange(5000).min, 20);
    assert.match(manifestTyphaRange(5000).note ?? '', /above the documented maximum/);
    assert.deepEqual(manifestTyphaRange(3), {
      min: 2,
      max: 2,
      note: 'fewer than 3 nodes leaves room for at most 2',
    });
  });

  it('finds the node counts where the operator recommendation changes next', () => {
    assert.deepEqual(nextOperatorSteps(150, 3), [
      { nodes: 400, replicas: 4 },
      { nodes: 600, replicas: 5 },
      { nodes: 800, replicas: 6 },
    ]);
    assert.deepEqual(nextOperatorSteps(0, 3), [
      { nodes: 3, replicas: 2 },
      { nodes: 5, replicas: 3 },
      { nodes: 400, replicas: 4 },
    ]);
  });

  it('counts schedulable, non-virtual-kubelet nodes as the operator does', () => {
    const base = {
      zone: 'z',
      region: 'r',
      ip: '10.0.0.1',
      prefix: 24,
      instance: { type: 't', cpu: 8, memGi: 32, weight: 1 },
      controlPlane: false,
      ready: true,
      os: 'linux' as const,
      createdAt: '2026-01-01T00:00:00Z',
      tunnelAddr: '1.1.1.1',
    };
    const nodes = [
      parseNode(makeNode({ ...base, name: 'a', unschedulable: false, virtualKubelet: false })),
      parseNode(makeNode({ ...base, name: 'b', unschedulable: true, virtualKubelet: false })),
      parseNode(makeNode({ ...base, name: 'c', unschedulable: false, virtualKubelet: true })),
      parseNode(
        makeNode({ ...base, name: 'd', unschedulable: false, virtualKubelet: false, controlPlane: true }),
      ),
    ];
    assert.equal(typhaCountedNodes(nodes), 2);
    // a virtual kubelet that is not AKS's (no kubernetes.azure.com/cluster label): the operator counts it
    // (tigera/operator pkg/controller/typhaautoscaler nodeCounts; found by a review: a false
    // TYPHA_REPLICAS_OFF_FORMULA on a cluster with one such node)
    const other = makeNode({ ...base, name: 'e', unschedulable: false, virtualKubelet: true });
    delete other.metadata.labels!['kubernetes.azure.com/cluster'];
    assert.equal(typhaCountedNodes([...nodes, parseNode(other)]), 3);
  });
});
