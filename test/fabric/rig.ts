/**
 * The real-BGP test rig (docs/fabric.md, issue 12): K nodes as Linux network namespaces on one L2 switch,
 * each running Debian's BIRD 1.6 with the bird.cfg that Calico's own confd (v3.31.0, one watcher per node)
 * renders from the test API server, reloading BIRD on every change. Only direct routing (no IPIP/VXLAN:
 * Debian's BIRD lacks the fork's tunnel support).
 *
 *   node i (1..K, names sorted): namespace <prefix>-n<i>, eth0 198.18.0.(10+i)/24 (a veth to the bridge in
 *   namespace <prefix>-sw), "pod" 198.19.i.1/32 on lo, pod block 198.19.i.0/24 (a confirmed BlockAffinity),
 *   rp_filter 0.
 *
 * Every process (confd, BIRD, and the probes) runs in its own process group recorded in a ProcessGroupSet under
 * the harness dir; its on-exit script deletes the namespaces, so they go on a normal stop, on exit and
 * signals, by the guardian when this process is SIGKILLed, and by the next run's sweep.
 *
 * Needs root, `ip` (iproute2), `bird`/`birdc` and confd (`CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh`):
 * missing pieces throw MissingToolsError, never skip.
 */
import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { generateCluster } from '../fixtures/generate.js';
import {
  calicoEnv,
  confdPath,
  confdTemplatesDir,
  debianBirdTemplates,
  stageConfdDir,
} from '../harness/calico-tools.js';
import { MissingToolsError, sleep, type ControlPlane, type Obj } from '../harness/index.js';
import { harnessBaseDir, ON_EXIT, ProcessGroupSet, procStartTime } from '../harness/procs.js';
import type { RouteReplace } from './report.js';

export const NODE_NET = '198.18.0';
export const POD_NET = '198.19';
export const POOL_CIDR = '198.19.0.0/16';
export const ANN_IPV4 = 'projectcalico.org/IPv4Address';
export const ANN_CID = 'projectcalico.org/RouteReflectorClusterID';
export const RR_LABEL = 'route-reflector';
const CAPI = 'crd.projectcalico.org/v1';

/** Debian packages the rig needs, by command (CI also installs iputils-ping, for looking around by hand). */
export const RIG_COMMANDS: Record<string, string> = {
  ip: 'iproute2',
  bird: 'bird',
  birdc: 'bird',
  fping: 'fping',
};
const SEARCH_PATH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

function which(cmd: string): string | undefined {
  for (const d of [...(process.env['PATH'] ?? '').split(':'), ...SEARCH_PATH]) {
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Absolute paths of ip, bird, birdc, fping; throws MissingToolsError naming the packages (never a skip). */
export function rigTools(): Record<'ip' | 'bird' | 'birdc' | 'fping', string> {
  const missing = Object.keys(RIG_COMMANDS).filter((c) => !which(c));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((c) => RIG_COMMANDS[c]!))];
    throw new MissingToolsError(
      `the BGP fabric rig needs ${missing.join(', ')}: apt-get install -y ${pkgs.join(' ')} ` +
        '(docs/fabric.md). These tests never skip themselves.',
    );
  }
  if (process.getuid?.() !== 0)
    throw new MissingToolsError('the BGP fabric rig needs root (network namespaces); see docs/fabric.md');
  return { ip: which('ip')!, bird: which('bird')!, birdc: which('birdc')!, fping: which('fping')! };
}

export interface FabricNode {
  name: string;
  /** 1..K, by sorted name. */
  index: number;
  ns: string;
  /** eth0 address (no prefix). */
  ip: string;
  /** The "pod": 198.19.i.1 on lo. */
  podIp: string;
  block: string;
  dir: string;
  socket: string;
}

/** base32 (RFC 4648, no padding) of SHA3-256 of the node name: the v3.31 BlockAffinity hostname-hash label. */
export function hostnameHash(node: string): string {
  const bytes = createHash('sha3-256').update(node).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/**
 * The datastore state for a rig of K nodes: the generator's cluster (3 zones, operator install, mesh on) with
 * every node moved to 198.18.0.(10+i)/24, no tunnel addresses, one IPPool 198.19.0.0/16 (/24 blocks, no
 * IPIP/VXLAN) and one confirmed BlockAffinity per node (198.19.i.0/24) with the labels v3.31 confd requires.
 */
export function fabricCluster(
  nodes: number,
  opts: { seed?: number; rrs?: number; rrClusterIds?: 'shared' | 'distinct' } = {},
): Obj[] {
  if (nodes < 2 || nodes > 240) throw new Error(`the rig takes 2..240 nodes, not ${nodes}`);
  const objects = generateCluster({
    nodes,
    zones: 3,
    encapsulation: 'None',
    subnets: 'single',
    seed: opts.seed ?? 42,
    // no Typha pods: the rig's "pods" are addresses on lo, and a Typha PodDisruptionBudget that no controller
    // resets would block the second drain of a run
    typhaPods: false,
    ...(opts.rrs ? { rrs: opts.rrs, rrClusterIds: opts.rrClusterIds ?? 'distinct' } : {}),
  }) as unknown as Obj[];
  const names = objects
    .filter((o) => o.kind === 'Node')
    .map((o) => o.metadata.name)
    .sort();
  const index = new Map(names.map((n, i) => [n, i + 1]));
  for (const o of objects) {
    if (o.kind === 'Node') {
      const i = index.get(o.metadata.name)!;
      const ann = (o.metadata.annotations ??= {});
      ann[ANN_IPV4] = `${NODE_NET}.${10 + i}/24`;
      delete ann['projectcalico.org/IPv4IPIPTunnelAddr'];
      delete ann['projectcalico.org/IPv4VXLANTunnelAddr'];
      const st = o.status as { addresses?: { type: string; address: string }[] };
      for (const a of st.addresses ?? []) if (a.type === 'InternalIP') a.address = `${NODE_NET}.${10 + i}`;
    } else if (o.kind === 'IPPool') {
      o.spec = { ...o.spec, cidr: POOL_CIDR, blockSize: 24, ipipMode: 'Never', vxlanMode: 'Never' };
    } else if (o.kind === 'Installation') {
      const net = (o.spec?.['calicoNetwork'] ?? {}) as { ipPools?: Record<string, unknown>[] };
      for (const p of net.ipPools ?? [])
        Object.assign(p, { cidr: POOL_CIDR, blockSize: 24, encapsulation: 'None' });
    }
  }
  for (const [name, i] of index) {
    objects.push({
      apiVersion: CAPI,
      kind: 'BlockAffinity',
      metadata: {
        name: `${name}-198-19-${i}-0-24`,
        labels: {
          'projectcalico.org/hostname-hash': hostnameHash(name),
          'projectcalico.org/affinity-type': 'host',
          'projectcalico.org/ip-version': '4',
        },
      },
      spec: { state: 'confirmed', node: name, cidr: `${POD_NET}.${i}.0/24`, deleted: 'false' },
    });
  }
  return objects;
}

export interface ProtocolStatus {
  name: string;
  proto: string;
  /** BIRD's protocol state: up, start, down, ... */
  state: string;
  since: string;
  /** The info column (for BGP: the session state, e.g. Established, Active, Connect, then any error). */
  info: string;
}

/** Parses `birdc show protocols` (BIRD 1.6). */
export function parseShowProtocols(text: string): ProtocolStatus[] {
  const out: ProtocolStatus[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line.trimEnd());
    if (!m || m[1] === 'name' || m[1] === 'BIRD') continue;
    out.push({ name: m[1]!, proto: m[2]!, state: m[4]!, since: m[5]!, info: m[6]!.trim() });
  }
  return out;
}

/** BGP session state of a protocol: the first word of the info column when it is one, else Idle. */
export function bgpState(p: ProtocolStatus): string {
  const w = p.info.split(/\s+/)[0] ?? '';
  return ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close'].includes(w)
    ? w
    : 'Idle';
}

/** The peer address in a Calico protocol name: Mesh_198_18_0_12 -> 198.18.0.12 (IPv4 only). */
export function peerOfProtocol(name: string): string | undefined {
  const m = /^(?:Mesh|Node|Global)_(\d+)_(\d+)_(\d+)_(\d+)(?:_|$)/.exec(name);
  return m ? `${m[1]}.${m[2]}.${m[3]}.${m[4]}` : undefined;
}

export function execText(cmd: string, args: string[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message.split('\n')[0]} ${stderr}`.trim()));
      else resolve(stdout);
    });
  });
}

export interface FabricOptions {
  /** Log lines (progress and timings). */
  log?: (line: string) => void;
  /** The generator's seed (instance types only). */
  seed?: number;
  /** Start with this many route reflectors (one per zone) and the mesh off. */
  rrs?: number;
  /** Their cluster IDs: one each (244.0.0.1, .2, ..., as the tool's planners make them; the default) or one shared 244.0.0.1. */
  rrClusterIds?: 'shared' | 'distinct';
}

export interface FabricTimings {
  namespacesMs: number;
  fixtureMs: number;
  confdMs: number;
  birdMs: number;
  convergedMs: number;
}

let rigSeq = 0;

/** A running rig. `await Fabric.start(cp, 12)`, then `fabric.stop()` (also run on exit/signals). */
export class Fabric {
  readonly nodes: FabricNode[] = [];
  readonly prefix: string;
  readonly dir: string;
  readonly switchNs: string;
  readonly procs: ProcessGroupSet;
  readonly tools = rigTools();
  readonly timings: FabricTimings = { namespacesMs: 0, fixtureMs: 0, confdMs: 0, birdMs: 0, convergedMs: 0 };
  private readonly birds = new Map<string, { pid: number; exited: Promise<unknown> }>();
  private readonly log: (line: string) => void;
  private stopped = false;

  private constructor(
    readonly cp: ControlPlane,
    readonly names: string[],
    opts: FabricOptions,
  ) {
    this.log = opts.log ?? (() => {});
    this.prefix = `ctf${process.pid}${++rigSeq > 1 ? `x${rigSeq}` : ''}`;
    this.dir = path.join(harnessBaseDir(), `fabric-${process.pid}-${rigSeq}`);
    this.procs = new ProcessGroupSet(this.dir);
    this.switchNs = `${this.prefix}-sw`;
    names.forEach((name, k) => {
      const i = k + 1;
      const dir = path.join(this.dir, 'nodes', name);
      this.nodes.push({
        name,
        index: i,
        ns: `${this.prefix}-n${i}`,
        ip: `${NODE_NET}.${10 + i}`,
        podIp: `${POD_NET}.${i}.1`,
        block: `${POD_NET}.${i}.0/24`,
        dir,
        socket: path.join(dir, 'bird.ctl'),
      });
    });
    fs.writeFileSync(
      path.join(this.dir, ON_EXIT),
      [this.switchNs, ...this.nodes.map((n) => n.ns)]
        .map((ns) => `ip netns del ${ns} 2>/dev/null`)
        .join('\n') + '\n',
    );
    this.procs.startGuardian();
  }

  /**
   * Loads the rig's cluster into `cp` (reset first), builds the namespaces, starts a confd watcher and a BIRD
   * per node and waits until every BGP session is Established and every node has a route to every pod block.
   */
  static async start(cp: ControlPlane, k: number, opts: FabricOptions = {}): Promise<Fabric> {
    rigTools();
    confdPath();
    confdTemplatesDir();
    sweepNamespaces();
    raiseInotifyLimit();
    const objects = fabricCluster(k, opts);
    const names = objects
      .filter((o) => o.kind === 'Node')
      .map((o) => o.metadata.name)
      .sort();
    const f = new Fabric(cp, names, opts);
    try {
      let t = performance.now();
      await cp.reset();
      await cp.apply(objects);
      f.timings.fixtureMs = Math.round(performance.now() - t);
      t = performance.now();
      f.buildNamespaces();
      f.timings.namespacesMs = Math.round(performance.now() - t);
      f.startRouteMonitors();
      t = performance.now();
      await f.startConfd();
      f.timings.confdMs = Math.round(performance.now() - t);
      t = performance.now();
      for (const n of f.nodes) f.startBird(n.name);
      await Promise.all(f.nodes.map((n) => f.waitSocket(n)));
      f.timings.birdMs = Math.round(performance.now() - t);
      t = performance.now();
      await f.waitConverged(120_000);
      f.timings.convergedMs = Math.round(performance.now() - t);
      f.log(
        `fabric: ${k} nodes up (fixture ${f.timings.fixtureMs} ms, namespaces ${f.timings.namespacesMs} ms, ` +
          `confd ${f.timings.confdMs} ms, BIRD ${f.timings.birdMs} ms, converged ${f.timings.convergedMs} ms)`,
      );
      return f;
    } catch (e) {
      await f.stop();
      throw e;
    }
  }

  node(name: string): FabricNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no rig node ${name} (have ${this.names.join(', ')})`);
    return n;
  }

  nodeByIp(ip: string): FabricNode | undefined {
    return this.nodes.find((n) => n.ip === ip || n.podIp === ip);
  }

  private ip(args: string[]): void {
    execFileSync(this.tools.ip, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** `ip [-n NS] -batch FILE` (one process per namespace: batch lines take no -n). */
  private ipBatch(ns: string | undefined, lines: string[], name: string): void {
    const file = path.join(this.dir, `${name}.batch`);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    this.ip([...(ns ? ['-n', ns] : []), '-batch', file]);
  }

  private buildNamespaces(): void {
    const sw = this.switchNs;
    this.ipBatch(
      undefined,
      [
        `netns add ${sw}`,
        ...this.nodes.map((n) => `netns add ${n.ns}`),
        ...this.nodes.map((n) => `link add eth0 netns ${n.ns} type veth peer name p${n.index} netns ${sw}`),
      ],
      'netns',
    );
    this.ipBatch(
      sw,
      [
        'link add br0 type bridge',
        'link set br0 up',
        ...this.nodes.flatMap((n) => [`link set p${n.index} master br0`, `link set p${n.index} up`]),
      ],
      'switch',
    );
    for (const n of this.nodes) {
      fs.mkdirSync(n.dir, { recursive: true });
      this.ipBatch(
        n.ns,
        [
          `addr add ${n.ip}/24 dev eth0`,
          'link set eth0 up',
          'link set lo up',
          `addr add ${n.podIp}/32 dev lo`,
        ],
        `nodes/${n.name}/netns`,
      );
    }
    for (const n of this.nodes) {
      fs.mkdirSync(n.dir, { recursive: true });
      execFileSync(
        this.tools.ip,
        [
          'netns',
          'exec',
          n.ns,
          'sysctl',
          '-q',
          '-w',
          'net.ipv4.conf.all.rp_filter=0',
          'net.ipv4.conf.default.rp_filter=0',
          'net.ipv4.conf.eth0.rp_filter=0',
          'net.ipv4.conf.lo.rp_filter=0',
        ],
        { stdio: 'ignore' },
      );
    }
  }

  private async startConfd(): Promise<void> {
    const templates = debianBirdTemplates(this.dir);
    const kubeconfig = this.cp.kubeconfig('admin');
    for (const n of this.nodes) {
      const confdir = stageConfdDir(path.join(n.dir, 'confd'), templates, n.dir, {
        reload: `${this.tools.birdc} -s ${n.socket} configure`,
      });
      this.procs.spawn(
        `confd-${n.name}`,
        confdPath(),
        [`-confdir=${confdir}`],
        path.join(n.dir, 'confd.log'),
        calicoEnv(kubeconfig, {
          NODENAME: n.name,
          BGP_LOGSEVERITYSCREEN: 'info',
          PATH: `${path.dirname(this.tools.bird)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
        }),
        // check_cmd `bird -p -c <staged file>` resolves bird.cfg's `include "bird_aggr.cfg";` from here
        { cwd: n.dir },
      );
    }
    const deadline = Date.now() + 90_000;
    for (const n of this.nodes) {
      const cfg = path.join(n.dir, 'bird.cfg');
      while (!fs.existsSync(cfg) || !/^router id /m.test(fs.readFileSync(cfg, 'utf8'))) {
        if (Date.now() > deadline)
          throw new Error(
            `confd did not render ${cfg} within 90 s; log tail:\n${tail(path.join(n.dir, 'confd.log'))}`,
          );
        await sleep(100);
      }
    }
  }

  /** `ip -ts monitor route` per namespace into <node dir>/routes.log: when each pod route came and went. */
  private startRouteMonitors(): void {
    for (const n of this.nodes)
      this.procs.spawn(
        `routes-${n.name}`,
        this.tools.ip,
        ['-ts', '-n', n.ns, 'monitor', 'route'],
        path.join(n.dir, 'routes.log'),
      );
  }

  /**
   * Starts (or restarts) the node's BIRD in its namespace, in the foreground, logging to <node dir>/bird.log.
   * `recovery: false` starts it without `-R` (no graceful-restart recovery: it prunes its stale kernel routes at
   * once and feeds its peers without waiting for theirs).
   */
  startBird(name: string, opts: { recovery?: boolean } = {}): void {
    const n = this.node(name);
    fs.rmSync(n.socket, { force: true });
    const { child, exited } = this.procs.spawn(
      `bird-${n.name}-${Date.now()}`,
      this.tools.ip,
      // as calico-node runs it (`bird -R -s <ctl> -d -c bird.cfg`): -d = foreground, log to stderr
      [
        'netns',
        'exec',
        n.ns,
        this.tools.bird,
        ...(opts.recovery === false ? [] : ['-R']),
        '-s',
        n.socket,
        '-d',
        '-c',
        path.join(n.dir, 'bird.cfg'),
      ],
      path.join(n.dir, 'bird.log'),
      process.env,
      { cwd: n.dir, timestamps: true },
    );
    this.birds.set(n.name, { pid: child.pid!, exited });
  }

  /** Stops the node's BIRD (SIGTERM: it closes its sessions; its kernel routes stay, as with `persist`). */
  async stopBird(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const b = this.birds.get(name);
    if (!b) return;
    try {
      process.kill(-b.pid, signal);
    } catch {
      /* gone */
    }
    if (signal !== 'SIGSTOP') {
      await Promise.race([b.exited, sleep(10_000)]);
      this.birds.delete(name);
    }
  }

  /**
   * Stops every BIRD, flushes their kernel routes, and starts them again `staggerMs` apart without graceful-
   * restart recovery (the differential check's way out of BIRD 1.6's slow session re-forming after a reconfigure).
   */
  async restartAllBirds(staggerMs = 150): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stopBird(n.name)));
    for (const n of this.nodes) this.ip(['-n', n.ns, 'route', 'flush', 'proto', 'bird']);
    for (const n of this.nodes) {
      this.startBird(n.name, { recovery: false });
      await sleep(staggerMs);
    }
    await Promise.all(this.nodes.map((n) => this.waitSocket(n)));
  }

  private async waitSocket(n: FabricNode): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await this.birdc(n.name, ['show', 'status']);
        return;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(
            `BIRD of ${n.name} not answering on ${n.socket} after 30 s (${(e as Error).message}); log:\n` +
              tail(path.join(n.dir, 'bird.log')),
          );
        await sleep(100);
      }
    }
  }

  /** `birdc -s <socket> ARGS` of a node (the socket is a file: no need to enter the namespace). */
  birdc(name: string, args: string[], timeoutMs = 3000): Promise<string> {
    return execText(this.tools.birdc, ['-s', this.node(name).socket, ...args], timeoutMs);
  }

  async protocols(name: string): Promise<ProtocolStatus[]> {
    return parseShowProtocols(await this.birdc(name, ['show', 'protocols']));
  }

  /** Pod blocks routed in a node's kernel table (by BIRD). */
  async routedBlocks(name: string): Promise<string[]> {
    const out = await execText(this.tools.ip, ['-n', this.node(name).ns, 'route', 'show', 'proto', 'bird']);
    return out
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((d) => d.startsWith(`${POD_NET}.`));
  }

  /**
   * Kernel routes to pod blocks that BIRD deleted and re-added with the same next hop within 50 ms (from the
   * node's `ip -ts monitor route` log): BIRD 1.6 replaces a kernel route by delete + add.
   */
  routeReplaces(name: string): RouteReplace[] {
    const file = path.join(this.node(name).dir, 'routes.log');
    if (!fs.existsSync(file)) return [];
    const out: RouteReplace[] = [];
    const deleted = new Map<string, number>();
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m =
        /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?\] (Deleted )?(198\.19\.\d+\.0\/24) via (\S+)/.exec(
          line,
        );
      if (!m) continue;
      // `ip -ts` prints local time with microseconds
      const at = new Date(m[1]!).getTime() + Number(`0.${m[2] ?? '0'}`) * 1000;
      const key = `${m[4]} ${m[5]}`;
      if (m[3]) deleted.set(key, at);
      else {
        const d = deleted.get(key);
        if (d !== undefined && at - d <= 50) out.push({ node: name, block: m[4]!, at: d });
        deleted.delete(key);
      }
    }
    return out;
  }

  /** Until every BGP protocol of every node is Established and every node routes every other node's block. */
  async waitConverged(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const problems: string[] = [];
      await Promise.all(
        this.nodes.map(async (n) => {
          try {
            const ps = (await this.protocols(n.name)).filter((p) => p.proto === 'BGP');
            const down = ps.filter((p) => bgpState(p) !== 'Established');
            if (down.length)
              problems.push(`${n.name}: ${down.map((p) => `${p.name} ${p.info || p.state}`).join(', ')}`);
            const routed = new Set(await this.routedBlocks(n.name));
            const missing = this.nodes.filter((o) => o !== n && !routed.has(o.block));
            if (missing.length)
              problems.push(`${n.name}: no route to ${missing.map((o) => o.block).join(' ')}`);
          } catch (e) {
            problems.push(`${n.name}: ${(e as Error).message}`);
          }
        }),
      );
      if (!problems.length) return;
      last = problems.sort().join('\n');
      if (Date.now() > deadline) throw new Error(`the fabric did not converge in ${timeoutMs} ms:\n${last}`);
      await sleep(250);
    }
  }

  /** Kills every process, deletes the namespaces and the state dir (unless CALICO_TUNE_KEEP_FABRIC=1). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const keep = process.env['CALICO_TUNE_KEEP_FABRIC'] === '1';
    await this.procs.stop(3000, keep);
  }
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

/** Deletes namespaces of earlier rigs whose process is gone (`ctf<pid>...`). */
function sweepNamespaces(): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const ns of names) {
    const m = /^ctf(\d+)/.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || procStartTime(pid) !== undefined) continue;
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* best effort */
    }
  }
}

/** confd watchers need an inotify instance each: raise fs.inotify.max_user_instances to at least 1024. */
function raiseInotifyLimit(): void {
  const file = '/proc/sys/fs/inotify/max_user_instances';
  try {
    if (Number(fs.readFileSync(file, 'utf8')) < 1024) fs.writeFileSync(file, '1024');
  } catch {
    /* not fatal: confd falls back to polling */
  }
}
