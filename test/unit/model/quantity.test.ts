/** Kubernetes quantities as the node parser reads them (src/model/quantity.ts), remembered per string. */
import assert from 'node:assert/strict';
import { cpuMillis, memoryBytes, parseQuantity } from '../../../src/model/quantity.js';

describe('quantities', () => {
  it('CPU in millicores: plain, milli, decimal, exponent, numbers; malformed or missing is 0', () => {
    for (let round = 0; round < 2; round++) {
      // the second round answers from the memo: the same values
      assert.equal(cpuMillis('250m'), 250);
      assert.equal(cpuMillis('2'), 2000);
      assert.equal(cpuMillis('1.5'), 1500);
      assert.equal(cpuMillis('1e1'), 10_000);
      assert.equal(cpuMillis(4), 4000);
      assert.equal(cpuMillis('four'), 0);
      assert.equal(cpuMillis('12Q'), 0);
      assert.equal(cpuMillis(undefined), 0);
      assert.equal(cpuMillis(Number.NaN), 0);
    }
  });

  it('memory in bytes: binary and decimal suffixes; malformed is 0', () => {
    for (let round = 0; round < 2; round++) {
      assert.equal(memoryBytes('16Gi'), 16 * 2 ** 30);
      assert.equal(memoryBytes('1k'), 1000);
      assert.equal(memoryBytes('128974848'), 128974848);
      assert.equal(memoryBytes('129e6'), 129e6);
      assert.equal(memoryBytes('-'), 0);
      assert.equal(memoryBytes(null), 0);
    }
  });

  it('parseQuantity throws on what it cannot read (the callers turn that into 0)', () => {
    assert.throws(() => parseQuantity('1.2.3'), /invalid quantity/);
    assert.equal(parseQuantity(' 3Mi '), 3 * 2 ** 20);
  });
});
