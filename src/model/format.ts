/** Counts as people read them: thousands separated (`11,175`), in every message and table. */
export function num(x: number): string {
  return x.toLocaleString('en-US');
}
