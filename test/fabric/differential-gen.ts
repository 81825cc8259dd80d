/**
 * Random small BGP topologies for the differential check (issue 12, scenario 6; docs/fabric.md): seeded and
 * reproducible (topology i of seed S is always the same), pure, and limited to what Calico's confd renders and
 * Calico's API validation would accept (a BGPPeer has `node` or `nodeSelector` or neither, `peerSelector` or
 * `peerIP` with an `asNumber`).
 *
 * Nodes are the rig's, by index (0-based, names sorted). A topology sets, for every node, its AS override, its
 * route-reflector cluster ID (0.0.0.0 in a third of them) and labels (`route-reflector: 'true'`, `dgroup: red|blue`), plus the mesh switch,
 * the global AS and 0-3 BGPPeers built from a small selector vocabulary.
 */
import { rng as prng } from '../fixtures/generate.js';
import { RR_LABEL } from './rig.js';

/** The seed of topology `i` of a run seeded `seed` (so one topology can be regenerated alone). */
export function topologySeed(seed: number, i: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0;
}

export const GROUP_LABEL = 'dgroup';
export const AS_NUMBERS = [64512, 64513, 65001] as const;

export interface DiffNode {
  /** `projectcalico.org/ASNumber` (else the global AS). */
  asNumber?: number | undefined;
  /** `projectcalico.org/RouteReflectorClusterID`. */
  clusterId?: string | undefined;
  /** Carries the `route-reflector: 'true'` label (reflectors usually do; a few do not, on purpose). */
  rrLabel: boolean;
  group: 'red' | 'blue';
}

export interface DiffPeer {
  name: string;
  /** Node-scoped by name (a node index). */
  node?: number | undefined;
  nodeSelector?: string | undefined;
  peerSelector?: string | undefined;
  /** peerIP = this node's address. */
  peerNode?: number | undefined;
  asNumber?: number | undefined;
  reversePeering?: 'Manual' | undefined;
}

export interface DiffTopology {
  /** The seed it was generated from (topologySeed(run seed, i)), or a label for hand-made ones. */
  seed: number;
  k: number;
  mesh: boolean;
  globalAs: number;
  nodes: DiffNode[];
  peers: DiffPeer[];
}

const SELECTORS = [
  'all()',
  `${RR_LABEL} == 'true'`,
  `!has(${RR_LABEL})`,
  `${GROUP_LABEL} == 'red'`,
  `${GROUP_LABEL} == 'blue'`,
  `${GROUP_LABEL} == 'red' && ${RR_LABEL} == 'true'`,
  `${GROUP_LABEL} == 'blue' && ${RR_LABEL} == 'true'`,
  `${GROUP_LABEL} == 'red' && !has(${RR_LABEL})`,
  `${GROUP_LABEL} == 'blue' || ${RR_LABEL} == 'true'`,
];

/** A random topology of k nodes from `seed`. */
export function randomTopology(seed: number, k: number): DiffTopology {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number): boolean => r() < p;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

  const globalAs = pick(AS_NUMBERS);
  const multiAs = chance(0.5);
  const rrCount = chance(0.2) ? 0 : int(1, Math.min(3, k - 1));
  const cidMode = pick(['shared', 'distinct', 'mixed'] as const);
  const order = Array.from({ length: k }, (_, i) => i).sort(() => r() - 0.5);
  const rrs = new Set(order.slice(0, rrCount));
  let rrSeen = 0;
  const nodes: DiffNode[] = Array.from({ length: k }, (_, i) => {
    const rr = rrs.has(i);
    const n: DiffNode = {
      rrLabel: rr ? !chance(0.1) : false,
      group: chance(0.5) ? 'red' : 'blue',
    };
    if (rr) {
      const j = rrSeen++;
      const id =
        cidMode === 'shared'
          ? '244.0.0.1'
          : cidMode === 'distinct'
            ? `244.0.0.${j + 1}`
            : pick(['244.0.0.1', '244.0.0.2']);
      // a third of the seeds say 0.0.0.0 for 244.0.0.1 (BIRD: the router ID; confd: a string like any other),
      // decided by the seed alone so that every other draw, and every other topology, stays as it was
      n.clusterId = id === '244.0.0.1' && seed % 3 === 0 ? '0.0.0.0' : id;
    }
    if (multiAs && chance(0.35)) n.asNumber = pick(AS_NUMBERS);
    return n;
  });
  const mesh = chance(0.3);

  const peers: DiffPeer[] = [];
  const rrPeering = rrCount > 0 ? pick(['all', 'by-group', 'none'] as const) : 'none';
  if (rrPeering === 'all')
    peers.push({ name: 'peer-with-rrs', nodeSelector: 'all()', peerSelector: `${RR_LABEL} == 'true'` });
  // clients peered only with the reflectors of their group (the calico#2735 shape when cluster IDs are shared)
  if (rrPeering === 'by-group')
    for (const g of ['red', 'blue'])
      peers.push({
        name: `${g}-to-${g}-rrs`,
        nodeSelector: `${GROUP_LABEL} == '${g}'`,
        peerSelector: `${RR_LABEL} == 'true' && ${GROUP_LABEL} == '${g}'`,
      });
  if (rrCount > 1 && chance(0.5))
    peers.push({
      name: 'rr-mesh',
      nodeSelector: `${RR_LABEL} == 'true'`,
      peerSelector: `${RR_LABEL} == 'true'`,
    });
  const extra = int(0, 3);
  for (let j = 0; j < extra; j++) {
    const name = `p${j}`;
    // (0-3 more: several BGPPeers whose keys overlap are where confd's first-wins rules matter)
    const kind = pick(['global', 'selector', 'selector', 'node', 'peer-ip'] as const);
    const p: DiffPeer = { name };
    if (kind === 'global') p.peerSelector = pick(SELECTORS);
    else if (kind === 'selector') {
      p.nodeSelector = pick(SELECTORS);
      p.peerSelector = pick(SELECTORS);
    } else if (kind === 'node') {
      p.node = int(0, k - 1);
      p.peerSelector = pick(SELECTORS);
    } else {
      // peerIP of a node, with that node's AS (a wrong one only when it is the only BGPPeer: confd's choice
      // between two BGPPeers of one pass with the same key but different values is Go map order)
      const target = int(0, k - 1);
      p.peerNode = target;
      p.asNumber = nodes[target]!.asNumber ?? globalAs;
      // half by nodeSelector, a quarter by node name, a quarter global
      if (chance(0.5)) p.nodeSelector = pick(SELECTORS);
      else {
        const byName = chance(0.5);
        if (byName) p.node = int(0, k - 1);
      }
    }
    if (p.peerSelector !== undefined && chance(0.1)) p.reversePeering = 'Manual';
    peers.push(p);
  }
  const only = peers.length === 1 ? peers[0]! : undefined;
  if (only?.peerNode !== undefined && chance(0.3)) only.asNumber = pick(AS_NUMBERS);
  return { seed, k, mesh, globalAs, nodes, peers };
}

/** One line per topology, for logs and docs. */
export function describeTopology(t: DiffTopology): string {
  const nodes = t.nodes
    .map((n, i) => {
      const bits = [`n${i + 1}`];
      if (n.asNumber !== undefined) bits.push(`as${n.asNumber}`);
      if (n.clusterId) bits.push(`rr${n.rrLabel ? '' : '(no label)'} ${n.clusterId}`);
      bits.push(n.group);
      return bits.join(' ');
    })
    .join('; ');
  const peers = t.peers.map((p) => {
    const local =
      p.node !== undefined ? `node n${p.node + 1}` : p.nodeSelector ? `nodes ${p.nodeSelector}` : 'global';
    const remote =
      p.peerNode !== undefined ? `peerIP n${p.peerNode + 1} as${p.asNumber}` : `peers ${p.peerSelector}`;
    return `${p.name}: ${local} -> ${remote}${p.reversePeering ? ' (reverse Manual)' : ''}`;
  });
  return `k=${t.k} mesh ${t.mesh ? 'on' : 'off'} as${t.globalAs} | ${nodes}${peers.length ? ` | ${peers.join('; ')}` : ''}`;
}

/**
 * Simpler variants of a topology (for minimising a disagreement): each drops one BGPPeer, one AS override, one
 * reflector, the mesh, one selector clause, or the reverse-peering switch. Greedy shrinking keeps the first that
 * still disagrees.
 */
export function simplifications(t: DiffTopology): DiffTopology[] {
  const out: DiffTopology[] = [];
  const clone = (): DiffTopology => JSON.parse(JSON.stringify(t)) as DiffTopology;
  t.peers.forEach((_, i) => {
    const c = clone();
    c.peers.splice(i, 1);
    out.push(c);
  });
  t.nodes.forEach((n, i) => {
    if (n.asNumber !== undefined) {
      const c = clone();
      delete c.nodes[i]!.asNumber;
      // a peerIP BGPPeer that named the node's AS follows it (so it stays the node's AS)
      for (const p of c.peers) if (p.peerNode === i && p.asNumber === n.asNumber) p.asNumber = t.globalAs;
      out.push(c);
    }
    if (n.clusterId !== undefined) {
      const c = clone();
      delete c.nodes[i]!.clusterId;
      c.nodes[i]!.rrLabel = false;
      out.push(c);
    }
  });
  if (t.mesh) out.push({ ...clone(), mesh: false });
  t.peers.forEach((p, i) => {
    if (p.reversePeering) {
      const c = clone();
      delete c.peers[i]!.reversePeering;
      out.push(c);
    }
    for (const f of ['nodeSelector', 'peerSelector'] as const)
      if (p[f] && p[f] !== 'all()') {
        const c = clone();
        c.peers[i]![f] = 'all()';
        out.push(c);
      }
  });
  return out;
}
