/**
 * From probes and the plugin's progress to a per-step loss table. The plugin prints `[k/n] <title> ✔ <dur>` on
 * stderr when step k ends (steps run one after the other), `gate "<title>" timed out after <t>: rolling back`,
 * `rolling back N step(s) of <plan>` and `  undone: <title>` during a rollback, and `resuming <plan>: ...`; each
 * such line, timestamped on arrival, ends a phase that began at the previous one. Losses are attributed to the
 * phase during which the lost probe was sent; a gap counts in every phase it overlaps.
 */
import type { Outage, ProbeData } from './probes.js';

export interface Line {
  at: number;
  text: string;
}

export type PhaseKind =
  'baseline' | 'step' | 'gate-timeout' | 'rollback' | 'undo' | 'unfinished' | 'action' | 'idle' | 'after';

export interface Phase {
  label: string;
  kind: PhaseKind;
  /** The command or action this phase belongs to. */
  group: string;
  start: number;
  end: number;
  /** Rig nodes named in the title (or that the action touched). */
  nodes: string[];
}

const STEP = /^\[(\d+)\/(\d+)\] (.*) ✔ \S+$/;
const GATE_TIMEOUT = /^gate "(.*)" timed out after (\S+)(: rolling back)?$/;
const ROLLING_BACK = /^rolling back (\d+) step/;
const UNDONE = /^ {2}undone: (.*)$/;
const RESUMING = /^resuming (\S+): (\d+)\/(\d+) steps already done/;
/** ANSI escape sequences (the plugin colours nothing with NO_COLOR, but a TTY run would). */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

/** `<src> -> <dst>: <n> lost from <ISO time> to <ISO time>`: one outage, for messages and reports. */
export function describeOutage(o: Outage): string {
  return `${o.src} -> ${o.dst}: ${o.lost} lost from ${new Date(o.from).toISOString()} to ${new Date(o.to).toISOString()}`;
}

/** Node names that appear as words in a text. */
export function nodesIn(text: string, names: readonly string[]): string[] {
  return names.filter((n) => new RegExp(`(^|[^\\w-])${n.replace(/[-.]/g, '\\$&')}($|[^\\w-])`).test(text));
}

/** The phases of one plugin run, from its timestamped stderr lines. */
export function phasesOfRun(
  group: string,
  lines: Line[],
  start: number,
  end: number,
  names: readonly string[],
): Phase[] {
  const out: Phase[] = [];
  let from = start;
  let lastStep = 0;
  let total = 0;
  let rollingBack = false;
  const push = (label: string, kind: PhaseKind, at: number, title = label): void => {
    out.push({ label, kind, group, start: from, end: at, nodes: nodesIn(title, names) });
    from = at;
  };
  for (const l of lines) {
    const text = l.text.replace(/\r/g, '').replace(ANSI, '');
    let m: RegExpExecArray | null;
    if ((m = STEP.exec(text))) {
      lastStep = Number(m[1]);
      total = Number(m[2]);
      push(`[${m[1]}/${m[2]}] ${m[3]}`, 'step', l.at, m[3]);
    } else if ((m = GATE_TIMEOUT.exec(text))) {
      push(`[${lastStep + 1}/${total || '?'}] ${m[1]} ✘ timed out after ${m[2]}`, 'gate-timeout', l.at, m[1]);
    } else if ((m = ROLLING_BACK.exec(text))) {
      rollingBack = true;
      if (l.at - from > 50) push('(before the rollback)', 'rollback', l.at);
      else from = l.at;
    } else if ((m = UNDONE.exec(text))) {
      push(`undo: ${m[1]}`, 'undo', l.at, m[1]);
    } else if ((m = RESUMING.exec(text))) {
      lastStep = Number(m[2]);
      total = Number(m[3]);
      from = l.at;
    }
  }
  if (end - from > 0) {
    const last =
      [...lines]
        .reverse()
        .find((l) => l.text.trim())
        ?.text.trim() ?? '';
    if ((total > 0 && lastStep === total) || out.some((p) => p.kind === 'undo'))
      push(`(${group}: end of run)`, 'idle', end, '');
    else if (rollingBack) push(`rollback not completed: ${last.slice(0, 100)}`, 'unfinished', end, last);
    else
      push(`[${lastStep + 1}/${total || '?'}] not completed: ${last.slice(0, 100)}`, 'unfinished', end, last);
  }
  return out;
}

export interface PhaseRow extends Phase {
  durationMs: number;
  /** Probes sent during the phase (all pairs). */
  probes: number;
  lost: number;
  /** Longest gap between successive replies of any pair, over gaps overlapping the phase. */
  longestGapMs: number;
  pairsAffected: number;
  /** Lost probes per node (as source or destination) in this phase. */
  lossByNode: Record<string, number>;
}

export interface NodeLoss {
  node: string;
  lost: number;
  /** Longest run of losses of a pair involving this node (ms between the replies around it). */
  longestGapMs: number;
  /** Phases in which probes to or from the node were lost, with the count. */
  phases: Record<string, number>;
}

/** Per-phase rows from the probe data. */
export function tabulate(phases: Phase[], data: ProbeData): PhaseRow[] {
  const rows: PhaseRow[] = phases.map((p) => ({
    ...p,
    durationMs: Math.round(p.end - p.start),
    probes: 0,
    lost: 0,
    longestGapMs: 0,
    pairsAffected: 0,
    lossByNode: {},
  }));
  const find = (t: number): number => {
    for (let i = 0; i < phases.length; i++) if (t >= phases[i]!.start && t < phases[i]!.end) return i;
    return -1;
  };
  const affected = rows.map(() => new Set<string>());
  for (const pair of data.pairs) {
    const key = `${pair.src}>${pair.dst}`;
    for (const l of pair.lost) {
      const i = find(l.at);
      if (i < 0) continue;
      const r = rows[i]!;
      r.lost++;
      affected[i]!.add(key);
      r.lossByNode[pair.src] = (r.lossByNode[pair.src] ?? 0) + 1;
      r.lossByNode[pair.dst] = (r.lossByNode[pair.dst] ?? 0) + 1;
    }
    // probes sent per phase: replies and losses (the send time of a reply is close to its receive time)
    for (const t of pair.replies) {
      const i = find(t);
      if (i >= 0) rows[i]!.probes++;
    }
    for (let k = 1; k < pair.replies.length; k++) {
      const a = pair.replies[k - 1]!;
      const b = pair.replies[k]!;
      const gap = b - a;
      for (const r of rows) if (b > r.start && a < r.end && gap > r.longestGapMs) r.longestGapMs = gap;
    }
  }
  rows.forEach((r, i) => {
    r.probes += r.lost;
    r.pairsAffected = affected[i]!.size;
    r.longestGapMs = Math.round(r.longestGapMs);
  });
  return rows;
}

/** Loss per node, over the pairs it is part of. */
export function lossByNode(rows: PhaseRow[], data: ProbeData, nodes: readonly string[]): NodeLoss[] {
  return nodes.map((node) => {
    const phases: Record<string, number> = {};
    for (const r of rows) if (r.lossByNode[node]) phases[r.label] = r.lossByNode[node];
    const mine = data.outages.filter((o: Outage) => o.src === node || o.dst === node);
    return {
      node,
      lost: data.pairs.filter((p) => p.src === node || p.dst === node).reduce((a, p) => a + p.lost.length, 0),
      longestGapMs: Math.round(Math.max(0, ...mine.map((o) => o.gapMs))),
      phases,
    };
  });
}

/**
 * A kernel route BIRD replaced by deleting and re-adding it (BIRD 1.6's krt never uses NLM_F_REPLACE): for a few
 * microseconds the node has no route to `block`, though the next hop does not change; up to 25 ms measured when
 * BIRD is busy (a reflector's sessions coming up make every client replace each route dozens of times in a
 * quarter of a second: docs/fabric.md).
 */
export interface RouteReplace {
  node: string;
  block: string;
  at: number;
}

/** Loss between the pairs where neither node changed role or was disturbed. */
export interface StableLoss {
  pairs: number;
  probes: number;
  lost: number;
  /** Lost probes explained by non-atomic kernel route replaces (each probe within a probe period of one). */
  krtReplace: number;
  /** Outages of stable pairs not explained that way. */
  unexplained: string[];
  examples: string[];
}

/** The replaces of the outage's pair's route, in either direction. */
function replacesOfPair(
  o: Outage,
  replaces: readonly RouteReplace[],
  blockOf: (node: string) => string,
): RouteReplace[] {
  return replaces.filter(
    (r) =>
      (r.node === o.src && r.block === blockOf(o.dst)) || (r.node === o.dst && r.block === blockOf(o.src)),
  );
}

/**
 * Whether every probe of an outage was lost at a kernel route replace of that pair's route, in either direction
 * (the probe's route at the source or the reply's at the destination), less than one probe period from the
 * probe's send time: between the probes before and after it, which found the route (or, inside a longer
 * outage, were lost at replaces of their own). Both times are stamped in user space (fping's, interpolated for a
 * lost probe, and `ip -ts monitor`'s): the farthest of 44 such probes in one CI run was 14 ms away, and CI run 20
 * lost one with no replace within 50 ms amid the churn of a demotion.
 * A withdrawn route is a delete without an add within 50 ms (rig.ts): it is never a replace, so an outage while
 * the pair really had no route is not explained, however much the routes churned around it.
 */
export function isRouteReplaceBlip(
  o: Outage,
  replaces: readonly RouteReplace[],
  blockOf: (node: string) => string,
  periodMs: number,
): boolean {
  const step = o.lost > 1 ? (o.to - o.from) / (o.lost - 1) : 0;
  const ours = replacesOfPair(o, replaces, blockOf);
  for (let i = 0; i < o.lost; i++) {
    const at = o.from + i * step;
    if (!ours.some((r) => Math.abs(r.at - at) < periodMs)) return false;
  }
  return o.lost > 0;
}

export function stablePairLoss(
  data: ProbeData,
  exclude: ReadonlySet<string>,
  replaces: readonly RouteReplace[] = [],
  blockOf: (node: string) => string = () => '',
): StableLoss {
  const stable = data.pairs.filter((p) => !exclude.has(p.src) && !exclude.has(p.dst));
  const lossy = stable.filter((p) => p.lost.length);
  let krtReplace = 0;
  const unexplained: string[] = [];
  for (const o of data.outages) {
    if (exclude.has(o.src) || exclude.has(o.dst)) continue;
    if (isRouteReplaceBlip(o, replaces, blockOf, data.periodMs)) krtReplace += o.lost;
    else {
      // the nearest replace of the pair's route, to tell a clock skew from a withdrawn route
      const near = replacesOfPair(o, replaces, blockOf)
        .map((r) => r.at - o.from)
        .sort((a, b) => Math.abs(a) - Math.abs(b))[0];
      const nearest =
        near === undefined ? 'no replace of its route' : `nearest replace of its route ${near} ms`;
      unexplained.push(`${describeOutage(o)} (gap ${Math.round(o.gapMs)} ms; ${nearest})`);
    }
  }
  return {
    pairs: stable.length,
    probes: stable.reduce((a, p) => a + p.sent, 0),
    lost: lossy.reduce((a, p) => a + p.lost.length, 0),
    krtReplace,
    unexplained,
    examples: lossy
      .slice(0, 10)
      .map(
        (p) => `${p.src} -> ${p.dst}: ${p.lost.length} lost from ${new Date(p.lost[0]!.at).toISOString()}`,
      ),
  };
}

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

/** A fixed-width text table of the rows. */
export function formatTable(rows: PhaseRow[], maxLabel = 72): string {
  const head = ['step', 'time', 'probes', 'lost', 'longest gap', 'pairs', 'nodes involved', 'loss by node'];
  const body = rows.map((r) => {
    const top = Object.entries(r.lossByNode)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([n, c]) => `${n} ${c}`)
      .join(', ');
    const label = r.label.length > maxLabel ? `${r.label.slice(0, maxLabel - 1)}…` : r.label;
    return [
      label,
      fmtMs(r.durationMs),
      String(r.probes),
      String(r.lost),
      r.probes ? fmtMs(r.longestGapMs) : '-',
      String(r.pairsAffected),
      r.nodes.join(' ') || '-',
      top || '-',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)].join('\n');
}

/**
 * Outages of pairs with a role-changed (or disturbed) node that overlap a phase naming neither node of the pair:
 * loss the plan's steps for that node do not account for (e.g. after a gate passed on a stale report). Pairs
 * with a node in `ignore` are left out.
 */
export function unattributedLoss(
  steps: readonly Phase[],
  outages: readonly Outage[],
  changed: ReadonlySet<string>,
  ignore: ReadonlySet<string> = new Set(),
): string[] {
  const out: string[] = [];
  for (const o of outages) {
    const mine = [o.src, o.dst].filter((n) => changed.has(n));
    if (!mine.length || ignore.has(o.src) || ignore.has(o.dst)) continue;
    const stray = steps.filter(
      (p) => p.end > o.from && p.start <= o.to && !mine.some((n) => p.nodes.includes(n)),
    );
    if (stray.length)
      out.push(
        `${describeOutage(o)} overlaps ${stray.map((p) => `"${p.label.slice(0, 60)}"`).join(', ')}, naming neither node`,
      );
  }
  return out;
}

/**
 * Ordered pairs cut for the whole of the phase `label` (an outage covering it from start to end, give or take a
 * probe period) and pairs with some loss in it but not all.
 */
export function pairsCutDuring(
  phase: Pick<Phase, 'start' | 'end'>,
  outages: readonly Outage[],
  periodMs: number,
): { cut: string[]; partial: string[] } {
  const cut = new Set<string>();
  const partial = new Set<string>();
  for (const o of outages) {
    if (o.to < phase.start || o.from >= phase.end) continue;
    const key = `${o.src}>${o.dst}`;
    if (o.from <= phase.start + periodMs && o.to >= phase.end - 2 * periodMs) cut.add(key);
    else partial.add(key);
  }
  for (const k of cut) partial.delete(k);
  return { cut: [...cut].sort(), partial: [...partial].sort() };
}

/**
 * Outages of pairs with a role-changed node that are not inside a command (plugin run) that changed the role of a
 * node of the pair: loss the plans do not account for at all (e.g. after a plan ended on a gate that passed on a
 * stale report). `windows`: per node, the [start, end] of the commands that wrote its role. Outages `isBlip`
 * accepts (single probes at a kernel route replace) are left out.
 */
export function lossOutsideCommands(
  outages: readonly Outage[],
  windows: ReadonlyMap<string, readonly [number, number][]>,
  ignore: ReadonlySet<string> = new Set(),
  isBlip: (o: Outage) => boolean = () => false,
): string[] {
  const out: string[] = [];
  for (const o of outages) {
    const mine = [o.src, o.dst].filter((n) => windows.has(n));
    if (!mine.length || ignore.has(o.src) || ignore.has(o.dst) || isBlip(o)) continue;
    const inside = mine.some((n) => windows.get(n)!.some(([a, b]) => o.from >= a && o.to <= b));
    if (!inside) out.push(`${describeOutage(o)}, outside the runs that change ${mine.join(' or ')}`);
  }
  return out;
}
