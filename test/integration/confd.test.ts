/**
 * Cross-check of the BGP model with Calico's own confd (docs/testing.md, "Cross-checks with Calico's own
 * code"). For each fixture: load it into the test control plane (v3.31.3 CRDs), run confd v3.31.0 once per
 * node (`NODENAME=<node> confd -onetime -sync-only`, kubernetes datastore) to render bird.cfg, parse every
 * `protocol bgp` block, and compare per node with the product's model
 * (`expectedPeers(computeTopology(bgpStateFromSnapshot(readLiveSnapshot())), node, { includeDown: true })`)
 * and with the calico-node simulator's Topology (the oracle of the other integration tests).
 *
 * Compared per node: the set of configured protocols as `<peer IP>[:port] <mesh|node|global> as <remote AS>
 * [rr-client]`. confd also tells who is right where they disagree: a difference is either a model bug
 * (reported, never papered over) or a documented simplification, listed per fixture in `modelGaps` with the
 * exact lines, so the test fails both when a new difference appears and when a known one goes away.
 *
 * Needs calicoctl/confd (`CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh`); fails, never skips, without them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bgpStateFromSnapshot } from '../../src/bgp/state.js';
import {
  computeTopology,
  expectedPeers,
  FLAG_ALLOW_LOCAL_AS,
  type ExpectedPeer,
} from '../../src/bgp/topology.js';
import { KubeApi } from '../../src/kube/api.js';
import { KubeHttp } from '../../src/kube/http.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { readLiveSnapshot } from '../../src/kube/snapshot.js';
import { generateCluster, type ClusterSpec } from '../fixtures/generate.js';
import {
  parseBirdConfig,
  renderBirdConfigs,
  requireCalicoTools,
  type BirdConfig,
  type BirdProtocol,
} from '../harness/calico-tools.js';
import {
  controlPlane,
  measure,
  runCli,
  simNode,
  simPeer,
  startSimulator,
  Topology,
  type ControlPlane,
  type Obj,
  type Simulator,
} from '../harness/index.js';

const CAPI = 'crd.projectcalico.org/v1';
const RR_LABEL = 'route-reflector';
const ANN_IPV4 = 'projectcalico.org/IPv4Address';
const ANN_CID = 'projectcalico.org/RouteReflectorClusterID';
const ANN_ASN = 'projectcalico.org/ASNumber';
const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

/** A generated cluster plus hand-made edits. */
class Fixture {
  readonly objects: Obj[];
  constructor(spec: ClusterSpec) {
    this.objects = generateCluster({ calico: 'v3.31.3', ...spec }) as unknown as Obj[];
  }
  nodes(): Obj[] {
    return this.objects.filter((o) => o.kind === 'Node');
  }
  node(name: string): Obj {
    const n = this.nodes().find((o) => o.metadata.name === name);
    if (!n) throw new Error(`fixture has no node ${name}: ${this.nodes().map((o) => o.metadata.name)}`);
    return n;
  }
  ip(name: string): string {
    return this.node(name).metadata.annotations![ANN_IPV4]!.split('/')[0]!;
  }
  /** Route reflectors (labelled by the generator), in zone order a, b, c. */
  rrs(): string[] {
    return this.nodes()
      .filter((n) => n.metadata.labels?.[RR_LABEL] === 'true')
      .sort((x, y) => zoneOf(x).localeCompare(zoneOf(y)))
      .map((n) => n.metadata.name);
  }
  /** Linux workers that are not reflectors (with a Calico IPv4 address), sorted by name. */
  workers(): string[] {
    return this.nodes()
      .filter(
        (n) =>
          !n.metadata.name.includes('-cp-') &&
          n.metadata.labels?.[RR_LABEL] === undefined &&
          n.metadata.annotations?.[ANN_IPV4] !== undefined,
      )
      .map((n) => n.metadata.name)
      .sort();
  }
  annotate(name: string, key: string, value: string | undefined): this {
    const a = (this.node(name).metadata.annotations ??= {});
    if (value === undefined) delete a[key];
    else a[key] = value;
    return this;
  }
  label(name: string, key: string, value: string): this {
    (this.node(name).metadata.labels ??= {})[key] = value;
    return this;
  }
  peer(name: string, spec: Record<string, unknown>): this {
    this.objects.push({ apiVersion: CAPI, kind: 'BGPPeer', metadata: { name }, spec });
    return this;
  }
  dropPeer(name: string): this {
    const i = this.objects.findIndex((o) => o.kind === 'BGPPeer' && o.metadata.name === name);
    if (i < 0) throw new Error(`no BGPPeer ${name}`);
    this.objects.splice(i, 1);
    return this;
  }
}

function zoneOf(n: Obj): string {
  return n.metadata.labels?.[ZONE] ?? '';
}

const sel = (node: string): string => `${HOST} == '${node}'`;

interface Case {
  title: string;
  build: () => Fixture;
  /** Protocols confd renders over all nodes, by kind (a check that the fixture exercises what it says). */
  counts: Partial<Record<BirdProtocol['kind'] | 'rrClient', number>>;
  /** Protocols per node, where the fixture pins them. */
  perNode?: (f: Fixture) => Record<string, number>;
  /**
   * Known differences between the model and confd, as `<node>: confd only|model only "<protocol>"` lines.
   * Each one must be explained where it is declared.
   */
  modelGaps?: (f: Fixture) => string[];
  /**
   * Nodes the simulator (test/harness/simulator.ts, the other tests' oracle) is known to get wrong, with why:
   * each must differ from confd (so a fix shows up here), and no other node may.
   */
  simUnsupported?: (f: Fixture) => Record<string, string>;
}

const CASES: Case[] = [
  {
    title: 'full mesh, 6 nodes',
    build: () => new Fixture({ nodes: 6, zones: 3 }),
    counts: { mesh: 30, node: 0, global: 0, rrClient: 0 },
  },
  {
    title: '3 reflectors sharing cluster ID 244.0.0.1, all() -> reflectors, mesh off',
    build: () => new Fixture({ nodes: 9, zones: 3, rrs: 3 }),
    // 6 clients x 3 RRs x 2 directions + 3 x 2 RR-RR; every RR marks its 6 clients
    counts: { mesh: 0, node: 42, global: 0, rrClient: 18 },
  },
  {
    title: '3 reflectors, mesh on: the reflectors leave the mesh',
    build: () => new Fixture({ nodes: 9, zones: 3, rrs: 3, mesh: true }),
    counts: { mesh: 30, node: 42, global: 0, rrClient: 18 },
  },
  {
    title: 'a cluster ID per reflector and an RR-to-RR BGPPeer',
    build: () => {
      const f = new Fixture({ nodes: 9, zones: 3, rrs: 3 });
      f.rrs().forEach((rr, i) => f.annotate(rr, ANN_CID, `244.0.0.${i + 1}`));
      // same values as peer-with-route-reflectors for the RR-RR keys, so confd's map order cannot matter
      return f.peer('rr-mesh', {
        nodeSelector: `${RR_LABEL} == 'true'`,
        peerSelector: `${RR_LABEL} == 'true'`,
      });
    },
    // reflectors with different cluster IDs are each other's clients: 18 + 3 x 2
    counts: { mesh: 0, node: 42, global: 0, rrClient: 24 },
  },
  {
    title:
      'calico#2735: one shared cluster ID, clients peer only with their zone reflector; an invalid cluster ID',
    build: () => {
      const f = new Fixture({ nodes: 12, zones: 3, rrs: 3, subnets: 'single' });
      const [rra] = f.rrs();
      const zoneA = zoneOf(f.node(rra!));
      // a fourth "reflector" whose cluster ID Calico ignores (not an IPv4 address)
      const bad = f.workers().find((w) => zoneOf(f.node(w)) === zoneA)!;
      f.label(bad, RR_LABEL, 'true').annotate(bad, ANN_CID, '288.0.4.5');
      return f
        .dropPeer('peer-with-route-reflectors')
        .peer('zone-a-to-local-rr', {
          nodeSelector: `${ZONE} == '${zoneA}'`,
          peerSelector: `${RR_LABEL} == 'true' && ${ZONE} == '${zoneA}'`,
        })
        .peer('zones-bc-to-their-rrs', {
          nodeSelector: `${ZONE} != '${zoneA}'`,
          peerSelector: `${RR_LABEL} == 'true' && ${ZONE} != '${zoneA}'`,
        })
        .peer('rr-mesh', { nodeSelector: `${RR_LABEL} == 'true'`, peerSelector: `${RR_LABEL} == 'true'` });
    },
    // zone a: a-RR and the bad one <-> the 4 zone-a nodes (10); zones b/c: 6 clients x 2 RRs x 2 + b-RR <-> c-RR
    // (26); rr-mesh adds zone-a "RRs" <-> b/c RRs (8). Clients: a-RR 3 (incl. the bad one), b/c-RR 7 each
    counts: { mesh: 0, node: 44, global: 0, rrClient: 17 },
  },
  {
    title: 'reversePeering: Manual (one-sided peerings) next to automatic ones, mesh off',
    build: () => {
      const f = new Fixture({ nodes: 6, zones: 3, mesh: false });
      const [a, b, c, d, e] = f.nodes().map((n) => n.metadata.name) as [
        string,
        string,
        string,
        string,
        string,
      ];
      return f
        .peer('a-to-b-one-way', { node: a, peerSelector: sel(b), reversePeering: 'Manual' })
        .peer('a-to-c-by-ip', { node: a, peerIP: f.ip(c), asNumber: 64512, reversePeering: 'Manual' })
        .peer('c-to-a-by-ip', { node: c, peerIP: f.ip(a), asNumber: 64512, reversePeering: 'Manual' })
        .peer('d-to-e-auto', { node: d, peerSelector: sel(e) });
    },
    counts: { mesh: 0, node: 5, global: 0, rrClient: 0 },
  },
  {
    title: 'peerIP BGPPeers to external routers (eBGP, iBGP to a reflector, a port, no asNumber)',
    build: () => {
      const f = new Fixture({ nodes: 9, zones: 3, rrs: 3 });
      const [rra] = f.rrs();
      const [w1, w2] = f.workers();
      return f
        .peer('rrs-to-tor', { nodeSelector: `${RR_LABEL} == 'true'`, peerIP: '192.0.2.10', asNumber: 65000 })
        .peer('rr-a-ibgp-router', { node: rra, peerIP: '198.51.100.7', asNumber: 64512 })
        .peer('w1-router-port', { node: w1, peerIP: '198.51.100.8:1179', asNumber: 65001 })
        .peer('w2-router-no-as', { node: w2, peerIP: '198.51.100.9' });
    },
    // 42 node-to-node + 3 ToR + 1 + 1 + 1; the iBGP router is rr client of its reflector
    counts: { mesh: 0, node: 48, global: 0, rrClient: 19 },
  },
  {
    title: 'global BGPPeers (no node/nodeSelector): peerSelector to the reflectors, and an external router',
    build: () =>
      new Fixture({ nodes: 9, zones: 3, rrs: 3, rrPeering: false })
        .peer('global-to-rrs', { peerSelector: `${RR_LABEL} == 'true'` })
        .peer('global-tor', { peerIP: '192.0.2.1', asNumber: 65001 }),
    // every node: Global_ to the reflectors but itself (6 x 3 + 3 x 2) and to the ToR (9);
    // reflectors: Node_ back to the 6 clients (reverse peering; the RR-RR ones lose to the global keys)
    counts: { mesh: 0, node: 18, global: 33, rrClient: 18 },
  },
  {
    title: 'a node in another AS (eBGP) in the mesh, and a peerIP BGPPeer whose AS does not match it',
    build: () => {
      const f = new Fixture({ nodes: 6, zones: 3 });
      const [x, y] = f.workers();
      return f
        .annotate(x!, ANN_ASN, '65010')
        .peer('y-to-x-wrong-as', { node: y, peerIP: f.ip(x!), asNumber: 64512 });
    },
    // the reverse peering needs x's AS to be the BGPPeer's, so x configures nothing back
    counts: { mesh: 30, node: 1, global: 0, rrClient: 0 },
  },
  {
    title: 'a reflector client in another AS (eBGP to the reflectors: no rr client)',
    build: () => {
      const f = new Fixture({ nodes: 9, zones: 3, rrs: 3 });
      return f.annotate(f.workers()[0]!, ANN_ASN, '65020');
    },
    counts: { mesh: 0, node: 42, global: 0, rrClient: 15 },
  },
  {
    title:
      'node: targeted BGPPeers (selector, peerIP to a reflector, RR-to-RR by IP, no asNumber, a missing node)',
    build: () => {
      const f = new Fixture({ nodes: 9, zones: 3, rrs: 3, rrPeering: false });
      const [rra, rrb] = f.rrs();
      const [w1, w2, w3, w4] = f.workers();
      return f
        .peer('w1-to-rrs', { node: w1, peerSelector: `${RR_LABEL} == 'true'` })
        .peer('w2-to-rr-b-by-ip', { node: w2, peerIP: f.ip(rrb!), asNumber: 64512 })
        .peer('rr-a-to-rr-b-by-ip', { node: rra, peerIP: f.ip(rrb!), asNumber: 64512 })
        .peer('w3-to-w4-no-as', { node: w3, peerIP: f.ip(w4!) })
        .peer('ghost-to-all', { node: 'no-such-node', peerSelector: 'all()' });
    },
    // w1<->3 RRs (6), w2<->rr-b (2), rr-a<->rr-b (2), w3->w4 + w4->w3 (2)
    counts: { mesh: 0, node: 12, global: 0, rrClient: 5 },
  },
  {
    title:
      'mesh on and a BGPPeer between mesh members: Mesh_ and Node_ to the same peer; projectcalico.org/labels',
    build: () => {
      const f = new Fixture({ nodes: 6, zones: 3 });
      const [x] = f.workers();
      // Calico-only labels live in the projectcalico.org/labels annotation; Kubernetes labels win on conflict
      f.annotate(x!, 'projectcalico.org/labels', JSON.stringify({ edge: 'true', [ZONE]: 'bogus' }));
      return f
        .peer('all-to-edge', { nodeSelector: 'all()', peerSelector: "edge == 'true'" })
        .peer('bogus-zone-to-all', { nodeSelector: `${ZONE} == 'bogus'`, peerSelector: 'all()' });
    },
    // 5 nodes -> x and x -> 5 nodes (reverse) on top of the full mesh; the bogus zone matches nothing
    counts: { mesh: 30, node: 10, global: 0, rrClient: 0 },
  },
  {
    title: 'global AS 65100: a peerIP BGPPeer without asNumber to a node, next to the mesh',
    build: () => {
      const f = new Fixture({ nodes: 4, zones: 2, asNumber: 65100 });
      const [a, b] = f.workers();
      return f.peer('a-to-b-no-as', { node: a, peerIP: f.ip(b!) });
    },
    // a: Node_ b `as 0` (the BGPPeer's asNumber); b: Node_ a as 65100 (reverse: asNumber 0 means the global AS)
    counts: { mesh: 12, node: 2, global: 0, rrClient: 0 },
  },
  {
    title: 'mesh off, all() <-> all() BGPPeer (a full mesh made of Node_ protocols)',
    build: () =>
      new Fixture({ nodes: 5, zones: 2, mesh: false }).peer('everyone', {
        nodeSelector: 'all()',
        peerSelector: 'all()',
      }),
    counts: { mesh: 0, node: 20, global: 0, rrClient: 0 },
  },
  {
    title: 'selector language corner cases (one local node per selector, reversePeering: Manual)',
    build: () => {
      const f = new Fixture({ nodes: 16, zones: 3, mesh: false });
      const names = f.nodes().map((n) => n.metadata.name);
      names.forEach((n, i) => {
        if (i % 4 !== 3) f.label(n, 'rack', `r${(i % 4) + 1}`);
      });
      // `edge` only in the Calico labels annotation (merged under the Kubernetes labels by libcalico-go)
      for (const n of [names[1]!, names[6]!, names[11]!])
        f.annotate(n, 'projectcalico.org/labels', JSON.stringify({ edge: 'true' }));
      const selectors = [
        "rack != 'r1'", // true where the label is absent
        "rack not in {'r1', 'r2'}", // likewise
        "!rack == 'r1'", // ! applies to the whole operation
        'global()', // every node, like all()
        'has (rack)', // invalid: space before (
        'has(rack)\n', // invalid: newline
        "topology.kubernetes.io/zone startswith 'eu-west-1b'", // word operator matched by prefix
        "rack in {'r3',}", // trailing comma
        'rack in {}', // empty set: nothing
        "rack == 'r1' || rack == 'r2' && has(edge)", // && binds tighter than ||
        '!!has(edge)',
        "topology.kubernetes.io/zone contains 'west-1c'",
        "kubernetes.io/hostname ends with '-003'",
        "(rack == 'r1' || rack == 'r3') && !has(edge)",
        'rack == "r2"',
        ' ', // blank: all()
      ];
      selectors.forEach((peerSelector, i) =>
        f.peer(`sel-${String(i).padStart(2, '0')}`, {
          node: names[i],
          peerSelector,
          reversePeering: 'Manual',
        }),
      );
      return f;
    },
    counts: { mesh: 0, node: 96, global: 0, rrClient: 0 },
    // protocols on each local node = the nodes its selector matches, minus itself (worked out by hand from
    // Calico's selector semantics: racks r1, r2, r3, none by index mod 4; edge on indexes 1, 6, 11)
    perNode: (f) => {
      const counts = [12, 8, 11, 15, 0, 0, 5, 4, 0, 5, 3, 4, 3, 7, 4, 15];
      return Object.fromEntries(f.nodes().map((n, i) => [n.metadata.name, counts[i]!]));
    },
    // test/harness/selector.ts implements a documented subset of the language and is more lenient
    simUnsupported: (f) => {
      const names = f.nodes().map((n) => n.metadata.name);
      return {
        [names[4]!]: 'accepts `has (rack)`, which Calico rejects',
        [names[5]!]: 'accepts a trailing newline, which Calico rejects',
        [names[6]!]: 'no `startswith`',
        [names[7]!]: "rejects the trailing comma in `{'r3',}`",
        [names[11]!]: 'no `contains`',
        [names[12]!]: 'no `ends with`',
        [names[15]!]: 'treats a blank selector as invalid, Calico as all()',
      };
    },
  },
  {
    title: 'empty nodeSelector (a global BGPPeer) and blank selectors (all())',
    build: () => {
      const f = new Fixture({ nodes: 5, zones: 2, mesh: false });
      const [a, b, c] = f.workers();
      return f
        .peer('empty-node-selector', { nodeSelector: '', peerSelector: sel(a!) })
        .peer('blank-node-selector', { nodeSelector: ' ', peerSelector: sel(b!) })
        .peer('blank-peer-selector', { node: c, peerSelector: '  ', reversePeering: 'Manual' });
    },
    // Global_ a on the 4 others; a: Node_ back to all 4 (reverse); blank nodeSelector: 3 more Node_ b and b's
    // 3 reverse ones (b -> a loses to the global key); blank peerSelector: c -> 2 nodes not yet covered
    counts: { mesh: 0, node: 12, global: 4, rrClient: 0 },
    // the simulator treats a blank selector as invalid (matches nothing); Calico parses it as all(). Only the
    // target of the global BGPPeer has the same sessions either way (its reverse peerings cover everyone).
    simUnsupported: (f) => {
      const [a] = f.workers();
      return Object.fromEntries(
        f
          .nodes()
          .filter((n) => n.metadata.name !== a)
          .map((n) => [n.metadata.name, 'blank selectors match nothing in the simulator']),
      );
    },
  },
  {
    title: 'no default BGPConfiguration (mesh on, AS 64512 by default)',
    build: () => new Fixture({ nodes: 4, zones: 2, defaultBgpConfig: false }),
    counts: { mesh: 12, node: 0, global: 0, rrClient: 0 },
  },
  {
    title: 'nodes without a Calico IPv4 address (Windows, virtual kubelet, Linux without the annotation)',
    build: () => {
      const f = new Fixture({ nodes: 7, zones: 3, windows: 1, virtualKubelet: 1 });
      return f.annotate(f.workers().at(-1)!, ANN_IPV4, undefined);
    },
    // The model uses only projectcalico.org/IPv4Address, as libcalico-go's KDD node conversion does
    // (K8sNodeToCalico: bgpSpec.IPv4Address = getAnnotation(k8sNode, nodeBgpIpv4AddrAnnotation, ...)): a node
    // without it gets "# IPv4 disabled on this node." and no protocols, and nobody peers with it. (This fixture
    // found the model's former InternalIP fallback, which made `rr promote` wait for sessions that never come.)
    counts: { mesh: 12, node: 0, global: 0, rrClient: 0 },
  },
];

/** `<ip>[:port] <kind> as <AS>[ rr-client]`. */
function confdKey(p: BirdProtocol): string {
  return `${p.neighbor}${p.port !== undefined ? `:${p.port}` : ''} ${p.kind} as ${p.as}${p.rrClient ? ' rr-client' : ''}`;
}
function modelKey(e: ExpectedPeer): string {
  return `${e.peerIP}${e.port !== undefined ? `:${e.port}` : ''} ${e.kind} as ${e.remoteAS}${e.peerIsClient ? ' rr-client' : ''}`;
}

/** Lines `<node>: confd only|model only "<key>"` for two multisets of keys. */
function diff(node: string, confd: string[], other: string[], otherName: string): string[] {
  const count = (xs: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const a = count(confd);
  const b = count(other);
  const out: string[] = [];
  for (const [k, n] of a) for (let i = b.get(k) ?? 0; i < n; i++) out.push(`${node}: confd only "${k}"`);
  for (const [k, n] of b)
    for (let i = a.get(k) ?? 0; i < n; i++) out.push(`${node}: ${otherName} only "${k}"`);
  return out;
}

interface Comparison {
  configs: Map<string, BirdConfig>;
  modelDiff: string[];
  simDiff: string[];
  /** Per node: confd's keys (for messages). */
  confdKeys: Map<string, string[]>;
  renderMs: number;
}

/** Renders bird.cfg for every node and compares it with the model and the simulator. */
async function compare(cp: ControlPlane, label: string): Promise<Comparison> {
  const kubeconfig = cp.kubeconfig('admin');
  const admin = cp.client('admin');
  const nodes = (await admin.list('/api/v1/nodes')).items;
  const names = nodes.map((n) => n.metadata.name).sort();

  const t0 = performance.now();
  const rendered = await renderBirdConfigs(kubeconfig, names, { label, dir: path.join(cp.dir, 'confd') });
  const renderMs = Math.round(performance.now() - t0);

  const http = new KubeHttp(resolveKubeconfig({ kubeconfig }));
  let topology;
  try {
    topology = computeTopology(bgpStateFromSnapshot(await readLiveSnapshot(new KubeApi(http))));
  } finally {
    http.close();
  }

  const peers = (await admin.list(`/apis/${CAPI}/bgppeers`)).items.sort((x, y) =>
    x.metadata.name.localeCompare(y.metadata.name),
  );
  const def = await admin.getOptional(`/apis/${CAPI}/bgpconfigurations/default`);
  const sim = new Topology({
    nodes: new Map(nodes.map((n) => [n.metadata.name, simNode(n)])),
    defaultConfig: def?.spec,
    peers: peers.map(simPeer),
  });
  const simKind = { NodeMesh: 'mesh', NodePeer: 'node', GlobalPeer: 'global' } as const;

  const configs = new Map<string, BirdConfig>();
  const confdKeys = new Map<string, string[]>();
  const modelDiff: string[] = [];
  const simDiff: string[] = [];
  for (const name of names) {
    const cfg = parseBirdConfig(rendered.get(name)!.birdCfg);
    configs.set(name, cfg);
    const keys = cfg.protocols.map(confdKey).sort();
    confdKeys.set(name, keys);
    const model = expectedPeers(topology, name, { includeDown: true }).map(modelKey);
    modelDiff.push(...diff(name, keys, model, 'model'));
    const simKeys = sim.sessions(name).map((s) => `${s.peerIP} ${simKind[s.type]}`);
    simDiff.push(
      ...diff(
        name,
        cfg.protocols.map((p) => `${p.neighbor} ${p.kind}`),
        simKeys,
        'simulator',
      ),
    );
  }
  return { configs, modelDiff: modelDiff.sort(), simDiff: simDiff.sort(), confdKeys, renderMs };
}

/** Invariants of confd's output itself (they guard the parser as much as anything). */
function checkConfdInvariants(configs: Map<string, BirdConfig>, nodes: Map<string, Obj>): void {
  const ipOf = new Map<string, string>();
  for (const [name, n] of nodes) {
    const ip = n.metadata.annotations?.[ANN_IPV4]?.split('/')[0];
    if (ip) ipOf.set(name, ip);
  }
  for (const [name, cfg] of configs) {
    const ip = ipOf.get(name);
    assert.equal(cfg.ipv4Disabled, ip === undefined, `${name}: "IPv4 disabled" iff no ${ANN_IPV4}`);
    if (ip) assert.equal(cfg.routerId, ip, `${name}: router id is the node's IPv4 address`);
    const cid = nodes.get(name)!.metadata.annotations?.[ANN_CID];
    for (const p of cfg.protocols) {
      assert.notEqual(p.kind, 'local-workload', `${name}: no Local_Workload_ protocols expected`);
      // template: `rr client; rr cluster id {{$node_cluster_id}};` together
      assert.equal(
        p.rrClient,
        p.rrClusterId !== undefined,
        `${name}: ${p.name}: rr client <=> rr cluster id`,
      );
      if (p.rrClient) assert.equal(p.rrClusterId, cid, `${name}: ${p.name}: rr cluster id is the node's`);
      assert.notEqual(p.neighbor, ip, `${name}: never a protocol to its own address`);
    }
  }
  // Mesh is unidirectional: `passive on` on the side whose peer has the larger address (string comparison,
  // `{{if gt $onode_ip $node_ip}}`), so exactly one side of every mesh pair connects.
  const byIp = new Map([...ipOf].map(([n, ip]) => [ip, n]));
  for (const [name, cfg] of configs) {
    for (const p of cfg.protocols.filter((x) => x.kind === 'mesh')) {
      const other = byIp.get(p.neighbor);
      assert.ok(other, `${name}: Mesh_ to ${p.neighbor}, which is no node's address`);
      const back = configs
        .get(other)
        ?.protocols.find((x) => x.kind === 'mesh' && x.neighbor === ipOf.get(name));
      assert.ok(back, `${name} -> ${other}: a Mesh_ protocol on one side only`);
      assert.notEqual(
        p.passive,
        back.passive,
        `${name} <-> ${other}: exactly one side of a Mesh_ pair is passive`,
      );
      assert.equal(
        p.passive,
        p.neighbor > ipOf.get(name)!,
        `${name}: ${p.name} passive iff peer IP > own IP`,
      );
    }
  }
}

function countKinds(configs: Map<string, BirdConfig>): Record<string, number> {
  const out: Record<string, number> = { mesh: 0, node: 0, global: 0, rrClient: 0 };
  for (const cfg of configs.values()) {
    for (const p of cfg.protocols) {
      out[p.kind] = (out[p.kind] ?? 0) + 1;
      if (p.rrClient) out['rrClient']!++;
    }
  }
  return out;
}

/** BIRD's own parser on a config file, as confd's check_cmd runs it (`bird -p -c`): 'ok' or its exit and message. */
function birdCheck(file: string): string {
  const bird = fs.existsSync('/usr/sbin/bird') ? '/usr/sbin/bird' : 'bird';
  const p = spawnSync(bird, ['-p', '-c', file], { encoding: 'utf8' });
  return p.status === 0 ? 'ok' : `exit ${p.status}: ${p.stderr.trim()}`;
}

function describeConfd(c: Comparison): string {
  return [...c.confdKeys].map(([n, ks]) => `  ${n}:\n${ks.map((k) => `    ${k}`).join('\n')}`).join('\n');
}

describe('confd cross-check: the model renders the sessions Calico confd renders (confd v3.31.0, CRDs v3.31.3)', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;
  const total = { fixtures: 0, nodes: 0, renderMs: 0, loadMs: 0 };

  before(async () => {
    requireCalicoTools(); // throws with `CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh` when anything is missing
    cp = await controlPlane({ calico: 'v3.31.3' });
  });
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });
  after(() => {
    if (total.fixtures)
      measure(
        `confd cross-check: ${total.fixtures} fixtures, ${total.nodes} confd runs; load ${total.loadMs} ms, ` +
          `render ${total.renderMs} ms (${Math.round(total.renderMs / Math.max(1, total.nodes))} ms/node wall, 6 in parallel)`,
      );
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const f = c.build();
      const t0 = performance.now();
      await cp.reset();
      await cp.apply(f.objects);
      total.loadMs += Math.round(performance.now() - t0);
      const r = await compare(cp, c.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 40));
      total.fixtures++;
      total.nodes += r.configs.size;
      total.renderMs += r.renderMs;
      const nodes = new Map(f.nodes().map((n) => [n.metadata.name, n]));
      checkConfdInvariants(r.configs, nodes);
      assert.deepEqual(
        r.modelDiff,
        (c.modelGaps?.(f) ?? []).sort(),
        `model vs confd for "${c.title}" (confd's protocols below)\n${describeConfd(r)}`,
      );
      const unsupported = c.simUnsupported?.(f) ?? {};
      const nodeOf = (line: string): string => line.slice(0, line.indexOf(':'));
      assert.deepEqual(
        r.simDiff.filter((l) => !(nodeOf(l) in unsupported)),
        [],
        `simulator vs confd for "${c.title}"`,
      );
      for (const [node, why] of Object.entries(unsupported))
        assert.ok(
          r.simDiff.some((l) => nodeOf(l) === node),
          `the simulator now agrees with confd on ${node} (${why}): remove it from simUnsupported`,
        );
      if (c.perNode) {
        assert.deepEqual(
          Object.fromEntries([...r.configs].map(([n, cfg]) => [n, cfg.protocols.length])),
          c.perNode(f),
          `protocols per node for "${c.title}"\n${describeConfd(r)}`,
        );
      }
      const counts = countKinds(r.configs);
      assert.deepEqual(
        Object.fromEntries(Object.keys(c.counts).map((k) => [k, counts[k] ?? 0])),
        c.counts,
        `protocols by kind over all nodes for "${c.title}"\n${describeConfd(r)}`,
      );
    });
  }

  it('numAllowedLocalASNumbers: confd renders `allow local as N` only for a peerIP BGPPeer on its own nodes, as the model reads it', async () => {
    // confd v3.31 (client.go updatePeersV1) sets NumAllowLocalAS in the peerIP branch only: a peerSelector
    // BGPPeer and the automatic reverse peerings get none. The model's FLAG_ALLOW_LOCAL_AS must agree.
    const f = new Fixture({ nodes: 6, zones: 3, rrs: 1, mesh: false });
    const rr = f.rrs()[0]!;
    const [w, v] = f.workers() as [string, string];
    f.dropPeer('peer-with-route-reflectors')
      .peer('by-selector', {
        node: w,
        peerSelector: `${RR_LABEL} == 'true'`,
        numAllowedLocalASNumbers: 1,
      })
      .peer('by-ip', { node: v, peerIP: f.ip(rr), asNumber: 64512, numAllowedLocalASNumbers: 1 });
    await cp.reset();
    await cp.apply(f.objects);
    const r = await renderBirdConfigs(cp.kubeconfig('admin'), [w, v, rr], {
      label: 'allow-local-as',
      dir: path.join(cp.dir, 'confd'),
    });
    const allows = (node: string, ip: string): boolean => {
      const text = r.get(node)!.birdCfg;
      const start = text.indexOf(`neighbor ${ip} as`);
      assert.ok(start >= 0, `${node} has no protocol to ${ip}:\n${text}`);
      return /allow local as 1;/.test(text.slice(start, text.indexOf('\n}', start)));
    };
    const confd = {
      selectorNode: allows(w, f.ip(rr)),
      selectorReverse: allows(rr, f.ip(w)),
      ipNode: allows(v, f.ip(rr)),
      ipReverse: allows(rr, f.ip(v)),
    };
    assert.deepEqual(confd, { selectorNode: false, selectorReverse: false, ipNode: true, ipReverse: false });
    const http = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('admin') }));
    try {
      const t = computeTopology(bgpStateFromSnapshot(await readLiveSnapshot(new KubeApi(http))));
      const k = t.classes.length;
      const flag = (x: string, y: string): boolean =>
        ((t.flags.get(t.classOf[t.nodeIndex.get(x)!]! * k + t.classOf[t.nodeIndex.get(y)!]!) ?? 0) &
          FLAG_ALLOW_LOCAL_AS) !==
        0;
      assert.deepEqual(
        {
          selectorNode: flag(w, rr),
          selectorReverse: flag(rr, w),
          ipNode: flag(v, rr),
          ipReverse: flag(rr, v),
        },
        confd,
      );
    } finally {
      http.close();
    }
  });

  it('a masked network as cluster ID: Calico keeps it, the other nodes treat the node as a reflector, and BIRD refuses its own config (RR_CLUSTER_ID_NETWORK)', async () => {
    // found by a review against libcalico-go (ValidateIPv4Network accepts 10.0.0.0/24); the tool said
    // "Calico ignores it" and modelled the node in the mesh
    const f = new Fixture({ nodes: 6, zones: 3, rrs: 2, mesh: false });
    const rr = f.rrs()[0]!;
    const w = f.workers()[0]!;
    f.annotate(rr, ANN_CID, '244.0.0.1/32');
    await cp.reset();
    await cp.apply(f.objects);
    const r = await renderBirdConfigs(cp.kubeconfig('admin'), [rr, w], {
      label: 'network-id',
      dir: path.join(cp.dir, 'confd'),
      includes: true,
    });
    const rrCfg = r.get(rr)!;
    assert.match(rrCfg.birdCfg, /rr cluster id 244\.0\.0\.1\/32;/, 'confd renders the network as it is');
    // BIRD's own parser, as confd's check_cmd runs it (bird -p -c), with the files bird.cfg includes beside it
    const check = birdCheck;
    assert.match(check(rrCfg.path), /syntax error/, "BIRD refuses the reflector's configuration");
    assert.equal(check(r.get(w)!.path), 'ok', "a client's configuration parses");
    fs.writeFileSync(rrCfg.path, rrCfg.birdCfg.split('244.0.0.1/32').join('244.0.0.1'));
    assert.equal(check(rrCfg.path), 'ok', 'and with the bare address it parses');
    const st = await runCli(['status', '-o', 'json'], { kubeconfig: cp.kubeconfig('admin') });
    const found = st.json<{ findings: { code: string; severity: string; message: string }[] }>().findings;
    const net = found.find((x) => x.code === 'RR_CLUSTER_ID_NETWORK');
    assert.ok(net, found.map((x) => x.code).join(', '));
    assert.equal(net.severity, 'critical');
    assert.ok(net.message.includes(rr), net.message);
    assert.ok(!found.some((x) => x.code === 'RR_CLUSTER_ID_INVALID'));
  });

  it('configs BIRD refuses: a peerIP BGPPeer without asNumber, and two mesh nodes with one IPv4Address (BGP_CONFIG_REFUSED)', async () => {
    // found by a review against confd's templates and BIRD's source; the model called the first "one external
    // peer down" and kept the first of the two nodes, with status silent
    const check = birdCheck;
    const codes = async (): Promise<{ code: string; severity: string; message: string }[]> =>
      (await runCli(['status', '-o', 'json'], { kubeconfig: cp.kubeconfig('admin') })).json<{
        findings: { code: string; severity: string; message: string }[];
      }>().findings;

    // 1. a ToR BGPPeer for one node, its asNumber forgotten
    const f = new Fixture({ nodes: 6, zones: 3, rrs: 2, mesh: false });
    const [w, v] = f.workers() as [string, string];
    f.peer('tor-no-as', { node: w, peerIP: '192.0.2.1' });
    await cp.reset();
    await cp.apply(f.objects);
    let r = await renderBirdConfigs(cp.kubeconfig('admin'), [w, v], {
      label: 'peer-no-as',
      dir: path.join(cp.dir, 'confd'),
      includes: true,
    });
    assert.match(r.get(w)!.birdCfg, /neighbor 192\.0\.2\.1 as 0;/, 'confd renders the missing AS as 0');
    assert.match(check(r.get(w)!.path), /^exit/, `BIRD refuses ${w}'s configuration`);
    assert.equal(check(r.get(v)!.path), 'ok', "another node's parses");
    let found = await codes();
    const peerAs = found.find((x) => x.code === 'BGP_CONFIG_REFUSED');
    assert.ok(peerAs, found.map((x) => x.code).join(', '));
    assert.equal(peerAs.severity, 'critical');
    assert.ok(peerAs.message.includes('tor-no-as') && peerAs.message.includes(w), peerAs.message);

    // 2. the mesh on, two workers with one address
    const g = new Fixture({ nodes: 6, zones: 3, mesh: true, encapsulation: 'IPIP' });
    const [a, b, c] = g.workers() as [string, string, string];
    g.annotate(b, ANN_IPV4, g.node(a).metadata.annotations![ANN_IPV4]!);
    await cp.reset();
    await cp.apply(g.objects);
    r = await renderBirdConfigs(cp.kubeconfig('admin'), [a, c], {
      label: 'duplicate-ip',
      dir: path.join(cp.dir, 'confd'),
      includes: true,
    });
    const id = g.ip(a).replace(/\./g, '_');
    assert.equal(
      r.get(c)!.birdCfg.split(`protocol bgp Mesh_${id} `).length - 1,
      2,
      'the protocol twice on a third node',
    );
    assert.match(check(r.get(c)!.path), /^exit/, `BIRD refuses ${c}'s configuration`);
    assert.equal(check(r.get(a)!.path), 'ok', 'the node with the address skips it as its own');
    found = await codes();
    const dup = found.find((x) => x.code === 'BGP_CONFIG_REFUSED');
    assert.ok(dup, found.map((x) => x.code).join(', '));
    assert.ok(dup.message.includes(`${a} and ${b}`) || dup.message.includes(`${b} and ${a}`), dup.message);
  });

  it('two BGPPeers of one pass for the same (node, peer IP): confd picks in Go map order, the model by name', async () => {
    // Documented model simplification (src/bgp/topology.ts header): confd keeps the first value per key
    // (client.go updatePeersV1 `emit`: "If we already have an entry for that path, it wins"), but walks the
    // BGPPeers as `for _, v3res := range c.bgpPeers`, a Go map (client.go:321 `bgpPeers map[string]*apiv3.BGPPeer`),
    // so which of two same-pass BGPPeers wins changes from one confd start to the next. The model takes the
    // first by name. Here both values are possible; the model must give one of them (the by-name one).
    const f = new Fixture({ nodes: 4, zones: 2, mesh: false });
    const [a, b] = f.workers() as [string, string];
    f.peer('a-by-ip', { node: a, peerIP: f.ip(b), asNumber: 65001, reversePeering: 'Manual' }).peer(
      'b-by-selector',
      { node: a, peerSelector: sel(b), reversePeering: 'Manual' },
    );
    await cp.reset();
    await cp.apply(f.objects);
    const runs = await Promise.all(
      Array.from({ length: 6 }, () =>
        renderBirdConfigs(cp.kubeconfig('admin'), [a], {
          label: 'same-pass',
          dir: path.join(cp.dir, 'confd'),
        }),
      ),
    );
    const seen = runs.map((r) => parseBirdConfig(r.get(a)!.birdCfg).protocols.map(confdKey).join(', '));
    const byIp = `${f.ip(b)} node as 65001`;
    const bySelector = `${f.ip(b)} node as 64512`;
    for (const s of seen) assert.ok([byIp, bySelector].includes(s), `confd rendered ${s}`);
    const http = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('admin') }));
    try {
      const t = computeTopology(bgpStateFromSnapshot(await readLiveSnapshot(new KubeApi(http))));
      assert.deepEqual(expectedPeers(t, a, { includeDown: true }).map(modelKey), [byIp]);
    } finally {
      http.close();
    }
    // and status says the outcome is not defined (BGP_PEER_CONFLICT; the model's by-name pick is an assumption)
    const st = (await runCli(['status', '-o', 'json'], { kubeconfig: cp.kubeconfig('admin') })).json<{
      findings: { code: string; severity: string; message: string }[];
    }>();
    const conflict = st.findings.filter((x) => x.code === 'BGP_PEER_CONFLICT');
    assert.equal(conflict.length, 1, st.findings.map((x) => x.code).join(', '));
    assert.match(conflict[0]!.message, /^BGPPeers a-by-ip and b-by-selector both configure the peer /);
    assert.ok(conflict[0]!.message.includes(`${f.ip(b)} on 1 node (e.g. ${a}), with different asNumber`));
    measure(
      `confd same-pass conflict: ${seen.filter((x) => x === byIp).length}/6 runs took a-by-ip, ` +
        `${seen.filter((x) => x === bySelector).length}/6 b-by-selector`,
    );
  });

  it("renders the plugin's own end state: after `migrate apply --to route-reflectors` on 12 nodes", async () => {
    const f = new Fixture({ nodes: 12, zones: 3 });
    await cp.reset();
    await cp.apply(f.objects);
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const r = await runCli(['migrate', 'apply', '--to', 'route-reflectors', '--yes'], {
      kubeconfig: cp.kubeconfig('plugin'),
      timeoutMs: 240_000,
    });
    assert.equal(r.code, 0, r.stderr);
    await sim.stop();
    sim = undefined;
    const cmp = await compare(cp, 'after-migrate');
    const nodes = new Map(
      (await cp.client('admin').list('/api/v1/nodes')).items.map((n) => [n.metadata.name, n]),
    );
    checkConfdInvariants(cmp.configs, nodes);
    assert.deepEqual(cmp.modelDiff, [], `model vs confd after the migration\n${describeConfd(cmp)}`);
    assert.deepEqual(cmp.simDiff, [], 'simulator vs confd after the migration');
    const counts = countKinds(cmp.configs);
    assert.equal(counts['mesh'], 0, 'the mesh is off: no Mesh_ protocols');
    const reflectors = [...nodes.values()].filter((n) => n.metadata.annotations?.[ANN_CID]);
    assert.ok(reflectors.length >= 2, `at least two reflectors, got ${reflectors.length}`);
    for (const rr of reflectors) {
      const cfg = cmp.configs.get(rr.metadata.name)!;
      assert.equal(
        cfg.protocols.filter((p) => p.rrClient).length,
        nodes.size - 1,
        `${rr.metadata.name} reflects to every other node (the other reflectors too: a cluster ID each)`,
      );
    }
  });
});
