import assert from 'node:assert/strict';
import { encapReport, planEncap, poolOwner, type EncapPlanOptions } from '../../../src/encap/plan.js';
import { ExitCode, NothingToDo } from '../../../src/errors.js';
import type { ClusterSnapshot, KubeObject } from '../../../src/model/types.js';
import { integrityProblems } from '../../../src/plan/integrity.js';
import { policyOf, reverify } from '../../../src/plan/reverify.js';
import { snap } from '../helpers.js';
import { edited, refuses, stateAfter } from '../plan/helpers.js';

const opts = (mode: EncapPlanOptions['mode'], pool = 'default-ipv4-ippool'): EncapPlanOptions => ({
  pool,
  mode,
  name: 'encap-test',
  command: 'test',
  timeout: '1m',
  createdAt: '2026-12-01T00:00:00Z',
});
const poolObj = (s: ClusterSnapshot): KubeObject => s.objects.find((o) => o.kind === 'IPPool')!;
const inst = (s: ClusterSnapshot): KubeObject => s.objects.find((o) => o.kind === 'Installation')!;

describe('encap planner', () => {
  const manifest = snap({
    nodes: 9,
    zones: 3,
    subnets: 'per-zone',
    install: 'manifest',
    encapsulation: 'IPIP',
  });
  const op31 = snap({ nodes: 9, zones: 3, subnets: 'per-zone', install: 'operator', encapsulation: 'IPIP' });
  const op27 = snap({
    nodes: 9,
    zones: 3,
    subnets: 'per-zone',
    install: 'operator',
    encapsulation: 'IPIP',
    calico: 'v3.27.3',
  });

  it('manifest install: one checkpointed IPPool patch, undo restores the modes, verified and intact', () => {
    const p = planEncap(manifest, opts('ipip-crosssubnet'));
    assert.equal(p.steps.length, 1);
    const st = p.steps[0]!;
    assert.equal(st.object?.kind, 'IPPool');
    assert.equal(st.checkpoint, true);
    assert.deepEqual(st.patch, { spec: { ipipMode: 'CrossSubnet', vxlanMode: 'Never' } });
    assert.deepEqual(integrityProblems(p), []);
    assert.equal(p.summary.verification.ok, true);
    assert.ok(
      p.summary.changes.some((c) => /after \(ipip-crosssubnet\): 9 native, 27 IPIP/.test(c)),
      p.summary.changes.join('\n'),
    );
    const after = stateAfter(manifest, p.steps);
    assert.equal(after.ipPools[0]!.ipipMode, 'CrossSubnet');
    const back = stateAfter(after, st.undo);
    assert.equal(back.ipPools[0]!.ipipMode, manifest.ipPools[0]!.ipipMode);
    assert.equal(back.ipPools[0]!.vxlanMode, manifest.ipPools[0]!.vxlanMode);
    assert.equal(reverify(p.steps, manifest, policyOf(p)).ok, true);
  });

  it('operator with the pool controller (Calico 3.31): writes the Installation, not the IPPool', () => {
    assert.equal(poolOwner(op31, op31.ipPools[0]!).object, 'Installation');
    const p = planEncap(op31, opts('vxlan'));
    assert.equal(p.steps.length, 1);
    const st = p.steps[0]!;
    assert.equal(st.object?.kind, 'Installation');
    const pools = (st.patch as { spec: { calicoNetwork: { ipPools: Record<string, unknown>[] } } }).spec
      .calicoNetwork.ipPools;
    assert.equal(pools[0]!['encapsulation'], 'VXLAN');
    assert.equal(pools[0]!['cidr'], '192.168.0.0/16');
    assert.deepEqual(integrityProblems(p), []);
    const after = stateAfter(op31, p.steps);
    assert.deepEqual(poolObj(after).spec, poolObj(op31).spec, 'the IPPool is left to the operator');
    const back = stateAfter(after, st.undo);
    assert.deepEqual(inst(back).spec, inst(op31).spec);
  });

  it('3.31: the Installation already names the mode but the operator has not caught up: nothing to do, says why', () => {
    const pending = edited(op31, (objs) => {
      const i = objs.find((o) => o.kind === 'Installation')!;
      (i.spec as { calicoNetwork: { ipPools: Record<string, unknown>[] } }).calicoNetwork.ipPools[0]![
        'encapsulation'
      ] = 'VXLAN';
      objs.find((o) => o.kind === 'IPPool')!.metadata.labels = {
        'app.kubernetes.io/managed-by': 'tigera-operator',
      };
    });
    refuses(() => planEncap(pending, opts('vxlan')), /has not updated IPPool/, ExitCode.OK);
  });

  it('operator without the pool controller (Calico 3.27): writes the IPPool and warns about the Installation', () => {
    const o = poolOwner(op27, op27.ipPools[0]!);
    assert.equal(o.object, 'IPPool');
    const p = planEncap(op27, opts('ipip-crosssubnet'));
    assert.equal(p.steps[0]!.object?.kind, 'IPPool');
    assert.ok(p.summary.warnings.some((w) => /Installation default still lists/.test(w)));
  });

  it("3.31: an unlabelled pool that differs from the Installation is not the operator's (it would not adopt it)", () => {
    const differs = edited(op31, (objs) => {
      (objs.find((o) => o.kind === 'IPPool')!.spec as Record<string, unknown>)['ipipMode'] = 'CrossSubnet';
    });
    assert.equal(poolOwner(differs, differs.ipPools[0]!).object, 'IPPool');
    const labelled = edited(differs, (objs) => {
      objs.find((o) => o.kind === 'IPPool')!.metadata.labels = {
        'app.kubernetes.io/managed-by': 'tigera-operator',
      };
    });
    assert.equal(poolOwner(labelled, labelled.ipPools[0]!).object, 'Installation');
  });

  it('a pool the Installation does not list is written directly, even on 3.31', () => {
    const s = edited(op31, (objs) => {
      const pool = structuredClone(objs.find((o) => o.kind === 'IPPool')!);
      pool.metadata.name = 'extra';
      (pool.spec as Record<string, unknown>)['cidr'] = '10.244.0.0/16';
      objs.push(pool);
    });
    const p = planEncap(s, opts('vxlan', 'extra'));
    assert.equal(p.steps[0]!.object?.kind, 'IPPool');
  });

  it('refusals: exit 2 with the reason; unknown pool; nothing to do', () => {
    refuses(() => planEncap(manifest, opts('none')), /NATIVE_ACROSS_SUBNETS/);
    refuses(() => planEncap(manifest, opts('vxlan', 'nope')), /IP pool "nope" not found/);
    refuses(() => planEncap(manifest, opts('ipip')), /already uses ipip/, ExitCode.OK);
    assert.throws(() => planEncap(manifest, opts('ipip')), NothingToDo);
  });

  it('an invalid pool (IPIP and VXLAN both on) is reported and repaired by a plan', () => {
    const bad = edited(manifest, (objs) => {
      (objs.find((o) => o.kind === 'IPPool')!.spec as Record<string, unknown>)['vxlanMode'] = 'Always';
    });
    assert.equal(encapReport(bad).pools[0]!.mode, 'invalid');
    const p = planEncap(bad, opts('vxlan'));
    assert.deepEqual(p.steps[0]!.patch, { spec: { ipipMode: 'Never', vxlanMode: 'Always' } });
  });

  it('the report lists every mode with its verdict, and the current one', () => {
    const r = encapReport(manifest);
    const modes = r.pools[0]!.modes;
    assert.equal(modes.length, 5);
    assert.equal(modes.find((m) => m.current)?.mode, 'ipip');
    assert.equal(modes.find((m) => m.mode === 'none')?.refused, true);
    assert.equal(r.bgpNeeded, true);
  });
});
