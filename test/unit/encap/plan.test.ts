import assert from 'node:assert/strict';
import {
  encapRefusals,
  encapReport,
  planEncap,
  poolOwner,
  type EncapPlanOptions,
} from '../../../src/encap/plan.js';
import { ExitCode, NothingToDo } from '../../../src/errors.js';
import type { ClusterSnapshot, KubeObject } from '../../../src/model/types.js';
import { integrityProblems, planDigest } from '../../../src/plan/integrity.js';
import { policyOf, reverify } from '../../../src/plan/reverify.js';
import { snap } from '../helpers.js';
import { addIPv6Underlay } from '../../fixtures/generate.js';
import { renderEncapReport } from '../../../src/render/encap.js';
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

  it('an edited Installation patch, re-digested, that changes more than encapsulation is refused (a review: a pool CIDR rewritten)', () => {
    const p = planEncap(op31, opts('vxlan'));
    const pre = p.steps[0]!.precondition?.fields?.find(
      (f) => f.path.join('/') === 'spec/calicoNetwork/ipPools',
    );
    assert.deepEqual(
      pre?.equals,
      (inst(op31).spec as { calicoNetwork: { ipPools: unknown[] } }).calicoNetwork.ipPools,
    );
    const redigest = (edit: (q: typeof p) => void): string[] => {
      const q = structuredClone(p);
      edit(q);
      q.metadata.digest = planDigest(q);
      return integrityProblems(q);
    };
    const poolsOf = (q: typeof p) =>
      (q.steps[0]!.patch as { spec: { calicoNetwork: { ipPools: Record<string, unknown>[] } } }).spec
        .calicoNetwork.ipPools;
    assert.deepEqual(
      redigest(() => undefined),
      [],
    );
    assert.match(
      redigest((q) => (poolsOf(q)[0]!['cidr'] = '10.0.0.0/8')).join('; '),
      /changes only the entries' encapsulation/,
    );
    assert.match(
      redigest((q) => poolsOf(q).push({ cidr: '10.9.0.0/16' })).join('; '),
      /only the entries' encapsulation/,
    );
    assert.match(redigest((q) => delete q.steps[0]!.precondition).join('; '), /needs the list it replaces/);
    assert.deepEqual(
      redigest((q) => (poolsOf(q)[0]!['encapsulation'] = 'None')),
      [],
      'a mode: checked on the live state',
    );
  });

  it('apply re-evaluates the modes a plan switches on the live state: a refused mode refuses the plan (encapRefusals)', () => {
    assert.deepEqual(encapRefusals(planEncap(manifest, opts('vxlan')).steps, manifest), []);
    // the same plan, edited to switch the pool off encapsulation across subnets
    const p = planEncap(manifest, opts('vxlan'));
    (p.steps[0]!.patch as { spec: Record<string, unknown> }).spec = { ipipMode: 'Never', vxlanMode: 'Never' };
    const r = encapRefusals(p.steps, manifest);
    assert.equal(r.length, 1, r.join('; '));
    assert.match(r[0]!, /default-ipv4-ippool → none: /);
    const o = planEncap(op31, opts('vxlan'));
    (
      o.steps[0]!.patch as { spec: { calicoNetwork: { ipPools: Record<string, unknown>[] } } }
    ).spec.calicoNetwork.ipPools[0]!['encapsulation'] = 'None';
    assert.match(encapRefusals(o.steps, op31).join('; '), /→ none: /);
  });

  it('encap report shows a mode the Installation asks for and the operator has not applied (a review: only status said it)', () => {
    assert.equal(encapReport(op31).pools[0]!.pending, null);
    const pending = edited(op31, (objs) => {
      const i = objs.find((o) => o.kind === 'Installation')!;
      (i.spec as { calicoNetwork: { ipPools: Record<string, unknown>[] } }).calicoNetwork.ipPools[0]![
        'encapsulation'
      ] = 'VXLAN';
    });
    const r = encapReport(pending);
    assert.equal(r.pools[0]!.pending, 'vxlan');
    assert.match(renderEncapReport(r, false), /pending: the Installation asks for vxlan/);
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
      const pool = objs.find((o) => o.kind === 'IPPool')!;
      (pool.spec as Record<string, unknown>)['ipipMode'] = 'CrossSubnet';
      delete pool.metadata.annotations; // (the fixture's operator label, as crd.projectcalico.org/v1 keeps it)
    });
    assert.equal(poolOwner(differs, differs.ipPools[0]!).object, 'IPPool');
    const labelled = edited(differs, (objs) => {
      objs.find((o) => o.kind === 'IPPool')!.metadata.labels = {
        'app.kubernetes.io/managed-by': 'tigera-operator',
      };
    });
    assert.equal(poolOwner(labelled, labelled.ipPools[0]!).object, 'Installation');
    // the same mode as the Installation but unlabelled is not enough either: the operator adopts only a pool
    // equal in every field, and labels it when it does (a review against pkg/controller/ippool)
    const unlabelled = edited(op31, (objs) => {
      const pool = objs.find((o) => o.kind === 'IPPool')!;
      (pool.spec as Record<string, unknown>)['natOutgoing'] = false;
      delete pool.metadata.annotations;
    });
    assert.equal(poolOwner(unlabelled, unlabelled.ipPools[0]!).object, 'IPPool');
    // and the plan says what this operator does with it, not what an upgrade to it would (a review)
    const w = planEncap(unlabelled, opts('vxlan')).summary.warnings.join('\n');
    assert.match(w, /Cannot update an IP pool not owned by the operator/);
    assert.doesNotMatch(w, /an upgrade to an operator with the IP pool controller/);
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
    // not "before (invalid): N native" (found by a review): what Calico does with it is not modelled
    assert.ok(p.summary.changes.some((c) => /^before \(invalid\): IPIP and VXLAN both on/.test(c)));
    assert.ok(!p.summary.changes.some((c) => /^before \(invalid\): \d+ native/.test(c)));
  });

  it('the report lists every mode with its verdict, and the current one', () => {
    const r = encapReport(manifest);
    // -o json: a node's unknown address and subnet are null, as docs/json-output.md promises (a review: absent)
    const noAddr = encapReport(
      edited(manifest, (objs) => {
        const n = objs.find((o) => o.kind === 'Node')!;
        delete n.metadata.annotations!['projectcalico.org/IPv4Address'];
      }),
    );
    const json = JSON.parse(JSON.stringify(noAddr)) as { underlay: { nodes: Record<string, unknown>[] } };
    for (const n of json.underlay.nodes)
      assert.deepEqual(Object.keys(n).sort(), ['address', 'cloud', 'name', 'subnet'], JSON.stringify(n));
    assert.ok(json.underlay.nodes.some((n) => n['address'] === null && n['subnet'] === null));
    const modes = r.pools[0]!.modes;
    assert.equal(modes.length, 5);
    assert.equal(modes.find((m) => m.current)?.mode, 'ipip');
    assert.equal(modes.find((m) => m.mode === 'none')?.refused, true);
    assert.equal(r.bgpNeeded, true);
  });

  describe('found by trying the tool', () => {
    it("the operator's label through crd.projectcalico.org/v1 (projectcalico.org/metadata): after the tool's own Installation change the pool is still the operator's", () => {
      // the operator writes its pools through the Calico API server; on the v1 CR its managed-by label is kept
      // in the projectcalico.org/metadata annotation, which the tool did not read: right after `encap apply`
      // (Installation VXLAN, pool still IPIP until the operator catches up) it called the pool unmanaged,
      // "nothing to do" for the way back, and a direct IPPool patch for the same mode again
      const pending = edited(op31, (objs) => {
        const i = objs.find((o) => o.kind === 'Installation')!;
        (i.spec as { calicoNetwork: { ipPools: Record<string, unknown>[] } }).calicoNetwork.ipPools[0]![
          'encapsulation'
        ] = 'VXLAN';
      });
      assert.equal(pending.ipPools[0]!.labels['app.kubernetes.io/managed-by'], 'tigera-operator');
      assert.equal(poolOwner(pending, pending.ipPools[0]!).object, 'Installation');
      refuses(() => planEncap(pending, opts('vxlan')), /has not updated IPPool/, ExitCode.OK);
      const back = planEncap(pending, opts('ipip'));
      assert.equal(back.steps[0]!.object?.kind, 'Installation');
    });

    it('FelixConfiguration default with ipipEnabled / vxlanEnabled false: a switch to that tunnel is refused (Felix would not create it)', () => {
      for (const [field, mode] of [
        ['vxlanEnabled', 'vxlan'],
        ['vxlanEnabled', 'vxlan-crosssubnet'],
        ['ipipEnabled', 'ipip'],
      ] as const) {
        const from = mode.startsWith('vxlan') ? 'IPIP' : 'VXLAN';
        const s = edited(
          snap({ nodes: 9, zones: 3, subnets: 'per-zone', install: 'manifest', encapsulation: from }),
          (objs) => {
            (objs.find((o) => o.kind === 'FelixConfiguration')!.spec as Record<string, unknown>)[field] =
              false;
          },
        );
        refuses(
          () => planEncap(s, opts(mode)),
          new RegExp(`${field}: false.*TUNNEL_OFF_IN_FELIX`),
          ExitCode.USAGE,
        );
        const r = encapReport(s).pools[0]!.modes.find((m) => m.mode === mode)!;
        assert.equal(r.refused, true, `${field} ${mode}`);
      }
      // calico-node's environment (FELIX_VXLANENABLED=false) wins over the datastore: refused too
      const env = edited(manifest, (objs) => {
        const ds = objs.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'calico-node')!;
        const c = (
          ds.spec as { template: { spec: { containers: { name: string; env?: unknown[] }[] } } }
        ).template.spec.containers.find((x) => x.name === 'calico-node')!;
        c.env = [...(c.env ?? []), { name: 'FELIX_VXLANENABLED', value: 'false' }];
      });
      refuses(
        () => planEncap(env, opts('vxlan')),
        /FELIX_VXLANENABLED=false.*TUNNEL_OFF_IN_FELIX/,
        ExitCode.USAGE,
      );
      // explicitly true, or the other tunnel's switch: no refusal
      const on = edited(manifest, (objs) => {
        (objs.find((o) => o.kind === 'FelixConfiguration')!.spec as Record<string, unknown>)['vxlanEnabled'] =
          true;
        (objs.find((o) => o.kind === 'FelixConfiguration')!.spec as Record<string, unknown>)['ipipEnabled'] =
          false;
      });
      assert.equal(planEncap(on, opts('vxlan')).steps.length, 1);
    });

    it('an IPv6 pool is judged by the nodes\u2019 IPv6 subnets, not the IPv4 ones', () => {
      // found by trying the tool: every node in one IPv6 /64 but three IPv4 subnets; `--mode none` on the IPv6
      // pool was refused with NATIVE_ACROSS_SUBNETS from the IPv4 subnets
      const s = edited(
        snap({ nodes: 9, zones: 3, subnets: 'per-zone', install: 'manifest', encapsulation: 'IPIP' }),
        addIPv6Underlay,
      );
      const r = encapReport(s);
      assert.equal(r.underlay.subnets.length, 3, 'IPv4: three subnets');
      assert.deepEqual(
        r.underlay6?.subnets.map((x) => x.subnet),
        ['fd00:aa::/64'],
      );
      const v6 = r.pools.find((p) => p.name === 'default-ipv6-ippool')!;
      const none = v6.modes.find((m) => m.mode === 'none')!;
      assert.equal(none.pairs.native, 36, 'every pair native, in one IPv6 subnet');
      assert.ok(
        !none.problems.some((p) => p.rule === 'NATIVE_ACROSS_SUBNETS'),
        JSON.stringify(none.problems),
      );
      // the IPv4 pool is still judged by the IPv4 subnets
      const v4none = r.pools
        .find((p) => p.name === 'default-ipv4-ippool')!
        .modes.find((m) => m.mode === 'none')!;
      assert.ok(v4none.problems.some((p) => p.rule === 'NATIVE_ACROSS_SUBNETS'));
      // and a node without an IPv6 address makes CrossSubnet on the IPv6 pool unknown for it, said as IPv6Address
      const missing = edited(s, (objs) => {
        const n = objs.find((o) => o.kind === 'Node')!;
        delete n.metadata.annotations!['projectcalico.org/IPv6Address'];
      });
      refuses(
        () => planEncap(missing, opts('vxlan-crosssubnet', 'default-ipv6-ippool')),
        /IPv6Address prefixes/,
        ExitCode.USAGE,
      );
    });

    it('a per-node FelixConfiguration node.NAME wins over default for its node: its tunnel switch is read too', () => {
      // Felix's precedence: environment, config file, the host's FelixConfiguration node.<name>, then default
      // (felix/config/config_params.go); a node.X with vxlanEnabled: false leaves X without vxlan.calico
      const base = snap({
        nodes: 9,
        zones: 3,
        subnets: 'per-zone',
        install: 'manifest',
        encapsulation: 'IPIP',
      });
      const nodeName = base.nodes[4]!.name;
      const fc = (name: string, spec: Record<string, unknown>): KubeObject => ({
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'FelixConfiguration',
        metadata: { name },
        spec,
      });
      const off = edited(base, (objs) => {
        objs.push(fc(`node.${nodeName}`, { vxlanEnabled: false }));
      });
      refuses(
        () => planEncap(off, opts('vxlan')),
        new RegExp(`FelixConfiguration node\\.${nodeName} sets vxlanEnabled: false.*TUNNEL_OFF_IN_FELIX`),
        ExitCode.USAGE,
      );
      assert.equal(encapReport(off).pools[0]!.modes.find((m) => m.mode === 'vxlan')!.refused, true);
      // calico-node's FELIX_VXLANENABLED=true wins over every FelixConfiguration: not refused (a review)
      const envOn = edited(off, (objs) => {
        const ds = objs.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'calico-node')!;
        const c = (
          ds.spec as { template: { spec: { containers: { name: string; env?: unknown[] }[] } } }
        ).template.spec.containers.find((x) => x.name === 'calico-node')!;
        c.env = [...(c.env ?? []), { name: 'FELIX_VXLANENABLED', value: 'true' }];
      });
      assert.equal(planEncap(envOn, opts('vxlan')).steps.length, 1);
      // a per-node object for a node that no longer exists changes nothing
      const stale = edited(base, (objs) => {
        objs.push(fc('node.gone-long-ago', { vxlanEnabled: false }));
      });
      assert.equal(planEncap(stale, opts('vxlan')).steps.length, 1);
      // default off, but every node switched back on by its own object: Felix creates the tunnel everywhere
      const allOn = edited(base, (objs) => {
        (objs.find((o) => o.kind === 'FelixConfiguration')!.spec as Record<string, unknown>)['vxlanEnabled'] =
          false;
        for (const n of base.nodes) objs.push(fc(`node.${n.name}`, { vxlanEnabled: true }));
      });
      assert.equal(planEncap(allOn, opts('vxlan')).steps.length, 1);
      // default off and one node without an override of its own: that node is named
      const oneLeft = edited(base, (objs) => {
        (objs.find((o) => o.kind === 'FelixConfiguration')!.spec as Record<string, unknown>)['vxlanEnabled'] =
          false;
        for (const n of base.nodes.slice(1)) objs.push(fc(`node.${n.name}`, { vxlanEnabled: true }));
      });
      refuses(
        () => planEncap(oneLeft, opts('vxlan')),
        new RegExp(`FelixConfiguration default sets vxlanEnabled: false.*1 node.*${base.nodes[0]!.name}`),
        ExitCode.USAGE,
      );
    });

    it('a pool with the legacy spec.ipip: read as Calico reads it, and removed with the switch (else Calico keeps IPIP on)', () => {
      const legacy = edited(manifest, (objs) => {
        const spec = objs.find((o) => o.kind === 'IPPool')!.spec as Record<string, unknown>;
        delete spec['ipipMode'];
        spec['vxlanMode'] = 'Never';
        spec['ipip'] = { enabled: true, mode: 'cross-subnet' };
      });
      assert.equal(legacy.ipPools[0]!.ipipMode, 'CrossSubnet');
      // spec.ipip wins over ipipMode when both are there (IPPoolv1v3Converter)
      const both = edited(legacy, (objs) => {
        (objs.find((o) => o.kind === 'IPPool')!.spec as Record<string, unknown>)['ipipMode'] = 'Never';
      });
      assert.equal(both.ipPools[0]!.ipipMode, 'CrossSubnet');
      const p = planEncap(legacy, opts('vxlan'));
      const st = p.steps[0]!;
      assert.deepEqual(st.patch, { spec: { ipipMode: 'Never', vxlanMode: 'Always', ipip: null } });
      assert.match(st.title, /remove its legacy spec\.ipip/);
      assert.deepEqual(integrityProblems(p), []);
      const after = stateAfter(legacy, p.steps);
      assert.equal(after.ipPools[0]!.ipipMode, 'Never');
      assert.equal(after.ipPools[0]!.vxlanMode, 'Always');
      const back = stateAfter(after, st.undo);
      assert.equal(back.ipPools[0]!.ipipMode, 'CrossSubnet', 'the undo puts spec.ipip back');
      // an edited plan may only remove spec.ipip, never set it
      const q = structuredClone(p);
      (q.steps[0]!.patch as { spec: Record<string, unknown> }).spec['ipip'] = { enabled: true };
      assert.ok(integrityProblems(q).some((x) => /only removes the legacy spec\.ipip/.test(x)));
    });
  });
});
