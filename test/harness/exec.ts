/** Running a subprocess for a test: input, timeout (kills the whole process group), captured output. */
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** Called with each complete output line as it arrives (and its arrival time, Date.now()). */
  onLine?: (stream: 'stdout' | 'stderr', line: string, atMs: number) => void;
  /** Called with the child's pid once it is spawned (its process group has the same id). */
  onSpawn?: (pid: number) => void;
}

/** Runs `cmd args` in its own process group; on timeout the group gets SIGKILL and `timedOut` is set. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      detached: true,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const partial = { stdout: '', stderr: '' };
    const lines = (stream: 'stdout' | 'stderr', d: string): void => {
      if (!opts.onLine) return;
      const at = Date.now();
      const parts = (partial[stream] + d).split('\n');
      partial[stream] = parts.pop()!;
      for (const l of parts) opts.onLine(stream, l, at);
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      lines('stdout', d);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      lines('stderr', d);
    });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    process.once('exit', kill);
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, opts.timeoutMs)
        : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      process.removeListener('exit', kill);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      for (const stream of ['stdout', 'stderr'] as const)
        if (partial[stream]) opts.onLine?.(stream, partial[stream], Date.now());
      process.removeListener('exit', kill);
      resolve({ code, signal, stdout, stderr, durationMs: Math.round(performance.now() - t0), timedOut });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {
        /* the child may exit without reading */
      });
      child.stdin!.end(opts.input);
    }
  });
}

/** A short description of a result for assertion messages. */
export function describeRun(r: RunResult, what = 'command'): string {
  const tail = (s: string): string => (s.length > 2000 ? `…${s.slice(-2000)}` : s);
  return `${what} exited with ${r.timedOut ? 'a timeout' : (r.code ?? r.signal)} after ${r.durationMs} ms\n--- stderr ---\n${tail(r.stderr)}\n--- stdout ---\n${tail(r.stdout)}`;
}
