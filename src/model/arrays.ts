/**
 * Array helpers that never spread an array into a call: `f(...xs)` passes every element on the stack, and
 * throws "Maximum call stack size exceeded" somewhere above ~100,000 elements (a 130,000-object snapshot
 * did). Use these for anything whose length comes from the cluster or a file.
 */

/** `to.push(...from)`, one element at a time. Returns `to`. */
export function append<T>(to: T[], from: Iterable<T>): T[] {
  for (const x of from) to.push(x);
  return to;
}

/** `Math.max(init, ...xs)` without the spread (-Infinity for no elements and no `init`). */
export function maxOf(xs: Iterable<number>, init = -Infinity): number {
  let m = init;
  for (const x of xs) if (x > m || Number.isNaN(x)) m = x;
  return m;
}

/** `Math.min(init, ...xs)` without the spread (Infinity for no elements and no `init`). */
export function minOf(xs: Iterable<number>, init = Infinity): number {
  let m = init;
  for (const x of xs) if (x < m || Number.isNaN(x)) m = x;
  return m;
}
