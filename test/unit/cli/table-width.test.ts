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

  it('cuts the widest columns to one common width, not the widest alone to 8 (plan steps read "Drain n…" at 80 columns)', () => {
    const steps = [
      [
        '1',
        'Create BGPPeer peer-with-route-reflectors (every node peers with the reflectors)',
        'create',
        'BGPPeer/peer-with-route-reflectors',
        '✔ all reachable · N-1 ✔ · zone loss ✔',
      ],
      ['3', 'Drain node-a-003', 'drain', 'Node/node-a-003', '✔ all reachable'],
    ];
    const out = fitColumns(steps, 80);
    const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...out.map((r) => r[i]!.length)));
    assert.ok(widths.reduce((a, b) => a + b, 0) + 8 <= 80, JSON.stringify(widths));
    assert.equal(out[1]![1], 'Drain node-a-003', 'a short step stays whole');
    assert.ok(widths[1]! >= 15, `the step column keeps room: ${widths[1]}`);
    // a wrapped column loses no word: its lines, joined, are the cell
    const wrapped = fitColumns(steps, 80, 2, new Set([1]));
    const lines = wrapped[0]![1]!.split('\n');
    assert.ok(lines.length > 1);
    for (const l of lines) assert.ok(l.length <= widths[1]!, l);
    assert.equal(lines.join('').replace(/\s/g, ''), steps[0]![1]!.replace(/\s/g, ''));
  });
});
