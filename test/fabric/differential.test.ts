/**
 * Scenario 6 of issue 12: the differential check (docs/fabric.md). CI runs a fixed-seed subset on the rig and
 * asserts that the pod blocks every real BIRD installs are exactly those the model predicts; the check itself is
 * shown to fail on a wrong prediction. `npm run fabric -- --scenario differential --count 300 --seed S` runs
 * hundreds by hand.
 */
import assert from 'node:assert/strict';
import { controlPlane, measure } from '../harness/index.js';
import type { BirdConfig } from '../harness/calico-tools.js';
import {
  compare,
  disagreementsOf,
  formatDifferential,
  possibleSessions,
  runDifferential,
  runTopologies,
  type DifferentialReport,
  type Observation,
} from './differential.js';
import { randomTopology, simplifications, topologySeed, type DiffTopology } from './differential-gen.js';

/** The CI subset: seed, count and node counts (docs/fabric.md says why these). */
export const CI_SEED = Number(process.env['CALICO_TUNE_DIFF_SEED'] ?? 12);
export const CI_COUNT = Number(process.env['CALICO_TUNE_DIFF_COUNT'] ?? 14);
export const CI_SIZES = [4, 5, 6];

function peerProblems(t: DiffTopology): string[] {
  const out: string[] = [];
  for (const p of t.peers) {
    if (p.node !== undefined && p.nodeSelector !== undefined) out.push(`${p.name}: node and nodeSelector`);
    if ((p.peerSelector === undefined) === (p.peerNode === undefined))
      out.push(`${p.name}: needs exactly one of peerSelector, peerIP`);
    if (p.peerNode !== undefined && p.asNumber === undefined) out.push(`${p.name}: peerIP without asNumber`);
    if (p.peerSelector !== undefined && p.asNumber !== undefined)
      out.push(`${p.name}: peerSelector with asNumber`);
    for (const i of [p.node, p.peerNode])
      if (i !== undefined && (i < 0 || i >= t.k)) out.push(`${p.name}: node ${i}`);
  }
  if (new Set(t.peers.map((p) => p.name)).size !== t.peers.length) out.push('duplicate BGPPeer names');
  // a wrong AS on a peerIP BGPPeer only when it is the only BGPPeer (confd's choice between two BGPPeers of one
  // pass with the same key and different values is Go map order)
  const wrongAs = t.peers.filter(
    (p) => p.peerNode !== undefined && p.asNumber !== (t.nodes[p.peerNode]!.asNumber ?? t.globalAs),
  );
  if (wrongAs.length && t.peers.length > 1)
    out.push('a peerIP BGPPeer with a wrong AS next to other BGPPeers');
  return out;
}

describe('differential check: topologies and comparison (no rig)', () => {
  it('topologies are reproducible from their seed and only what Calico accepts', () => {
    const ts = runTopologies({ seed: 5, count: 300, sizes: [3, 4, 5, 6, 7] });
    assert.deepEqual(runTopologies({ seed: 5, count: 300, sizes: [3, 4, 5, 6, 7] }), ts);
    assert.deepEqual(randomTopology(topologySeed(5, 17), ts[17]!.k), ts[17]);
    assert.notDeepEqual(
      runTopologies({ seed: 6, count: 5, sizes: [5] }),
      runTopologies({ seed: 5, count: 5, sizes: [5] }),
    );
    for (const t of ts) {
      assert.deepEqual(peerProblems(t), [], JSON.stringify(t));
      assert.ok(t.nodes.filter((n) => n.clusterId).length <= Math.min(3, t.k - 1));
      for (const s of simplifications(t))
        assert.deepEqual(peerProblems(s), [], `${JSON.stringify(s)} from ${JSON.stringify(t)}`);
    }
  });

  it('topologies cover every feature the brief names', () => {
    const ts = runTopologies({ seed: 1, count: 300, sizes: [3, 4, 5, 6, 7] });
    const some = (what: string, f: (t: DiffTopology) => boolean): void =>
      assert.ok(ts.filter(f).length >= 10, `fewer than 10 of 300 topologies with ${what}`);
    some('the mesh on', (t) => t.mesh);
    some('the mesh off', (t) => !t.mesh);
    for (let r = 0; r <= 3; r++)
      some(`${r} reflectors`, (t) => t.nodes.filter((n) => n.clusterId).length === r);
    const cids = (t: DiffTopology): string[] => t.nodes.flatMap((n) => (n.clusterId ? [n.clusterId] : []));
    some(
      'reflectors sharing a cluster ID',
      (t) => cids(t).length > 1 && new Set(cids(t)).size < cids(t).length,
    );
    some(
      'reflectors with distinct cluster IDs',
      (t) => cids(t).length > 1 && new Set(cids(t)).size === cids(t).length,
    );
    some(
      'reflectors that all say 0.0.0.0 (BIRD: each its own router ID)',
      (t) => cids(t).length > 1 && cids(t).every((c) => c === '0.0.0.0'),
    );
    some(
      '0.0.0.0 next to another cluster ID',
      (t) => cids(t).includes('0.0.0.0') && cids(t).some((c) => c !== '0.0.0.0'),
    );
    some('a reflector without the route-reflector label', (t) =>
      t.nodes.some((n) => n.clusterId && !n.rrLabel),
    );
    some('per-node AS numbers', (t) =>
      t.nodes.some((n) => n.asNumber !== undefined && n.asNumber !== t.globalAs),
    );
    some('a global BGPPeer', (t) =>
      t.peers.some((p) => p.node === undefined && p.nodeSelector === undefined),
    );
    some('a nodeSelector BGPPeer', (t) => t.peers.some((p) => p.nodeSelector !== undefined));
    some('a node-scoped BGPPeer', (t) => t.peers.some((p) => p.node !== undefined));
    some('a peerIP BGPPeer', (t) => t.peers.some((p) => p.peerNode !== undefined));
    some('reversePeering: Manual', (t) => t.peers.some((p) => p.reversePeering === 'Manual'));
    for (const g of [64512, 64513, 65001]) some(`global AS ${g}`, (t) => t.globalAs === g);
  });

  it('compare() reports exactly the pairs where prediction and routes differ', () => {
    const names = ['a', 'b', 'c'];
    const installed = [
      [false, true, false],
      [true, false, true],
      [true, true, false],
    ];
    assert.deepEqual(
      compare(names, installed, (y, x) => installed[y]![x]!),
      [],
    );
    assert.deepEqual(
      compare(names, installed, () => true),
      [{ learner: 'a', origin: 'c', model: true, bird: false }],
    );
  });

  it('sessions are possible only when both rendered configs have a protocol to each other with the right AS', () => {
    const proto = (neighbor: string, as: number, passive = false): BirdConfig['protocols'][number] => ({
      name: `Node_${neighbor.replaceAll('.', '_')}`,
      kind: 'node',
      template: 'bgp_template',
      neighbor,
      port: undefined,
      as,
      localAs: undefined,
      rrClient: false,
      rrClusterId: undefined,
      passive,
      text: '',
    });
    const cfg = (localAs: number, ...protocols: BirdConfig['protocols']): BirdConfig => ({
      routerId: undefined,
      ipv4Disabled: false,
      localAs,
      protocols,
    });
    const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
    const got = possibleSessions(
      [
        cfg(64512, proto(ips[1]!, 64512), proto(ips[2]!, 64512, true)),
        cfg(64512, proto(ips[0]!, 64512)),
        // the AS it expects of node 0 is wrong, and both ends of 0-2 would be passive
        cfg(64512, proto(ips[0]!, 65000, true)),
      ],
      ips,
    );
    assert.deepEqual(
      got.map((s) => [...s]),
      [[1], [0], []],
    );
  });
});

describe('fabric: the differential check, real BIRD against the model', function () {
  this.timeout(900_000);
  let report: DifferentialReport;
  const observations: Observation[] = [];

  before(async () => {
    const cp = await controlPlane({ calico: 'v3.31.3' });
    const verbose = process.env['CALICO_TUNE_FABRIC_VERBOSE'] === '1';
    report = await runDifferential(cp, {
      seed: CI_SEED,
      count: CI_COUNT,
      sizes: CI_SIZES,
      log: verbose ? (l) => process.stderr.write(`      ${l}\n`) : undefined,
      onObservation: (o) => observations.push(o),
    });
    measure(formatDifferential(report).replace(/^/gm, '      '));
  });

  it(`every topology settled (${CI_COUNT} topologies, seed ${CI_SEED}, sizes ${CI_SIZES.join(',')})`, () => {
    assert.equal(report.totals.topologies, CI_COUNT);
    const stuck = report.results.filter((r) => !r.converged);
    assert.deepEqual(
      stuck.map((r) => `${r.seed}: ${r.problems.join(' / ')}`),
      [],
      formatDifferential(report),
    );
  });

  it('the routes every BIRD installed are the ones the model predicts (no unexplained disagreement)', () => {
    const bad = report.results.flatMap((r) =>
      r.disagreements
        .filter((d) => !d.known)
        .map((d) => `${r.seed} ${d.learner} <- ${d.origin}: model ${d.model}`),
    );
    assert.deepEqual(bad, [], formatDifferential(report));
    assert.equal(report.totals.unexplained, 0);
  });

  it('the check says more than "everyone learns everything": some topologies leave pairs without routes', () => {
    assert.ok(report.totals.partial >= 2, `only ${report.totals.partial} topologies with missing routes`);
    assert.ok(
      report.results.some((r) => r.learned === r.pairs),
      'and some where every pair learns',
    );
  });

  it('a deliberately wrong prediction is caught', () => {
    // "everyone learns everyone" (what a model that ignored the mesh switch and the peerings would say)
    const naive = observations.flatMap((o) => compare(o.names, o.installed, () => true));
    assert.ok(naive.length > 0, 'the naive prediction disagrees with the routes somewhere');
    // one flipped entry of the real model: exactly that pair is reported
    const o = observations.find((x) => x.converged)!;
    const flipped: Observation = {
      ...o,
      model: o.model.map((row, y) => row.map((v, x) => (y === 1 && x === 0 ? !v : v))),
    };
    assert.deepEqual(
      disagreementsOf(flipped).map((d) => `${d.learner} <- ${d.origin}`),
      [`${o.names[1]} <- ${o.names[0]}`],
    );
  });
});
