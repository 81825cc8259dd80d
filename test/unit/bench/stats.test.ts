/**
 * The bootstrap interval of a ratio of medians that decides the live bench's calicoctl goals (bench/stats.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { median, medianRatioInterval } from '../../../bench/stats.js';

describe('bench/stats: how sure a ratio of medians is', () => {
  it('median of odd and even counts', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('the interval holds the measured ratio, and is the same for the same runs (property)', () => {
    const runs = fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 1, maxLength: 25 });
    fc.assert(
      fc.property(runs, runs, (a, b) => {
        const r = medianRatioInterval(a, b, { iterations: 200 });
        assert.ok(r.lo <= r.ratio + 1e-9 && r.ratio <= r.hi + 1e-9, JSON.stringify(r));
        assert.deepEqual(medianRatioInterval(a, b, { iterations: 200 }), r);
      }),
      { numRuns: 300 },
    );
  });

  it('runs that do not vary give the exact ratio; noisy runs a wide interval, steady ones a narrow one', () => {
    assert.deepEqual(medianRatioInterval([200, 200, 200], [100, 100]), { ratio: 2, lo: 2, hi: 2 });
    const steady = medianRatioInterval([199, 200, 201, 200, 200], [100, 99, 101, 100, 100]);
    assert.ok(steady.lo >= 1.96 && steady.hi <= 2.04, JSON.stringify(steady));
    // the shape of the live bench's runs on a busy machine: a few slow outliers on each side
    const noisy = medianRatioInterval(
      [190, 200, 260, 205, 198, 300, 210],
      [120, 130, 135, 180, 128, 140, 131],
    );
    assert.ok(noisy.hi - noisy.lo > 0.1, JSON.stringify(noisy));
    assert.throws(() => medianRatioInterval([], [1]));
  });
});
