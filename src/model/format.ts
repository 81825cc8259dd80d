/**
 * Counts as people read them: thousands separated (`11,175`), in every message and table. The same text as
 * `toLocaleString('en-US')`, without it for integers: the first call loads ICU's number formatting, 10-17 ms
 * of a `status` (CPU profile, 1,000 nodes), where every count is an integer.
 */
export function num(x: number): string {
  if (!Number.isSafeInteger(x) || Object.is(x, -0)) return x.toLocaleString('en-US');
  const digits = String(Math.abs(x));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return x < 0 ? `-${out}` : out;
}

/** A count and its noun, singular for one: `1 node`, `11,175 node pairs`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/** The first `n` of `items`, comma-separated, then "and K more" for the rest. */
export function listSome(items: readonly string[], n = 3): string {
  return `${items.slice(0, n).join(', ')}${items.length > n ? ` and ${items.length - n} more` : ''}`;
}
