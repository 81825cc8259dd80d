/** Tables for the terminal (cli-table3), borderless like kubectl's, with optional colour. */
import Table from 'cli-table3';
import { c, stripAnsi } from './color.js';
import { maxOf } from '../model/arrays.js';
import { tableWidth } from './table-width.js';

export { setTableWidth } from './table-width.js';

/** Greedy word wrap of plain text to `width` columns (a word longer than that is cut into pieces). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line || !lines.length) lines.push(line);
  return lines;
}

/**
 * Fits the rows into `width`: the widest columns are cut to one common width (never below 8 characters), as
 * little as needed, so that no single column loses everything (a review found plan steps cut to "Drain n…" at
 * 80 columns while the other columns stayed whole). Cut cells end in `…`; cells of `wrap` columns are wrapped
 * onto more lines instead.
 */
export function fitColumns(
  rows: string[][],
  width: number,
  gap = 2,
  wrap: ReadonlySet<number> = new Set(),
): string[][] {
  if (!rows.length) return rows;
  const n = Math.max(...rows.map((r) => r.length));
  const natural = Array.from({ length: n }, (_, i) =>
    Math.max(0, ...rows.map((r) => stripAnsi(r[i] ?? '').length)),
  );
  const room = width - gap * (n - 1);
  const sum = (cap: number): number => natural.reduce((a, w) => a + Math.min(w, cap), 0);
  if (sum(Infinity) <= room) return rows;
  // the largest common cap that fits (binary search over 8..widest)
  let lo = 8;
  let hi = Math.max(...natural);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(mid) <= room) lo = mid;
    else hi = mid - 1;
  }
  const widths = natural.map((w) => Math.min(w, lo));
  return rows.map((r) =>
    r.map((cell, i) => {
      const plain = stripAnsi(cell);
      if (plain.length <= widths[i]!) return cell;
      return wrap.has(i) ? wrapText(plain, widths[i]!).join('\n') : `${plain.slice(0, widths[i]! - 1)}…`;
    }),
  );
}

export function table(
  head: string[],
  rows: (string | number)[][],
  opts: { indent?: number; wrap?: number[] } = {},
): string {
  const maxWidth = tableWidth();
  if (maxWidth !== undefined) {
    const fitted = fitColumns(
      [head, ...rows.map((r) => r.map((x) => String(x)))],
      maxWidth - (opts.indent ?? 0),
      2,
      new Set(opts.wrap ?? []),
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
