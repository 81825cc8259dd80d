/**
 * Continuous probes between every ordered pair of rig "pods": one `fping -l` per node in its namespace, source =
 * the node's pod address (so a reply needs BGP-learned routes both ways), every other pod as target, one probe
 * per target every `periodMs` (a fixed, modest rate: fping's own rate swings under CPU contention), replies and
 * timeouts with timestamps (-D) to a file per node (never a pipe: a background fping that inherits a pipe
 * blocks the parent). SIGINT at the end makes fping print its per-target sent counts.
 *
 * Analysis per ordered pair (src -> dst): every sequence number up to the count sent is a probe; answered or
 * lost. A lost probe's send time is known when fping reported its timeout, else interpolated between its
 * neighbours' send times (a probe whose sendto failed for lack of a route is not reported at all). Probes
 * still in flight when the probes stopped are not counted. Also the longest gap between successive replies.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sleep } from '../harness/index.js';
import type { Fabric, FabricNode } from './rig.js';

export interface ProbeOptions {
  /** One probe per target every periodMs (default 100 ms: 10/s per ordered pair). */
  periodMs?: number;
  /** A reply later than this is a loss (default 1000 ms). */
  timeoutMs?: number;
}

export interface LostProbe {
  seq: number;
  /** Send time (ms since epoch), measured or interpolated. */
  at: number;
}

export interface PairResult {
  src: string;
  dst: string;
  sent: number;
  received: number;
  lost: LostProbe[];
  /** Receive times of the replies, in sequence order. */
  replies: number[];
  longestGapMs: number;
  /** When the longest gap started and ended (receive times). */
  longestGap?: { from: number; to: number } | undefined;
}

/** A run of consecutive lost probes of one pair. */
export interface Outage {
  src: string;
  dst: string;
  from: number;
  to: number;
  lost: number;
  /** Time between the replies around the run (ms); Infinity when no reply came after it. */
  gapMs: number;
}

export interface ProbeData {
  periodMs: number;
  timeoutMs: number;
  startedAt: number;
  stoppedAt: number;
  pairs: PairResult[];
  outages: Outage[];
}

/** `[<time>] <target> : [<seq>], ...`; fping pads the target names to the longest one (`198.19.2.1  : [0]`). */
const LINE = /^\[(\d+(?:\.\d+)?)\] (\S+)\s+: \[(\d+)\], (?:\d+ bytes, ([\d.]+) ms|timed out)/;
const SUMMARY = /^(\S+)\s*: xmt\/rcv\/%loss = (\d+)\/(\d+)/;

interface Raw {
  /** seq -> [sentAt, recvAt | NaN] */
  known: Map<number, [number, number]>;
  xmt: number;
}

/** Parses one fping output (stdout: replies/timeouts, stderr: summary) into per-target raw data. */
export function parseFping(stdout: string, stderr: string, timeoutMs: number): Map<string, Raw> {
  const out = new Map<string, Raw>();
  const get = (t: string): Raw => {
    let r = out.get(t);
    if (!r) out.set(t, (r = { known: new Map(), xmt: 0 }));
    return r;
  };
  for (const line of stdout.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const at = Number(m[1]) * 1000;
    const r = get(m[2]!);
    const seq = Number(m[3]);
    if (m[4] !== undefined) r.known.set(seq, [at - Number(m[4]), at]);
    else if (!r.known.has(seq)) r.known.set(seq, [at - timeoutMs, NaN]);
    r.xmt = Math.max(r.xmt, seq + 1);
  }
  for (const line of stderr.split('\n')) {
    const m = SUMMARY.exec(line);
    if (m) get(m[1]!).xmt = Math.max(get(m[1]!).xmt, Number(m[2]));
  }
  return out;
}

/** Per-pair results from the raw data of one target. */
export function analysePair(
  src: string,
  dst: string,
  raw: Raw | undefined,
  o: { periodMs: number; timeoutMs: number; startedAt: number; stoppedAt: number },
): { pair: PairResult; outages: Outage[] } {
  const known = raw?.known ?? new Map<number, [number, number]>();
  const xmt = raw?.xmt ?? 0;
  const seqs = [...known.keys()].sort((a, b) => a - b);
  // send time of every seq: measured, or interpolated between the known neighbours (extrapolated at the ends)
  const sentAt = new Float64Array(xmt);
  let k = 0;
  for (let s = 0; s < xmt; s++) {
    while (k < seqs.length && seqs[k]! < s) k++;
    const next = seqs[k];
    if (next === s) sentAt[s] = known.get(s)![0];
    else {
      const prev = k > 0 ? seqs[k - 1] : undefined;
      if (prev !== undefined && next !== undefined) {
        const a = known.get(prev)![0];
        const b = known.get(next)![0];
        sentAt[s] = a + ((b - a) * (s - prev)) / (next - prev);
      } else if (prev !== undefined) sentAt[s] = known.get(prev)![0] + (s - prev) * o.periodMs;
      else if (next !== undefined) sentAt[s] = known.get(next)![0] - (next - s) * o.periodMs;
      else sentAt[s] = o.startedAt + s * o.periodMs;
    }
  }
  const lost: LostProbe[] = [];
  const replies: number[] = [];
  const outages: Outage[] = [];
  let sent = 0;
  let lastReply: number | undefined;
  let run: Outage | undefined;
  let longestGapMs = 0;
  let longestGap: { from: number; to: number } | undefined;
  for (let s = 0; s < xmt; s++) {
    const recv = known.get(s)?.[1];
    const answered = recv !== undefined && !Number.isNaN(recv);
    if (!answered && sentAt[s]! > o.stoppedAt - o.timeoutMs) continue; // in flight when the probes stopped
    sent++;
    if (answered) {
      if (lastReply !== undefined && recv - lastReply > longestGapMs) {
        longestGapMs = recv - lastReply;
        longestGap = { from: lastReply, to: recv };
      }
      if (run) {
        run.gapMs = lastReply !== undefined ? recv - lastReply : recv - o.startedAt;
        outages.push(run);
        run = undefined;
      }
      replies.push(recv);
      lastReply = recv;
    } else {
      lost.push({ seq: s, at: sentAt[s]! });
      if (run) {
        run.to = sentAt[s]!;
        run.lost++;
      } else run = { src, dst, from: sentAt[s]!, to: sentAt[s]!, lost: 1, gapMs: Infinity };
    }
  }
  if (run) outages.push(run);
  return {
    pair: { src, dst, sent, received: replies.length, lost, replies, longestGapMs, longestGap },
    outages,
  };
}

export class Probes {
  readonly periodMs: number;
  readonly timeoutMs: number;
  startedAt = 0;
  stoppedAt = 0;
  private readonly runs = new Map<
    string,
    { pid: number; exited: Promise<unknown>; out: string; err: string }
  >();
  private readonly dir: string;

  constructor(
    private readonly fabric: Fabric,
    opts: ProbeOptions = {},
  ) {
    this.periodMs = opts.periodMs ?? 100;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.dir = path.join(fabric.dir, 'probes');
  }

  /** Starts one fping per node; resolves when every fping has answers from every target. */
  async start(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    this.startedAt = Date.now();
    for (const n of this.fabric.nodes) {
      const targets = this.fabric.nodes.filter((o) => o !== n).map((o) => o.podIp);
      const out = path.join(this.dir, `${n.name}.out`);
      const err = path.join(this.dir, `${n.name}.err`);
      const { child, exited } = this.fabric.procs.spawn(
        `fping-${n.name}`,
        this.fabric.tools.ip,
        [
          'netns',
          'exec',
          n.ns,
          this.fabric.tools.fping,
          '-S',
          n.podIp,
          '-l',
          '-D',
          '-p',
          String(this.periodMs),
          '-i',
          '1',
          '-t',
          String(this.timeoutMs),
          '-r',
          '0',
          ...targets,
        ],
        out,
        process.env,
        { errFile: err },
      );
      this.runs.set(n.name, { pid: child.pid!, exited, out, err });
    }
    // fping writes its output through stdio buffers: a few seconds pass before the files show the first replies
    await sleep(Math.max(500, 3 * this.periodMs));
  }

  /** SIGINT to every fping (it prints its summary and flushes), then waits for them to exit. */
  async stop(): Promise<void> {
    this.stoppedAt = Date.now();
    for (const r of this.runs.values()) {
      try {
        process.kill(-r.pid, 'SIGINT');
      } catch {
        /* gone */
      }
    }
    await Promise.race([Promise.all([...this.runs.values()].map((r) => r.exited)), sleep(10_000)]);
  }

  analyse(): ProbeData {
    const pairs: PairResult[] = [];
    const outages: Outage[] = [];
    const byPod = new Map<string, FabricNode>(this.fabric.nodes.map((n) => [n.podIp, n]));
    const o = {
      periodMs: this.periodMs,
      timeoutMs: this.timeoutMs,
      startedAt: this.startedAt,
      stoppedAt: this.stoppedAt,
    };
    for (const n of this.fabric.nodes) {
      const r = this.runs.get(n.name);
      const read = (f: string | undefined): string =>
        f && fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
      const raw = parseFping(read(r?.out), read(r?.err), this.timeoutMs);
      for (const t of this.fabric.nodes) {
        if (t === n) continue;
        const res = analysePair(n.name, byPod.get(t.podIp)!.name, raw.get(t.podIp), o);
        pairs.push(res.pair);
        outages.push(...res.outages);
      }
    }
    outages.sort((a, b) => a.from - b.from);
    return { ...o, pairs, outages };
  }
}
