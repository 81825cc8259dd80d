/**
 * Helpers for the tests of mutating commands (rr, migrate, apply): reading the cluster state that matters,
 * running the CLI in a pseudo-terminal, and killing a run in the middle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { bgpStateFromSnapshot } from '../../src/bgp/state.js';
import { verify } from '../../src/bgp/verify.js';
import { KubeApi } from '../../src/kube/api.js';
import { KubeHttp } from '../../src/kube/http.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { readLiveSnapshot } from '../../src/kube/snapshot.js';
import { BIN_RUN, cliEnv, REPO_ROOT, sleep, type ControlPlane, type Obj } from '../harness/index.js';

export const RR_ANN = 'projectcalico.org/RouteReflectorClusterID';
/** ANSI escape sequences (colour, cursor movement) in terminal output. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');
const CALICO = '/apis/crd.projectcalico.org/v1';

export interface NodeState {
  name: string;
  clusterId: string | null;
  rrLabel: string | null;
  unschedulable: boolean;
  cordonedBy: string | null;
}

/** What the BGP-relevant state of the cluster is: nodes' reflector fields, BGP config and peers, leftovers. */
export interface BgpWorld {
  nodes: NodeState[];
  meshEnabled: boolean | null;
  meshPassword: unknown;
  peers: { name: string; spec: unknown }[];
  nodeStatuses: string[];
  lease: Obj | undefined;
}

export async function world(cp: ControlPlane): Promise<BgpWorld> {
  const c = cp.client('admin');
  const [nodes, cfg, peers, statuses] = await Promise.all([
    c.list('/api/v1/nodes'),
    c.getOptional(`${CALICO}/bgpconfigurations/default`),
    c.list(`${CALICO}/bgppeers`),
    c.list(`${CALICO}/caliconodestatuses`),
  ]);
  const lease =
    (await c.getOptional('/apis/coordination.k8s.io/v1/namespaces/calico-system/leases/calico-tune')) ??
    (await c.getOptional('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/calico-tune'));
  return {
    nodes: nodes.items
      .map((n) => ({
        name: n.metadata.name,
        clusterId: n.metadata.annotations?.[RR_ANN] ?? null,
        rrLabel: n.metadata.labels?.['route-reflector'] ?? null,
        unschedulable: (n.spec as Record<string, unknown> | undefined)?.['unschedulable'] === true,
        cordonedBy: n.metadata.annotations?.['calico-tune.io/cordoned-by'] ?? null,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    meshEnabled:
      ((cfg?.spec as Record<string, unknown> | undefined)?.['nodeToNodeMeshEnabled'] as
        boolean | undefined) ?? null,
    meshPassword: (cfg?.spec as Record<string, unknown> | undefined)?.['nodeMeshMaxRestartTime'] ?? null,
    peers: peers.items
      .map((p) => ({ name: p.metadata.name, spec: p.spec }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    nodeStatuses: statuses.items.map((s) => s.metadata.name),
    lease,
  };
}

export function rrs(w: BgpWorld): string[] {
  return w.nodes.filter((n) => n.clusterId).map((n) => n.name);
}

/** The journal state recorded in the Lease, if any. */
export function journal(
  lease: Obj | undefined,
): { phase: string; done: { id: string }[]; plan: string } | undefined {
  const s = lease?.metadata.annotations?.['calico-tune.io/state'];
  return s ? (JSON.parse(s) as { phase: string; done: { id: string }[]; plan: string }) : undefined;
}

export interface RecordedPlan {
  steps: unknown[];
  summary: { routeReflectors?: { name: string }[] };
}

/** The plan recorded in the Lease, if any. */
export function journalPlan(lease: Obj | undefined): RecordedPlan | undefined {
  const p = lease?.metadata.annotations?.['calico-tune.io/plan'];
  return p ? (JSON.parse(gunzipSync(Buffer.from(p, 'base64')).toString('utf8')) as RecordedPlan) : undefined;
}

export function journalPlanSteps(lease: Obj | undefined): number {
  return journalPlan(lease)?.steps.length ?? 0;
}

/** Node names of a fixture, sorted, and picks by zone letter. */
export async function nodeNames(cp: ControlPlane): Promise<string[]> {
  return (await cp.client('admin').list('/api/v1/nodes')).items.map((n) => n.metadata.name).sort();
}

export interface Spawned {
  child: ChildProcess;
  out: () => string;
  done: Promise<number | null>;
}

/** Starts the CLI in its own process group (so it can be SIGKILLed as a whole). */
export function spawnCli(args: string[], kubeconfig: string, env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, [BIN_RUN, ...args], {
    env: cliEnv({ kubeconfig, env }),
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => text, done };
}

/** SIGKILLs the CLI's whole process group once the journal records `steps` done steps. */
export async function killAfterSteps(
  cp: ControlPlane,
  s: Spawned,
  steps: number,
  timeoutMs = 60_000,
): Promise<{ done: number; total: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lease = (await world(cp)).lease;
    const j = journal(lease);
    if (j && j.done.length >= steps) {
      process.kill(-s.child.pid!, 'SIGKILL');
      await s.done;
      return { done: j.done.length, total: journalPlanSteps(lease) };
    }
    if (s.child.exitCode !== null) throw new Error(`the run ended before step ${steps}: ${s.out()}`);
    if (Date.now() > deadline) {
      process.kill(-s.child.pid!, 'SIGKILL');
      throw new Error(`timed out waiting for ${steps} steps: ${s.out()}`);
    }
    await sleep(50);
  }
}

/**
 * Runs the CLI in a pseudo-terminal (util-linux `script`), answering prompts: each `answers` entry is sent
 * when its `when` text appears in the output (after its `before` has run, while the prompt waits; its `then`
 * runs once it is sent). Returns the exit code and the whole transcript.
 */
export async function runInPty(
  args: string[],
  kubeconfig: string,
  answers: { when: RegExp; send: string; before?: () => Promise<void>; then?: () => void }[],
  timeoutMs = 90_000,
  opts: { stdoutTo?: string } = {},
): Promise<{ code: number | null; out: string }> {
  const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  // stdoutTo: standard output goes to a file (as in `| tee log`); stdin and stderr stay on the terminal
  const quoted =
    [process.execPath, BIN_RUN, ...args].map(q).join(' ') + (opts.stdoutTo ? ` > ${q(opts.stdoutTo)}` : '');
  const child = spawn('script', ['-qefc', quoted, '/dev/null'], {
    env: { ...cliEnv({ kubeconfig }), TERM: 'xterm', COLUMNS: '200', LINES: '50' },
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let from = 0; // answers are matched against the output since the previous answer
  const pending = [...answers];
  let busy = false; // an answer's `before` is running: the output meanwhile answers nothing
  const onData = (d: Buffer): void => {
    out += d.toString();
    if (busy) return;
    const plain = out.slice(from).replace(ANSI, '').replace(/\s+/g, ' ');
    if (pending.length && pending[0]!.when.test(plain)) {
      from = out.length;
      const a = pending.shift()!;
      const send = (): void => {
        child.stdin!.write(a.send);
        a.then?.();
      };
      if (!a.before) return send();
      busy = true;
      void a.before().then(() => {
        busy = false;
        send();
      });
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, out: out.replace(ANSI, '') };
}

/** The model's verdict on the live cluster, read as admin directly from the API server. */
export async function liveVerdict(cp: ControlPlane): Promise<{ ok: boolean; unreachablePairs: number }> {
  const http = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('admin') }));
  try {
    return verify(bgpStateFromSnapshot(await readLiveSnapshot(new KubeApi(http))));
  } finally {
    http.close();
  }
}

/** What must be identical after a rollback (the BGP-relevant state, nothing left behind). */
export function endState(w: BgpWorld): unknown {
  return {
    nodes: w.nodes,
    meshEnabled: w.meshEnabled,
    peers: w.peers,
    lease: w.lease === undefined,
    statuses: w.nodeStatuses,
  };
}
