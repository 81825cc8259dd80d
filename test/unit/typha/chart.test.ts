import assert from 'node:assert/strict';
import { stepChart } from '../../../src/render/chart.js';
import { setColor, colorEnabled, stripAnsi } from '../../../src/render/color.js';
import { operatorTyphaReplicas } from '../../../src/typha/formula.js';

describe('render/chart: step chart', () => {
  let saved: boolean;
  before(() => {
    saved = colorEnabled();
    setColor(false);
  });
  after(() => setColor(saved));

  it('ASCII: only printable ASCII, the mark and its label, ends and mark ticked', () => {
    const s = stepChart({
      f: operatorTyphaReplicas,
      xMax: 1500,
      width: 60,
      height: 8,
      unicode: false,
      mark: { x: 150, label: 'now' },
    });
    assert.match(s, /^[\x20-\x7e\n]*$/, 'ASCII only');
    const lines = s.split('\n');
    assert.ok(
      lines.some((l) => l.includes('o')),
      'the mark',
    );
    assert.ok(
      lines.some((l) => /\^ now/.test(l)),
      'the mark label',
    );
    const xLabels = lines[lines.length - 2]!;
    assert.match(xLabels, /^\s+0\s+150\s+1500$/);
    // the y axis shows the top value and the marked value
    assert.match(lines[0]!, /^\s+9 \|/);
    assert.ok(
      lines.some((l) => /^\s+3 \|.*o/.test(l)),
      'the mark sits on the row labelled with its value',
    );
  });

  it('unicode: box-drawing characters and a ● mark', () => {
    const s = stepChart({ f: operatorTyphaReplicas, xMax: 1500, unicode: true, mark: { x: 150 } });
    assert.ok(s.includes('●'));
    assert.ok(s.includes('┌') && s.includes('┘') && s.includes('─'));
    assert.ok(!/[+|]/.test(s.replace(/[^+|]/g, '')), 'no ASCII fallback characters');
  });

  it('fits 80 columns with a 60-column plot and six-digit labels', () => {
    for (const xMax of [10, 1500, 12_000, 1_000_000]) {
      const s = stepChart({
        f: operatorTyphaReplicas,
        xMax,
        width: 60,
        unicode: true,
        mark: {
          x: Math.floor(xMax / 10),
          label: `now: ${xMax / 10} nodes, ${operatorTyphaReplicas(Math.floor(xMax / 10))} replicas`,
        },
      });
      for (const l of stripAnsi(s).split('\n'))
        assert.ok([...l].length <= 80, `${xMax}: ${l.length} > 80: ${l}`);
    }
  });

  it('uses one row per value when the values are few, and rises monotonically for a step function', () => {
    const s = stepChart({
      f: (x) => (x < 50 ? 1 : x < 80 ? 2 : 3),
      xMax: 100,
      width: 20,
      height: 8,
      unicode: false,
    });
    const rows = s.split('\n').filter((l) => l.includes('|'));
    assert.equal(rows.length, 3, s);
    // the line's first column is on the bottom row and its last on the top row
    assert.match(rows[2]!, /\|-/);
    assert.match(rows[0]!, /-$/);
  });

  it('draws falling steps too, and a constant function', () => {
    const s = stepChart({ f: (x) => (x < 50 ? 3 : 1), xMax: 100, width: 20, unicode: true });
    assert.ok(s.includes('┐') && s.includes('└'));
    const flat = stepChart({ f: () => 5, xMax: 100, width: 20, unicode: false });
    assert.ok(flat.includes('--------'));
  });

  it('drops a tick label that would collide with another', () => {
    const s = stepChart({
      f: operatorTyphaReplicas,
      xMax: 12_000,
      width: 60,
      unicode: false,
      mark: { x: 1200 },
      ticks: [1400],
      formatX: (x) => x.toLocaleString('en-US'),
    });
    const xLabels = s.split('\n').at(-1)!;
    assert.match(xLabels, /0\s+1,200\s+12,000/);
    assert.ok(!xLabels.includes('1,400'));
  });
});
