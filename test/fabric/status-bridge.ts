/**
 * CalicoNodeStatus from real BIRD: the rig's stand-in for calico-node's status reporter. For each
 * CalicoNodeStatus whose spec.node is a rig node, it reads `birdc show protocols` of that node's BIRD and writes
 * `status` (bgp.peersV4: peerIP, type from the protocol name prefix Mesh_ -> NodeMesh, Node_ -> NodePeer,
 * Global_ -> GlobalPeer, state = the BGP state in BIRD's info column, since; the Established counts;
 * agent.birdV4 when asked; lastUpdated = the time of the BIRD read) at the object's updatePeriodSeconds
 * (0: once), the first time as soon as the object is seen. When BIRD does not answer (stopped on purpose),
 * nothing is written: the status goes stale, as it would with calico-node unable to reach BIRD.
 *
 * Writes go through the simulator's writer (test/harness/simulator.ts), as the harness's `simulator` user.
 */
import { KubeError, sleep, type KubeClient, type Obj } from '../harness/index.js';
import { nodeStatusSubresource, rfc3339, writeNodeStatus } from '../harness/simulator.js';
import { bgpState, peerOfProtocol, type Fabric, type ProtocolStatus } from './rig.js';

const CNS = '/apis/crd.projectcalico.org/v1/caliconodestatuses';
const TYPE_BY_PREFIX: [string, string][] = [
  ['Mesh_', 'NodeMesh'],
  ['Node_', 'NodePeer'],
  ['Global_', 'GlobalPeer'],
];

/** The peersV4 entry of a BGP protocol (undefined for protocols that are not Calico BGP peers). */
export function peerOf(
  p: ProtocolStatus,
): { peerIP: string; type: string; state: string; since: string } | undefined {
  if (p.proto !== 'BGP') return undefined;
  const type = TYPE_BY_PREFIX.find(([prefix]) => p.name.startsWith(prefix))?.[1];
  const peerIP = peerOfProtocol(p.name);
  if (!type || !peerIP) return undefined;
  return { peerIP, type, state: bgpState(p), since: p.since };
}

interface Entry {
  lastRead: number;
  busy: boolean;
}

export interface BridgeStats {
  reads: number;
  writes: number;
  /** Reads that failed (BIRD down): nothing written. */
  readErrors: number;
  writeErrors: number;
}

export class StatusBridge {
  private readonly entries = new Map<string, Entry>();
  private readonly bootTime = new Date();
  private running = false;
  private loop?: Promise<void>;
  private statusSubresource = false;
  readonly stats: BridgeStats = { reads: 0, writes: 0, readErrors: 0, writeErrors: 0 };
  /** Every write, for reports: object, node, read time, session summary. */
  readonly history: { name: string; node: string; readAt: number; established: number; total: number }[] = [];

  constructor(
    private readonly fabric: Fabric,
    private readonly client: KubeClient,
    private readonly opts: { pollMs?: number; log?: (l: string) => void } = {},
  ) {}

  async start(): Promise<void> {
    this.statusSubresource = await nodeStatusSubresource(this.client);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const inflight = new Set<Promise<void>>();
    while (this.running) {
      try {
        const { items } = await this.client.list(CNS);
        const now = Date.now();
        const seen = new Set<string>();
        for (const o of items) {
          seen.add(o.metadata.name);
          let e = this.entries.get(o.metadata.name);
          if (!e) this.entries.set(o.metadata.name, (e = { lastRead: 0, busy: false }));
          const period = Number(o.spec?.['updatePeriodSeconds'] ?? 10);
          const due = e.lastRead === 0 || (period > 0 && now - e.lastRead >= period * 1000);
          if (!due || e.busy) continue;
          const entry = e;
          entry.busy = true;
          const p = this.report(o, entry).finally(() => {
            entry.busy = false;
            inflight.delete(p);
          });
          inflight.add(p);
        }
        for (const name of [...this.entries.keys()]) if (!seen.has(name)) this.entries.delete(name);
      } catch (e) {
        this.opts.log?.(`status bridge: listing CalicoNodeStatus: ${(e as Error).message}`);
      }
      await sleep(this.opts.pollMs ?? 100);
    }
    await Promise.allSettled([...inflight]);
  }

  private async report(o: Obj, e: Entry): Promise<void> {
    const node = String(o.spec?.['node'] ?? '');
    if (!this.fabric.names.includes(node)) return; // no BIRD for it: no calico-node to answer
    const classes = Array.isArray(o.spec?.['classes']) ? (o.spec['classes'] as string[]) : ['Agent', 'BGP'];
    const readAt = Date.now();
    e.lastRead = readAt;
    let protocols: ProtocolStatus[];
    try {
      protocols = await this.fabric.protocols(node);
      this.stats.reads++;
    } catch {
      this.stats.readErrors++;
      return;
    }
    const peers = protocols.flatMap((p) => peerOf(p) ?? []);
    const established = peers.filter((p) => p.state === 'Established').length;
    const status: Record<string, unknown> = { lastUpdated: rfc3339(new Date(readAt)) };
    if (classes.includes('Agent')) {
      const n = this.fabric.node(node);
      status['agent'] = {
        birdV4: {
          state: 'Ready',
          version: 'v1.6.8 (Debian)',
          routerID: n.ip,
          lastBootTime: rfc3339(this.bootTime),
          lastReconfigurationTime: rfc3339(this.bootTime),
        },
      };
    }
    if (classes.includes('BGP')) {
      status['bgp'] = {
        numberEstablishedV4: established,
        numberNotEstablishedV4: peers.length - established,
        numberEstablishedV6: 0,
        numberNotEstablishedV6: 0,
        peersV4: peers,
      };
    }
    if (classes.includes('Routes')) status['routes'] = {};
    try {
      await writeNodeStatus(this.client, o.metadata.name, status, this.statusSubresource);
      this.stats.writes++;
      this.history.push({ name: o.metadata.name, node, readAt, established, total: peers.length });
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 404)) {
        this.stats.writeErrors++;
        this.opts.log?.(`status bridge: writing ${o.metadata.name}: ${(err as Error).message}`);
      }
    }
  }
}
