/**
 * Whole-command benchmarks: the CLI as a user runs it (a new Node process each time), interleaved with the
 * baseline so machine load hits both alike; medians and ratios, not absolute targets.
 *
 *   node dist/bench/cli.js [--runs N]
 *
 * Cases: `--help` against `node -e 0` (budget: 1.5x; the single binary of `npm run package`, when built: 1.0x,
 * also against the Go `kubectl --help`), `migrate plan` offline on the shipped 1,000-node
 * example (budget: under 2 s), and `status` / `rr recommend` / `migrate plan` on a generated 5,000-node snapshot.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateCluster } from '../test/fixtures/generate.js';
import { selfSignedCert } from '../test/harness/tls.js';
import { defaultBinDir } from '../test/harness/tools.js';
import { extraCaSet, WITHOUT_EXTRA_CA, withoutExtraCa } from './env.js';
import { median } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'run.js');

export interface CliCase {
  name: string;
  /** The executable (default: this Node.js). */
  exe?: string;
  argv: string[];
  /** Its environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The case it is compared with (a ratio is reported). */
  baseline?: string;
  budget?: { ratio?: number; ms?: number };
}

export interface CliResult {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
  ratio?: number | undefined;
  exit: number | null;
  withinBudget: boolean | null;
  maxRssMB: number;
}

function once(
  argv: string[],
  exe = process.execPath,
  env: NodeJS.ProcessEnv = process.env,
): { ms: number; exit: number | null; rssMB: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', exe, ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...env, NO_COLOR: '1' },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rssKB = Number((r.stderr.trim().split('\n').pop() ?? '0').trim()) || 0;
  return { ms, exit: r.status, rssMB: rssKB / 1024 };
}

/** The krew single binary of `npm run package` for this machine's os/arch (dist/package/<os>-<arch>/). */
export const SINGLE_BINARY = path.join(
  ROOT,
  'dist',
  'package',
  `${process.platform === 'win32' ? 'windows' : process.platform}-${({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch}`,
  'kubectl-calico_tune',
);

/** The single binary of `npm run package` for this machine, and the Go kubectl of the test tools, when built. */
function binaries(): { single?: string; kubectl?: string } {
  const kubectl = path.join(defaultBinDir(), 'kubectl');
  return {
    single: fs.existsSync(SINGLE_BINARY) ? SINGLE_BINARY : undefined,
    kubectl: fs.existsSync(kubectl) ? kubectl : undefined,
  };
}

/** The single binary against `node -e 0` and kubectl (goal: --help <= 1.0x node -e 0; docs/packaging.md). */
function binaryCases(): CliCase[] {
  const { single, kubectl } = binaries();
  const out: CliCase[] = [];
  if (kubectl) out.push({ name: 'kubectl --help (Go)', exe: kubectl, argv: ['--help'] });
  if (!single) return out;
  const ex150 = path.join(ROOT, 'examples', 'cluster-150.yaml');
  out.push(
    {
      name: 'binary --help',
      exe: single,
      argv: ['--help'],
      baseline: 'node -e 0',
      budget: { ratio: 1.0 },
    },
    {
      name: 'binary status --help',
      exe: single,
      argv: ['status', '--help'],
      baseline: 'node -e 0',
      budget: { ratio: 1.0 },
    },
    {
      name: 'binary __complete rr (completion)',
      exe: single,
      argv: ['__complete', 'rr', ''],
      baseline: 'node -e 0',
    },
    {
      name: 'binary status --snapshot (150 nodes, YAML)',
      exe: single,
      argv: ['status', '--snapshot', ex150, '-o', 'json'],
      baseline: 'status --snapshot (150 nodes, YAML)',
    },
  );
  return out;
}

/** Node's start and `--help` again without NODE_EXTRA_CA_CERTS, when this environment sets it (bench/env.ts). */
function withoutExtraCaCases(): CliCase[] {
  if (!extraCaSet()) return [];
  const env = withoutExtraCa();
  const node = `node -e 0, ${WITHOUT_EXTRA_CA}`;
  return [
    { name: node, argv: ['-e', '0'], env },
    {
      name: `kubectl-calico_tune --help, ${WITHOUT_EXTRA_CA}`,
      argv: [BIN, '--help'],
      env,
      baseline: node,
      budget: { ratio: 1.3 },
    },
    {
      name: `kubectl-calico_tune status --help, ${WITHOUT_EXTRA_CA}`,
      argv: [BIN, 'status', '--help'],
      env,
      baseline: node,
      budget: { ratio: 1.5 },
    },
  ];
}

export function cases(tmp: string): CliCase[] {
  const big = path.join(tmp, 'cluster-5000.json');
  if (!fs.existsSync(big)) {
    fs.writeFileSync(
      big,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: generateCluster({ nodes: 5000, zones: 3, seed: 5000 }),
      }),
    );
  }
  return [
    { name: 'node -e 0', argv: ['-e', '0'] },
    {
      name: 'kubectl-calico_tune --help',
      argv: [BIN, '--help'],
      baseline: 'node -e 0',
      budget: { ratio: 1.3 },
    },
    {
      name: 'kubectl-calico_tune status --help',
      argv: [BIN, 'status', '--help'],
      baseline: 'node -e 0',
      budget: { ratio: 1.5 },
    },
    {
      name: 'status --snapshot (150 nodes, YAML)',
      argv: [BIN, 'status', '--snapshot', path.join(ROOT, 'examples', 'cluster-150.yaml'), '-o', 'json'],
    },
    {
      name: 'migrate plan --snapshot (1,000 nodes)',
      argv: [
        BIN,
        'migrate',
        'plan',
        '--to',
        'route-reflectors',
        '--snapshot',
        path.join(ROOT, 'examples', 'cluster-1000.json'),
        '-o',
        'json',
      ],
      budget: { ms: 2000 },
    },
    ...binaryCases(),
    ...withoutExtraCaCases(),
    { name: 'status --snapshot (5,000 nodes)', argv: [BIN, 'status', '--snapshot', big, '-o', 'json'] },
    {
      name: 'rr recommend --snapshot (5,000 nodes)',
      argv: [BIN, 'rr', 'recommend', '--snapshot', big, '-o', 'json'],
    },
    {
      name: 'migrate plan --snapshot (5,000 nodes)',
      argv: [BIN, 'migrate', 'plan', '--to', 'route-reflectors', '--snapshot', big, '-o', 'json'],
    },
  ];
}

export function run(opts: { runs?: number } = {}): CliResult[] {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-bench-'));
  try {
    const list = cases(tmp);
    const runs = opts.runs ?? 9;
    const times = new Map<string, number[]>(list.map((c) => [c.name, []]));
    const rss = new Map<string, number>();
    const exits = new Map<string, number | null>();
    for (const c of list) once(c.argv, c.exe, c.env); // warm the file cache
    // interleave: every round runs every case once
    for (let i = 0; i < runs; i++) {
      for (const c of list) {
        if (i >= 3 && c.name.includes('5,000')) continue; // the slow ones: 3 runs are enough
        const r = once(c.argv, c.exe, c.env);
        times.get(c.name)!.push(r.ms);
        rss.set(c.name, Math.max(rss.get(c.name) ?? 0, r.rssMB));
        exits.set(c.name, r.exit);
      }
    }
    const med = new Map(list.map((c) => [c.name, median(times.get(c.name)!)]));
    return list.map((c) => {
      const t = times.get(c.name)!;
      const ratio = c.baseline ? med.get(c.name)! / med.get(c.baseline)! : undefined;
      let within: boolean | null = null;
      if (c.budget?.ratio !== undefined && ratio !== undefined) within = ratio <= c.budget.ratio;
      if (c.budget?.ms !== undefined) within = med.get(c.name)! <= c.budget.ms;
      return {
        name: c.name,
        medianMs: med.get(c.name)!,
        minMs: Math.min(...t),
        maxMs: Math.max(...t),
        runs: t.length,
        ratio,
        exit: exits.get(c.name) ?? null,
        withinBudget: within,
        maxRssMB: rss.get(c.name) ?? 0,
      };
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function markdown(rows: CliResult[]): string {
  const lines = [
    '| command | median ms | min-max ms | runs | ratio | max RSS MB | exit | budget |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.medianMs.toFixed(0)} | ${r.minMs.toFixed(0)}-${r.maxMs.toFixed(0)} | ${r.runs} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`} | ${r.maxRssMB.toFixed(0)} | ${r.exit} | ${r.withinBudget === null ? '' : r.withinBudget ? 'met' : '**missed**'} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--runs');
  const rows = run({ runs: i > 0 ? Number(process.argv[i + 1]) : undefined });
  process.stdout.write(`${markdown(rows)}\n`);
  if (rows.some((r) => r.withinBudget === false)) process.exitCode = 1;
}

/**
 * Start-up of a command that needs the cluster: time from spawning `status` to its first connection to
 * the API server (a local TCP listener that reads the client's first bytes, its TLS ClientHello, and closes)
 * and to that ClientHello, against `node -e 0` run to its end, interleaved. Median of `runs`; the CPU time of each (to that connection, and of all of `node -e 0`) next
 * to it. bin/run.js runs the bundle of `npm run build` (scripts/bundle.js), which sends the first request
 * while oclif loads (src/kube/connect.ts); `exe` times another build instead (the krew single binary).
 *
 * The kubeconfig names its cluster's CA (`certificate-authority-data`, a certificate openssl makes for the
 * run), as a real one does: the TLS context is made with it, which on Node 20 also builds Node's root store
 * (docs/benchmarks.md, "Start-up" item 5). Without openssl it skips verification instead (`ca: false`).
 */
export async function firstRequest(
  runs = 9,
  env: NodeJS.ProcessEnv = process.env,
  opts: { exe?: string } = {},
): Promise<{
  firstMs: number;
  /**
   * When its TLS ClientHello came, the first bytes of its first request (its TLS context made: the TCP
   * handshake goes before, src/kube/http.ts); undefined when a run sent none.
   */
  helloMs?: number | undefined;
  nodeMs: number;
  /** Of the TCP connection's time to `node -e 0`. */
  ratio: number;
  /** Of the ClientHello's (the goal's). */
  helloRatio?: number | undefined;
  cpu?: { firstMs: number; nodeMs: number } | undefined;
  /** Whether the kubeconfig named a CA (else it skipped verification: no openssl here). */
  ca: boolean;
}> {
  const net = await import('node:net');
  const { spawn } = await import('node:child_process');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-first-'));
  // the TCP connection, then the client's first bytes (its TLS ClientHello: the TLS context is made)
  let onConn: (() => void) | undefined;
  let onHello: (() => void) | undefined;
  const server = net.createServer((s) => {
    onConn?.();
    s.once('data', () => {
      onHello?.();
      s.destroy();
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const kc = path.join(tmp, 'kubeconfig');
  const ca = benchCa(tmp);
  fs.writeFileSync(
    kc,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:' +
        port +
        '", ' +
        (ca ? `certificate-authority-data: ${ca}` : 'insecure-skip-tls-verify: true') +
        '}}]',
      'users: [{name: u, user: {token: bench}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  // CPU time (user + system) of the child up to that moment, from /proc (Linux): contention does not inflate it
  const tick = 1000 / 100; // ms per clock tick (USER_HZ is 100 on Linux)
  const cpuOf = (pid: number | undefined): number | undefined => {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * tick;
    } catch {
      return undefined;
    }
  };
  const timed = (
    args: string[],
    untilConnection: boolean,
  ): Promise<{ ms: number; helloMs?: number; cpuMs?: number }> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      // node -e 0 runs to its end: its CPU time is read by /usr/bin/time (no /proc entry after exit)
      const p = untilConnection
        ? spawn(opts.exe ?? process.execPath, args, { stdio: 'ignore', env: { ...env, NO_COLOR: '1' } })
        : spawn('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], {
            stdio: ['ignore', 'ignore', 'pipe'],
            env,
          });
      let err = '';
      p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      let done = false;
      let connMs: number | undefined;
      let connCpu: number | undefined;
      const finish = (hello: boolean): void => {
        if (done) return;
        done = true;
        onConn = undefined;
        onHello = undefined;
        const ms = performance.now() - t0;
        if (untilConnection) {
          const cpuMs = connCpu ?? cpuOf(p.pid);
          p.kill();
          // the connection's time (and CPU time then), and the ClientHello's when one came
          resolve({ ms: connMs ?? ms, helloMs: hello ? ms : undefined, cpuMs });
        } else {
          const [u, s] = err.trim().split('\n').pop()!.split(' ').map(Number);
          resolve({ ms, cpuMs: u !== undefined && s !== undefined ? (u + s) * 1000 : undefined });
        }
      };
      if (untilConnection) {
        onConn = () => {
          connMs = performance.now() - t0;
          connCpu = cpuOf(p.pid);
        };
        onHello = () => finish(true);
      }
      p.on('close', () => finish(false));
    });
  const first: number[] = [];
  const hello: number[] = [];
  const base: number[] = [];
  const firstCpu: number[] = [];
  const baseCpu: number[] = [];
  const status = [...(opts.exe ? [] : [BIN]), 'status', '--kubeconfig', kc, '--request-timeout', '2s'];
  try {
    // one run to its end first (the listener closes the connection: it fails), which writes the V8 code cache
    // of a new build (src/cli/code-cache.ts writes it when the process ends, and a timed run is killed at its
    // ClientHello: a bench run just after `npm run build` timed every run without the cache)
    await new Promise((resolve) =>
      spawn(opts.exe ?? process.execPath, status, { stdio: 'ignore', env: { ...env, NO_COLOR: '1' } }).on(
        'close',
        resolve,
      ),
    );
    for (let i = 0; i < runs + 1; i++) {
      const a = await timed(status, true);
      const b = await timed(['-e', '0'], false);
      if (i === 0) continue; // warm-up
      first.push(a.ms);
      if (a.helloMs !== undefined) hello.push(a.helloMs);
      base.push(b.ms);
      if (a.cpuMs !== undefined) firstCpu.push(a.cpuMs);
      if (b.cpuMs !== undefined) baseCpu.push(b.cpuMs);
    }
  } finally {
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const firstMs = median(first);
  const nodeMs = median(base);
  const cpu =
    firstCpu.length && baseCpu.length ? { firstMs: median(firstCpu), nodeMs: median(baseCpu) } : undefined;
  const helloMs = hello.length === first.length ? median(hello) : undefined;
  return {
    firstMs,
    helloMs,
    nodeMs,
    ratio: firstMs / nodeMs,
    helloRatio: helloMs && helloMs / nodeMs,
    cpu,
    ca: ca !== undefined,
  };
}

/** A self-signed CA certificate for the start-up bench's kubeconfig, base64 (undefined: no openssl). */
function benchCa(dir: string): string | undefined {
  try {
    return selfSignedCert(dir, { cn: 'calico-tune-bench' }).cert.toString('base64');
  } catch {
    return undefined;
  }
}
