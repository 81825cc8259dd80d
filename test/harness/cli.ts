/** Running the plugin as a user would: `node bin/run.js ARGS` in a subprocess, with a clean environment. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, type RunOptions, type RunResult } from './exec.js';
import { REPO_ROOT } from './tools.js';

export interface CliOptions {
  /** Sets KUBECONFIG for the child (the args are passed unchanged; add --kubeconfig yourself to test the flag). */
  kubeconfig?: string;
  /** Extra environment (merged last). */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin (stdin is closed either way, so prompts see a non-terminal). */
  input?: string;
  /** Default 60 s; the child's process group is killed after it. */
  timeoutMs?: number;
  cwd?: string;
  /** Each output line as it arrives, with its arrival time (see RunOptions.onLine). */
  onLine?: RunOptions['onLine'];
  onSpawn?: RunOptions['onSpawn'];
}

export interface CliResult extends RunResult {
  /** stdout parsed as JSON (throws with the output when it is not JSON). */
  json<T = Record<string, unknown>>(): T;
}

export const BIN_RUN = path.join(REPO_ROOT, 'bin', 'run.js');

let home: string | undefined;
/** An empty HOME for the children, so ~/.kube/config of the machine never leaks into a test. */
function cleanHome(): string {
  if (!home) {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-home-'));
    const dir = home;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return home;
}

/** The environment the plugin runs with in tests: no KUBECONFIG, empty HOME, no colour, not CI. */
export function cliEnv(opts: Pick<CliOptions, 'kubeconfig' | 'env'> = {}): NodeJS.ProcessEnv {
  // Gates pass on the first fresh report unless a test asks for the real settling (the fabric does, on real
  // BIRD; the simulator's sessions do not flap after a write, so 2 s per gate would only cost CI time).
  const env: NodeJS.ProcessEnv = {
    CALICO_TUNE_TEST_GATE_SETTLE_MS: '0',
    ...process.env,
    HOME: cleanHome(),
    NO_COLOR: '1',
    TERM: 'dumb',
  };
  delete env['KUBECONFIG'];
  delete env['NODE_OPTIONS'];
  if (opts.kubeconfig) env['KUBECONFIG'] = opts.kubeconfig;
  return { ...env, ...opts.env };
}

/** Runs `node bin/run.js ...args`. Resolves with the exit code and output; never rejects on a non-zero exit. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const r = await run(process.execPath, [BIN_RUN, ...args], {
    env: cliEnv(opts),
    cwd: opts.cwd ?? REPO_ROOT,
    input: opts.input ?? '',
    timeoutMs: opts.timeoutMs ?? 60_000,
    ...(opts.onLine ? { onLine: opts.onLine } : {}),
    ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}),
  });
  return {
    ...r,
    json<T>(): T {
      try {
        return JSON.parse(r.stdout) as T;
      } catch {
        throw new Error(
          `stdout of \`calico-tune ${args.join(' ')}\` is not JSON (exit ${r.code}):\n${r.stdout.slice(0, 2000)}\n--- stderr ---\n${r.stderr.slice(0, 2000)}`,
        );
      }
    },
  };
}
