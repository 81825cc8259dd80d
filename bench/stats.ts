/**
 * How sure a ratio of two medians is, from the runs themselves: a percentile bootstrap (resample each side's
 * runs with replacement, take the ratio of the medians, many times; the interval holds the middle `level` of
 * those ratios). On a shared machine two ways of measuring the same command differed by more than the
 * distance to a goal, so a goal is met only when the whole interval is within it.
 */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A small seeded generator (mulberry32): the same runs give the same interval. */
function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RatioInterval {
  /** median(a) / median(b) */
  ratio: number;
  lo: number;
  hi: number;
}

export function medianRatioInterval(
  a: readonly number[],
  b: readonly number[],
  opts: { iterations?: number; level?: number; seed?: number } = {},
): RatioInterval {
  if (!a.length || !b.length) throw new Error('medianRatioInterval: no runs');
  const iterations = opts.iterations ?? 2000;
  const level = opts.level ?? 0.9;
  const random = rng(opts.seed ?? 1);
  const resample = (xs: readonly number[]): number[] => xs.map(() => xs[Math.floor(random() * xs.length)]!);
  const ratios: number[] = [];
  for (let i = 0; i < iterations; i++) ratios.push(median(resample(a)) / median(resample(b)));
  ratios.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return {
    ratio: median(a) / median(b),
    lo: ratios[Math.floor(tail * (iterations - 1))]!,
    hi: ratios[Math.ceil((1 - tail) * (iterations - 1))]!,
  };
}
