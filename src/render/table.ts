/** Tables for the terminal (cli-table3), borderless like kubectl's, with optional colour. */
import Table from 'cli-table3';
import { c, stripAnsi } from './color.js';
import { maxOf } from '../model/arrays.js';
import { tableWidth } from './table-width.js';

export { setTableWidth } from './table-width.js';

/** Cuts the widest columns (never below 8 characters) until the rows fit `width`, marking cut cells with `…`. */
export function fitColumns(rows: string[][], width: number, gap = 2): string[][] {
  if (!rows.length) return rows;
  const n = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) =>
    Math.max(0, ...rows.map((r) => stripAnsi(r[i] ?? '').length)),
  );
  const total = (): number => widths.reduce((a, b) => a + b, 0) + gap * (n - 1);
  while (total() > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= 8) break;
    widths[widest] = Math.max(8, widths[widest]! - (total() - width));
  }
  return rows.map((r) =>
    r.map((cell, i) => {
      const plain = stripAnsi(cell);
      return plain.length > widths[i]! ? `${plain.slice(0, widths[i]! - 1)}…` : cell;
    }),
  );
}

export function table(head: string[], rows: (string | number)[][], opts: { indent?: number } = {}): string {
  const maxWidth = tableWidth();
  if (maxWidth !== undefined) {
    const fitted = fitColumns(
      [head, ...rows.map((r) => r.map((x) => String(x)))],
      maxWidth - (opts.indent ?? 0),
    );
    head = fitted[0]!;
    rows = fitted.slice(1);
  }
  const t = new Table({
    head: head.map((h) => c.bold(h)),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    wordWrap: false,
  });
  for (const r of rows) t.push(r.map((x) => String(x)));
  const pad = ' '.repeat(opts.indent ?? 0);
  return t
    .toString()
    .split('\n')
    .map((l) => pad + l.trimEnd())
    .join('\n');
}

/** `key: value` lines, keys aligned. */
export function kv(pairs: [string, string][], indent = 2): string {
  const w = maxOf(
    pairs.map(([k]) => k.length),
    0,
  );
  return pairs.map(([k, v]) => `${' '.repeat(indent)}${c.gray(k.padEnd(w))}  ${v}`).join('\n');
}
