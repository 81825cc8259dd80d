import assert from 'node:assert/strict';
import { computeTopology } from '../../../src/bgp/topology.js';
import { topologyCounts } from '../../../src/bgp/topology-report.js';
import { fullMeshSessions, reflectorSessions } from '../../../src/model/calico.js';
import { setColor } from '../../../src/render/color.js';
import {
  renderDot,
  renderMermaid,
  renderTopologyReport,
  renderTopologyTable,
  topologyExtraRows,
} from '../../../src/render/topology.js';
import { bgpTopologyReport } from '../../../src/bgp/topology-report.js';
import { snap } from '../helpers.js';
import { node, nodes, peer, rrCluster, state } from './helpers.js';

describe('render/topology', () => {
  before(() => setColor(false));

  it('session formulas: full mesh n(n-1)/2, route reflectors R(n-R) + R(R-1)/2', () => {
    assert.equal(fullMeshSessions(100), 4950);
    assert.equal(fullMeshSessions(1000), 499500);
    assert.equal(reflectorSessions(1000, 3), 2994);
    assert.equal(reflectorSessions(2, 2), 1);
  });

  it('counts: full mesh vs now vs a proposed RR set', () => {
    const t = computeTopology(state({ nodes: nodes('m', 1000) }));
    const c = topologyCounts(t, { proposedRRs: 3 });
    assert.deepEqual(
      [c.nodes, c.fullMesh, c.current, c.proposed?.sessions, c.proposed?.perRouteReflector],
      [1000, 499500, 499500, 2994, 999],
    );
    const text = renderTopologyTable(t, { proposedRRs: 3 });
    assert.match(text, /full mesh\s+499,500 sessions \(n\(n-1\)\/2\), 999 per node/);
    assert.match(text, /now\s+499,500 sessions, node-to-node mesh on/);
    assert.match(text, /with 3 RRs\s+2,994 sessions/);
  });

  it('table: one row per route reflector with clients and sessions', () => {
    const text = renderTopologyTable(computeTopology(rrCluster({ clients: 10, rrs: 2 })));
    const lines = text.split('\n');
    assert.match(lines[0]!, /^ROUTE REFLECTOR\s+CLUSTER ID\s+ZONE\s+CLIENTS\s+SESSIONS\s+BIRD$/);
    assert.match(lines[1]!, /^rr0\s+244\.0\.0\.1\s+zone-a\s+10\s+11\s+yes$/);
    assert.match(text, /now\s+21 sessions, node-to-node mesh off/);
  });

  it('small clusters: node by node; RR -> client arrows, RR-RR plain, mesh dashed', () => {
    const t = computeTopology(rrCluster({ clients: 3, rrs: 2 }));
    const dot = renderDot(t);
    assert.match(
      dot,
      /^digraph bgp \{\n {2}label="5 BGP nodes, 7 sessions \(full mesh would be 10\), mesh off";/,
    );
    assert.match(dot, /"n0" \[label="rr0\\nRR 244\.0\.0\.1", shape=doubleoctagon\];/);
    assert.equal((dot.match(/ -> /g) ?? []).length, 7);
    assert.match(dot, /"n0" -> "n1" \[dir=none\];/);
    assert.match(dot, /"n0" -> "n2";/);
    const mm = renderMermaid(t);
    assert.match(mm, /^flowchart LR\n/);
    assert.match(mm, /n0\{\{"rr0<br\/>RR 244\.0\.0\.1"\}\}/);
    assert.match(mm, /n0 --- n1\n/);
    assert.match(mm, /n1 --> n4\n/);

    const mesh = computeTopology(state({ nodes: nodes('x', 3) }));
    assert.equal((renderDot(mesh).match(/style=dashed/g) ?? []).length, 3);
    assert.equal((renderMermaid(mesh).match(/ -\.- /g) ?? []).length, 3);
  });

  it('large clusters: RRs individually, other nodes grouped by zone with counts', () => {
    const t = computeTopology(rrCluster({ clients: 4995, rrs: 3 }));
    const dot = renderDot(t);
    assert.equal((dot.match(/shape=doubleoctagon/g) ?? []).length, 3);
    assert.equal((dot.match(/shape=box3d/g) ?? []).length, 3);
    assert.match(dot, /"g0" \[label="zone-a: 1,665 nodes", shape=box3d\];/);
    assert.match(dot, /"rr0" -> "g0" \[label="1,665"\];/);
    assert.equal((dot.match(/ -> /g) ?? []).length, 3 + 9);
    const mm = renderMermaid(t);
    assert.match(mm, /rr0 -->\|"1,665"\| g0/);
    assert.ok(mm.split('\n').length < 30);
    // a big mesh collapses into one group labelled with its mesh sessions
    const mesh = renderMermaid(computeTopology(state({ nodes: nodes('m', 100) })));
    assert.match(mesh, /g0\[\["no zone: 100 nodes<br\/>full mesh: 4,950 sessions"\]\]/);
  });

  it('external peers and eBGP sessions are shown; quotes are escaped', () => {
    const s = state({
      nodes: [node('a"1', { as: 65001 }), node('b')],
      peers: [peer('tor', { peerIP: '192.0.2.1', asNumber: 65100 })],
      mesh: true,
    });
    const dot = renderDot(computeTopology(s));
    assert.match(dot, /"n\d+" \[label="a\\"1\\nAS 65001", shape=box\];/);
    assert.match(dot, /"ext0" \[label="192\.0\.2\.1\\nexternal AS 65100", shape=ellipse\];/);
    assert.match(dot, /style=dashed, label="eBGP"/);
    const mm = renderMermaid(computeTopology(s));
    assert.match(mm, /\["a#quot;1<br\/>AS 65001"\]/);
    assert.match(mm, /ext0\(\["192\.0\.2\.1<br\/>external AS 65100"\]\)/);
  });

  it('bgp topology: -o dot and mermaid draw the graph; the table has the by-kind and routes rows', () => {
    const r = bgpTopologyReport(snap({ nodes: 12, zones: 3 }), { proposedRRs: 3 });
    assert.equal(renderTopologyReport(r, 'dot'), renderDot(r.topology));
    assert.equal(renderTopologyReport(r, 'mermaid'), renderMermaid(r.topology));
    const table = renderTopologyReport(r, 'table', { proposedRRs: 3 });
    assert.equal(
      table,
      renderTopologyTable(r.topology, { proposedRRs: 3, extra: topologyExtraRows(r.doc, r.verdict) }),
    );
    assert.match(table, /by kind/);
    assert.match(table, /with 3 RRs/);
  });
});
