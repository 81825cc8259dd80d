import assert from 'node:assert/strict';
import type { ObservedNode, ObservedPeer } from '../../../src/model/observed.js';
import {
  evaluateGate,
  gateCoverage,
  gateProgressLine,
  type NodeGateResult,
} from '../../../src/plan/gates.js';
import type { ExpectedSession } from '../../../src/plan/reverify.js';
import type { Gate } from '../../../src/plan/types.js';

function gate(nodes: string[], exact = true): Gate {
  return { type: 'bgp-established', nodes, expect: {}, exact, timeout: '10m' };
}
function obs(node: string, peers: ObservedPeer[] | undefined, error?: string): ObservedNode {
  return { node, peers, source: 'CalicoNodeStatus', reportedAt: 1, error };
}
const E = (peerIP: string, type: ExpectedSession['type'] = 'NodePeer'): ExpectedSession => ({ peerIP, type });
const P = (peerIP: string, state = 'Established', type: string | undefined = 'NodePeer'): ObservedPeer => ({
  peerIP,
  state,
  type,
});

describe('plan/gates: gate evaluation on observed BGP state', () => {
  const expected = new Map([['rr', [E('10.0.0.1'), E('10.0.0.2'), E('10.0.0.3', 'GlobalPeer')]]]);

  it('passes when every expected session is Established with the right type', () => {
    const r = evaluateGate(
      gate(['rr']),
      expected,
      new Map([
        ['rr', obs('rr', [P('10.0.0.1'), P('10.0.0.2'), P('10.0.0.3', 'Established', 'GlobalPeer')])],
      ]),
    );
    assert.equal(r.ok, true);
    assert.deepEqual(r.nodes, [
      { node: 'rr', expected: 3, established: 3, pending: [], unexpected: [], reported: true, ok: true },
    ]);
  });

  it('a session of another type is pending (a mesh member does not pass a reflector gate)', () => {
    const r = evaluateGate(
      gate(['rr']),
      expected,
      new Map([
        [
          'rr',
          obs('rr', [
            P('10.0.0.1', 'Established', 'NodeMesh'),
            { peerIP: '10.0.0.2', state: 'Established' },
            P('10.0.0.3', 'Established', 'GlobalPeer'),
          ]),
        ],
      ]),
    );
    assert.equal(r.ok, false);
    assert.equal(r.nodes[0]!.established, 1);
    assert.deepEqual(r.nodes[0]!.pending, [
      { peerIP: '10.0.0.1', state: 'NodeMesh (expected NodePeer)' },
      { peerIP: '10.0.0.2', state: 'untyped (expected NodePeer)' },
    ]);
  });

  it('not Established or missing sessions are pending, with their state', () => {
    const r = evaluateGate(
      gate(['rr']),
      expected,
      new Map([['rr', obs('rr', [P('10.0.0.1', 'Active'), P('10.0.0.3', 'Connect', 'GlobalPeer')])]]),
    );
    assert.equal(r.ok, false);
    assert.deepEqual(r.nodes[0]!.pending, [
      { peerIP: '10.0.0.1', state: 'Active' },
      { peerIP: '10.0.0.2', state: 'missing' },
      { peerIP: '10.0.0.3', state: 'Connect' },
    ]);
    assert.equal(r.nodes[0]!.established, 0);
  });

  it('a node without a report fails, even when no session is expected; its error is the state', () => {
    const none = evaluateGate(gate(['lonely']), new Map([['lonely', []]]), new Map());
    assert.equal(none.ok, false);
    assert.deepEqual(none.nodes[0], {
      node: 'lonely',
      expected: 0,
      established: 0,
      pending: [],
      unexpected: [],
      reported: false,
      ok: false,
    });
    const err = evaluateGate(gate(['rr']), expected, new Map([['rr', obs('rr', undefined, 'forbidden')]]));
    assert.deepEqual(
      err.nodes[0]!.pending.map((p) => p.state),
      ['forbidden', 'forbidden', 'forbidden'],
    );
    const silent = evaluateGate(gate(['rr']), expected, new Map([['rr', obs('rr', undefined)]]));
    assert.deepEqual(
      silent.nodes[0]!.pending.map((p) => p.state),
      ['not reported', 'not reported', 'not reported'],
    );
    // a report with no sessions is a report: zero expected, zero seen passes
    assert.equal(
      evaluateGate(gate(['lonely']), new Map(), new Map([['lonely', obs('lonely', [])]])).ok,
      true,
    );
  });

  it('exact gates flag unexpected sessions (leftover mesh sessions); other gates ignore them', () => {
    const seen = new Map([
      [
        'rr',
        obs('rr', [
          P('10.0.0.1'),
          P('10.0.0.2'),
          P('10.0.0.3', 'Established', 'GlobalPeer'),
          P('10.0.0.9', 'Established', 'NodeMesh'),
        ]),
      ],
    ]);
    const exact = evaluateGate(gate(['rr'], true), expected, seen);
    assert.equal(exact.ok, false);
    assert.deepEqual(exact.nodes[0]!.unexpected, [{ peerIP: '10.0.0.9', state: 'Established' }]);
    assert.deepEqual(exact.nodes[0]!.pending, []);
    const loose = evaluateGate(gate(['rr'], false), expected, seen);
    assert.equal(loose.ok, true);
    assert.deepEqual(loose.nodes[0]!.unexpected, []);
    // a session with a node that is not Ready (LiveGate.excused) is not "unexpected" either
    assert.equal(evaluateGate(gate(['rr'], true), expected, seen, new Set(['10.0.0.9'])).ok, true);
  });

  it('every node named must pass', () => {
    const r = evaluateGate(
      gate(['rr', 'client']),
      new Map([...expected, ['client', [E('10.0.0.7')]]]),
      new Map([
        ['rr', obs('rr', [P('10.0.0.1'), P('10.0.0.2'), P('10.0.0.3', 'Established', 'GlobalPeer')])],
        ['client', obs('client', [P('10.0.0.7', 'OpenSent')])],
      ]),
    );
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.ok]),
      [
        ['rr', true],
        ['client', false],
      ],
    );
  });

  describe('gateProgressLine', () => {
    const names = new Map([
      ['10.0.0.1', 'node-a'],
      ['10.0.0.2', 'node-b'],
    ]);
    const base: NodeGateResult = {
      node: 'rr-1',
      expected: 149,
      established: 147,
      pending: [],
      unexpected: [],
      reported: true,
      ok: false,
    };
    it('unreported', () => {
      assert.equal(
        gateProgressLine({ ...base, reported: false }, names),
        'rr-1: waiting for a BGP status report made after the change',
      );
    });
    it('not read, with why (a review: birdcl found no calico-node pod, and progress said "waiting for a report")', () => {
      const r = evaluateGate(
        gate(['rr-1']),
        new Map([['rr-1', [E('10.0.0.1')]]]),
        new Map([['rr-1', obs('rr-1', undefined, 'no calico-node pod on this node')]]),
      );
      assert.equal(
        gateProgressLine(r.nodes[0]!, names),
        'rr-1: not read (no calico-node pod on this node); trying again',
      );
    });
    it('counts, names the pending peers (at most 4), and the unexpected ones (at most 3)', () => {
      assert.equal(
        gateProgressLine({ ...base, established: 149, ok: true }, names),
        'rr-1: 149/149 Established',
      );
      assert.equal(
        gateProgressLine(
          {
            ...base,
            pending: [
              { peerIP: '10.0.0.1', state: 'Active' },
              { peerIP: '10.0.0.5', state: 'missing' },
            ],
          },
          names,
        ),
        'rr-1: 147/149 Established · waiting: node-a Active, 10.0.0.5 missing',
      );
      const many = Array.from({ length: 6 }, (_, i) => ({ peerIP: `10.0.1.${i}`, state: 'Connect' }));
      assert.equal(
        gateProgressLine(
          { ...base, pending: many, unexpected: [{ peerIP: '10.0.0.2', state: 'Established' }, ...many] },
          names,
        ),
        'rr-1: 147/149 Established · waiting: 10.0.1.0 Connect, 10.0.1.1 Connect, 10.0.1.2 Connect, 10.0.1.3 Connect and 2 more · unexpected: node-b, 10.0.1.0, 10.0.1.1…',
      );
      assert.equal(
        gateProgressLine({ ...base, unexpected: [{ peerIP: '10.0.0.2', state: 'Established' }] }, names),
        'rr-1: 147/149 Established · unexpected: node-b',
      );
    });
  });

  describe('gateCoverage: says honestly what a gate observes', () => {
    const rrs = new Set(['rr-a', 'rr-b', 'rr-c']);
    it('all reflectors, some of them, one', () => {
      assert.equal(gateCoverage(gate(['rr-a', 'rr-b', 'rr-c']), 150, rrs), 'all 3 reflectors');
      assert.equal(gateCoverage(gate(['rr-a']), 150, rrs), '1 of 3 reflectors');
      assert.equal(gateCoverage(gate(['rr-a']), 150, new Set(['rr-a'])), 'the reflector');
      assert.equal(gateCoverage(gate(['x']), 2, new Set(['rr-a'])), 'the other node');
    });
    it('reflectors and a sample of the other nodes', () => {
      assert.equal(
        gateCoverage(gate(['rr-a', 'rr-b', 'rr-c', 'x', 'y', 'z']), 150, rrs),
        'all 3 reflectors and 3 of 147 other nodes',
      );
      assert.equal(gateCoverage(gate(['x']), 150, rrs), '1 of 147 other nodes');
      assert.equal(gateCoverage(gate(['x', 'y']), 5, rrs), 'all 2 other nodes');
      assert.equal(gateCoverage(gate(['x']), 2, new Set()), '1 of 2 other nodes');
    });
  });
});
