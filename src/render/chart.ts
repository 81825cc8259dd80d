/**
 * A small, dependency-free step chart for the terminal: y = f(x) for integer x in [xMin, xMax], drawn with
 * box-drawing characters (or plain ASCII `-|+` when unicode is off), a marked point, and labelled axes.
 * Built for "replicas vs nodes": f is a step function, and a chart must fit 80 columns.
 *
 *    9 ┤                                                   ┌──
 *      ┤                                            ┌──────┘
 *    3 ┤───●─────────────┘ ...
 *      └─┬──────────────────────────────────────────┬──────┬
 *        0                                         1200   1500
 */
import { c } from './color.js';
import { maxOf, minOf } from '../model/arrays.js';

export interface StepChartOptions {
  /** The function to draw (called once per column, at integer x). */
  f: (x: number) => number;
  xMin?: number;
  xMax: number;
  /** Plot columns (default 56). */
  width?: number;
  /** Plot rows at most (default 8; fewer when the values need fewer). */
  height?: number;
  /** Box-drawing characters and ● (else ASCII). */
  unicode: boolean;
  /** A point to mark on the line (e.g. today's node count), with an optional label under the axis. */
  mark?: { x: number; label?: string } | undefined;
  /** Extra x values to tick and label on the axis. */
  ticks?: number[];
  /** Left indent (default 2). */
  indent?: number;
  /** How x values are printed on the axis (default String). */
  formatX?: (x: number) => string;
}

interface Cell {
  ch: string;
  kind: 'blank' | 'line' | 'mark';
}

const BOX = {
  h: '─',
  v: '│',
  upL: '┘',
  upR: '┌',
  downL: '┐',
  downR: '└',
  mark: '●',
  axisY: '┤',
  corner: '└',
  axisX: '─',
  tick: '┬',
  arrow: '▲',
};
const ASCII = {
  h: '-',
  v: '|',
  upL: '+',
  upR: '+',
  downL: '+',
  downR: '+',
  mark: 'o',
  axisY: '|',
  corner: '+',
  axisX: '-',
  tick: '+',
  arrow: '^',
};

export function stepChart(o: StepChartOptions): string {
  const g = o.unicode ? BOX : ASCII;
  const fmtX = o.formatX ?? String;
  const fmt = String;
  const xMin = o.xMin ?? 0;
  const xMax = Math.max(o.xMax, xMin + 1);
  const W = Math.max(8, o.width ?? 56);
  const xs = Array.from({ length: W }, (_, i) => xMin + Math.round((i * (xMax - xMin)) / (W - 1)));
  const ys = xs.map((x) => o.f(x));
  const yMin = minOf(ys);
  const yMax = maxOf(ys, yMin + 1);
  const H = Math.max(2, Math.min(o.height ?? 8, yMax - yMin + 1));
  const rowOf = (v: number): number => Math.round(((v - yMin) / (yMax - yMin)) * (H - 1)); // 0 = bottom
  const grid: Cell[][] = Array.from({ length: H }, () =>
    Array.from({ length: W }, () => ({ ch: ' ', kind: 'blank' as const })),
  );
  const set = (col: number, row: number, ch: string, kind: Cell['kind'] = 'line'): void => {
    const r = H - 1 - row;
    if (grid[r]?.[col]) grid[r]![col] = { ch, kind };
  };

  let prev = rowOf(ys[0]!);
  for (let i = 0; i < W; i++) {
    const r = rowOf(ys[i]!);
    if (i === 0 || r === prev) set(i, r, g.h);
    else if (r > prev) {
      set(i, prev, g.upL);
      for (let k = prev + 1; k < r; k++) set(i, k, g.v);
      set(i, r, g.upR);
    } else {
      set(i, prev, g.downL);
      for (let k = r + 1; k < prev; k++) set(i, k, g.v);
      set(i, r, g.downR);
    }
    prev = r;
  }

  let markCol: number | undefined;
  if (o.mark && o.mark.x >= xMin && o.mark.x <= xMax) {
    markCol = Math.round(((o.mark.x - xMin) / (xMax - xMin)) * (W - 1));
    set(markCol, rowOf(o.f(o.mark.x)), g.mark, 'mark');
  }

  // y labels: top, bottom (when each row is one value), and the marked value's row
  const labels = new Map<number, string>();
  const valueAt = (row: number): number => Math.round(yMin + (row / (H - 1)) * (yMax - yMin));
  labels.set(H - 1, fmt(yMax));
  // scaled (a row holds several values): only the top and the mark are labelled, exact values both
  if (H === yMax - yMin + 1) labels.set(0, fmt(valueAt(0)));
  if (markCol !== undefined) {
    const v = o.f(o.mark!.x);
    labels.set(rowOf(v), fmt(v));
  }
  const yw = maxOf([...labels.values()].map((s) => s.length));
  const pad = ' '.repeat(o.indent ?? 2);
  const out: string[] = [];
  for (let r = 0; r < H; r++) {
    const row = H - 1 - r;
    const label = (labels.get(row) ?? '').padStart(yw);
    const body = paint(grid[r]!);
    out.push(`${pad}${c.gray(`${label} ${g.axisY}`)}${body}`.trimEnd());
  }

  // x axis with ticks at xMin, xMax, the extra ticks and the mark
  const tickCols = new Map<number, number>();
  const addTick = (x: number): void => {
    if (x < xMin || x > xMax) return;
    const col = Math.round(((x - xMin) / (xMax - xMin)) * (W - 1));
    // a tick right next to another one reads as noise: keep the first
    if ([...tickCols.keys()].some((k) => Math.abs(k - col) <= 1)) return;
    tickCols.set(col, x);
  };
  if (o.mark) addTick(o.mark.x);
  addTick(xMin);
  addTick(xMax);
  for (const t of o.ticks ?? []) addTick(t);
  const axis = Array.from({ length: W }, (_, i) => (tickCols.has(i) ? g.tick : g.axisX)).join('');
  out.push(`${pad}${' '.repeat(yw + 1)}${c.gray(g.corner + axis)}`);

  // tick labels: the mark's first, then the ends, then the extra ticks; one that would touch another is left out
  const line: string[] = Array.from({ length: W + 12 }, () => ' ');
  const taken: boolean[] = Array.from({ length: W + 12 }, () => false);
  const colOf = (x: number): number => Math.round(((x - xMin) / (xMax - xMin)) * (W - 1));
  const order = [...tickCols.values()];
  for (const x of order) {
    const col = colOf(x);
    const s = fmtX(x);
    // +1: the axis corner takes the first column
    let start = col + 1 - Math.floor((s.length - 1) / 2);
    if (col === W - 1) start = W + 1 - s.length;
    start = Math.max(0, start);
    let free = true;
    for (let k = start - 1; k <= start + s.length; k++) if (k >= 0 && taken[k]) free = false;
    if (!free) continue;
    for (let k = 0; k < s.length; k++) {
      line[start + k] = s[k]!;
      taken[start + k] = true;
    }
  }
  out.push(`${pad}${' '.repeat(yw + 1)}${line.join('').trimEnd()}`);
  if (o.mark?.label && markCol !== undefined) {
    const text = `${g.arrow} ${o.mark.label}`;
    const start = Math.max(0, Math.min(markCol + 1, W + 1 - text.length));
    out.push(`${pad}${' '.repeat(yw + 1)}${' '.repeat(start)}${c.yellow(text)}`);
  }
  return out.join('\n');
}

/** A row of cells as text, one colour escape per run of cells of the same kind. */
function paint(cells: Cell[]): string {
  let out = '';
  let i = 0;
  while (i < cells.length) {
    const kind = cells[i]!.kind;
    let run = '';
    while (i < cells.length && cells[i]!.kind === kind) run += cells[i++]!.ch;
    out += kind === 'mark' ? c.bold(c.yellow(run)) : kind === 'line' ? c.cyan(run) : run;
  }
  return out;
}
