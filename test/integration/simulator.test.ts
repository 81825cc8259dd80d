/**
 * The calico-node stand-in itself. Expected peers are written out by hand from the fixture (node IPs
 * and roles), not computed with the simulator's own code.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  compileSelector,
  controlPlane,
  loadFixture,
  run,
  startSimulator,
  Topology,
  simNode,
  simPeer,
  waitFor,
  REPO_ROOT,
  type ControlPlane,
  type Obj,
  type Simulator,
} from '../harness/index.js';
import { spawn } from 'node:child_process';
import { generateCluster, type ClusterSpec } from '../fixtures/generate.js';

interface Peer {
  peerIP: string;
  type: string;
  state: string;
  since: string;
}
interface Cns {
  metadata: { name: string };
  status?: {
    lastUpdated?: string;
    agent?: { birdV4?: { state?: string } };
    bgp?: { numberEstablishedV4: number; numberNotEstablishedV4: number; peersV4?: Peer[] };
  };
}

const ipOf = (n: Obj): string => n.metadata.annotations!['projectcalico.org/IPv4Address']!.split('/')[0]!;

function fixture(spec: ClusterSpec): { objs: Obj[]; nodes: Obj[]; rrs: Obj[]; clients: Obj[] } {
  const objs = generateCluster(spec) as Obj[];
  const nodes = objs.filter((o) => o.kind === 'Node');
  const rrs = nodes.filter((n) => n.metadata.annotations?.['projectcalico.org/RouteReflectorClusterID']);
  return { objs, nodes, rrs, clients: nodes.filter((n) => !rrs.includes(n)) };
}

function topologyOf(objs: Obj[]): Topology {
  return new Topology({
    nodes: new Map(objs.filter((o) => o.kind === 'Node').map((o) => [o.metadata.name, simNode(o)])),
    defaultConfig: objs.find((o) => o.kind === 'BGPConfiguration' && o.metadata.name === 'default')?.spec,
    peers: objs.filter((o) => o.kind === 'BGPPeer').map(simPeer),
  });
}

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('calico-node simulator', function () {
  // a control plane may take over 2 min to start while a 5,000-node fixture loads beside it (CI)
  this.timeout(300_000);

  describe('selector evaluator (independent of src/bgp/selector.ts)', () => {
    const labels = {
      'route-reflector': 'true',
      'topology.kubernetes.io/zone': 'eu-west-1a',
      'kubernetes.io/os': 'linux',
    };
    const cases: [string, boolean][] = [
      ['all()', true],
      ["route-reflector == 'true'", true],
      ['route-reflector == "false"', false],
      ["route-reflector != 'true'", false],
      ["missing != 'x'", true],
      ['has(route-reflector)', true],
      ['!has(route-reflector)', false],
      ["topology.kubernetes.io/zone in {'eu-west-1a', 'eu-west-1b'}", true],
      ["topology.kubernetes.io/zone not in {'eu-west-1a'}", false],
      ["missing not in {'a'}", true],
      ["has(route-reflector) && kubernetes.io/os == 'linux'", true],
      ["!has(route-reflector) || kubernetes.io/os == 'windows'", false],
      ["!(has(route-reflector) && kubernetes.io/os == 'windows')", true],
      ["(has(a) || has(route-reflector)) && !(route-reflector == 'false')", true],
    ];
    for (const [sel, want] of cases) {
      it(`${sel} -> ${want}`, () => assert.equal(compileSelector(sel)(labels), want));
    }
    it('rejects syntax errors', () => {
      for (const bad of ['has(', "a == 'x' &&", "a = 'x'", "a in {'x'", '&& b'])
        assert.throws(() => compileSelector(bad), bad);
    });
  });

  describe('topology rules (pure)', () => {
    it('6-node full mesh: every node peers with the 5 others (NodeMesh)', () => {
      const { objs, nodes } = fixture({ nodes: 6 });
      const t = topologyOf(objs);
      for (const n of nodes) {
        const s = t.sessions(n.metadata.name);
        assert.deepEqual(sorted(s.map((x) => x.peerIP)), sorted(nodes.filter((o) => o !== n).map(ipOf)));
        assert.ok(s.every((x) => x.type === 'NodeMesh'));
      }
    });

    it('3 route reflectors, mesh off: clients peer with the 3 RRs, each RR with every other node (NodePeer)', () => {
      const { objs, nodes, rrs, clients } = fixture({ nodes: 9, rrs: 3, zones: 3 });
      assert.equal(rrs.length, 3);
      const t = topologyOf(objs);
      for (const c of clients) {
        const s = t.sessions(c.metadata.name);
        assert.deepEqual(sorted(s.map((x) => x.peerIP)), sorted(rrs.map(ipOf)), c.metadata.name);
        assert.ok(s.every((x) => x.type === 'NodePeer'));
      }
      for (const r of rrs) {
        const s = t.sessions(r.metadata.name);
        assert.deepEqual(
          sorted(s.map((x) => x.peerIP)),
          sorted(nodes.filter((o) => o !== r).map(ipOf)),
          r.metadata.name,
        );
        assert.ok(s.every((x) => x.type === 'NodePeer'));
      }
    });

    it('RRs leave the mesh while it is on; an invalid cluster ID keeps the node in the mesh', () => {
      const { objs, nodes } = fixture({ nodes: 6, mesh: true });
      const [a, b] = [nodes[1]!, nodes[2]!];
      a.metadata.annotations!['projectcalico.org/RouteReflectorClusterID'] = '244.0.0.1';
      b.metadata.annotations!['projectcalico.org/RouteReflectorClusterID'] = '288.0.4.5';
      const t = topologyOf(objs);
      assert.deepEqual(t.sessions(a.metadata.name), [], 'a valid RR without BGPPeers has no sessions');
      const others = nodes.filter((n) => n !== a);
      for (const n of others)
        assert.deepEqual(
          sorted(t.sessions(n.metadata.name).map((x) => x.peerIP)),
          sorted(others.filter((o) => o !== n).map(ipOf)),
        );
    });

    it('global peers (GlobalPeer), peerIP peers, reverse peerings and no session to self', () => {
      const { objs, nodes } = fixture({ nodes: 4, mesh: false });
      const [n0, n1, n2, n3] = nodes as [Obj, Obj, Obj, Obj];
      n0.metadata.labels!['edge'] = 'yes';
      objs.push(
        // global: every node peers with the external router and with the edge node
        {
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'BGPPeer',
          metadata: { name: 'tor' },
          spec: { peerIP: '172.16.0.1:179', asNumber: 65000 },
        },
        {
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'BGPPeer',
          metadata: { name: 'edge' },
          spec: { peerSelector: "edge == 'yes'" },
        },
        // node-specific by name, to another node's IP (reverse peering expected on n3)
        {
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'BGPPeer',
          metadata: { name: 'pair' },
          spec: { node: n1.metadata.name, peerIP: ipOf(n3) },
        },
      );
      const t = topologyOf(objs);
      const of = (n: Obj): string[] =>
        sorted(t.sessions(n.metadata.name).map((x) => `${x.peerIP} ${x.type}`));
      assert.deepEqual(of(n2), sorted(['172.16.0.1 GlobalPeer', `${ipOf(n0)} GlobalPeer`]));
      assert.deepEqual(
        of(n1),
        sorted(['172.16.0.1 GlobalPeer', `${ipOf(n0)} GlobalPeer`, `${ipOf(n3)} NodePeer`]),
      );
      assert.deepEqual(
        of(n3),
        sorted(['172.16.0.1 GlobalPeer', `${ipOf(n0)} GlobalPeer`, `${ipOf(n1)} NodePeer`]),
      );
      // the edge node: the global peering to itself is skipped; reverse peerings to every other node
      assert.deepEqual(
        of(n0),
        sorted(['172.16.0.1 GlobalPeer', ...[n1, n2, n3].map((n) => `${ipOf(n)} NodePeer`)]),
      );
    });

    it('reversePeering: Manual suppresses the automatic reverse sessions', () => {
      const { objs, nodes } = fixture({ nodes: 3, mesh: false });
      const [n0, n1] = nodes as [Obj, Obj];
      objs.push({
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'BGPPeer',
        metadata: { name: 'one-way' },
        spec: { node: n0.metadata.name, peerIP: ipOf(n1), reversePeering: 'Manual' },
      });
      const t = topologyOf(objs);
      assert.deepEqual(
        t.sessions(n0.metadata.name).map((x) => x.peerIP),
        [ipOf(n1)],
      );
      assert.deepEqual(t.sessions(n1.metadata.name), []);
    });
  });

  describe('live (CalicoNodeStatus on the test API server)', () => {
    let cp: ControlPlane;
    let sim: Simulator | undefined;

    before(async () => {
      cp = await controlPlane();
    });
    afterEach(async () => {
      await sim?.stop();
      sim = undefined;
    });

    async function createStatuses(nodes: Obj[], period = 1): Promise<void> {
      await cp.apply(
        nodes.map((n) => ({
          apiVersion: 'crd.projectcalico.org/v1',
          kind: 'CalicoNodeStatus',
          metadata: { name: `sim-${n.metadata.name}` },
          spec: { node: n.metadata.name, classes: ['Agent', 'BGP'], updatePeriodSeconds: period },
        })),
      );
    }
    const getCns = (name: string): Promise<Cns> =>
      cp.client().get<Cns>(`/apis/crd.projectcalico.org/v1/caliconodestatuses/sim-${name}`);

    it('6-node mesh: Connect first, Established after the delay, 5 NodeMesh peers each @matrix', async () => {
      const { objs, nodes } = fixture({ nodes: 6 });
      await loadFixture(cp, { nodes: 6 });
      assert.equal(objs.filter((o) => o.kind === 'Node').length, 6);
      sim = await startSimulator(cp, { knobs: { establishDelayMs: 4000 } });
      await createStatuses(nodes);
      const first = await waitFor(async () => (await getCns(nodes[0]!.metadata.name)).status?.bgp, {
        what: 'a first status',
      });
      assert.equal(first.numberEstablishedV4, 0);
      assert.equal(first.numberNotEstablishedV4, 5);
      assert.ok(first.peersV4!.every((p) => p.state === 'Connect'));
      for (const n of nodes) {
        const bgp = await waitFor(
          async () => {
            const b = (await getCns(n.metadata.name)).status?.bgp;
            return b && b.numberEstablishedV4 === 5 ? b : undefined;
          },
          { what: `${n.metadata.name} Established`, timeoutMs: 20_000 },
        );
        assert.equal(bgp.numberNotEstablishedV4, 0);
        assert.deepEqual(
          sorted(bgp.peersV4!.map((p) => p.peerIP)),
          sorted(nodes.filter((o) => o !== n).map(ipOf)),
        );
        assert.ok(
          bgp.peersV4!.every(
            (p) => p.type === 'NodeMesh' && p.state === 'Established' && /^\d\d:\d\d:\d\d$/.test(p.since),
          ),
        );
      }
      const cns = await getCns(nodes[0]!.metadata.name);
      assert.equal(cns.status?.agent?.birdV4?.state, 'Ready');
      assert.ok(cns.status?.lastUpdated);
    });

    it('follows changes through the watch: a node given a cluster ID leaves the mesh', async () => {
      const { nodes } = fixture({ nodes: 6 });
      await loadFixture(cp, { nodes: 6 });
      sim = await startSimulator(cp, { knobs: { establishDelayMs: 100 } });
      await createStatuses(nodes);
      const leaver = nodes[3]!;
      await cp.client().request('PATCH', `/api/v1/nodes/${leaver.metadata.name}`, {
        body: { metadata: { annotations: { 'projectcalico.org/RouteReflectorClusterID': '244.0.0.1' } } },
        contentType: 'application/merge-patch+json',
      });
      const stay = nodes.filter((n) => n !== leaver);
      for (const n of stay) {
        await waitFor(
          async () => {
            const b = (await getCns(n.metadata.name)).status?.bgp;
            return (
              b &&
              b.numberEstablishedV4 === 4 &&
              b.numberNotEstablishedV4 === 0 &&
              !b.peersV4!.some((p) => p.peerIP === ipOf(leaver))
            );
          },
          { what: `${n.metadata.name} without ${leaver.metadata.name}` },
        );
      }
      await waitFor(async () => (await getCns(leaver.metadata.name)).status?.bgp?.peersV4?.length === 0, {
        what: 'the RR has no sessions',
      });
    });

    it('3 route reflectors; the stuck knob keeps one session Active; the silent knob stops updates', async () => {
      const { nodes, rrs, clients } = fixture({ nodes: 9, rrs: 3, zones: 3 });
      await loadFixture(cp, { nodes: 9, rrs: 3, zones: 3 });
      sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
      const client = clients[1]!;
      const rr = rrs[0]!;
      await createStatuses([client, rr]);
      const cb = await waitFor(
        async () => {
          const b = (await getCns(client.metadata.name)).status?.bgp;
          return b?.numberEstablishedV4 === 3 ? b : undefined;
        },
        { what: 'client sees 3 RRs Established' },
      );
      assert.deepEqual(sorted(cb.peersV4!.map((p) => p.peerIP)), sorted(rrs.map(ipOf)));
      assert.ok(cb.peersV4!.every((p) => p.type === 'NodePeer'));
      const rb = await waitFor(
        async () => {
          const b = (await getCns(rr.metadata.name)).status?.bgp;
          return b?.numberEstablishedV4 === 8 ? b : undefined;
        },
        { what: 'RR sees the 8 other nodes Established' },
      );
      assert.deepEqual(
        sorted(rb.peersV4!.map((p) => p.peerIP)),
        sorted(nodes.filter((n) => n !== rr).map(ipOf)),
      );

      sim.setKnobs({ stuck: [{ node: client.metadata.name, peer: rr.metadata.name }] });
      const stuck = await waitFor(
        async () => {
          const b = (await getCns(client.metadata.name)).status?.bgp;
          return b?.numberNotEstablishedV4 === 1 ? b : undefined;
        },
        { what: 'one stuck session' },
      );
      assert.equal(stuck.numberEstablishedV4, 2);
      assert.deepEqual(
        stuck.peersV4!.filter((p) => p.state !== 'Established').map((p) => [p.peerIP, p.state]),
        [[ipOf(rr), 'Active']],
      );
      // the stuck rule names the client side only: the RR still reports its end Established
      assert.equal((await getCns(rr.metadata.name)).status?.bgp?.numberEstablishedV4, 8);

      sim.setKnobs({ stuck: [], silent: [client.metadata.name] });
      await sim.settle();
      const before = (await getCns(client.metadata.name)).status?.lastUpdated;
      const rrBefore = (await getCns(rr.metadata.name)).status?.lastUpdated;
      await new Promise((r) => setTimeout(r, 2200));
      assert.equal(
        (await getCns(client.metadata.name)).status?.lastUpdated,
        before,
        'silent node: no update',
      );
      assert.notEqual(
        (await getCns(rr.metadata.name)).status?.lastUpdated,
        rrBefore,
        'others keep updating every updatePeriodSeconds',
      );
      assert.equal(
        (await getCns(client.metadata.name)).status?.bgp?.numberNotEstablishedV4,
        1,
        'the last report stays as it was',
      );
    });

    it('runs as a standalone process too', async () => {
      const { nodes } = fixture({ nodes: 3 });
      await loadFixture(cp, { nodes: 3 });
      await createStatuses(nodes);
      const child = spawn(
        process.execPath,
        [
          path.join(REPO_ROOT, 'dist/test/harness/simulator.js'),
          '--kubeconfig',
          cp.kubeconfig('simulator'),
          '--delay-ms',
          '100',
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await waitFor(
          async () => (await getCns(nodes[0]!.metadata.name)).status?.bgp?.numberEstablishedV4 === 2,
          { what: `standalone simulator; stderr: ${stderr}` },
        );
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, stderr);
      const help = await run(process.execPath, [
        path.join(REPO_ROOT, 'dist/test/harness/simulator.js'),
        '--help',
      ]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--kubeconfig/);
    });
  });
});
