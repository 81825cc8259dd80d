/**
 * A small parser for the Prometheus text exposition format (version 0.0.4), enough to read Typha's
 * `/metrics`: `# HELP` / `# TYPE` lines, samples with labels (escaped `\\`, `\"`, `\n` in values),
 * `+Inf` / `-Inf` / `NaN`, optional timestamps. Pure and forgiving: a malformed line is counted and skipped,
 * never thrown on, so one odd line cannot hide the metrics that matter.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedMetrics {
  samples: Sample[];
  /** `# TYPE` declarations by metric family name (counter, gauge, summary, histogram, untyped). */
  types: Record<string, string>;
  /** Lines that were neither comments, blank, nor valid samples. */
  invalidLines: number;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parsePrometheusText(text: string): ParsedMetrics {
  const samples: Sample[] = [];
  const types: Record<string, string> = {};
  let invalidLines = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\w+)\s*$/.exec(line);
      if (m) types[m[1]!] = m[2]!.toLowerCase();
      continue;
    }
    const s = parseSampleLine(line);
    if (s) samples.push(s);
    else invalidLines++;
  }
  return { samples, types, invalidLines };
}

/** One sample line, or undefined when malformed. */
export function parseSampleLine(line: string): Sample | undefined {
  const nm = NAME_RE.exec(line);
  if (!nm) return undefined;
  const name = nm[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      pos = skipSpaces(line, pos);
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const ln = LABEL_NAME_RE.exec(line.slice(pos));
      if (!ln) return undefined;
      pos = skipSpaces(line, pos + ln[0].length);
      if (line[pos] !== '=') return undefined;
      pos = skipSpaces(line, pos + 1);
      if (line[pos] !== '"') return undefined;
      pos++;
      let value = '';
      for (;;) {
        const ch = line[pos];
        if (ch === undefined) return undefined;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[pos + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else if (next === undefined) return undefined;
          else value += `\\${next}`;
          pos += 2;
          continue;
        }
        value += ch;
        pos++;
      }
      pos++;
      labels[ln[0]] = value;
      pos = skipSpaces(line, pos);
      if (line[pos] === ',') {
        pos++;
        continue;
      }
      if (line[pos] === '}') {
        pos++;
        break;
      }
      return undefined;
    }
  }
  if (line[pos] !== ' ' && line[pos] !== '\t') return undefined;
  const rest = line.slice(pos).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2) return undefined;
  const value = parseValue(rest[0]!);
  if (value === undefined) return undefined;
  if (rest.length === 2 && !/^-?\d+$/.test(rest[1]!)) return undefined;
  return { name, labels, value };
}

function skipSpaces(s: string, pos: number): number {
  while (s[pos] === ' ' || s[pos] === '\t') pos++;
  return pos;
}

function parseValue(v: string): number | undefined {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return undefined;
  return Number(v);
}

/** Samples of one metric name (optionally matching some labels). */
export function samplesOf(m: ParsedMetrics, name: string, labels: Record<string, string> = {}): Sample[] {
  return m.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The sum over every label set of a metric, or null when the metric is absent. */
export function sumOf(m: ParsedMetrics, name: string): number | null {
  const ss = samplesOf(m, name).filter((s) => Number.isFinite(s.value));
  return ss.length ? ss.reduce((a, s) => a + s.value, 0) : null;
}
