/** Tables for the terminal (cli-table3), borderless like kubectl's, with optional colour. */
import Table from 'cli-table3';
import { c, stripAnsi } from './color.js';
import { longestPiece, wrapText } from './wrap.js';
import { maxOf } from '../model/arrays.js';
import { tableWidth } from './table-width.js';

export { setTableWidth } from './table-width.js';
export { fitText, wrapText } from './wrap.js';

/**
 * The column widths that fit `rows` (the first is the heading) into `width`, or undefined when they fit as
 * they are. The widest columns share one common width, as little below their natural width as needed, so that
 * no single column is squeezed to nothing; a column is never narrower than the longest word of its heading
 * (nor than 6 characters), so headings stay whole.
 */
function columnWidths(rows: string[][], width: number, gap: number): number[] | undefined {
  const n = Math.max(...rows.map((r) => r.length));
  const natural = Array.from({ length: n }, (_, i) =>
    Math.max(0, ...rows.map((r) => stripAnsi(r[i] ?? '').length)),
  );
  const floor = natural.map((w, i) =>
    Math.min(
      w,
      Math.max(
        6,
        ...stripAnsi(rows[0]![i] ?? '')
          .split(/\s+/)
          .map((x) => x.length),
      ),
    ),
  );
  const room = width - gap * (n - 1);
  const widthsAt = (cap: number): number[] => natural.map((w, i) => Math.min(w, Math.max(cap, floor[i]!)));
  const sum = (cap: number): number => widthsAt(cap).reduce((a, w) => a + w, 0);
  if (sum(Infinity) <= room) return undefined;
  // the largest common cap that fits (binary search over 1..widest); below the floors nothing shrinks further
  let lo = 1;
  let hi = Math.max(...natural);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(mid) <= room) lo = mid;
    else hi = mid - 1;
  }
  return widthsAt(lo);
}

/**
 * Fits the rows (the first is the heading) into `width` by wrapping cells onto more lines, never cutting them:
 * at 80 columns a selector, an object's name or a finding code is what the operator needs whole (a review found
 * `topology.kubernetes.io/z…` and `refused: NATIVE_ACROSS_SUB…`).
 */
export function fitColumns(rows: string[][], width: number, gap = 2): string[][] {
  if (!rows.length) return rows;
  const widths = columnWidths(rows, width, gap);
  return widths ? wrapCells(rows, widths) : rows;
}

/** Each cell wider than its column wrapped onto more lines. */
function wrapCells(rows: string[][], widths: number[]): string[][] {
  return rows.map((r) =>
    r.map((cell, i) => (stripAnsi(cell).length <= widths[i]! ? cell : wrapText(cell, widths[i]!).join('\n'))),
  );
}

/** Whether some word of a cell, even broken after its punctuation, is wider than its column. */
function breaksWords(rows: string[][], widths: number[]): boolean {
  return rows.some((r) => r.some((cell, i) => longestPiece(stripAnsi(cell)) > widths[i]!));
}

/**
 * A table too wide for the terminal even when wrapped without breaking words: each row as a block, its first
 * cell and then one `HEADING  value` line per other cell (values wrapped under themselves).
 */
function stacked(head: string[], rows: string[][], width: number, pad: string): string {
  const w = maxOf(
    head.slice(1).map((h) => h.length),
    0,
  );
  const hang = w + 4;
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${pad}${c.bold(r[0] ?? '')}`);
    r.slice(1).forEach((cell, k) => {
      const lines = width - pad.length - hang >= 24 ? wrapText(cell, width - pad.length - hang) : [cell];
      lines.forEach((l, i) =>
        out.push(`${pad}${i === 0 ? `  ${c.gray(head[k + 1]!.padEnd(w))}  ` : ' '.repeat(hang)}${l}`),
      );
    });
  }
  return out.join('\n');
}

export function table(head: string[], rows: (string | number)[][], opts: { indent?: number } = {}): string {
  const maxWidth = tableWidth();
  if (maxWidth !== undefined) {
    const all = [head, ...rows.map((r) => r.map((x) => String(x)))];
    const widths = columnWidths(all, maxWidth - (opts.indent ?? 0), 2);
    if (widths) {
      // a column so narrow that a name or a word would be broken inside: one block per row instead
      if (breaksWords(all, widths))
        return stacked(head, all.slice(1), maxWidth, ' '.repeat(opts.indent ?? 0));
      const fitted = wrapCells(all, widths);
      head = fitted[0]!;
      rows = fitted.slice(1);
    }
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
