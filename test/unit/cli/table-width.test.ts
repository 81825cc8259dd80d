/** Tables fit the terminal for `-o table` (BaseCommand sets the width); `-o wide` and pipes keep whole cells. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { c, setColor, stripAnsi } from '../../../src/render/color.js';
import { fitColumns, fitText, setTableWidth, table, wrapText } from '../../../src/render/table.js';

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

  it('wraps the widest cells, never cuts them, so that no line is wider than the terminal (a review: selectors read `topology.kubernetes.io/z…` at 80 columns)', () => {
    setTableWidth(80);
    const out = table(head, rows, { indent: 4 });
    for (const l of out.split('\n')) assert.ok(stripAnsi(l).length <= 80, `${l.length}: ${l}`);
    assert.doesNotMatch(out, /…/);
    assert.match(out, /^ {4}NAME\s+NODE \/ NODE/m, 'headings are kept whole');
    // every selector is all there: each cell's lines, joined, are the cell
    const cells = fitColumns([head, ...rows], 76);
    cells
      .slice(1)
      .forEach((r, i) =>
        r.forEach((cell, j) => assert.equal(cell.replace(/\s+/g, ''), rows[i]![j]!.replace(/\s+/g, ''))),
      );
  });

  it('no width (-o wide, a pipe): whole cells', () => {
    setTableWidth(undefined);
    const out = table(head, rows);
    assert.doesNotMatch(out, /…/);
    assert.ok(out.includes("route-reflector == 'true' && topology.kubernetes.io/zone != 'eu-west-1a'"));
  });

  it('fitColumns: within the width whenever the headings fit, and no cell loses a character', () => {
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
          // headings of short words, as the tool's are
          clean.unshift(['NAME', 'NODE SELECTOR', 'PEER SELECTOR']);
          const out = fitColumns(clean, width);
          const widths = [0, 1, 2].map((i) =>
            Math.max(...out.flatMap((r) => r[i]!.split('\n').map((l) => l.length))),
          );
          assert.ok(widths.reduce((a, b) => a + b, 0) + 4 <= width, JSON.stringify(widths));
          out.forEach((r, i) =>
            r.forEach((cell, j) => assert.equal(cell.replace(/\s+/g, ''), clean[i]![j]!.replace(/\s+/g, ''))),
          );
        },
      ),
    );
  });

  it('shrinks the widest columns to one common width, not the widest alone (plan steps read "Drain n…" at 80 columns)', () => {
    const steps = [
      ['#', 'STEP', 'ACTION', 'OBJECT', 'MODEL AFTER STEP'],
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
    const widths = [0, 1, 2, 3, 4].map((i) =>
      Math.max(...out.flatMap((r) => r[i]!.split('\n').map((l) => l.length))),
    );
    assert.ok(widths.reduce((a, b) => a + b, 0) + 8 <= 80, JSON.stringify(widths));
    assert.equal(out[2]![1], 'Drain node-a-003', 'a short step stays whole');
    assert.ok(widths[1]! >= 15, `the step column keeps room: ${widths[1]}`);
    // a wrapped column loses no word: its lines, joined, are the cell
    const lines = out[1]![1]!.split('\n');
    assert.ok(lines.length > 1);
    for (const l of lines) assert.ok(l.length <= widths[1]!, l);
    assert.equal(lines.join('').replace(/\s/g, ''), steps[1]![1]!.replace(/\s/g, ''));
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

  it('fitText: lines within the width are untouched; a longer one wraps at spaces, never inside a word', () => {
    const text = [
      'CALICO   v3.31.3 · operator install · API crd.projectcalico.org/v1 · backend bird (DaemonSet calico-system/calico-node env CALICO_NETWORKING_BACKEND)',
      'short line',
      "    fix: peer every client with every route reflector of cluster ID 244.0.0.1 (a BGPPeer with nodeSelector: all() and peerSelector: route-reflector == 'true')",
      'Cost (the guide, node to remote pod): native 0.2680 ms / 4.67 Gbit/s, IPIP 0.2973 ms / 4.43 Gbit/s. -o wide: per-mode reasons.',
    ].join('\n');
    const out = fitText(text, 80).split('\n');
    for (const l of out) assert.ok(l.length <= 80, `${l.length}: ${l}`);
    assert.ok(out.includes('short line'));
    // CALICO's continuation lines start under "v3.31.3"; fix:'s under its text
    const calico = out.findIndex((l) => l.startsWith('CALICO'));
    assert.match(out[calico + 1]!, /^ {9}\S/);
    const fix = out.findIndex((l) => l.startsWith('    fix:'));
    assert.match(out[fix + 1]!, /^ {9}\S/);
    // no word is split: every word of the input is a word of the output
    const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);
    assert.deepEqual(words(out.join(' ')), words(text));
  });

  it('fitText: any text, any width from 40: no line wider than the width, no character lost', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 200 }), { maxLength: 5 }),
        fc.integer({ min: 40, max: 120 }),
        (ls, width) => {
          const text = ls.map((x) => [...x].filter((ch) => ch >= ' ' && ch <= '~').join('')).join('\n');
          const out = fitText(text, width);
          for (const l of out.split('\n'))
            assert.ok(l.length <= width, `${l.length} > ${width}: ${JSON.stringify(l)}`);
          assert.equal(out.replace(/\s+/g, ''), text.replace(/\s+/g, ''));
        },
      ),
    );
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
      const out = fitColumns(
        [
          ['#', 'STEP', 'MODEL'],
          ['1', 'x'.repeat(40), verdict],
        ],
        60,
      );
      const lines = out[1]![2]!.split('\n');
      assert.ok(lines.length > 1, out[1]![2]);
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

    it('fitText: a long finding wraps four columns in (under its fix:), each line keeps and closes its colour', () => {
      const line = `${c.red('✖')} ${c.bold('BGP_NODES_UNREACHABLE')}  ${c.yellow('684 node pairs of 60 BGP nodes cannot reach each other: node-b-003 does not learn node-a-003 routes')}`;
      const out = fitText(line, 60).split('\n');
      assert.ok(out.length > 1, out.join('\n'));
      const hang = 4;
      for (const l of out) assert.ok(visible(l).length <= 60, visible(l));
      for (const l of out.slice(1)) {
        assert.equal(
          visible(l).length - visible(l).trimStart().length,
          hang,
          `continuation under fix: ${visible(l)}`,
        );
        assert.ok(l.trimStart().startsWith('\u001b[33m'), JSON.stringify(l));
        assert.ok(/\u001b\[(0|39)m$/.test(l), JSON.stringify(l));
      }
      assert.equal(out.map(visible).join(' ').replace(/\s+/g, ' '), visible(line).replace(/\s+/g, ' '));
    });
  });
});
