/** Tables for the terminal (cli-table3), borderless like kubectl's, with optional colour. */
import Table from 'cli-table3';
import { c, stripAnsi } from './color.js';
import { maxOf } from '../model/arrays.js';
import { tableWidth } from './table-width.js';

export { setTableWidth } from './table-width.js';

/** A visible character and the SGR codes open at it (`open`: the escapes that turn them on, '' for none). */
interface Styled {
  ch: string;
  open: string;
}

/** The code that closes each opening SGR code (ours come from render/color.ts; 0 closes all). */
function closes(close: number, open: number): boolean {
  if (close === 39) return (open >= 30 && open <= 38) || (open >= 90 && open <= 97);
  if (close === 49) return (open >= 40 && open <= 48) || (open >= 100 && open <= 107);
  if (close === 22) return open === 1 || open === 2;
  return close >= 23 && close <= 29 && open === close - 20;
}

/** Splits a cell into visible characters, each with the colour open at it. */
function styledChars(text: string): Styled[] {
  const out: Styled[] = [];
  let open: string[] = [];
  // eslint-disable-next-line no-control-regex
  for (const m of text.matchAll(/\u001b\[([0-9;]*)m|[^\u001b]+|\u001b/gu)) {
    if (m[1] === undefined) {
      const o = open.map((code) => `\u001b[${code}m`).join('');
      for (const ch of m[0]) out.push({ ch, open: o });
      continue;
    }
    const first = Number(m[1].split(';')[0] || 0);
    if (first === 0) open = [];
    else if ([22, 23, 24, 27, 28, 29, 39, 49].includes(first))
      open = open.filter((code) => !closes(first, Number(code.split(';')[0])));
    else open.push(m[1]);
  }
  return out;
}

/** Styled characters back to a string whose colour is closed at its end (a line of a table stands alone). */
function renderStyled(chars: readonly Styled[]): string {
  let s = '';
  let open = '';
  for (const { ch, open: o } of chars) {
    if (o !== open) {
      if (open) s += '\u001b[0m';
      s += o;
      open = o;
    }
    s += ch;
  }
  return open ? `${s}\u001b[0m` : s;
}

const BREAK_AFTER = new Set(['/', '=', ',', '-', '.', ':', ';']);

/**
 * Greedy word wrap to `width` columns (a word longer than that is cut into pieces, after punctuation where it can). Colour survives: each
 * line reopens the colour open at its first character and closes it at its end.
 */
export function wrapText(text: string, width: number): string[] {
  const lines: Styled[][] = [];
  let line: Styled[] = [];
  const words: Styled[][] = [[]];
  for (const sc of styledChars(text)) {
    if (/\s/.test(sc.ch)) {
      if (words[words.length - 1]!.length) words.push([]);
    } else words[words.length - 1]!.push(sc);
  }
  for (let word of words.filter((w) => w.length)) {
    while (word.length > width) {
      if (line.length) lines.push(line);
      // after the last punctuation that fits (route-reflector=|true, BGPPeer/|peer-with-|...), else at the width
      let cut = width;
      for (let i = width - 1; i > 0; i--)
        if (BREAK_AFTER.has(word[i]!.ch)) {
          cut = i + 1;
          break;
        }
      lines.push(word.slice(0, cut));
      word = word.slice(cut);
      line = [];
    }
    if (!line.length) line = word;
    else if (line.length + 1 + word.length <= width) {
      // the space between two words of one colour keeps it (no close and reopen around it)
      const before = line[line.length - 1]!.open;
      line = [...line, { ch: ' ', open: before === word[0]!.open ? before : '' }, ...word];
    } else {
      lines.push(line);
      line = word;
    }
  }
  if (line.length || !lines.length) lines.push(line);
  return lines.map(renderStyled);
}

/** The first `width` - 1 visible characters and `…`, colour kept and closed before the `…`. */
function cutText(text: string, width: number): string {
  return `${renderStyled(styledChars(text).slice(0, width - 1))}…`;
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
      if (stripAnsi(cell).length <= widths[i]!) return cell;
      return wrap.has(i) ? wrapText(cell, widths[i]!).join('\n') : cutText(cell, widths[i]!);
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
