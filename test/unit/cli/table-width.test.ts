/** Tables fit the terminal for `-o table` (BaseCommand sets the width); `-o wide` and pipes keep whole cells. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { setColor, stripAnsi } from '../../../src/render/color.js';
import { fitColumns, setTableWidth, table } from '../../../src/render/table.js';

describe('render/table: fitting the terminal', () => {
  before(() => setColor(false));
  after(() => setTableWidth(undefined));

  const head = ['NAME', 'NODE / NODE SELECTOR', 'PEER IP / PEER SELECTOR'];
  const rows = [
    ['rr-mesh', "route-reflector == 'true'", "route-reflector == 'true'"],
    [
      'zones-bc-to-their-rrs',
      "topology.kubernetes.io/zone != 'eu-west-1a'",
      "route-reflector == 'true' && topology.kubernetes.io/zone != 'eu-west-1a'",
    ],
  ];

  it('cuts the widest cells with … so that no line is wider than the terminal', () => {
    setTableWidth(100);
    const out = table(head, rows, { indent: 4 });
    for (const l of out.split('\n')) assert.ok(stripAnsi(l).length <= 100, `${l.length}: ${l}`);
    assert.match(out, /…/);
    assert.match(out, /^ {4}NAME\s+NODE \/ NODE SELECTOR/m, 'short columns are kept whole');
  });

  it('no width (-o wide, a pipe): whole cells', () => {
    setTableWidth(undefined);
    const out = table(head, rows);
    assert.doesNotMatch(out, /…/);
    assert.ok(out.includes("route-reflector == 'true' && topology.kubernetes.io/zone != 'eu-west-1a'"));
  });

  it('fitColumns: within the width whenever every column can shrink to 8, and cells only ever shortened', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ maxLength: 60 }), { minLength: 3, maxLength: 3 }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 40, max: 200 }),
        (rs, width) => {
          // printable ASCII only: the width of a cell is its length
          const clean = rs.map((r) => r.map((x) => [...x].filter((ch) => ch >= ' ' && ch <= '~').join('')));
          const out = fitColumns(clean, width);
          const widths = [0, 1, 2].map((i) => Math.max(...out.map((r) => r[i]!.length)));
          assert.ok(widths.reduce((a, b) => a + b, 0) + 4 <= width);
          out.forEach((r, i) => r.forEach((cell, j) => assert.ok(cell.length <= clean[i]![j]!.length)));
        },
      ),
    );
  });
});
