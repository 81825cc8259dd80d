/** `bgp peers` output: the nodes with problems in detail, the others summed up in one line (everyday use). */
import assert from 'node:assert/strict';
import {
  defaultObservedNodes,
  peersReport,
  type NodePeers,
  type PeersReport,
} from '../../../src/bgp/peers-report.js';
import type { ObservedNode } from '../../../src/model/observed.js';
import { snap } from '../helpers.js';
import { setColor } from '../../../src/render/color.js';
import { renderPeers } from '../../../src/render/peers.js';

function node(name: string, ok: boolean): NodePeers {
  return {
    node: name,
    source: 'CalicoNodeStatus',
    error: null,
    peers: [
      {
        peerIP: '10.0.0.1',
        peerNode: 'a',
        type: 'NodeMesh',
        state: ok ? 'Established' : 'Active',
        since: null,
        expected: true,
      },
    ],
    missing: [],
    established: ok ? 1 : 0,
    ok,
    read: true,
  };
}

describe('render/peers: summary', () => {
  before(() => setColor(false));
  const report: PeersReport = {
    apiVersion: 'calico-tune/v1',
    kind: 'BgpPeers',
    nodes: [node('node-a-001', true), node('node-b-001', false), node('node-c-001', true)],
    summary: { nodes: 3, ok: 2, unreported: 0 },
  };

  it('one line for the nodes that match the model, a table for the one that does not', () => {
    const out = renderPeers(report, false);
    assert.match(
      out,
      /^✔ 2 node\(s\) with every session Established as the model expects: node-a-001 \(1\), node-c-001 \(1\)$/m,
    );
    assert.match(out, /^node-b-001 /m);
    assert.doesNotMatch(out, /^node-a-001 /m);
    assert.equal(out.match(/PEER ADDRESS/g)?.length, 1);
  });

  it('-o wide shows every node', () => {
    const out = renderPeers(report, true);
    assert.equal(out.match(/PEER ADDRESS/g)?.length, 3);
    assert.doesNotMatch(out, /node\(s\) with every session/);
  });
});

describe('bgp peers: a node that could not be read', () => {
  before(() => setColor(false));
  it('is "not read", not "▲ 0/N" with every expected session listed as missing (a review)', () => {
    const s = snap({ nodes: 12, zones: 3, rrs: 3, mesh: false });
    const [rr, other] = defaultObservedNodes(s);
    const observed = new Map<string, ObservedNode>([
      [rr!, { node: rr!, source: 'birdcl', error: `no calico-node pod on ${rr}` }],
      [other!, { node: other!, source: 'birdcl', peers: [] }],
    ]);
    const r = peersReport(s, observed, [rr!, other!]);
    const unread = r.nodes[0]!;
    assert.deepEqual(
      [unread.read, unread.ok, unread.missing, unread.error],
      [false, false, [], `no calico-node pod on ${rr}`],
    );
    // a node that answered with no sessions is read: every expected session is missing
    assert.equal(r.nodes[1]!.read, true);
    assert.ok(r.nodes[1]!.missing.length > 0);
    assert.deepEqual(r.summary, { nodes: 2, ok: 0, unreported: 1 });
    const out = renderPeers(r, false);
    assert.match(out, new RegExp(`^${rr} \\(birdcl\\) ✖ not read$`, 'm'));
    assert.doesNotMatch(out, new RegExp(`^${rr} .*▲`, 'm'));
    assert.match(out, new RegExp(`^${other} \\(birdcl\\) ▲ 0/`, 'm'));
  });
});
