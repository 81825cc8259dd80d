/**
 * A route reflector whose node is not Ready (found by a review: `status` gave no finding and exit 0 even with
 * --strict, `rr recommend` counted the zone as covered, `bgp topology` said "any one reflector can fail"
 * while one already had).
 */
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/model/types.js';
import { bgpTopologyReport } from '../../../src/bgp/topology-report.js';
import { topologyExtraRows } from '../../../src/render/topology.js';
import { nodeIPv4 } from '../../../src/bgp/state.js';
import { policyOf, reverify } from '../../../src/plan/reverify.js';
import { planDemote, planReplace } from '../../../src/rr/plan.js';
import { recommend } from '../../../src/rr/recommend.js';
import { listRouteReflectors } from '../../../src/rr/list.js';
import { renderRrList } from '../../../src/render/rr.js';
import { configFindings } from '../../../src/status/checks.js';
import { snap } from '../helpers.js';
import { rrNames } from '../plan/helpers.js';

function notReady(objs: KubeObject[], name: string): void {
  const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === name)!;
  const conds = (n.status as { conditions: { type: string; status: string }[] }).conditions;
  conds.find((c) => c.type === 'Ready')!.status = 'False';
}

describe('rr: a reflector whose node is not Ready', () => {
  const spec = { nodes: 30, zones: 3, rrs: 3 };
  const rrs = rrNames(snap(spec));
  const down = rrs[1]!;

  it('rr list: a NotReady reflector’s sessions are said to be configured, not established (an operator trial)', () => {
    const l = listRouteReflectors(snap(spec, (objs) => notReady(objs, down)));
    const row = renderRrList(l, false)
      .split('\n')
      .find((x) => x.includes(down))!;
    assert.match(row, /configured; node NotReady/);
    const ok = renderRrList(l, false)
      .split('\n')
      .find((x) => x.includes(rrs[0]!))!;
    assert.doesNotMatch(ok, /configured/);
  });

  it('status: RR_NOT_READY, a warning while two Ready reflectors remain, critical below that with the mesh off', () => {
    assert.deepEqual(
      configFindings(snap(spec)).filter((f) => f.code === 'RR_NOT_READY'),
      [],
      'every reflector Ready',
    );
    const one = configFindings(snap(spec, (o) => notReady(o, down))).filter((f) => f.code === 'RR_NOT_READY');
    assert.equal(one.length, 1);
    assert.equal(one[0]!.severity, 'warning');
    assert.match(one[0]!.message, new RegExp(`route reflector ${down} is not Ready.*2 Ready reflectors`));
    const two = configFindings(
      snap(spec, (o) => {
        notReady(o, rrs[0]!);
        notReady(o, down);
      }),
    ).filter((f) => f.code === 'RR_NOT_READY');
    assert.equal(two.length, 2);
    assert.ok(two.every((f) => f.severity === 'critical'));
    assert.match(two[0]!.message, /one more failure cuts nodes off/);
  });

  it('rr recommend: the zone of a NotReady reflector counts as without one, and a replacement there is chosen', () => {
    const before = recommend(snap(spec));
    assert.ok(before.chosen.every((c) => c.existing));
    const s = snap(spec, (o) => notReady(o, down));
    const zone = before.chosen.find((c) => c.node === down)!.zone;
    const r = recommend(s);
    assert.ok(!r.chosen.some((c) => c.node === down), 'the NotReady reflector is not recommended');
    const repl = r.chosen.find((c) => !c.existing);
    assert.ok(repl, JSON.stringify(r.chosen));
    assert.equal(repl.zone, zone);
    assert.match(repl.reason, new RegExp(`has no Ready reflector \\(${down} is not Ready\\)`));
    assert.ok(r.warnings.some((w) => w.includes(`${down} is a route reflector but not Ready`)));
  });

  it('bgp topology does not say "any one reflector can fail" while one is down', () => {
    const ok = bgpTopologyReport(snap(spec));
    assert.match(topologyExtraRows(ok.doc, ok.verdict)[1]![1], /any one reflector can fail/);
    const r = bgpTopologyReport(snap(spec, (o) => notReady(o, down)));
    assert.equal(r.doc.routeReflectors.find((x) => x.name === down)!.ready, false);
    const text = topologyExtraRows(r.doc, r.verdict)[1]![1];
    assert.doesNotMatch(text, /any one reflector can fail/);
    assert.match(text, new RegExp(`reflector ${down} not Ready`));
  });

  it('rr replace / demote of a NotReady reflector: its gates watch the Ready reflectors, it is not drained', () => {
    // its calico-node never reports: gates on it timed out after 10m and the rollback undid NEW's promotion
    const s = snap(spec, (o) => notReady(o, down));
    const opts = { timeout: '10m', name: 'test-plan', drain: true };
    const plans = [planReplace(s, down, 'node-a-004', opts), planDemote(s, [down], { ...opts, force: true })];
    for (const p of plans) {
      const gated = p.steps.flatMap((x) => [
        ...(x.gate?.nodes ?? []),
        ...x.undo.flatMap((u) => u.gate?.nodes ?? []),
      ]);
      assert.ok(gated.length > 0, p.metadata.name);
      assert.ok(!gated.includes(down), `${p.metadata.name}: no gate waits for ${down}: ${gated.join(',')}`);
      assert.ok(
        !p.steps.some((x) => x.action === 'drain' && x.object?.name === down),
        'no drain of a node whose kubelet is gone',
      );
      assert.ok(p.steps.some((x) => x.title.includes(`${down} is not Ready: watched from`)));
      assert.equal(p.summary.verification.ok, true);
    }
  });

  it('the executor does not wait for sessions with a node that is not Ready (they would never come up)', () => {
    const s = snap(spec, (o) => notReady(o, down));
    const p = planReplace(s, down, 'node-a-004', { timeout: '10m', name: 'test-plan' });
    const r = reverify(p.steps, s, policyOf(p));
    assert.equal(r.ok, true);
    const ip = nodeIPv4(s.nodes.find((n) => n.name === down)!)!;
    assert.ok(r.gates.size > 0);
    for (const [id, g] of r.gates) {
      assert.ok(g.excused.has(ip), id);
      for (const [node, sessions] of g.sessions)
        assert.ok(!sessions.some((x) => x.peerIP === ip), `${id}: ${node} waits for a session with ${down}`);
    }
  });

  describe('found by a review of the first version', () => {
    it('demoting the last Ready reflector is refused, however many NotReady ones remain (no gate passes on nothing)', () => {
      const [a, b, c] = rrs as [string, string, string];
      const s = snap(spec, (o) => {
        notReady(o, b);
        notReady(o, c);
      });
      assert.throws(
        () => planDemote(s, [a], { timeout: '10m', name: 'test-plan' }),
        /leaves 0 route reflector|node pairs without routes/,
      );
      assert.throws(
        () => planDemote(s, [a], { timeout: '10m', name: 'test-plan', force: true }),
        /node pairs without routes/,
      );
    });

    it('RR_NOT_READY is critical when the Ready reflectors alone leave nodes without routes (per-zone peering)', () => {
      const zoned = { nodes: 30, zones: 3, rrs: 3, peering: 'per-zone' as const };
      const zr = rrNames(snap(zoned));
      const f = configFindings(snap(zoned, (o) => notReady(o, zr[0]!))).find(
        (x) => x.code === 'RR_NOT_READY',
      )!;
      assert.equal(f.severity, 'critical', f.message);
      assert.match(f.message, /without it, \d+ node pairs have no route/);
    });

    it('a gate whose every expected peer is NotReady still waits for them (never passes on nothing)', () => {
      const s = snap(spec, (o) => {
        for (const r of rrs) notReady(o, r);
      });
      const client = s.nodes.find((n) => !rrs.includes(n.name) && n.ready && nodeIPv4(n))!.name;
      const step = {
        id: 'w',
        title: 'w',
        why: 'w',
        action: 'wait' as const,
        gate: { type: 'bgp-established' as const, nodes: [client], expect: {}, exact: true, timeout: '1m' },
        undo: [],
      };
      const r = reverify([step], s, { acceptN1: true, acceptZoneLoss: true });
      assert.equal(
        r.gates.get('w')!.sessions.get(client)!.length,
        3,
        'its three reflectors, though none is Ready',
      );
    });
  });
});
