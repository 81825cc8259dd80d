import assert from 'node:assert/strict';
import { parsePrometheusText, parseSampleLine, samplesOf, sumOf } from '../../../src/typha/prometheus.js';
import { TYPHA_METRICS_V331 } from './fixtures.js';

describe('typha/prometheus: text format parser', () => {
  it('parses names, labels, values and TYPE lines', () => {
    const m = parsePrometheusText(TYPHA_METRICS_V331);
    assert.equal(m.invalidLines, 0);
    assert.equal(m.types['typha_connections_active'], 'gauge');
    assert.equal(m.types['typha_client_latency_secs'], 'summary');
    assert.deepEqual(samplesOf(m, 'typha_connections_streaming', { syncer: 'tunnel-ip-allocation' }), [
      { name: 'typha_connections_streaming', labels: { syncer: 'tunnel-ip-allocation' }, value: 49 },
    ]);
    assert.equal(sumOf(m, 'typha_connections_streaming'), 199);
    assert.equal(sumOf(m, 'process_resident_memory_bytes'), 84869120);
    assert.equal(sumOf(m, 'no_such_metric'), null);
  });

  it('handles escapes in label values, spaces, timestamps and special values', () => {
    assert.deepEqual(parseSampleLine('m{a="x\\"y",b="back\\\\slash",c="new\\nline"} 1'), {
      name: 'm',
      labels: { a: 'x"y', b: 'back\\slash', c: 'new\nline' },
      value: 1,
    });
    assert.deepEqual(parseSampleLine('m{ a = "1" , b="2", } 2.5 1700000000000'), {
      name: 'm',
      labels: { a: '1', b: '2' },
      value: 2.5,
    });
    assert.deepEqual(parseSampleLine('m{} -3e-2'), { name: 'm', labels: {}, value: -0.03 });
    assert.equal(parseSampleLine('m +Inf')?.value, Infinity);
    assert.equal(parseSampleLine('m -Inf')?.value, -Infinity);
    assert.ok(Number.isNaN(parseSampleLine('m NaN')?.value));
    assert.deepEqual(parseSampleLine('m{a="{},= "} 7'), { name: 'm', labels: { a: '{},= ' }, value: 7 });
    assert.equal(parseSampleLine('ns:sub_metric 1')?.name, 'ns:sub_metric');
  });

  it('skips and counts malformed lines without losing the good ones', () => {
    const text = [
      'good 1',
      'bad',
      'also{bad 2',
      'm{a="unterminated} 3',
      '9starts_with_digit 1',
      'm{a=1} 2',
      'v abc',
      'v 1 2 3',
      'ts 1 notatime',
      'fine{x="y"} 4',
      '',
    ].join('\n');
    const m = parsePrometheusText(text);
    assert.deepEqual(
      m.samples.map((s) => s.name),
      ['good', 'fine'],
    );
    assert.equal(m.invalidLines, 8);
  });

  it('accepts CRLF line ends, comments and blank lines', () => {
    const m = parsePrometheusText('# a comment\r\n\r\n# HELP x help text\r\n# TYPE x counter\r\nx 5\r\n');
    assert.equal(m.invalidLines, 0);
    assert.equal(sumOf(m, 'x'), 5);
    assert.equal(m.types['x'], 'counter');
  });

  it('sums ignore non-finite samples', () => {
    assert.equal(sumOf(parsePrometheusText('x{a="1"} 1\nx{a="2"} NaN\nx{a="3"} 2'), 'x'), 3);
    assert.equal(sumOf(parsePrometheusText('x NaN'), 'x'), null);
  });
});
