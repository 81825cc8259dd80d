import assert from 'node:assert/strict';
import fc from 'fast-check';
import { num } from '../../../src/model/format.js';

describe('num (thousands separated)', () => {
  it('is toLocaleString("en-US") for every number', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -2_000_000, max: 2_000_000 }),
          fc.maxSafeInteger(),
          fc.double(),
          fc.constantFrom(0, -0, 999, 1000, -1000, 999_999, 1_000_000, Number.MAX_SAFE_INTEGER + 2),
        ),
        (x) => assert.equal(num(x), x.toLocaleString('en-US')),
      ),
      { numRuns: 2000 },
    );
    assert.equal(num(11175), '11,175');
    assert.equal(num(-1234567), '-1,234,567');
  });
});
