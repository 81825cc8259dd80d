import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv6Network } from '../../../src/model/net.js';

describe('model/net: ipv6Network', () => {
  it('the network of an address with its prefix, compressed', () => {
    assert.equal(ipv6Network('fd00:aa::5/64'), 'fd00:aa::/64');
    assert.equal(ipv6Network('2001:db8:1:2:3:4:5:6/48'), '2001:db8:1::/48');
    assert.equal(ipv6Network('2001:DB8::1/128'), '2001:db8::1/128');
    assert.equal(ipv6Network('::1/0'), '::/0');
    assert.equal(ipv6Network('fe80::1:0:0:1/64'), 'fe80::/64');
    assert.equal(ipv6Network('1:0:0:2:0:0:0:3/128'), '1:0:0:2::3/128');
  });

  it('undefined for what is not an IPv6 address with a prefix', () => {
    for (const bad of [
      'fd00::1',
      '10.0.0.1/24',
      'fd00::1::2/64',
      'fd00:aa::5/129',
      'g::1/64',
      '1:2:3:4:5:6:7/64',
      '',
    ])
      assert.equal(ipv6Network(bad), undefined, bad);
  });

  it('two addresses are in one /64 exactly when their first four groups are equal (property)', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const addr = fc.array(group, { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(addr, addr, (a, b) => {
        const same = a.slice(0, 4).every((g, i) => parseInt(g, 16) === parseInt(b[i]!, 16));
        assert.equal(ipv6Network(`${a.join(':')}/64`) === ipv6Network(`${b.join(':')}/64`), same);
      }),
    );
  });
});
