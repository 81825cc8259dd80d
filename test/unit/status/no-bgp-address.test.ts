/**
 * A Linux node without projectcalico.org/IPv4Address (found by a review: `status` said nothing, the node was
 * just missing from "149 BGP nodes"; `bgp peers NODE` printed "✔ every session Established as the model
 * expects" with "ok": true for a node with no session at all).
 */
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/model/types.js';
import { peersReport } from '../../../src/bgp/peers-report.js';
import { configFindings } from '../../../src/status/checks.js';
import { snap } from '../helpers.js';

const spec = { nodes: 30, zones: 3, rrs: 3 };
function withoutAddress(objs: KubeObject[], name: string, value?: string): void {
  const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === name)!;
  if (value === undefined) delete n.metadata.annotations!['projectcalico.org/IPv4Address'];
  else n.metadata.annotations!['projectcalico.org/IPv4Address'] = value;
}

describe('a Linux node without the BGP address calico-node records', () => {
  it('status: NODE_NO_BGP_ADDRESS names it; nothing on a healthy cluster', () => {
    assert.ok(!configFindings(snap(spec)).some((f) => f.code === 'NODE_NO_BGP_ADDRESS'));
    const f = configFindings(snap(spec, (o) => withoutAddress(o, 'node-a-009'))).find(
      (x) => x.code === 'NODE_NO_BGP_ADDRESS',
    );
    assert.ok(f);
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /^node node-a-009 has no usable projectcalico\.org\/IPv4Address/);
    assert.deepEqual(
      f.objects?.map((o) => o.name),
      ['node-a-009'],
    );
    const bad = configFindings(snap(spec, (o) => withoutAddress(o, 'node-a-009', 'garbage'))).find(
      (x) => x.code === 'NODE_NO_BGP_ADDRESS',
    );
    assert.match(bad!.message, /"garbage" on node-a-009/);
  });

  it('bgp peers: no ✔ for it, but an error saying the model has no BGP for the node', () => {
    const s = snap(spec, (o) => withoutAddress(o, 'node-a-009'));
    const observed = new Map([
      ['node-a-009', { node: 'node-a-009', peers: [], source: 'CalicoNodeStatus' as const }],
    ]);
    const r = peersReport(s, observed, ['node-a-009']);
    assert.equal(r.nodes[0]!.ok, false);
    assert.match(
      r.nodes[0]!.error!,
      /the model has no BGP for this node: no usable projectcalico\.org\/IPv4Address/,
    );
    assert.equal(r.summary.ok, 0);
  });
});
