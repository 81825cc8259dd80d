/**
 * The integration-test harness (docs/testing.md):
 *
 *   const cp = await controlPlane({ calico: 'v3.27.3' });   // lazily started, shared by every test file
 *   await loadFixture(cp, { nodes: 12, install: 'manifest' }); // reset() + generateCluster() + apply()
 *   const mark = cp.audit.mark();
 *   const r = await runCli(['status', '--kubeconfig', cp.kubeconfig('plugin'), '-o', 'json']);
 *   expect(await cp.audit.writesSince(mark, { user: USERS.plugin.name })).to.deep.equal([]);
 *   const sim = await startSimulator(cp, { knobs: { establishDelayMs: 300 } });
 *
 * One control plane per Calico release, started on first use and kept for the whole run (two exist at
 * most: a second kube-apiserver is cheaper than deleting and re-creating the CRDs, see docs/testing.md).
 * They are stopped by the root `after` hook (registered when this module is first imported by a test
 * file, or by test/harness/hooks.js when mocha loads it with --require), and, whatever happens, on
 * process exit or SIGINT/SIGTERM. When a test in test/integration or test/e2e fails, the tail of the
 * kube-apiserver log is printed.
 */
import { ControlPlane, type StartOptions } from './control-plane.js';
import { Simulator, type SimulatorOptions } from './simulator.js';
import { DEFAULT_CALICO, k8sVersion, type CalicoRelease } from './tools.js';
import { generateCluster, type ClusterSpec } from '../fixtures/generate.js';
import type { KubeObject } from '../../src/model/types.js';

export {
  ControlPlane,
  USERS,
  CONTEXT,
  FIXTURE_NAMESPACES,
  type UserKey,
  type ApplyResult,
  type Timings,
} from './control-plane.js';
export { AuditLog, describeEvent, type AuditEvent, type WriteFilter } from './audit.js';
export { runCli, cliEnv, BIN_RUN, type CliOptions, type CliResult } from './cli.js';
export { run, describeRun, type RunResult } from './exec.js';
export { KubeClient, KubeError, mapLimit, sleep, type Obj } from './kube.js';
export {
  Simulator,
  Topology,
  simNode,
  simPeer,
  validClusterId,
  type SimKnobs,
  type SessionStatus,
  type Session,
} from './simulator.js';
export { compileSelector } from './selector.js';
export { FaultProxy, FAULT_KINDS, type FaultKind, type FaultRule, type ProxyRecord } from './fault-proxy.js';
export {
  binDir,
  defaultBinDir,
  calicoDir,
  calicoFile,
  CALICO_RELEASES,
  DEFAULT_CALICO,
  DEFAULT_K8S,
  K8S_VERSIONS,
  k8sVersion,
  REPO_ROOT,
  MissingToolsError,
  type CalicoRelease,
} from './tools.js';

const planes = new Map<string, Promise<ControlPlane>>();
/** Ends the starts still waiting for readiness when the run ends (stopAll), so that it does not wait for them. */
let starting = new AbortController();
const simulators = new Set<Simulator>();
const measurements: string[] = [];

/**
 * The shared control plane with the CRDs of `calico` installed (default v3.31.3; `null` for one
 * without Calico), on the Kubernetes version of $CALICO_TUNE_K8S
 * (default 1.34). Started on first call; later calls return the same instance. Throws (never skips)
 * when the tools are missing.
 */
export function controlPlane(
  opts: { calico?: CalicoRelease | null; calicoApi?: 'v3' } = {},
): Promise<ControlPlane> {
  const version = opts.calico === undefined ? DEFAULT_CALICO : opts.calico;
  const key = `${version ?? 'none'}${opts.calicoApi ? '-calico-apiserver' : ''}`;
  let p = planes.get(key);
  if (!p) {
    const k8s = k8sVersion();
    const start: StartOptions = {
      label: `cp-k8s${k8s}-${key}`,
      k8s,
      ...(version ? { calico: version } : {}),
      ...(opts.calicoApi ? { calicoApi: opts.calicoApi } : {}),
      signal: starting.signal,
    };
    p = ControlPlane.start(start).then((cp) => {
      measure(
        `control plane (Kubernetes ${cp.serverVersion}, ${key}): ready ${cp.timings.readyMs} ms, RBAC applied at ${cp.timings.startMs} ms` +
          (version ? `, CRDs ${cp.timings.crdInstallMs[version]} ms` : '') +
          (cp.timings.calicoApiMs !== undefined
            ? `, calico-apiserver Available ${cp.timings.calicoApiMs} ms`
            : ''),
      );
      return cp;
    });
    p.catch(() => planes.delete(key));
    planes.set(key, p);
  }
  return p;
}

/** Control planes started so far (for hooks). */
export async function runningControlPlanes(): Promise<ControlPlane[]> {
  const out: ControlPlane[] = [];
  for (const p of planes.values()) {
    try {
      const cp = await p;
      if (cp.running) out.push(cp);
    } catch {
      /* failed to start */
    }
  }
  return out;
}

/** Replaces everything on the control plane with a generated cluster (reset(), then apply()). */
export async function loadFixture(
  cp: ControlPlane,
  spec: ClusterSpec,
  edit?: (objects: KubeObject[]) => void,
): Promise<{ objects: number; ms: number }> {
  const t0 = performance.now();
  await cp.reset();
  const objects = generateCluster({ ...spec, calico: spec.calico ?? cp.calico ?? DEFAULT_CALICO });
  edit?.(objects);
  await cp.apply(objects);
  return { objects: objects.length, ms: Math.round(performance.now() - t0) };
}

/** Starts a calico-node simulator in this process, writing as the harness's `simulator` user. */
export async function startSimulator(
  cp: ControlPlane,
  opts: Omit<SimulatorOptions, 'client' | 'kubeconfig'> = {},
): Promise<Simulator> {
  const sim = new Simulator({ ...opts, client: cp.client('simulator') });
  await sim.start();
  simulators.add(sim);
  const stop = sim.stop.bind(sim);
  sim.stop = async () => {
    simulators.delete(sim);
    await stop();
  };
  return sim;
}

/** Polls `fn` until it returns a value other than undefined/false; throws with `what` (and the last error) on timeout. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${opts.timeoutMs ?? 15_000} ms waiting for ${opts.what ?? 'a condition'}${lastErr ? `: ${(lastErr as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** Records a measurement; all of them are printed once at the end of the run. */
export function measure(line: string): void {
  measurements.push(line);
}

/** Stops every simulator and control plane, then prints the measurements. */
export async function stopAll(): Promise<void> {
  for (const s of [...simulators]) await s.stop().catch(() => {});
  starting.abort();
  starting = new AbortController();
  const cps = await runningControlPlanes();
  planes.clear();
  await Promise.all(cps.map((cp) => cp.stop()));
  if (measurements.length && process.env['CALICO_TUNE_QUIET_TIMINGS'] !== '1') {
    process.stdout.write(`\n  harness measurements:\n${measurements.map((m) => `    ${m}`).join('\n')}\n`);
    measurements.length = 0;
  }
}

/** Prints the kube-apiserver log tail of every running control plane (used after a failed test). */
export async function printLogTails(title: string, lines = 40): Promise<void> {
  for (const cp of await runningControlPlanes())
    process.stderr.write(`\n[harness] ${title}\n${cp.logTail(lines)}\n`);
}

interface HookContext {
  currentTest?: { state?: string; file?: string; fullTitle(): string } | undefined;
}

/** The root hooks, as a mocha Root Hook Plugin object (test/harness/hooks.ts exports it as mochaHooks). */
export const rootHooks = {
  async afterEach(this: HookContext): Promise<void> {
    const t = this.currentTest;
    if (t?.state === 'failed' && /[/\\](integration|e2e)[/\\]/.test(t.file ?? ''))
      await printLogTails(`failed: ${t.fullTitle()}`);
  },
  async afterAll(): Promise<void> {
    await stopAll();
  },
};

const FLAG = Symbol.for('calico-tune.harness.rootHooks');
type G = typeof globalThis & { [FLAG]?: boolean };

/** Marks the root hooks as registered (hooks.ts calls this; then the import-time fallback stays out). */
export function markRootHooksRegistered(): void {
  (globalThis as G)[FLAG] = true;
}

// Fallback for runs without `--require dist/test/harness/hooks.js` (e.g. `mocha --no-config FILES`):
// when a test file first imports the harness, mocha is loading files and the current suite is the
// root, so these become root-level hooks that run after every file.
if (
  !(globalThis as G)[FLAG] &&
  typeof globalThis.after === 'function' &&
  typeof globalThis.afterEach === 'function'
) {
  markRootHooksRegistered();
  afterEach(rootHooks.afterEach);
  after(rootHooks.afterAll);
}
