/**
 * A calico-node stand-in. Nothing runs calico-node in the test cluster, so this simulator watches
 * Nodes, BGPConfigurations and BGPPeers (crd.projectcalico.org/v1) and fills in the `status` of
 * CalicoNodeStatus objects the way calico-node would: the node's BGP sessions per Calico's rules, each
 * `Established` a configurable delay after it first appeared, with knobs to keep chosen sessions stuck
 * (`Active`) or to stop answering.
 *
 * It imports NOTHING from src/: it is the independent oracle the product's BGP model is tested against.
 * The rules follow confd (confd/pkg/backends/calico/client.go#updatePeersV1 and bird.cfg.template):
 *   - full mesh (type NodeMesh) among nodes without a valid route-reflector cluster ID, unless the
 *     `default` BGPConfiguration sets nodeToNodeMeshEnabled: false; a node with a valid cluster ID
 *     (a bare dotted-quad IPv4) leaves the mesh;
 *   - each BGPPeer: local nodes = spec.node | spec.nodeSelector | all nodes (global); remote =
 *     peerSelector (the matching nodes' IPv4 addresses) | peerIP. Global BGPPeers (neither node nor
 *     nodeSelector) give GlobalPeer sessions, the others NodePeer; a node-specific peering to an IP
 *     that a global peering already covers is skipped;
 *   - automatic reverse peerings (NodePeer): the nodes matched by peerSelector (or owning peerIP with
 *     the same AS) peer back with the local nodes, unless spec.reversePeering is Manual;
 *   - never a session to the node's own address.
 * peerIP is the peer node's projectcalico.org/IPv4Address without the prefix length.
 *
 * In-process: `const sim = new Simulator({ client }); await sim.start(); sim.setKnobs({...}); await sim.stop()`.
 * Standalone: `node dist/test/harness/simulator.js --kubeconfig FILE [--delay-ms N] [--knobs FILE]
 *   [--stuck NODE[/PEER]]... [--silent NODE]...` (the knobs file is JSON, re-read when it changes).
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { KubeClient, KubeError, sleep, type Obj, type WatchEvent } from './kube.js';
import { compileSelector, type Labels } from './selector.js';

export type PeerType = 'NodeMesh' | 'NodePeer' | 'GlobalPeer';
export type SessionState =
  'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established' | 'Close';

export interface SimNode {
  name: string;
  labels: Labels;
  /** IPv4 address without the prefix length; undefined when the node has no projectcalico.org/IPv4Address. */
  ipv4?: string | undefined;
  /** projectcalico.org/ASNumber, if set. */
  asNumber?: string | undefined;
  /** The cluster ID, only when it is valid (Calico silently ignores an invalid one). */
  rrClusterId?: string | undefined;
}

export interface SimPeer {
  name: string;
  node?: string | undefined;
  nodeSelector?: string | undefined;
  peerIP?: string | undefined;
  peerSelector?: string | undefined;
  asNumber?: string | undefined;
  reversePeering?: string | undefined;
}

export interface SimWorld {
  nodes: ReadonlyMap<string, SimNode>;
  /** The `default` BGPConfiguration's spec, if the object exists. */
  defaultConfig?: Record<string, unknown> | undefined;
  peers: readonly SimPeer[];
}

export interface Session {
  peerIP: string;
  type: PeerType;
  /** The peer node's name when the address belongs to a node. */
  peerNode?: string | undefined;
}

export interface SessionStatus extends Session {
  state: SessionState;
  since: string;
}

export interface StuckRule {
  /** Local node name (any node when omitted). */
  node?: string;
  /** Peer node name or peer IP (any peer when omitted). */
  peer?: string;
}

export interface SimKnobs {
  /** Delay from a session's first appearance to Established (ms). Default 1000. */
  establishDelayMs: number;
  /** Sessions that never come up: reported `Active`. */
  stuck: StuckRule[];
  /** Nodes whose CalicoNodeStatus is no longer updated (calico-node stopped answering). */
  silent: string[];
  /** Stop updating every CalicoNodeStatus. */
  paused: boolean;
  /**
   * Nodes whose calico-node keeps reporting (fresh lastUpdated) but never applies configuration changes:
   * their sessions stay those of the moment they were frozen (confd/BIRD lagging or stuck).
   */
  frozen: string[];
  /**
   * Nodes that fall silent, for good, as soon as they have no (valid) cluster ID: calico-node dies right after
   * a demotion's second write, whatever the load, so a test needs no race with the plugin to stage it.
   */
  silentWithoutClusterId?: string[] | undefined;
  /**
   * The kubelet's part in a pod's deletion (an eviction): a pod with a deletionTimestamp on a Ready node is
   * removed this long after the simulator first sees it (ms; default 300). On a node that is not Ready (its
   * kubelet down) it stays Terminating, as it would. Independent of the calico-node knobs above.
   */
  podTerminationMs?: number | undefined;
}

/** Whether a Node object's Ready condition is True (its kubelet answers). */
function nodeReady(n: Obj | undefined): boolean {
  const conds =
    (n?.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Pods by namespace/name (names repeat across namespaces); the cluster-scoped kinds by name. */
function storeKey(o: Obj): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Calico accepts a cluster ID only as a bare dotted-quad IPv4 address (no prefix, no IPv6). */
export function validClusterId(v: string | undefined): string | undefined {
  return v !== undefined && IPV4.test(v.trim()) ? v.trim() : undefined;
}

/** The simulator's view of a Kubernetes Node. */
export function simNode(o: Obj): SimNode {
  const ann = o.metadata.annotations ?? {};
  let calicoOnly: Record<string, string> = {};
  try {
    calicoOnly = JSON.parse(ann['projectcalico.org/labels'] ?? '{}') as Record<string, string>;
  } catch {
    /* ignore */
  }
  const rawIp = ann['projectcalico.org/IPv4Address']?.split('/')[0]?.trim();
  return {
    name: o.metadata.name,
    labels: { ...calicoOnly, ...(o.metadata.labels ?? {}) }, // Kubernetes labels win
    ipv4: rawIp && IPV4.test(rawIp) ? rawIp : undefined,
    asNumber: ann['projectcalico.org/ASNumber'] || undefined,
    rrClusterId: validClusterId(ann['projectcalico.org/RouteReflectorClusterID']),
  };
}

export function simPeer(o: Obj): SimPeer {
  const s = (o.spec ?? {}) as Record<string, unknown>;
  const str = (k: string): string | undefined =>
    typeof s[k] === 'string' && s[k] !== '' ? (s[k] as string) : undefined;
  return {
    name: o.metadata.name,
    node: str('node'),
    nodeSelector: str('nodeSelector'),
    peerIP: str('peerIP'),
    peerSelector: str('peerSelector'),
    asNumber:
      s['asNumber'] !== undefined && s['asNumber'] !== null && s['asNumber'] !== ''
        ? String(s['asNumber'])
        : undefined,
    reversePeering: str('reversePeering'),
  };
}

/** `10.0.0.1`, `10.0.0.1:179` -> `10.0.0.1`; IPv6 or garbage -> undefined (only IPv4 sessions are simulated). */
function peerHost(peerIP: string): string | undefined {
  const host =
    peerIP.includes(':') && !peerIP.startsWith('[') && peerIP.split(':').length === 2
      ? peerIP.split(':')[0]!
      : peerIP;
  return IPV4.test(host) ? host : undefined;
}

/** The BGP sessions of every node, computed as calico-node (confd + BIRD) would configure them. */
export class Topology {
  private readonly byIp = new Map<string, SimNode>();
  private readonly matchCache = new Map<string, SimNode[]>();
  private readonly globalAs: string;
  readonly mesh: boolean;
  /** node -> peerIP -> type, for the node-specific (NodePeer) and global (GlobalPeer) peerings. */
  private readonly explicit = new Map<string, Map<string, PeerType>>();
  private readonly globalIps = new Map<string, PeerType>();

  constructor(readonly world: SimWorld) {
    for (const n of world.nodes.values()) if (n.ipv4) this.byIp.set(n.ipv4, n);
    this.globalAs =
      world.defaultConfig?.['asNumber'] !== undefined ? String(world.defaultConfig['asNumber']) : '64512';
    this.mesh = world.defaultConfig?.['nodeToNodeMeshEnabled'] !== false;
    this.computeExplicit();
  }

  private matching(selector: string): SimNode[] {
    let m = this.matchCache.get(selector);
    if (!m) {
      let match: (l: Labels) => boolean;
      try {
        match = compileSelector(selector);
      } catch {
        match = () => false; // calico-node would reject the peer
      }
      m = [...this.world.nodes.values()].filter((n) => match(n.labels));
      this.matchCache.set(selector, m);
    }
    return m;
  }

  private nodeAs(n: SimNode): string {
    return n.asNumber ?? this.globalAs;
  }

  private add(node: string, ip: string, type: PeerType): void {
    let m = this.explicit.get(node);
    if (!m) this.explicit.set(node, (m = new Map()));
    if (!m.has(ip)) m.set(ip, type); // the first (forward) peering wins over a reverse one
  }

  private computeExplicit(): void {
    const peers = this.world.peers;
    const isGlobal = (p: SimPeer): boolean => !p.node && !p.nodeSelector;
    const remoteIps = (p: SimPeer): string[] => {
      if (p.peerSelector) return this.matching(p.peerSelector).flatMap((n) => (n.ipv4 ? [n.ipv4] : []));
      const h = p.peerIP ? peerHost(p.peerIP) : undefined;
      return h ? [h] : [];
    };
    // 1. global peerings first, so node-specific ones to the same IP can be skipped
    for (const p of peers.filter(isGlobal))
      for (const ip of remoteIps(p)) this.globalIps.set(ip, 'GlobalPeer');
    // 2. node-specific peerings
    for (const p of peers.filter((x) => !isGlobal(x))) {
      const locals = p.nodeSelector ? this.matching(p.nodeSelector).map((n) => n.name) : [p.node!];
      for (const ip of remoteIps(p)) {
        if (this.globalIps.has(ip)) continue;
        for (const l of locals) this.add(l, ip, 'NodePeer');
      }
    }
    // 3. automatic reverse peerings: nodes on the remote side peer back with the local side
    for (const p of peers) {
      if (p.reversePeering === 'Manual') continue;
      let locals: SimNode[];
      if (p.peerSelector) locals = this.matching(p.peerSelector);
      else {
        const h = p.peerIP ? peerHost(p.peerIP) : undefined;
        const n = h ? this.byIp.get(h) : undefined;
        locals = n && this.nodeAs(n) === (p.asNumber ?? this.globalAs) ? [n] : [];
      }
      if (!locals.length) continue;
      const remotes = p.nodeSelector
        ? this.matching(p.nodeSelector)
        : p.node
          ? [this.world.nodes.get(p.node)].filter((x): x is SimNode => !!x)
          : this.matching('all()');
      for (const r of remotes) {
        if (!r.ipv4 || this.globalIps.has(r.ipv4)) continue;
        for (const l of locals) this.add(l.name, r.ipv4, 'NodePeer');
      }
    }
  }

  /** The IPv4 sessions of one node (empty when the node is unknown or has no IPv4 address). */
  sessions(nodeName: string): Session[] {
    const n = this.world.nodes.get(nodeName);
    if (!n?.ipv4) return [];
    const out: Session[] = [];
    const push = (ip: string, type: PeerType): void => {
      if (ip !== n.ipv4) out.push({ peerIP: ip, type, peerNode: this.byIp.get(ip)?.name });
    };
    if (this.mesh && !n.rrClusterId) {
      for (const o of this.world.nodes.values())
        if (o.ipv4 && !o.rrClusterId && o.name !== n.name) push(o.ipv4, 'NodeMesh');
    }
    for (const [ip, type] of this.globalIps) push(ip, type);
    for (const [ip, type] of this.explicit.get(nodeName) ?? []) push(ip, type);
    return out.sort((a, b) => ipKey(a.peerIP) - ipKey(b.peerIP) || a.type.localeCompare(b.type));
  }
}

function ipKey(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

export function birdTime(d: Date): string {
  return d.toISOString().slice(11, 19); // BIRD's `show protocols` "since" column: HH:MM:SS
}

export function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

const CNS_CRD =
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/caliconodestatuses.crd.projectcalico.org';

/** Whether crd.projectcalico.org/v1 CalicoNodeStatus has a status subresource (v3.27 and v3.31: no). */
export async function nodeStatusSubresource(client: KubeClient): Promise<boolean> {
  const crd = await client.getOptional<Obj>(CNS_CRD);
  const versions =
    (crd?.spec?.['versions'] as { name: string; subresources?: { status?: unknown } }[] | undefined) ?? [];
  return versions.some((v) => v.name === 'v1' && v.subresources?.status !== undefined);
}

/**
 * Writes the `status` of a CalicoNodeStatus as calico-node does: through /status when the CRD has the
 * subresource, else a JSON patch of the object itself. Throws KubeError (404 when the object is gone).
 */
export async function writeNodeStatus(
  client: KubeClient,
  name: string,
  status: Record<string, unknown>,
  statusSubresource: boolean,
): Promise<void> {
  const base = `${CALICO}/caliconodestatuses/${encodeURIComponent(name)}`;
  if (statusSubresource) {
    await client.request('PATCH', `${base}/status`, {
      body: { status },
      contentType: 'application/merge-patch+json',
    });
  } else {
    // no status subresource in crd.projectcalico.org/v1 (v3.27 and v3.31): the status is part of the object
    await client.request('PATCH', base, {
      body: [{ op: 'add', path: '/status', value: status }],
      contentType: 'application/json-patch+json',
    });
  }
}

interface Tracker {
  firstSeen: number;
  state: SessionState;
  since: Date;
}

interface CnsEntry {
  obj: Obj;
  /** JSON of the last status written, without lastUpdated. */
  lastContent?: string;
  lastWrite: number;
}

export interface SimulatorOptions {
  /** A client with write access to caliconodestatuses (the harness's `simulator` user). */
  client?: KubeClient;
  kubeconfig?: string;
  knobs?: Partial<SimKnobs>;
  /** Reconcile period (ms); default 200. */
  tickMs?: number;
  log?: (line: string) => void;
}

const CALICO = '/apis/crd.projectcalico.org/v1';
const WATCHED = {
  nodes: '/api/v1/nodes',
  bgpconfigurations: `${CALICO}/bgpconfigurations`,
  bgppeers: `${CALICO}/bgppeers`,
  caliconodestatuses: `${CALICO}/caliconodestatuses`,
  pods: '/api/v1/pods',
} as const;
type Watched = keyof typeof WATCHED;

export class Simulator {
  readonly client: KubeClient;
  private knobs: SimKnobs;
  private readonly tickMs: number;
  private readonly log: (line: string) => void;
  private readonly stores: Record<Watched, Map<string, Obj>> = {
    nodes: new Map(),
    bgpconfigurations: new Map(),
    bgppeers: new Map(),
    caliconodestatuses: new Map(),
    pods: new Map(),
  };
  /** Pods being deleted: when the simulator first saw their deletionTimestamp (by UID). */
  private readonly terminating = new Map<string, number>();
  private readonly synced = new Set<Watched>();
  private readonly trackers = new Map<string, Map<string, Tracker>>();
  private readonly cns = new Map<string, CnsEntry>();
  private topology?: Topology;
  /** Bumped on every watch event and knob change; `reconciledGen` is the value the last finished reconcile started from. */
  private changeGen = 1;
  private reconciledGen = 0;
  private abort = new AbortController();
  private loops: Promise<void>[] = [];
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void> | undefined;
  private statusSubresource = false;
  private readonly bootTime = new Date();
  /** Counters for tests and the standalone log. */
  readonly stats = { writes: 0, writeErrors: 0, reconciles: 0, relists: 0 };

  constructor(opts: SimulatorOptions) {
    if (!opts.client && !opts.kubeconfig) throw new Error('Simulator needs a client or a kubeconfig');
    this.client = opts.client ?? KubeClient.fromKubeconfig(opts.kubeconfig!);
    this.knobs = { establishDelayMs: 1000, stuck: [], silent: [], paused: false, frozen: [], ...opts.knobs };
    this.tickMs = opts.tickMs ?? 200;
    this.log = opts.log ?? (() => {});
  }

  setKnobs(k: Partial<SimKnobs>): void {
    this.knobs = { ...this.knobs, ...k };
    for (const n of this.knobs.frozen)
      if (!this.frozenTopo.has(n)) this.frozenTopo.set(n, new Topology(this.world()));
    for (const n of [...this.frozenTopo.keys()])
      if (!this.knobs.frozen.includes(n)) this.frozenTopo.delete(n);
    this.changeGen++;
  }

  /** Nodes of `silentWithoutClusterId` that lost their cluster ID once: silent from then on. */
  private readonly wentSilent = new Set<string>();

  /** The topology a frozen node is stuck in. */
  private readonly frozenTopo = new Map<string, Topology>();

  getKnobs(): SimKnobs {
    return { ...this.knobs };
  }

  /** Starts the watches; resolves when every watched collection has been listed once and the first reconcile ran. */
  async start(): Promise<void> {
    this.abort = new AbortController();
    this.statusSubresource = await nodeStatusSubresource(this.client);
    this.loops = (Object.keys(WATCHED) as Watched[]).map((k) => this.watchLoop(k));
    const deadline = Date.now() + 30_000;
    while (this.synced.size < Object.keys(WATCHED).length) {
      if (Date.now() > deadline)
        throw new Error(
          `simulator: initial list not complete after 30 s (synced: ${[...this.synced].join(', ')})`,
        );
      await sleep(20);
    }
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.tickMs);
    this.timer.unref();
    this.log(
      `simulator: started (${this.stores.nodes.size} nodes, status subresource: ${this.statusSubresource})`,
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await Promise.allSettled(this.loops);
    await this.reconciling;
    this.loops = [];
  }

  /** Closes the client too (standalone use). */
  async close(): Promise<void> {
    await this.stop();
    this.client.close();
  }

  private async watchLoop(kind: Watched): Promise<void> {
    const path = WATCHED[kind];
    const store = this.stores[kind];
    let rv = '';
    while (!this.abort.signal.aborted) {
      try {
        if (!rv) {
          const res = await this.client.list(path);
          store.clear();
          for (const o of res.items) store.set(storeKey(o), o);
          rv = res.resourceVersion;
          this.synced.add(kind);
          if (kind !== 'caliconodestatuses' && kind !== 'pods') this.topology = undefined;
          this.changeGen++;
          this.stats.relists++;
        }
        rv = await this.client.watch(
          path,
          rv,
          (e: WatchEvent) => this.onEvent(kind, e),
          this.abort.signal,
          60,
        );
      } catch (e) {
        if (this.abort.signal.aborted) break;
        // the Calico CRDs may not exist yet (404): count as synced-empty so start() does not hang
        if (e instanceof KubeError && e.status === 404) {
          store.clear();
          this.synced.add(kind);
        }
        rv = '';
        await sleep(500);
      }
    }
  }

  private onEvent(kind: Watched, e: WatchEvent): void {
    const store = this.stores[kind];
    if (e.type === 'DELETED') store.delete(storeKey(e.object));
    else store.set(storeKey(e.object), e.object);
    // the simulator's own status writes come back as MODIFIED events: they change nothing it computes
    if (kind !== 'caliconodestatuses' && kind !== 'pods') this.topology = undefined;
    this.changeGen++;
  }

  private world(): SimWorld {
    const nodes = new Map<string, SimNode>();
    for (const o of this.stores.nodes.values()) nodes.set(o.metadata.name, simNode(o));
    return {
      nodes,
      defaultConfig: this.stores.bgpconfigurations.get('default')?.spec,
      peers: [...this.stores.bgppeers.values()].map(simPeer),
    };
  }

  /** The topology of the current world (what calico-node would configure right now). */
  currentTopology(): Topology {
    this.topology ??= new Topology(this.world());
    return this.topology;
  }

  /** The sessions of a node with their simulated states (also for nodes without a CalicoNodeStatus). */
  peersOf(node: string): SessionStatus[] {
    return this.sessionStates(node, Date.now(), false);
  }

  /**
   * Starts the clock of these nodes' sessions now, as a calico-node that has been running would have: a
   * session is otherwise first seen when a CalicoNodeStatus object first asks about its node, and its first
   * report shows it in Connect. For tests that read a settled cluster (bgp peers).
   */
  track(nodes: readonly string[]): void {
    const now = Date.now();
    for (const n of nodes) this.sessionStates(n, now, true);
  }

  private isStuck(node: string, s: Session): boolean {
    return this.knobs.stuck.some(
      (r) =>
        (r.node === undefined || r.node === node) &&
        (r.peer === undefined || r.peer === s.peerIP || r.peer === s.peerNode),
    );
  }

  private sessionStates(node: string, now: number, track: boolean): SessionStatus[] {
    const sessions = (this.frozenTopo.get(node) ?? this.currentTopology()).sessions(node);
    let t = this.trackers.get(node);
    if (!t) {
      t = new Map();
      if (track) this.trackers.set(node, t);
    }
    const seen = new Set<string>();
    const out: SessionStatus[] = [];
    for (const s of sessions) {
      seen.add(s.peerIP);
      let tr = t.get(s.peerIP);
      if (!tr) {
        tr = { firstSeen: now, state: 'Connect', since: new Date(now) };
        if (track) t.set(s.peerIP, tr);
      }
      const state: SessionState = this.isStuck(node, s)
        ? 'Active'
        : now - tr.firstSeen >= this.knobs.establishDelayMs
          ? 'Established'
          : 'Connect';
      if (state !== tr.state) {
        tr.state = state;
        tr.since = new Date(now);
      }
      out.push({ ...s, state, since: birdTime(tr.since) });
    }
    if (track) for (const ip of [...t.keys()]) if (!seen.has(ip)) t.delete(ip); // a session that comes back starts over
    return out;
  }

  private statusFor(cns: Obj, now: number): Record<string, unknown> | undefined {
    const spec = cns.spec ?? {};
    const nodeName = String(spec['node'] ?? '');
    const node = this.currentTopology().world.nodes.get(nodeName);
    if (!node) return undefined; // no such node: no calico-node to answer
    const classes = Array.isArray(spec['classes']) ? (spec['classes'] as string[]) : ['Agent', 'BGP'];
    const status: Record<string, unknown> = {};
    if (classes.includes('Agent')) {
      status['agent'] = {
        birdV4: {
          state: node.ipv4 ? 'Ready' : 'NotReady',
          version: 'v0.3.3+birdv1.6.8',
          routerID: node.ipv4 ?? '',
          lastBootTime: rfc3339(this.bootTime),
          lastReconfigurationTime: rfc3339(this.bootTime),
        },
      };
    }
    if (classes.includes('BGP')) {
      const peers = this.sessionStates(nodeName, now, true);
      const established = peers.filter((p) => p.state === 'Established').length;
      status['bgp'] = {
        numberEstablishedV4: established,
        numberNotEstablishedV4: peers.length - established,
        numberEstablishedV6: 0,
        numberNotEstablishedV6: 0,
        peersV4: peers.map((p) => ({ peerIP: p.peerIP, type: p.type, state: p.state, since: p.since })),
      };
    }
    if (classes.includes('Routes')) status['routes'] = {};
    return status;
  }

  /** One pass: recompute each CalicoNodeStatus and write it when its content changed or its period elapsed. */
  reconcile(): Promise<void> {
    if (this.reconciling) return this.reconciling;
    this.reconciling = this.reconcileOnce().finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    this.stats.reconciles++;
    const gen = this.changeGen;
    const now = Date.now();
    const objs = [...this.stores.caliconodestatuses.values()];
    for (const name of [...this.cns.keys()])
      if (!this.stores.caliconodestatuses.has(name)) this.cns.delete(name);
    const writes: Promise<void>[] = [];
    for (const o of objs) {
      let entry = this.cns.get(o.metadata.name);
      if (!entry) this.cns.set(o.metadata.name, (entry = { obj: o, lastWrite: 0 }));
      entry.obj = o;
      const node = String(o.spec?.['node'] ?? '');
      if (this.knobs.paused || this.knobs.silent.includes(node)) continue;
      if (this.knobs.silentWithoutClusterId?.includes(node)) {
        const n = this.stores.nodes.get(node);
        if (!n || !simNode(n).rrClusterId) this.wentSilent.add(node);
        if (this.wentSilent.has(node)) continue;
      }
      const status = this.statusFor(o, now);
      if (!status) continue;
      const content = JSON.stringify(status);
      const period = Number(o.spec?.['updatePeriodSeconds'] ?? 10);
      const due =
        entry.lastContent === undefined ||
        content !== entry.lastContent ||
        (period > 0 && now - entry.lastWrite >= period * 1000);
      if (!due) continue;
      const e = entry;
      writes.push(
        this.writeStatus(o, { ...status, lastUpdated: rfc3339(new Date(now)) }).then((ok) => {
          if (ok) {
            e.lastContent = content;
            e.lastWrite = now;
          }
        }),
      );
    }
    this.terminatePods(now, writes);
    await Promise.all(writes);
    this.reconciledGen = gen;
  }

  /** The kubelet's part: pods being deleted on a node that answers go after podTerminationMs. */
  private terminatePods(now: number, writes: Promise<void>[]): void {
    const seen = new Set<string>();
    for (const p of this.stores.pods.values()) {
      const uid = String(p.metadata['uid'] ?? '');
      if (!p.metadata['deletionTimestamp'] || !uid) continue;
      seen.add(uid);
      const node = String((p as { spec?: { nodeName?: string } }).spec?.nodeName ?? '');
      // the kubelet's part, apart from calico-node's knobs: a node that is not Ready (its kubelet down) keeps it
      if (!node || !nodeReady(this.stores.nodes.get(node))) continue;
      const first = this.terminating.get(uid) ?? now;
      this.terminating.set(uid, first);
      if (first === -1 || now - first < (this.knobs.podTerminationMs ?? 300)) continue;
      this.terminating.set(uid, -1);
      const ns = p.metadata.namespace ?? 'default';
      writes.push(
        this.client
          .request('DELETE', `/api/v1/namespaces/${ns}/pods/${p.metadata.name}`, {
            body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } },
            okStatuses: [404, 409],
          })
          .then(
            () => undefined,
            () => {
              this.terminating.delete(uid); // tried again next time
            },
          ),
      );
    }
    for (const uid of [...this.terminating.keys()]) if (!seen.has(uid)) this.terminating.delete(uid);
  }

  private async writeStatus(o: Obj, status: Record<string, unknown>): Promise<boolean> {
    try {
      await writeNodeStatus(this.client, o.metadata.name, status, this.statusSubresource);
      this.stats.writes++;
      return true;
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 404)) {
        this.stats.writeErrors++;
        this.log(`simulator: writing ${o.metadata.name}: ${(e as Error).message}`);
      }
      return false;
    }
  }

  /** Waits until a reconcile has run (and its writes finished) after every change seen so far. */
  async settle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.reconciledGen < this.changeGen) {
      if (Date.now() > deadline) throw new Error('simulator did not settle');
      await this.reconcile();
      await sleep(10);
    }
  }
}

function parseCli(argv: string[]): { kubeconfig?: string; knobsFile?: string; knobs: Partial<SimKnobs> } {
  const knobs: Partial<SimKnobs> = { stuck: [], silent: [] };
  let kubeconfig: string | undefined = process.env['KUBECONFIG'];
  let knobsFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--kubeconfig') kubeconfig = v();
    else if (a === '--delay-ms') knobs.establishDelayMs = Number(v());
    else if (a === '--knobs') knobsFile = v();
    else if (a === '--stuck') {
      const [node, peer] = v().split('/');
      knobs.stuck!.push({ ...(node && node !== '*' ? { node } : {}), ...(peer ? { peer } : {}) });
    } else if (a === '--silent') knobs.silent!.push(v());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: simulator.js --kubeconfig FILE [--delay-ms N] [--knobs FILE.json] [--stuck NODE[/PEER]]... [--silent NODE]...\n' +
          '  knobs file: {"establishDelayMs":1000,"stuck":[{"node":"a","peer":"b"}],"silent":["c"],"paused":false}, re-read on change\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return { kubeconfig, knobsFile, knobs };
}

async function main(): Promise<void> {
  const { kubeconfig, knobsFile, knobs } = parseCli(process.argv.slice(2));
  if (!kubeconfig) throw new Error('--kubeconfig FILE (or KUBECONFIG) is required');
  const log = (l: string): void => void process.stderr.write(`${new Date().toISOString()} ${l}\n`);
  const sim = new Simulator({ kubeconfig, knobs, log });
  const readKnobs = (): void => {
    if (!knobsFile) return;
    try {
      sim.setKnobs(JSON.parse(fs.readFileSync(knobsFile, 'utf8')) as Partial<SimKnobs>);
      log(`simulator: knobs ${JSON.stringify(sim.getKnobs())}`);
    } catch (e) {
      log(`simulator: cannot read knobs ${knobsFile}: ${(e as Error).message}`);
    }
  };
  readKnobs();
  if (knobsFile) fs.watchFile(knobsFile, { interval: 300 }, readKnobs);
  await sim.start();
  const shutdown = (): void => {
    if (knobsFile) fs.unwatchFile(knobsFile);
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  setInterval(
    () => log(`simulator: ${sim.stats.writes} status writes, ${sim.stats.writeErrors} errors`),
    60_000,
  );
  await new Promise(() => {}); // until a signal
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`simulator: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
