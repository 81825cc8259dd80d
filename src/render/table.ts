/** Tables for the terminal (cli-table3), borderless like kubectl's, with optional colour. */
import Table from 'cli-table3';
import { c } from './color.js';
import { maxOf } from '../model/arrays.js';

export function table(head: string[], rows: (string | number)[][], opts: { indent?: number } = {}): string {
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
