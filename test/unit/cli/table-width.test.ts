/** Tables fit the terminal for `-o table` (BaseCommand sets the width); `-o wide` and pipes keep whole cells. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { c, setColor, stripAnsi } from '../../../src/render/color.js';
import { fitColumns, setTableWidth, table, wrapText } from '../../../src/render/table.js';

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

  it('a word longer than the column breaks after punctuation where it can, not in the middle of a name', () => {
    assert.deepEqual(wrapText('(label route-reflector=true, cluster ID 244.0.0.1)', 20), [
      '(label',
      'route-reflector=',
      'true, cluster ID',
      '244.0.0.1)',
    ]);
    assert.deepEqual(wrapText('BGPPeer/peer-with-route-reflectors', 12), [
      'BGPPeer/',
      'peer-with-',
      'route-',
      'reflectors',
    ]);
    // no punctuation: cut at the width
    assert.deepEqual(wrapText('abcdefghijklmnop', 5), ['abcde', 'fghij', 'klmno', 'p']);
  });

  /* eslint-disable no-control-regex -- the tests read the ANSI escapes themselves */
  describe('with colour on', () => {
    before(() => setColor(true));
    after(() => setColor(false));
    const visible = (line: string): string => stripAnsi(line);
    /** the SGR codes open at the end of `line` (a reset or a matching close ends them) */
    const colouredChars = (line: string): string[] => {
      const out: string[] = [];
      let open = '';
      for (const m of line.matchAll(/(\u001b\[[0-9;]*m)|([^\u001b]+)/gu)) {
        if (m[1]) open = m[1] === '\u001b[0m' || m[1] === '\u001b[39m' ? '' : m[1];
        else for (const ch of m[2]!) if (open) out.push(ch);
      }
      return out;
    };

    it('a wrapped cell keeps its colour on every line, and each line closes it (a review: wrapped verdicts lost their colour)', () => {
      const verdict = c.red('✖ node-a-001 cannot reach node-b-002 once the mesh is off');
      const out = fitColumns([['1', 'x'.repeat(40), verdict]], 60, 2, new Set([2]));
      const lines = out[0]![2]!.split('\n');
      assert.ok(lines.length > 1, out[0]![2]);
      for (const l of lines) {
        assert.equal(
          colouredChars(l).join(''),
          visible(l),
          `every visible character of ${JSON.stringify(l)} is red`,
        );
        assert.ok(l.startsWith('\u001b[31m'), JSON.stringify(l));
        assert.ok(/\u001b\[(0|39)m$/.test(l), `the line closes its colour: ${JSON.stringify(l)}`);
      }
      assert.equal(lines.map(visible).join(' '), stripAnsi(verdict));
    });

    it('a cut cell keeps its colour up to the …, and colour inside a cell stays where it was', () => {
      const cell = `${c.green('✔')} all reachable · N-1 ${c.green('✔')} · zone loss ${c.yellow('▲ zone b')}`;
      const out = fitColumns([['1', 'y'.repeat(40), cell]], 60);
      const cut = out[0]![2]!;
      assert.ok(visible(cut).endsWith('…'), cut);
      assert.ok(cut.startsWith('\u001b[32m✔'), JSON.stringify(cut));
      assert.ok(
        !/\u001b\[3[0-9]m[^\u001b]*$/.test(cut.replace(/…$/, '')),
        `no colour left open: ${JSON.stringify(cut)}`,
      );
      const plainCells = fitColumns([['1', 'y'.repeat(40), stripAnsi(cell)]], 60);
      assert.equal(visible(cut), plainCells[0]![2], 'the same characters as without colour');
    });
  });
});
