/** Kubernetes resource quantities (`8`, `7800m`, `32Gi`, `32868764Ki`, `1e3`) to numbers. */

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** Parses a quantity to its value in base units; throws on malformed input. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(
    q.trim(),
  );
  if (!m) throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  const num = Number(m[1]);
  if (m[2]) return num * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  const mult = BINARY[suffix] ?? DECIMAL[suffix];
  if (mult === undefined) throw new Error(`invalid quantity suffix in ${JSON.stringify(q)}`);
  return num * mult;
}

/**
 * A quantity as a number (NaN when malformed), remembered per string: a cluster's nodes share a handful of
 * capacities, and parsing two of them per node was 3% of `status` on 5,000 nodes.
 */
const parsed = new Map<string, number>();
function quantityOrNaN(q: string): number {
  let v = parsed.get(q);
  if (v === undefined) {
    try {
      v = parseQuantity(q);
    } catch {
      v = NaN;
    }
    if (parsed.size < 10_000) parsed.set(q, v);
  }
  return v;
}

/** CPU quantity to millicores, 0 when missing or malformed. */
export function cpuMillis(q: unknown): number {
  const v = typeof q === 'number' ? q : typeof q === 'string' ? quantityOrNaN(q) : NaN;
  return Number.isNaN(v) ? 0 : Math.round(v * 1000);
}

/** Memory quantity to bytes, 0 when missing or malformed. */
export function memoryBytes(q: unknown): number {
  const v = typeof q === 'number' ? q : typeof q === 'string' ? quantityOrNaN(q) : NaN;
  return Number.isNaN(v) ? 0 : Math.round(v);
}

/** Formats bytes as a short binary quantity (`31.4Gi`). */
export function formatBytes(b: number): string {
  for (const [s, m] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (b >= m) return `${(b / m).toFixed(b % m === 0 ? 0 : 1)}${s}`;
  }
  return `${b}`;
}
