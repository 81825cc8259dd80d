/** `bgp peers` output: the nodes with problems in detail, the others summed up in one line (everyday use). */
import assert from 'node:assert/strict';
import type { NodePeers, PeersReport } from '../../../src/bgp/peers-report.js';
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
