/**
 * Encapsulation plans on the real control plane, both Calico versions and both install modes: each mode change
 * in the object that lasts (docs/calico-facts.md: the Installation where the operator owns the pools, else the
 * IPPool), server dry run, SIGKILL after the switch then --rollback through the executor, going back, refusals
 * (exit 2, 0 writes in the audit log), and `status` before and after. No gates: nothing waits for BGP.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { addIPv6Underlay, generateCluster, type ClusterSpec } from '../fixtures/generate.js';
import { controlPlane, runCli, USERS, type ControlPlane, type Obj } from '../harness/index.js';
import { journal, runInPty, spawnCli, world } from './plan-helpers.js';

const POOL = 'default-ipv4-ippool';
const POOL_PATH = `/apis/crd.projectcalico.org/v1/ippools/${POOL}`;
const INST_PATH = '/apis/operator.tigera.io/v1/installations/default';

interface EncapState {
  pool: { ipipMode: unknown; vxlanMode: unknown };
  installation: unknown;
}

async function state(cp: ControlPlane): Promise<EncapState> {
  const c = cp.client('admin');
  const pool = await c.get(POOL_PATH);
  const inst = await c.getOptional(INST_PATH);
  const spec = pool.spec as Record<string, unknown>;
  return {
    pool: { ipipMode: spec['ipipMode'], vxlanMode: spec['vxlanMode'] },
    installation: (inst?.spec as Record<string, unknown> | undefined)?.['calicoNetwork'] ?? null,
  };
}

function installationEncap(s: EncapState): unknown {
  return (s.installation as { ipPools?: { encapsulation?: string }[] } | null)?.ipPools?.[0]?.encapsulation;
}

async function load(cp: ControlPlane, spec: ClusterSpec, edit?: (objs: Obj[]) => void): Promise<void> {
  // (operator v1.34+ labels the pools it owns, pkg/controller/ippool/pool_controller.go: the fixture keeps
  // that label where crd.projectcalico.org/v1 does, in the projectcalico.org/metadata annotation)
  const objs = generateCluster(spec) as Obj[];
  edit?.(objs);
  await cp.reset();
  await cp.apply(objs);
}

interface StatusJson {
  bgp: { applies: boolean; podRoutes: boolean };
  findings: { code: string }[];
}

/** A FelixConfiguration node.NODE that turns VXLAN off on that node, created now. */
async function vxlanOffOn(cp: ControlPlane, node: string): Promise<void> {
  await cp.apply([
    {
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'FelixConfiguration',
      metadata: { name: `node.${node}` },
      spec: { vxlanEnabled: false },
    },
  ]);
}

async function writes(cp: ControlPlane, mark: number): Promise<string[]> {
  return (await cp.audit.writesSince(mark, { user: USERS.plugin.name }))
    .filter((e) => e.objectRef?.resource !== 'selfsubjectaccessreviews')
    .map(
      (e) =>
        `${e.verb} ${e.objectRef?.resource ?? '?'}/${e.objectRef?.name ?? ''}${/dryRun=All/.test(e.requestURI) ? ' (dry run)' : ''}`,
    );
}

for (const calico of ['v3.27.3', 'v3.31.3'] as const) {
  for (const install of ['operator', 'manifest'] as const) {
    describe(`encap (Calico ${calico}, ${install} install)`, function () {
      this.timeout(180_000);
      let cp: ControlPlane;
      let kc: string;
      const spec: ClusterSpec = {
        nodes: 9,
        zones: 3,
        install,
        calico,
        encapsulation: 'IPIP',
        typhaReplicas: 0,
      };
      // operators with the IP pool controller (Calico 3.28+) keep the Installation; otherwise the IPPool lasts
      const lasting = install === 'operator' && calico === 'v3.31.3' ? 'Installation' : 'IPPool';
      before(async () => {
        cp = await controlPlane({ calico });
        kc = cp.kubeconfig('plugin');
      });

      it(`switches IPIP → CrossSubnet in the ${lasting}, dry-runs, rolls back after a kill, and goes back`, async () => {
        await load(cp, spec);
        const start = await state(cp);
        const st0 = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
        assert.ok(st0.code === 0 || st0.code === 1, st0.stderr);
        assert.equal(st0.json<StatusJson>().bgp.podRoutes, true);

        const args = ['--pool', POOL, '--mode', 'ipip-crosssubnet'];
        const plan = await runCli(['encap', 'plan', ...args, '-o', 'json'], { kubeconfig: kc });
        assert.equal(plan.code, 0, plan.stderr);
        const p = plan.json<{
          steps: { object: { kind: string }; checkpoint: boolean }[];
          summary: { changes: string[] };
        }>();
        assert.equal(p.steps.length, 1);
        assert.equal(p.steps[0]!.object.kind, lasting);
        assert.equal(p.steps[0]!.checkpoint, true);
        assert.ok(
          p.summary.changes.some((c) => c === 'after (ipip-crosssubnet): 9 native, 27 IPIP'),
          p.summary.changes.join('\n'),
        );

        // server dry run: sent with dryRun=All, nothing changes
        let mark = cp.audit.mark();
        const dry = await runCli(['encap', 'apply', ...args, '--dry-run=server'], { kubeconfig: kc });
        assert.equal(dry.code, 0, dry.stderr);
        const resource = lasting === 'Installation' ? 'installations' : 'ippools';
        assert.deepEqual(await writes(cp, mark), [
          `patch ${resource}/${lasting === 'Installation' ? 'default' : POOL} (dry run)`,
        ]);
        assert.deepEqual(await state(cp), start);

        // the switch: one patch of the lasting object (plus the journal Lease)
        mark = cp.audit.mark();
        const r = await runCli(['encap', 'apply', ...args, '--yes'], { kubeconfig: kc });
        assert.equal(r.code, 0, r.stderr);
        const w = (await writes(cp, mark)).filter((x) => !x.includes('leases/'));
        assert.deepEqual(w, [`patch ${resource}/${lasting === 'Installation' ? 'default' : POOL}`]);
        const after = await state(cp);
        if (lasting === 'Installation') {
          assert.equal(installationEncap(after), 'IPIPCrossSubnet');
          assert.deepEqual(after.pool, start.pool, 'the IPPool is left to the operator');
        } else {
          assert.deepEqual(after.pool, { ipipMode: 'CrossSubnet', vxlanMode: 'Never' });
          assert.deepEqual(after.installation, start.installation, 'the Installation is not touched');
        }
        assert.equal((await world(cp)).lease, undefined, 'the lock is released');

        // killed right after the next switch is recorded: --rollback undoes it through the executor
        const killed = spawnCli(['encap', 'apply', '--pool', POOL, '--mode', 'vxlan', '--yes'], kc, {
          CALICO_TUNE_TEST_CRASH: 'after-step:1',
        });
        assert.equal(await killed.done, null, killed.out());
        const j = journal((await world(cp)).lease);
        assert.equal(j?.done.length, 1);
        const mid = await state(cp);
        if (lasting === 'Installation') assert.equal(installationEncap(mid), 'VXLAN');
        else assert.deepEqual(mid.pool, { ipipMode: 'Never', vxlanMode: 'Always' });
        const rb = await runCli(['encap', 'apply', '--rollback', '--yes'], { kubeconfig: kc });
        assert.equal(rb.code, 0, rb.stderr);
        assert.deepEqual(await state(cp), after, 'rolled back to the state before that plan');
        assert.equal((await world(cp)).lease, undefined);

        // and back to where we started
        const back = await runCli(['encap', 'apply', '--pool', POOL, '--mode', 'ipip', '--yes'], {
          kubeconfig: kc,
        });
        assert.equal(back.code, 0, back.stderr);
        assert.deepEqual(await state(cp), start);
      });

      it('refuses unsafe combinations: exit 2, nothing written', async () => {
        await load(cp, spec, (objs) => {
          // Azure nodes: only VXLAN works there
          for (const o of objs)
            if (o.kind === 'Node')
              (o.spec as Record<string, unknown>)['providerID'] = `azure:///vm/${o.metadata.name}`;
        });
        const start = await state(cp);
        const mark = cp.audit.mark();
        for (const [mode, why] of [
          ['none', /NATIVE_ACROSS_SUBNETS/],
          ['ipip-crosssubnet', /AZURE_VXLAN_ONLY/],
          ['vxlan-crosssubnet', /AZURE_VXLAN_ONLY/],
        ] as const) {
          const r = await runCli(['encap', 'apply', '--pool', POOL, '--mode', mode, '--yes'], {
            kubeconfig: kc,
          });
          assert.equal(r.code, 2, `${mode}: ${r.stderr}`);
          assert.match(r.stderr, why);
        }
        const bad = await runCli(['encap', 'plan', '--pool', 'nope', '--mode', 'vxlan'], { kubeconfig: kc });
        assert.equal(bad.code, 2, bad.stderr);
        assert.deepEqual(
          (await cp.audit.writesSince(mark, { user: USERS.plugin.name, includeReviews: true })).map(
            (e) => e.requestURI,
          ),
          [],
          'no write, not even an access review',
        );
        assert.deepEqual(await state(cp), start);
      });

      if (calico === 'v3.31.3' && install === 'manifest')
        it('an IPv6 pool is judged by the nodes\u2019 IPv6 subnets (report and plan, read from the API server)', async () => {
          await load(cp, spec, addIPv6Underlay);
          const r = await runCli(['encap', 'report', '-o', 'json'], { kubeconfig: kc });
          assert.equal(r.code, 0, r.stderr);
          const rep = r.json<{
            underlay6: { subnets: { subnet: string }[] } | null;
            pools: { name: string; modes: { mode: string; refused: boolean }[] }[];
          }>();
          assert.deepEqual(
            rep.underlay6?.subnets.map((x) => x.subnet),
            ['fd00:aa::/64'],
          );
          const none = rep.pools
            .find((p) => p.name === 'default-ipv6-ippool')!
            .modes.find((m) => m.mode === 'none')!;
          assert.equal(none.refused, false);
          const plan = await runCli(['encap', 'plan', '--pool', 'default-ipv6-ippool', '--mode', 'none'], {
            kubeconfig: kc,
          });
          assert.notEqual(plan.code, 2, plan.stderr);
          assert.doesNotMatch(plan.stderr, /NATIVE_ACROSS_SUBNETS/);
        });

      if (calico === 'v3.31.3')
        it("refuses VXLAN while one node's own FelixConfiguration node.NAME turns it off: exit 2, nothing written", async () => {
          let node = '';
          await load(cp, spec, (objs) => {
            const def = objs.find((o) => o.kind === 'FelixConfiguration')!;
            node = objs.find((o) => o.kind === 'Node')!.metadata.name;
            objs.push({
              apiVersion: def.apiVersion,
              kind: 'FelixConfiguration',
              metadata: { name: `node.${node}` },
              spec: { vxlanEnabled: false },
            });
          });
          const start = await state(cp);
          const mark = cp.audit.mark();
          const r = await runCli(['encap', 'apply', '--pool', POOL, '--mode', 'vxlan', '--yes'], {
            kubeconfig: kc,
          });
          assert.equal(r.code, 2, r.stderr);
          assert.match(r.stderr, new RegExp(`FelixConfiguration node\\.${node} sets vxlanEnabled: false`));
          assert.match(r.stderr, /TUNNEL_OFF_IN_FELIX/);
          assert.deepEqual(await writes(cp, mark), []);
          assert.deepEqual(await state(cp), start);
        });

      if (calico === 'v3.31.3')
        it('a saved plan whose mode the live state now refuses is refused at apply (encapRefusals): exit 2, nothing written', async () => {
          // (the planner's refusal runs at plan time; a FelixConfiguration is not in a plan's fingerprint, so
          // only the apply-time re-evaluation catches one added since: a review re-digested such plans)
          await load(cp, spec);
          const file = path.join(os.tmpdir(), `calico-tune-encap-${process.pid}.json`);
          const saved = await runCli(['encap', 'plan', '--pool', POOL, '--mode', 'vxlan', '-o', 'json'], {
            kubeconfig: kc,
          });
          assert.equal(saved.code, 0, saved.stderr);
          fs.writeFileSync(file, saved.stdout);
          const node = (await cp.client('admin').list('/api/v1/nodes')).items[0]!.metadata.name;
          await vxlanOffOn(cp, node);
          const start = await state(cp);
          const mark = cp.audit.mark();
          try {
            const r = await runCli(['apply', '-f', file, '--yes'], { kubeconfig: kc });
            assert.equal(r.code, 2, r.stderr);
            assert.match(
              r.stderr,
              /refusing to apply: on the live state, step 1 \(.*→ vxlan: .*TUNNEL_OFF_IN_FELIX/,
            );
            assert.deepEqual(await writes(cp, mark), []);
            assert.deepEqual(await state(cp), start);
          } finally {
            fs.rmSync(file, { force: true });
          }
        });

      if (calico === 'v3.31.3')
        it('the live state is checked again after the person answers the first prompt (encapRefusals included): exit 2, nothing written', async () => {
          // (the first step's prompt skipped the re-check, and the re-check left encapRefusals out: a
          // FelixConfiguration that turns VXLAN off, made while the prompt waited, let the switch through)
          await load(cp, spec);
          const node = (await cp.client('admin').list('/api/v1/nodes')).items[0]!.metadata.name;
          const start = await state(cp);
          const mark = cp.audit.mark();
          const r = await runInPty(['encap', 'apply', '--pool', POOL, '--mode', 'vxlan'], kc, [
            {
              when: /Step 1\/\d+: .*Continue\?/,
              before: async () => {
                await vxlanOffOn(cp, node);
              },
              send: 'y\r',
            },
          ]);
          const out = r.out.replace(/\s+/g, ' ');
          assert.equal(r.code, 2, out.slice(-1500));
          assert.match(out, /→ vxlan: .*TUNNEL_OFF_IN_FELIX/);
          assert.match(out, /the cluster changed while it waited for you/);
          assert.deepEqual(
            (await writes(cp, mark)).filter((w) => !w.includes('leases/')),
            [],
            'nothing but the run record is written',
          );
          assert.deepEqual(await state(cp), start);
          assert.equal(journal(await world(cp).then((w) => w.lease)), undefined, 'no run stays recorded');
        });

      if (calico === 'v3.31.3')
        it('a --resume that finds nothing applied keeps the record (and the step in flight) when declined or refused after its prompt', async () => {
          // (a review: declining deleted the Lease and said "nothing was changed"; a refusal after the prompt
          // cleared the step the last run had in flight)
          await load(cp, spec);
          const start = await state(cp);
          const killed = spawnCli(['encap', 'apply', '--pool', POOL, '--mode', 'vxlan', '--yes'], kc, {
            CALICO_TUNE_TEST_CRASH: 'mid-step:1',
          });
          assert.equal(await killed.done, null, killed.out());
          const inFlight = (): string | undefined =>
            (journal(lease) as { current?: string } | undefined)?.current;
          let lease = (await world(cp)).lease;
          const step = inFlight();
          assert.ok(step, 'the killed run recorded its step in flight');
          // someone puts the switch back by hand: the resume finds no step applied
          const admin = cp.client('admin');
          if (lasting === 'Installation')
            await admin.request('PATCH', INST_PATH, {
              body: { spec: { calicoNetwork: start.installation } },
              contentType: 'application/merge-patch+json',
            });
          else
            await admin.request('PATCH', POOL_PATH, {
              body: { spec: start.pool },
              contentType: 'application/merge-patch+json',
            });
          assert.deepEqual(await state(cp), start);

          const declined = await runInPty(['encap', 'apply', '--resume'], kc, [
            { when: /Step 1\/1: .*Continue\?/, send: 'n\r' },
          ]);
          const out1 = declined.out.replace(/\s+/g, ' ');
          lease = (await world(cp)).lease;
          assert.ok(lease, `declining a resume deleted the plan's record:\n${out1.slice(-800)}`);
          assert.equal(inFlight(), step, 'the step the last run had in flight stays recorded');
          assert.doesNotMatch(out1, /nothing was changed/);

          const node = (await admin.list('/api/v1/nodes')).items[0]!.metadata.name;
          const refused = await runInPty(['encap', 'apply', '--resume'], kc, [
            {
              when: /Step 1\/1: .*Continue\?/,
              before: async () => {
                await vxlanOffOn(cp, node);
              },
              send: 'y\r',
            },
          ]);
          const out2 = refused.out.replace(/\s+/g, ' ');
          assert.equal(refused.code, 2, out2.slice(-1200));
          assert.match(out2, /the cluster changed while it waited for you/);
          assert.match(out2, /nothing was written by this run/);
          lease = (await world(cp)).lease;
          assert.ok(lease, 'the record stays');
          assert.equal(inFlight(), step, 'the step the last run had in flight stays recorded');
          assert.deepEqual(await state(cp), start);
        });

      if (calico === 'v3.31.3')
        it('the read after the first prompt refused (RBAC changed meanwhile): exit 3, nothing changed, no record left', async () => {
          // (a review: a failed read there left a "failed" record with nothing applied, which then blocked
          // every fresh apply)
          await load(cp, spec);
          const start = await state(cp);
          const admin = cp.client('admin');
          const ROLE = '/apis/rbac.authorization.k8s.io/v1/clusterroles/calico-tune';
          const role = await admin.get(ROLE);
          const rules = (role as unknown as { rules: { resources?: string[]; verbs: string[] }[] }).rules;
          try {
            const r = await runInPty(['encap', 'apply', '--pool', POOL, '--mode', 'vxlan'], kc, [
              {
                when: /Step 1\/\d+: .*Continue\?/,
                before: async () => {
                  // the plugin's user may no longer list Nodes
                  const narrowed = rules.map((x) =>
                    x.resources?.includes('nodes') ? { ...x, verbs: x.verbs.filter((v) => v !== 'list') } : x,
                  );
                  await admin.request('PATCH', ROLE, {
                    body: { rules: narrowed },
                    contentType: 'application/merge-patch+json',
                  });
                  await new Promise((res) => setTimeout(res, 1500)); // (the authorizer's cache)
                },
                send: 'y\r',
              },
            ]);
            const out = r.out.replace(/\s+/g, ' ');
            assert.equal(r.code, 3, out.slice(-1200));
            assert.match(out, /could not read the cluster again after your answer/);
            assert.match(out, /nothing was changed/);
            assert.equal((await world(cp)).lease, undefined, 'no record is left to block the next apply');
            assert.deepEqual(await state(cp), start);
          } finally {
            await admin.request('PATCH', ROLE, {
              body: { rules },
              contentType: 'application/merge-patch+json',
            });
          }
        });

      // the install checks do not depend on the Calico version: one version per install mode
      if (calico === 'v3.31.3')
        it('install checks: snapshot save reads kubeadm-config; status reports a pool outside podSubnet', async () => {
          const kubeadm = (podSubnet: string): Obj =>
            ({
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
              data: {
                ClusterConfiguration: `kind: ClusterConfiguration\nnetworking:\n  podSubnet: ${podSubnet}\n  serviceSubnet: 10.96.0.0/12\n`,
              },
            }) as Obj;
          await load(cp, spec, (objs) => void objs.push(kubeadm('172.20.64.0/18')));
          const save = await runCli(['snapshot', 'save', '-', '--format', 'json'], {
            kubeconfig: cp.kubeconfig('readonly'),
          });
          assert.equal(save.code, 0, save.stderr);
          const items = save.json<{ items: Obj[] }>().items;
          assert.ok(items.some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kubeadm-config'));
          const bad = (await runCli(['status', '-o', 'json'], { kubeconfig: kc })).json<StatusJson>();
          assert.ok(bad.findings.some((f) => f.code === 'POD_CIDR_OUTSIDE_PODSUBNET'));
          await load(cp, spec, (objs) => void objs.push(kubeadm('192.168.0.0/16')));
          const good = (await runCli(['status', '-o', 'json'], { kubeconfig: kc })).json<StatusJson>();
          assert.ok(
            !good.findings.some((f) => f.code.startsWith('POD_CIDR_')),
            JSON.stringify(good.findings),
          );
        });

      it('VXLAN everywhere: status stops urging reflectors; IPIP without BIRD is refused', async () => {
        await load(cp, { ...spec, nodes: 12, rrs: 1, encapsulation: 'IPIP' });
        const before = (await runCli(['status', '-o', 'json'], { kubeconfig: kc })).json<StatusJson>();
        assert.ok(
          before.findings.some((f) => f.code === 'RR_SINGLE'),
          JSON.stringify(before.findings),
        );
        assert.ok(!before.findings.some((f) => f.code === 'ENCAP_BGP_UNUSED'));
        const r = await runCli(['encap', 'apply', '--pool', POOL, '--mode', 'vxlan', '--yes'], {
          kubeconfig: kc,
        });
        assert.equal(r.code, 0, r.stderr);
        if (lasting === 'Installation') {
          // no operator runs here: do what its IP pool controller does with the Installation's new encapsulation
          await cp.client('admin').request('PATCH', POOL_PATH, {
            body: { spec: { ipipMode: 'Never', vxlanMode: 'Always' } },
            contentType: 'application/merge-patch+json',
          });
        } else if (install === 'manifest') assert.match(r.stderr, /KEEPS_BGP/);
        const after = (await runCli(['status', '-o', 'json'], { kubeconfig: kc })).json<StatusJson>();
        assert.equal(after.bgp.podRoutes, false);
        const codes = after.findings.map((f) => f.code);
        assert.ok(codes.includes('ENCAP_BGP_UNUSED'), codes.join());
        for (const no of ['RR_SINGLE', 'FULL_MESH_LARGE_CLUSTER', 'BGP_RR_SINGLE_POINT_OF_FAILURE'])
          assert.ok(!codes.includes(no), no);

        if (install === 'manifest') {
          // calico_backend vxlan: BIRD does not run, so IPIP (whose routes BGP distributes) is refused
          await cp
            .client('admin')
            .request('PATCH', '/api/v1/namespaces/kube-system/configmaps/calico-config', {
              body: { data: { calico_backend: 'vxlan' } },
              contentType: 'application/merge-patch+json',
            });
          const mark = cp.audit.mark();
          const ipip = await runCli(['encap', 'apply', '--pool', POOL, '--mode', 'ipip', '--yes'], {
            kubeconfig: kc,
          });
          assert.equal(ipip.code, 2, ipip.stderr);
          assert.match(ipip.stderr, /NEEDS_BGP/);
          assert.deepEqual(await writes(cp, mark), []);
        }
      });
    });
  }
}

describe('encap through projectcalico.org/v3 (the real calico-apiserver, Calico v3.31.3)', function () {
  this.timeout(180_000);
  it('switches the pool through the v3 API, never crd.projectcalico.org/v1, and back', async () => {
    const cp = await controlPlane({ calico: 'v3.31.3', calicoApi: 'v3' });
    const kc = cp.kubeconfig('plugin');
    await load(cp, { nodes: 9, zones: 3, install: 'manifest', calico: 'v3.31.3', encapsulation: 'IPIP' });
    const start = await state(cp);
    const mark = cp.audit.mark();
    const r = await runCli(['encap', 'apply', '--pool', POOL, '--mode', 'vxlan-crosssubnet', '--yes'], {
      kubeconfig: kc,
    });
    assert.equal(r.code, 0, r.stderr);
    const ev = (await cp.audit.writesSince(mark, { user: USERS.plugin.name })).filter(
      (e) => e.objectRef?.resource === 'ippools',
    );
    assert.deepEqual(
      ev.map((e) => `${e.verb} ${e.objectRef?.apiGroup}/${e.objectRef?.name}`),
      [`patch projectcalico.org/${POOL}`],
    );
    assert.deepEqual((await state(cp)).pool, { ipipMode: 'Never', vxlanMode: 'CrossSubnet' });
    const back = await runCli(['encap', 'apply', '--pool', POOL, '--mode', 'ipip', '--yes'], {
      kubeconfig: kc,
    });
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(await state(cp), start);
  });
});
