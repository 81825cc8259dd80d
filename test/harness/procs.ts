/**
 * Child-process hygiene for the test control plane: every server runs detached in its own process
 * group with a pidfile in its state directory; the groups are killed on exit, SIGINT, SIGTERM and
 * SIGHUP (synchronously, so it also works from an `exit` handler); a tiny shell "guardian" kills them
 * if the test process itself is SIGKILLed; and `sweepStale()` removes what an earlier crashed run left.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where every control plane keeps its state directory: $CALICO_TUNE_HARNESS_DIR or <tmp>/calico-tune-harness. */
export function harnessBaseDir(): string {
  return process.env['CALICO_TUNE_HARNESS_DIR'] ?? path.join(os.tmpdir(), 'calico-tune-harness');
}

/**
 * The fields of /proc/PID/stat after the command name (index 0 is field 3, the state letter), or undefined
 * when the process is gone.
 */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The kernel's start time of a process (field 22 of /proc/PID/stat), to tell a live pid from a reused one. */
export function procStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** A process's state letter and CPU time (user + system, fields 14-15, in USER_HZ = 100 ticks per second). */
function procState(pid: number): { state: string; cpuSeconds: number } | undefined {
  const f = statFields(pid);
  return f && { state: f[0]!, cpuSeconds: (Number(f[11]) + Number(f[12])) / 100 };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the process recorded as (pid, start) still runs. A zombie counts as gone: our own children
 * stay zombies until the event loop reaps them, which never happens while we wait synchronously.
 */
function running(p: { pid: number; start: string | undefined }): boolean {
  const fields = statFields(p.pid);
  return (
    fields !== undefined &&
    fields[0] !== 'Z' &&
    fields[0] !== 'X' &&
    (p.start === undefined || fields[19] === p.start)
  );
}

function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}

const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepBuf, 0, 0, ms);
}

interface PidRecord {
  pid: number;
  start: string | undefined;
  name: string;
}

/** A group of processes that belong to one state directory (one control plane). */
export class ProcessGroupSet {
  readonly dir: string;
  private readonly procs: PidRecord[] = [];
  private guardian?: ChildProcess | undefined;
  private closed = false;

  constructor(dir: string) {
    this.dir = dir;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'owner.json'),
      JSON.stringify({ pid: process.pid, start: procStartTime(process.pid) }),
    );
    live.add(this);
    installHandlers();
  }

  /**
   * Starts a detached process (own process group), stdout+stderr appended to `logFile` (stderr to
   * `opts.errFile` instead when given: a buffered stdout and an unbuffered stderr would interleave mid-line).
   */
  spawn(
    name: string,
    bin: string,
    args: string[],
    logFile: string,
    env?: NodeJS.ProcessEnv,
    opts: { cwd?: string; errFile?: string; timestamps?: boolean } = {},
  ): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
    const fd = fs.openSync(logFile, 'a');
    const errFd = opts.errFile !== undefined ? fs.openSync(opts.errFile, 'a') : fd;
    let child: ChildProcess;
    try {
      child = spawn(bin, args, {
        detached: true,
        // timestamps: the output comes through this process, each line prefixed with the ISO time of arrival
        stdio: opts.timestamps ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, errFd],
        env: env ?? process.env,
        cwd: opts.cwd,
      });
    } finally {
      if (!opts.timestamps) {
        fs.closeSync(fd);
        if (errFd !== fd) fs.closeSync(errFd);
      }
    }
    if (opts.timestamps) {
      const stamp = (stream: NodeJS.ReadableStream | null, out: number): void => {
        let partial = '';
        stream?.setEncoding('utf8');
        stream?.on('data', (d: string) => {
          const lines = (partial + d).split('\n');
          partial = lines.pop()!;
          const at = new Date().toISOString();
          if (lines.length) fs.writeSync(out, lines.map((l) => `${at} ${l}\n`).join(''));
        });
      };
      stamp(child.stdout, fd);
      stamp(child.stderr, errFd);
      // like child.unref(): the pipes must not keep this process alive either
      for (const p of [child.stdout, child.stderr])
        (p as unknown as { unref?: () => void } | null)?.unref?.();
      child.once('close', () => {
        fs.closeSync(fd);
        if (errFd !== fd) fs.closeSync(errFd);
      });
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: -1, signal: null }));
    });
    child.unref();
    if (child.pid !== undefined) {
      const rec = { pid: child.pid, start: procStartTime(child.pid), name };
      this.procs.push(rec);
      fs.writeFileSync(path.join(this.dir, `${name}.pid`), JSON.stringify(rec));
    }
    return { child, exited };
  }

  /**
   * Starts the guardian: a detached `sh` that waits for this test process to disappear (also by
   * SIGKILL, which runs no handler), then kills the groups and removes the directory.
   */
  startGuardian(): void {
    if (this.guardian) return;
    const script = [
      'owner=$1; dir=$2; shift 2',
      'while kill -0 "$owner" 2>/dev/null; do sleep 1; done',
      // the groups started after the guardian too: every pidfile but its own
      'for f in "$dir"/*.pid; do case "$f" in */guardian.pid) continue;; esac',
      `  p=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' "$f"); [ -n "$p" ] && set -- "$@" "$p"; done`,
      'for g in "$@"; do kill -TERM -- "-$g" 2>/dev/null; done',
      'sleep 2',
      'for g in "$@"; do kill -KILL -- "-$g" 2>/dev/null; done',
      `[ -f "$dir/${ON_EXIT}" ] && /bin/sh "$dir/${ON_EXIT}" >/dev/null 2>&1`,
      'rm -rf "$dir"',
    ].join('\n');
    const g = spawn(
      '/bin/sh',
      ['-c', script, 'guardian', String(process.pid), this.dir, ...this.procs.map((p) => String(p.pid))],
      {
        detached: true,
        stdio: 'ignore',
      },
    );
    g.unref();
    this.guardian = g;
    if (g.pid !== undefined)
      fs.writeFileSync(
        path.join(this.dir, 'guardian.pid'),
        JSON.stringify({ pid: g.pid, start: procStartTime(g.pid), name: 'guardian' }),
      );
  }

  pids(): PidRecord[] {
    return [...this.procs];
  }

  /**
   * Stops everything synchronously: the guardian first, then SIGTERM to each group (last started first),
   * up to `graceMs` for them to exit, then SIGKILL. Removes the directory unless `keep`.
   */
  stopSync(graceMs = 5000, keep = false): void {
    if (this.closed) return;
    this.closed = true;
    if (this.guardian?.pid !== undefined) killGroup(this.guardian.pid, 'SIGKILL');
    const order = [...this.procs].reverse();
    for (const p of order) if (running(p)) killGroup(p.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && order.some(running)) sleepSync(20);
    for (const p of order) if (running(p)) killGroup(p.pid, 'SIGKILL');
    while (order.some(running) && Date.now() < deadline + 2000) sleepSync(20);
    runOnExit(this.dir);
    if (!keep) fs.rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  /**
   * Each process as `name(pid) STATE cpu Ns`, from /proc: the state letter (R running, S sleeping, D in the
   * kernel, T stopped, Z gone) and its CPU time, for the error of a server that does not get ready.
   */
  describe(): string {
    return this.procs
      .map((p) => {
        const st = procState(p.pid);
        return st
          ? `${p.name}(${p.pid}) ${st.state} cpu ${st.cpuSeconds.toFixed(1)}s`
          : `${p.name}(${p.pid}) exited`;
      })
      .join(', ');
  }

  /** CPU time (user + system, seconds) the process `name` has used so far; 0 when it is not running. */
  cpuSeconds(name: string): number {
    const p = this.procs.find((x) => x.name === name);
    return (p && procState(p.pid)?.cpuSeconds) ?? 0;
  }

  /** Async variant of stopSync (does not block the event loop while waiting). */
  async stop(graceMs = 5000, keep = false): Promise<void> {
    if (this.closed) return;
    if (this.guardian?.pid !== undefined) killGroup(this.guardian.pid, 'SIGKILL');
    this.guardian = undefined;
    const order = [...this.procs].reverse();
    for (const p of order) {
      if (!running(p)) continue;
      killGroup(p.pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && running(p)) await new Promise((r) => setTimeout(r, 25));
      if (running(p)) killGroup(p.pid, 'SIGKILL');
    }
    this.stopSync(500, keep);
  }
}

/**
 * A shell script in a state directory that undoes what killing processes cannot (e.g. `ip netns del`): run
 * once after the groups are stopped, by stopSync, the guardian and sweepStale; then removed.
 */
export const ON_EXIT = 'on-exit.sh';

function runOnExit(dir: string): void {
  const script = path.join(dir, ON_EXIT);
  if (!fs.existsSync(script)) return;
  try {
    execFileSync('/bin/sh', [script], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    /* best effort */
  }
  fs.rmSync(script, { force: true });
}

const live = new Set<ProcessGroupSet>();
let handlersInstalled = false;

/** Stops every control plane of this process now (used by the exit and signal handlers). */
export function stopAllSync(): void {
  for (const s of [...live]) {
    try {
      s.stopSync(3000, process.env['CALICO_TUNE_KEEP_CONTROL_PLANE'] === '1');
    } catch {
      /* best effort */
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', stopAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      stopAllSync();
      // Only ours? Then restore the default action (terminate with the signal). Otherwise (e.g. the
      // playground's own handler) leave the exit to the other listeners.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

/**
 * Removes what earlier runs left behind: for each state directory whose owner process is gone, kills
 * the recorded process groups (only when the pid still belongs to the same process) and deletes the
 * directory. Returns a line per swept directory.
 */
export function sweepStale(base = harnessBaseDir()): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(base);
  } catch {
    return out;
  }
  for (const e of entries) {
    const dir = path.join(base, e);
    let owner: { pid: number; start?: string } | undefined;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8')) as {
        pid: number;
        start?: string;
      };
    } catch {
      // no owner file: a directory being created right now, or garbage older than a minute
      try {
        if (Date.now() - fs.statSync(dir).mtimeMs < 60_000) continue;
      } catch {
        continue;
      }
    }
    if (owner && alive(owner.pid) && procStartTime(owner.pid) === owner.start) continue;
    const killed: string[] = [];
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.pid'))) {
      try {
        const rec = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as PidRecord;
        if (running(rec)) {
          killGroup(rec.pid, 'SIGKILL');
          killed.push(`${rec.name}(${rec.pid})`);
        }
      } catch {
        /* unreadable pidfile */
      }
    }
    runOnExit(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    out.push(`removed stale ${dir}${killed.length ? `, killed ${killed.join(' ')}` : ''}`);
  }
  return out;
}
