/**
 * projectcalico.org/v3 end to end through Calico's real aggregated API server (issue 17): the calico-apiserver
 * built from Calico v3.31.0 serves the v3 API over the same etcd-backed CRDs (test/harness/calico-apiserver.ts).
 * Reads, merge patches with resourceVersion preconditions, server dry-run, the journal and kill/resume all go
 * through it; the audit log shows that the plugin wrote Calico objects through projectcalico.org/v3 and never
 * through crd.projectcalico.org/v1. And when the APIService is registered but its server is down: status says
 * so, changes are refused (exit 3), reads fall back to v1 with a warning.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import {
  controlPlane,
  loadFixture,
  runCli,
  sleep,
  startSimulator,
  USERS,
  type AuditEvent,
  type ControlPlane,
  type Obj,
  type Simulator,
} from '../harness/index.js';
import { journal, rrs, spawnCli, world } from './plan-helpers.js';

const CALICO = 'v3.31.3' as const;

/** The plugin's writes to Calico objects since `mark`, by API group. */
async function calicoWrites(cp: ControlPlane, mark: number): Promise<{ v3: AuditEvent[]; v1: AuditEvent[] }> {
  const ev = await cp.audit.writesSince(mark, { user: USERS.plugin.name });
  return {
    v3: ev.filter((e) => e.objectRef?.apiGroup === 'projectcalico.org'),
    v1: ev.filter((e) => e.objectRef?.apiGroup === 'crd.projectcalico.org'),
  };
}

async function assertOnlyV3(cp: ControlPlane, mark: number, what: string): Promise<AuditEvent[]> {
  const w = await calicoWrites(cp, mark);
  assert.deepEqual(
    w.v1.map((e) => `${e.verb} ${e.requestURI}`),
    [],
    `${what}: no Calico write through crd.projectcalico.org/v1 while the v3 API is served`,
  );
  assert.ok(w.v3.length > 0, `${what}: Calico objects were written through projectcalico.org/v3`);
  return w.v3;
}

describe(`projectcalico.org/v3 through the real calico-apiserver (Calico ${CALICO})`, function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let kc: string;
  let sim: Simulator | undefined;
  before(async () => {
    cp = await controlPlane({ calico: CALICO, calicoApi: 'v3' });
    kc = cp.kubeconfig('plugin');
  });
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('status, snapshot save and bgp topology read the v3 API', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: CALICO, rrs: 3, mesh: false });
    const status = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
    assert.ok(status.code === 0 || status.code === 1, status.stderr);
    const doc = status.json<{ calico: { apiMode: string }; findings: { code: string }[] }>();
    assert.equal(doc.calico.apiMode, 'projectcalico.org/v3');
    assert.ok(!doc.findings.some((f) => f.code === 'CALICO_API_UNAVAILABLE'));

    const file = path.join(cp.dir, 'v3-snapshot.yaml');
    const saved = await runCli(['snapshot', 'save', file], { kubeconfig: kc });
    assert.equal(saved.code, 0, saved.stderr);
    const items = (yaml.load(fs.readFileSync(file, 'utf8')) as { items: Obj[] }).items;
    const calico = items.filter((o) => /projectcalico\.org/.test(o.apiVersion));
    assert.ok(calico.some((o) => o.kind === 'BGPPeer') && calico.some((o) => o.kind === 'BGPConfiguration'));
    assert.deepEqual(
      [...new Set(calico.map((o) => o.apiVersion))],
      ['projectcalico.org/v3'],
      'every Calico object was read through the v3 API',
    );
    const topo = await runCli(['bgp', 'topology', '-o', 'json'], { kubeconfig: kc });
    assert.equal(topo.code, 0, topo.stderr);
    const offline = await runCli(['status', '--snapshot', file, '-o', 'json']);
    assert.equal(offline.json<{ calico: { apiMode: string } }>().calico.apiMode, 'projectcalico.org/v3');
  });

  it('mesh -> 3 reflectors -> mesh, every Calico write through projectcalico.org/v3', async () => {
    await loadFixture(cp, { nodes: 30, zones: 3, calico: CALICO });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 150 } });
    const before = await world(cp);
    const mark = cp.audit.mark();
    const to = await runCli(['migrate', 'apply', '--to', 'route-reflectors', '--rr-count', '3', '--yes'], {
      kubeconfig: kc,
      timeoutMs: 300_000,
    });
    assert.equal(to.code, 0, to.stderr);
    let w = await world(cp);
    assert.equal(rrs(w).length, 3);
    assert.equal(w.meshEnabled, false);
    assert.equal(w.lease, undefined);
    assert.deepEqual(w.nodeStatuses, [], 'the CalicoNodeStatus objects the gates made are deleted');
    const back = await runCli(['migrate', 'apply', '--to', 'mesh', '--yes'], {
      kubeconfig: kc,
      timeoutMs: 300_000,
    });
    assert.equal(back.code, 0, back.stderr);
    w = await world(cp);
    assert.deepEqual(rrs(w), []);
    assert.equal(w.meshEnabled, true);
    assert.deepEqual(w.nodes, before.nodes);
    const v3 = await assertOnlyV3(cp, mark, 'migration');
    const resources = new Set(v3.map((e) => e.objectRef?.resource));
    for (const r of ['bgpconfigurations', 'bgppeers', 'caliconodestatuses'])
      assert.ok(resources.has(r), `${r} written through v3: ${[...resources].join(' ')}`);
    assert.ok(
      v3.filter((e) => e.verb === 'patch').every((e) => (e.responseStatus?.code ?? 0) < 300),
      'merge patches with resourceVersion preconditions accepted by the calico-apiserver',
    );
  });

  it('rr replace with the mesh off, through v3', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: CALICO, rrs: 3, mesh: false });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 150 } });
    const w0 = await world(cp);
    const [a] = rrs(w0) as [string];
    const zoneOf = async (n: string): Promise<string | undefined> =>
      (await cp.client('admin').get<Obj>(`/api/v1/nodes/${n}`)).metadata.labels?.[
        'topology.kubernetes.io/zone'
      ];
    const zone = await zoneOf(a);
    let target: string | undefined;
    for (const n of w0.nodes.filter((x) => !rrs(w0).includes(x.name)).map((x) => x.name))
      if ((await zoneOf(n)) === zone && !/cp|control/.test(n)) target = n;
    assert.ok(target, 'a plain node in the same zone');
    const mark = cp.audit.mark();
    const r = await runCli(['rr', 'replace', a, target, '--yes'], { kubeconfig: kc, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    const w = await world(cp);
    assert.ok(rrs(w).includes(target) && !rrs(w).includes(a), rrs(w).join(' '));
    await assertOnlyV3(cp, mark, 'rr replace');
  });

  it('SIGKILL mid-migration, then --resume converges; another kill, then --rollback restores', async () => {
    for (const mode of ['resume', 'rollback'] as const) {
      await sim?.stop();
      await loadFixture(cp, { nodes: 12, zones: 3, calico: CALICO });
      sim = await startSimulator(cp, { knobs: { establishDelayMs: 150 } });
      const start = await world(cp);
      const mark = cp.audit.mark();
      const s = spawnCli(['migrate', 'apply', '--to', 'route-reflectors', '--rr-count', '3', '--yes'], kc, {
        CALICO_TUNE_TEST_CRASH: mode === 'resume' ? 'after-step:4' : 'mid-step:6',
      });
      assert.equal(await s.done, null, `killed: ${s.out()}`);
      const j = journal((await world(cp)).lease);
      assert.ok(j, 'the journal Lease survives the kill');
      const r = await runCli(['migrate', 'apply', `--${mode}`, '--yes'], {
        kubeconfig: kc,
        timeoutMs: 300_000,
      });
      assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
      const w = await world(cp);
      assert.equal(w.lease, undefined);
      if (mode === 'resume') {
        assert.equal(rrs(w).length, 3);
        assert.equal(w.meshEnabled, false);
      } else {
        assert.deepEqual(w.nodes, start.nodes);
        assert.equal(w.meshEnabled, start.meshEnabled);
        assert.deepEqual(w.peers, start.peers);
      }
      await assertOnlyV3(cp, mark, `kill + ${mode}`);
    }
  });

  it('--dry-run=server sends the v3 writes with dryRun=All and changes nothing', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: CALICO });
    const w0 = await world(cp);
    const mark = cp.audit.mark();
    const r = await runCli(['migrate', 'apply', '--to', 'route-reflectors', '--dry-run=server', '--yes'], {
      kubeconfig: kc,
    });
    assert.equal(r.code, 0, r.stderr);
    const w = await calicoWrites(cp, mark);
    assert.deepEqual(w.v1, []);
    assert.ok(w.v3.length > 0);
    assert.ok(
      w.v3.every((e) => /[?&]dryRun=All/.test(e.requestURI)),
      w.v3.map((e) => e.requestURI).join('\n'),
    );
    const after = await world(cp);
    assert.deepEqual({ ...after, lease: undefined }, { ...w0, lease: undefined });
  });

  it('refuses a saved plan after the cluster changed', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: CALICO });
    const file = path.join(cp.dir, 'v3-stale-plan.yaml');
    const saved = await runCli(['migrate', 'plan', '--to', 'route-reflectors', '--save', file], {
      kubeconfig: kc,
    });
    assert.equal(saved.code, 0, saved.stderr);
    await cp.client('admin').request('PATCH', '/apis/projectcalico.org/v3/bgpconfigurations/default', {
      body: { spec: { asNumber: 64600 } },
      contentType: 'application/merge-patch+json',
    });
    const mark = cp.audit.mark();
    const r = await runCli(['migrate', 'apply', '-f', file, '--yes'], { kubeconfig: kc });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the plan is stale/);
    assert.deepEqual(await cp.audit.writesSince(mark, { user: USERS.plugin.name }), []);
  });

  it('APIService registered but its server down: status reports it, changes refused (exit 3), reads fall back to v1', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3, calico: CALICO });
    const c = cp.client('admin');
    const epPath = '/api/v1/namespaces/calico-apiserver/endpoints/calico-api';
    const esPath = '/apis/discovery.k8s.io/v1/namespaces/calico-apiserver/endpointslices/calico-api-1';
    const port = cp.calicoApi!.port;
    const setPort = async (p: number): Promise<void> => {
      const ep = await c.get<Obj & { subsets: { ports: { port: number }[] }[] }>(epPath);
      ep.subsets[0]!.ports[0]!.port = p;
      await c.request('PUT', epPath, { body: ep });
      const es = await c.get<Obj & { ports: { port: number }[] }>(esPath);
      es.ports[0]!.port = p;
      await c.request('PUT', esPath, { body: es });
    };
    const available = async (): Promise<string> => {
      const s = await c.get<Obj>('/apis/apiregistration.k8s.io/v1/apiservices/v3.projectcalico.org');
      return (
        ((s.status?.['conditions'] as { type: string; status: string }[]) ?? []).find(
          (x) => x.type === 'Available',
        )?.status ?? 'Unknown'
      );
    };
    const waitAvailable = async (want: string): Promise<void> => {
      const deadline = Date.now() + 120_000;
      while ((await available()) !== want) {
        if (Date.now() > deadline) throw new Error(`APIService never became Available=${want}`);
        await sleep(250);
      }
    };
    await setPort(1); // nothing listens there: the aggregator's discovery check fails
    try {
      await waitAvailable('False');
      const mark = cp.audit.mark();
      const status = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
      assert.equal(status.code, 0, `a warning, not a pod-networking problem: ${status.stderr}`);
      const doc = status.json<{
        calico: { apiMode: string };
        source: { warnings: string[] };
        findings: { code: string; severity: string; message: string }[];
        nodes: { total: number };
      }>();
      assert.equal(doc.calico.apiMode, 'crd.projectcalico.org/v1', 'reads fell back to the v1 CRDs');
      assert.equal(doc.nodes.total, 12);
      const f = doc.findings.find((x) => x.code === 'CALICO_API_UNAVAILABLE');
      assert.ok(f, JSON.stringify(doc.findings));
      assert.equal(f.severity, 'warning');
      const strict = await runCli(['status', '--strict', '-o', 'json'], { kubeconfig: kc });
      assert.equal(strict.code, 1, 'exit 1 with --strict');
      assert.match(f.message, /HTTP 503/);
      assert.ok(doc.source.warnings.some((x) => /registered but not available/.test(x)));
      const human = await runCli(['status'], { kubeconfig: kc });
      assert.match(human.stdout, /CALICO_API_UNAVAILABLE|Calico API server is registered but not available/);

      for (const args of [
        ['migrate', 'apply', '--to', 'route-reflectors', '--yes'],
        ['migrate', 'plan', '--to', 'route-reflectors'],
        ['rr', 'promote', 'node-a-004', '--yes'],
      ]) {
        const r = await runCli(args, { kubeconfig: kc });
        assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /Calico API server is registered but not available/);
        assert.equal(r.stderr.trim().split('\n')[0]!.length < 400, true);
      }
      assert.deepEqual(await cp.audit.writesSince(mark, { user: USERS.plugin.name }), [], 'nothing written');
    } finally {
      await setPort(port);
      await waitAvailable('True');
    }
    const again = await runCli(['status', '-o', 'json'], { kubeconfig: kc });
    assert.equal(again.json<{ calico: { apiMode: string } }>().calico.apiMode, 'projectcalico.org/v3');
  });

  describe('what the calico-apiserver validates', () => {
    const patchDefault = async (spec: Record<string, unknown>): Promise<void> => {
      // through v1: the CRD schema accepts what the calico-apiserver's validation would refuse
      await cp.client('admin').request('PATCH', '/apis/crd.projectcalico.org/v1/bgpconfigurations/default', {
        body: { spec },
        contentType: 'application/merge-patch+json',
      });
    };

    it('nodeMeshPassword is cleared in the same update that turns the mesh off (the v3 API refuses it otherwise)', async () => {
      await loadFixture(cp, { nodes: 12, zones: 3, calico: CALICO });
      await patchDefault({ nodeMeshPassword: { secretKeyRef: { name: 'bgp-secrets', key: 'mesh' } } });
      // the real validator: the mesh off with the password still set is refused
      const refused = await cp
        .client('admin')
        .request('PATCH', '/apis/projectcalico.org/v3/bgpconfigurations/default', {
          body: { spec: { nodeToNodeMeshEnabled: false } },
          contentType: 'application/merge-patch+json',
        })
        .then(
          () => 'accepted',
          (e: Error) => e.message,
        );
      assert.match(refused, /NodeMeshPassword cannot be set if spec.NodeToNodeMesh is disabled/);
      sim = await startSimulator(cp, { knobs: { establishDelayMs: 150 } });
      const r = await runCli(['migrate', 'apply', '--to', 'route-reflectors', '--rr-count', '3', '--yes'], {
        kubeconfig: kc,
        timeoutMs: 300_000,
      });
      assert.equal(r.code, 0, r.stderr);
      const cfg = await cp.client('admin').get<Obj>('/apis/projectcalico.org/v3/bgpconfigurations/default');
      assert.equal(cfg.spec?.['nodeToNodeMeshEnabled'], false);
      assert.equal(cfg.spec?.['nodeMeshPassword'], undefined);
    });

    it('an object the v3 API finds invalid: the 422 message on one line, exit 3, no write after it, and --rollback restores', async () => {
      await loadFixture(cp, { nodes: 12, zones: 3, calico: CALICO });
      await patchDefault({ logSeverityScreen: 'Loud' }); // not a log level: the v3 validator refuses any update of it
      sim = await startSimulator(cp, { knobs: { establishDelayMs: 150 } });
      const before = await world(cp);
      // the calico-apiserver does not validate dry-run requests: a server dry run passes (and says so)
      const dry = await runCli(
        ['migrate', 'apply', '--to', 'route-reflectors', '--rr-count', '3', '--dry-run=server', '--yes'],
        {
          kubeconfig: kc,
        },
      );
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stderr, /does not validate dry-run requests/);
      const mark = cp.audit.mark();
      const r = await runCli(['migrate', 'apply', '--to', 'route-reflectors', '--rr-count', '3', '--yes'], {
        kubeconfig: kc,
        timeoutMs: 300_000,
      });
      assert.equal(r.code, 3, r.stderr);
      const line = r.stderr.split('\n').find((l) => l.startsWith('error:'))!;
      assert.match(
        line,
        /BGPConfiguration.projectcalico.org "default" is invalid: LogSeverityScreen: Invalid value: "Loud"/,
      );
      const writes = await cp.audit.writesSince(mark, { user: USERS.plugin.name });
      const refused = writes.findIndex((e) => e.responseStatus?.code === 422);
      assert.ok(refused >= 0, 'the refused patch is in the audit log');
      const after = writes.slice(refused + 1);
      assert.deepEqual(
        after
          .filter((e) => !(e.objectRef?.resource === 'caliconodestatuses' && e.verb === 'delete'))
          .map((e) => e.objectRef?.resource),
        ['leases'],
        'after the refusal: the journal records where the plan stopped, and the status objects the gates made are deleted; nothing else',
      );
      const back = await runCli(['migrate', 'apply', '--rollback', '--yes'], {
        kubeconfig: kc,
        timeoutMs: 300_000,
      });
      assert.equal(back.code, 0, back.stderr);
      const w = await world(cp);
      assert.deepEqual(w.nodes, before.nodes);
      assert.equal(w.meshEnabled, true);
      assert.deepEqual(w.peers, before.peers);
      assert.equal(w.lease, undefined);
    });
  });
});
