/** fast-check generators of small random BGP states (mesh, RRs, shared/distinct cluster IDs, BGPPeers, eBGP). */
import fc from 'fast-check';
import type { BgpPeerInfo } from '../../../src/model/types.js';
import type { BgpNode, BgpState } from '../../../src/bgp/state.js';
import { GLOBAL_AS, ipOf, peer } from './helpers.js';

// 0.0.0.0: confd compares the strings, BIRD uses each node's router ID (test/unit/bgp/zero-cluster-id.test.ts)
export const CLUSTER_IDS = ['244.0.0.1', '244.0.0.2', '0.0.0.0'];
const ALL_CLUSTER_IDS = [
  ...CLUSTER_IDS,
  '244.0.0.3',
  '244.0.0.4',
  '244.0.0.5',
  '244.0.0.6',
  '244.0.0.7',
  '244.0.0.8',
];
const OTHER_AS = [65001, 65002];
export const SELECTORS = [
  'all()',
  "route-reflector == 'true'",
  '!has(route-reflector)',
  'has(route-reflector)',
  "zone == 'a'",
  "zone == 'b'",
  "rack in {'r1', 'r2'}",
  "rack == 'r3' || route-reflector == 'true'",
  "zone = 'a'", // invalid: confd skips the BGPPeer
];

interface NodeGene {
  rr: boolean;
  cluster: number;
  rrLabel: number;
  zone: 'a' | 'b';
  rack: 'r1' | 'r2' | 'r3';
  as: number;
  noIp: boolean;
  down: boolean;
}

const nodeGene = (opts: { ebgp: boolean }): fc.Arbitrary<NodeGene> =>
  fc.record({
    rr: fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
    cluster: fc.integer({ min: 0, max: CLUSTER_IDS.length - 1 }),
    rrLabel: fc.integer({ min: 0, max: 19 }),
    zone: fc.constantFrom<'a' | 'b'>('a', 'b'),
    rack: fc.constantFrom<'r1' | 'r2' | 'r3'>('r1', 'r2', 'r3'),
    as: opts.ebgp ? fc.integer({ min: 0, max: 9 }) : fc.constant(0),
    noIp: fc.integer({ min: 0, max: 24 }).map((x) => x === 0),
    down: fc.integer({ min: 0, max: 24 }).map((x) => x === 0),
  });

type Local = { kind: 'global' } | { kind: 'node'; idx: number } | { kind: 'sel'; sel: string };
type Remote =
  { kind: 'sel'; sel: string } | { kind: 'ipNode'; idx: number; as: number } | { kind: 'ipExt'; as: number };
interface PeerGene {
  local: Local;
  remote: Remote;
  manual: boolean;
  /** numAllowedLocalASNumbers (`allow local as N`), mostly 0 */
  allow: number;
}

const selArb = fc.constantFrom(...SELECTORS);
const peerGene: fc.Arbitrary<PeerGene> = fc.record({
  local: fc.oneof(
    { weight: 1, arbitrary: fc.constant<Local>({ kind: 'global' }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 13 }).map<Local>((idx) => ({ kind: 'node', idx })) },
    { weight: 4, arbitrary: selArb.map<Local>((sel) => ({ kind: 'sel', sel })) },
  ),
  remote: fc.oneof(
    { weight: 4, arbitrary: selArb.map<Remote>((sel) => ({ kind: 'sel', sel })) },
    {
      weight: 2,
      arbitrary: fc
        .record({ idx: fc.integer({ min: 0, max: 13 }), as: fc.integer({ min: 0, max: 4 }) })
        .map<Remote>((r) => ({ kind: 'ipNode', ...r })),
    },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map<Remote>((as) => ({ kind: 'ipExt', as })) },
  ),
  manual: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
  allow: fc.integer({ min: 0, max: 7 }).map((x) => (x === 0 ? 1 : x === 1 ? 2 : 0)),
});

function buildState(
  genes: NodeGene[],
  peerGenes: PeerGene[],
  mesh: boolean,
  minor: number,
  maxRRs: number,
): BgpState {
  let rrs = 0;
  const nodes: BgpNode[] = genes.map((g, i) => {
    const isRR = g.rr && rrs < maxRRs;
    if (isRR) rrs++;
    const labels: Record<string, string> = { zone: g.zone, rack: g.rack };
    const labelled = isRR ? g.rrLabel !== 0 : g.rrLabel === 0;
    if (labelled) labels['route-reflector'] = 'true';
    const ip = g.noIp ? undefined : ipOf(i);
    return {
      name: `n${i}`,
      ip,
      asNumber: g.as === 1 ? OTHER_AS[0]! : g.as === 2 ? OTHER_AS[1]! : GLOBAL_AS,
      clusterId: isRR ? CLUSTER_IDS[g.cluster] : undefined,
      labels,
      zone: g.zone,
      participates: ip !== undefined && !g.down,
    };
  });
  const asChoice = (c: number, nodeAs: number | undefined): number | undefined =>
    c === 0 ? undefined : c === 1 ? GLOBAL_AS : c === 2 ? OTHER_AS[0] : (nodeAs ?? GLOBAL_AS);
  const peers: BgpPeerInfo[] = peerGenes.map((g, j) => {
    const spec: Partial<BgpPeerInfo> = {};
    if (g.local.kind === 'node') spec.node = `n${g.local.idx}`;
    else if (g.local.kind === 'sel') spec.nodeSelector = g.local.sel;
    if (g.remote.kind === 'sel') spec.peerSelector = g.remote.sel;
    else if (g.remote.kind === 'ipNode') {
      spec.peerIP = ipOf(g.remote.idx);
      spec.asNumber = asChoice(g.remote.as, nodes[g.remote.idx]?.asNumber);
    } else {
      spec.peerIP = `192.0.2.${j + 1}`;
      spec.asNumber = asChoice(g.remote.as, 65100);
    }
    if (g.manual) spec.reversePeering = 'Manual';
    const p = peer(`p${j}`, spec);
    if (g.allow) p.spec['numAllowedLocalASNumbers'] = g.allow;
    return p;
  });
  return { calicoMinor: minor, meshEnabled: mesh, globalAsNumber: GLOBAL_AS, nodes, peers };
}

export interface StateArbOpts {
  minNodes?: number;
  maxNodes?: number;
  maxRRs?: number;
  maxPeers?: number;
  ebgp?: boolean;
}

/** Random states: 2-12 nodes, 0-4 RRs with shared or distinct cluster IDs, mesh on/off, 0-4 BGPPeers. */
export function bgpStateArb(o: StateArbOpts = {}): fc.Arbitrary<BgpState> {
  return fc
    .record({
      genes: fc.array(nodeGene({ ebgp: o.ebgp ?? true }), {
        minLength: o.minNodes ?? 2,
        maxLength: o.maxNodes ?? 12,
      }),
      peers: fc.array(peerGene, { maxLength: o.maxPeers ?? 4 }),
      mesh: fc.boolean(),
      minor: fc.constantFrom(20, 27, 31),
    })
    .map((r) => buildState(r.genes, r.peers, r.mesh, r.minor, o.maxRRs ?? 4));
}

/**
 * RR-heavy states: mesh mostly off, the docs' RR BGPPeer or partial per-node peerings, RR-to-RR peerings,
 * so that reflection, shared cluster IDs and CLUSTER_LIST loops are exercised often.
 */
export function rrStateArb(o: { maxRRs?: number; clusterIds?: number } = {}): fc.Arbitrary<BgpState> {
  const ids = Math.min(o.clusterIds ?? 3, ALL_CLUSTER_IDS.length);
  return fc
    .record({
      clients: fc.integer({ min: 1, max: 8 }),
      rrs: fc.array(
        fc.record({ cluster: fc.integer({ min: 0, max: ids - 1 }), as: fc.integer({ min: 0, max: 5 }) }),
        {
          minLength: 1,
          maxLength: o.maxRRs ?? 4,
        },
      ),
      clientAs: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 8, maxLength: 8 }),
      // per client: bitmask of RRs it peers with (0 = the docs' all() peering is used instead when allToAll)
      attach: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 }),
      allToAll: fc.boolean(),
      rrMesh: fc.constantFrom<'none' | 'selector' | 'pairs'>('none', 'selector', 'pairs'),
      mesh: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
      downRR: fc.integer({ min: -3, max: 3 }),
    })
    .map((r) => {
      const nodes: BgpNode[] = [];
      r.rrs.forEach((g, i) => {
        nodes.push({
          name: `rr${i}`,
          ip: ipOf(i),
          asNumber: g.as === 1 ? OTHER_AS[0]! : GLOBAL_AS,
          clusterId: ALL_CLUSTER_IDS[g.cluster],
          labels: { 'route-reflector': 'true', [`rr${i}`]: 'true' },
          participates: i !== r.downRR,
        });
      });
      for (let c = 0; c < r.clients; c++) {
        const labels: Record<string, string> = {};
        for (let i = 0; i < r.rrs.length; i++) if ((r.attach[c]! >> i) & 1) labels[`attach-rr${i}`] = 'true';
        nodes.push({
          name: `c${c}`,
          ip: ipOf(10 + c),
          asNumber: r.clientAs[c] === 1 ? OTHER_AS[0]! : r.clientAs[c] === 2 ? OTHER_AS[1]! : GLOBAL_AS,
          labels,
          participates: true,
        });
      }
      const peers: BgpPeerInfo[] = [];
      if (r.allToAll)
        peers.push(
          peer('all-to-rrs', {
            nodeSelector: '!has(route-reflector)',
            peerSelector: "route-reflector == 'true'",
          }),
        );
      else {
        for (let i = 0; i < r.rrs.length; i++) {
          peers.push(
            peer(`attach-rr${i}`, { nodeSelector: `has(attach-rr${i})`, peerSelector: `has(rr${i})` }),
          );
        }
      }
      if (r.rrMesh === 'selector')
        peers.push(
          peer('rr-mesh', { nodeSelector: 'has(route-reflector)', peerSelector: 'has(route-reflector)' }),
        );
      if (r.rrMesh === 'pairs') {
        for (let i = 0; i + 1 < r.rrs.length; i++)
          peers.push(
            peer(`rr-pair${i}`, { node: `rr${i}`, peerIP: ipOf(i + 1), asNumber: nodes[i + 1]!.asNumber }),
          );
      }
      return { calicoMinor: 31, meshEnabled: r.mesh, globalAsNumber: GLOBAL_AS, nodes, peers };
    });
}

/**
 * The peering shapes of real clusters, small and perturbed: one BGPPeer per client (`node: X` + its zone's
 * RR selector, or `peerIP` of an RR), one per rack (nodeSelector per rack), external top-of-rack peers by
 * `peerIP` per node, one AS number per zone, RR-to-RR peerings by selector or per RR; per client quirks
 * (reversePeering Manual, a second BGPPeer, another zone's RRs, another AS, down) make members of the same
 * shape differ, so the model's grouping of nodes that owe the same protocols to different BGPPeers is tested.
 */
export function shapeStateArb(): fc.Arbitrary<BgpState> {
  return fc
    .record({
      zones: fc.integer({ min: 1, max: 3 }),
      rrsPerZone: fc.integer({ min: 1, max: 2 }),
      clients: fc.integer({ min: 1, max: 9 }),
      shape: fc.constantFrom<'per-node' | 'per-node-ip' | 'per-rack' | 'mixed'>(
        'per-node',
        'per-node-ip',
        'per-rack',
        'mixed',
      ),
      rackSize: fc.integer({ min: 1, max: 3 }),
      clusterPerZone: fc.boolean(),
      asPerZone: fc.boolean(),
      tor: fc.boolean(),
      rrMesh: fc.constantFrom<'selector' | 'per-rr' | 'none'>('selector', 'per-rr', 'none'),
      quirks: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 9, maxLength: 9 }),
      mesh: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
      minor: fc.constantFrom(20, 31),
    })
    .map((r) => {
      const zoneName = (z: number): string => `z${z}`;
      const zoneAs = (z: number): number => (r.asPerZone ? 64600 + z : GLOBAL_AS);
      const nodes: BgpNode[] = [];
      const rrIdx: number[][] = [];
      for (let z = 0; z < r.zones; z++) {
        rrIdx.push([]);
        for (let i = 0; i < r.rrsPerZone; i++) {
          rrIdx[z]!.push(nodes.length);
          nodes.push({
            name: `rr-${z}-${i}`,
            ip: ipOf(nodes.length),
            asNumber: zoneAs(z),
            clusterId: r.clusterPerZone ? ALL_CLUSTER_IDS[z] : CLUSTER_IDS[0],
            labels: { 'route-reflector': 'true', zone: zoneName(z) },
            zone: zoneName(z),
            participates: true,
          });
        }
      }
      const peers: BgpPeerInfo[] = [];
      const zoneRRs = (z: number): string => `route-reflector == 'true' && zone == '${zoneName(z)}'`;
      const racks = new Set<string>();
      for (let c = 0; c < r.clients; c++) {
        const q = r.quirks[c]!;
        const z = c % r.zones;
        const rack = `${zoneName(z)}-r${Math.floor(c / r.zones / r.rackSize)}`;
        const name = `c${c}`;
        nodes.push({
          name,
          ip: ipOf(nodes.length),
          asNumber: q === 5 ? OTHER_AS[0]! : zoneAs(z),
          labels: { zone: zoneName(z), rack },
          zone: zoneName(z),
          participates: q !== 2,
        });
        const manual = q === 1 ? { reversePeering: 'Manual' as const } : {};
        const target = q === 4 ? (z + 1) % r.zones : z;
        const perNode = r.shape === 'per-node' || (r.shape === 'mixed' && c % 2 === 0);
        if (r.shape === 'per-node-ip' || (r.shape === 'mixed' && c % 3 === 1)) {
          for (const i of rrIdx[target]!)
            peers.push(
              peer(`peer-${name}-${i}`, {
                node: name,
                peerIP: nodes[i]!.ip,
                asNumber: q === 6 ? OTHER_AS[1] : nodes[i]!.asNumber,
                ...manual,
              }),
            );
        } else if (perNode) {
          peers.push(peer(`peer-${name}`, { node: name, peerSelector: zoneRRs(target), ...manual }));
        } else if (!racks.has(rack)) {
          racks.add(rack);
          peers.push(
            peer(`rack-${rack}`, { nodeSelector: `rack == '${rack}'`, peerSelector: zoneRRs(z), ...manual }),
          );
        }
        if (q === 3) peers.push(peer(`peer-${name}-again`, { node: name, peerSelector: zoneRRs(target) }));
        if (r.tor)
          peers.push(
            peer(`tor-${name}`, {
              node: name,
              peerIP: `192.0.2.${100 + (c % 4)}`,
              asNumber: 65100 + (c % 4),
            }),
          );
      }
      if (r.rrMesh === 'selector')
        peers.push(
          peer('rr-mesh', {
            nodeSelector: "route-reflector == 'true'",
            peerSelector: "route-reflector == 'true'",
          }),
        );
      else if (r.rrMesh === 'per-rr')
        for (const list of rrIdx)
          for (const i of list)
            peers.push(
              peer(`rr-mesh-${nodes[i]!.name}`, {
                node: nodes[i]!.name,
                peerSelector: 'has(route-reflector)',
              }),
            );
      // BGPPeers are read in name order (the snapshot's order): shuffle-free but interleaved by name
      peers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { calicoMinor: r.minor, meshEnabled: r.mesh, globalAsNumber: GLOBAL_AS, nodes, peers };
    });
}
