/**
 * The harness itself: audit log, least-privilege RBAC of docs/rbac.yaml, fixtures that look like a
 * running cluster, reset(), the real calico-typha.yaml, and process hygiene.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import {
  CALICO_RELEASES,
  calicoFile,
  controlPlane,
  describeEvent,
  describeRun,
  KubeClient,
  KubeError,
  k8sVersion,
  loadFixture,
  USERS,
  ControlPlane,
  type Obj,
  type UserKey,
} from '../harness/index.js';
import { harnessBaseDir, procStartTime, sweepStale } from '../harness/procs.js';

interface Access {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  subresource?: string;
  name?: string;
}

async function can(cp: ControlPlane, user: UserKey, a: Access): Promise<boolean> {
  const res = await cp
    .client(user)
    .request<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { group: '', ...a } },
        },
      },
    );
  return res.status?.allowed === true;
}

const CALICO_READ = [
  'bgpconfigurations',
  'bgppeers',
  'ippools',
  'felixconfigurations',
  'clusterinformations',
  'caliconodestatuses',
];

/** [access, plugin allowed, readonly allowed] — the contract docs/rbac.yaml documents. */
const MATRIX: [Access, boolean, boolean][] = [
  [{ verb: 'list', resource: 'nodes' }, true, true],
  [{ verb: 'get', resource: 'nodes' }, true, true],
  [{ verb: 'patch', resource: 'nodes' }, true, false],
  [{ verb: 'delete', resource: 'nodes' }, false, false],
  [{ verb: 'update', resource: 'nodes' }, false, false],
  ...['crd.projectcalico.org', 'projectcalico.org'].flatMap((group) => [
    ...CALICO_READ.flatMap((resource): [Access, boolean, boolean][] =>
      ['get', 'list', 'watch'].map((verb) => [{ verb, resource, group }, true, true]),
    ),
    ...['bgpconfigurations', 'bgppeers'].flatMap((resource): [Access, boolean, boolean][] =>
      ['create', 'patch', 'update', 'delete'].map((verb) => [{ verb, resource, group }, true, false]),
    ),
    [{ verb: 'create', resource: 'caliconodestatuses', group }, true, false] as [Access, boolean, boolean],
    [{ verb: 'delete', resource: 'caliconodestatuses', group }, true, false] as [Access, boolean, boolean],
    [{ verb: 'patch', resource: 'caliconodestatuses', group }, false, false] as [Access, boolean, boolean],
    [{ verb: 'create', resource: 'ippools', group }, false, false] as [Access, boolean, boolean],
    // encap apply: an IP pool's modes (patch only)
    [{ verb: 'patch', resource: 'ippools', group }, true, false] as [Access, boolean, boolean],
    [{ verb: 'update', resource: 'ippools', group }, false, false] as [Access, boolean, boolean],
    [{ verb: 'delete', resource: 'ippools', group }, false, false] as [Access, boolean, boolean],
    [{ verb: 'patch', resource: 'felixconfigurations', group }, false, false] as [Access, boolean, boolean],
  ]),
  [{ verb: 'get', resource: 'installations', group: 'operator.tigera.io' }, true, true],
  [{ verb: 'patch', resource: 'installations', group: 'operator.tigera.io' }, false, false],
  // encap apply on operators that own the pools: the default Installation only
  [{ verb: 'patch', resource: 'installations', group: 'operator.tigera.io', name: 'default' }, true, false],
  [{ verb: 'update', resource: 'installations', group: 'operator.tigera.io', name: 'default' }, false, false],
  // --drain works on the node's pods in any namespace
  [{ verb: 'list', resource: 'pods' }, true, false],
  [{ verb: 'create', resource: 'pods', subresource: 'eviction', namespace: 'default' }, true, false],
  [{ verb: 'delete', resource: 'pods', namespace: 'default' }, false, false],
  ...['calico-system', 'kube-system'].flatMap((namespace): [Access, boolean, boolean][] => [
    [{ verb: 'get', resource: 'deployments', group: 'apps', namespace }, true, true],
    [{ verb: 'get', resource: 'daemonsets', group: 'apps', namespace }, true, true],
    [{ verb: 'patch', resource: 'deployments', group: 'apps', namespace }, false, false],
    [{ verb: 'list', resource: 'pods', namespace }, true, true],
    [{ verb: 'delete', resource: 'pods', namespace }, false, false],
    [{ verb: 'create', resource: 'pods', subresource: 'eviction', namespace }, true, false],
    [{ verb: 'create', resource: 'pods', subresource: 'exec', namespace }, true, false],
    [{ verb: 'get', resource: 'pods', subresource: 'proxy', namespace }, true, false],
    [{ verb: 'get', resource: 'poddisruptionbudgets', group: 'policy', namespace }, true, true],
    [{ verb: 'get', resource: 'configmaps', namespace, name: 'calico-config' }, true, true],
    [{ verb: 'get', resource: 'configmaps', namespace, name: 'kubeadm-config' }, true, true],
    [{ verb: 'get', resource: 'configmaps', namespace, name: 'coredns' }, false, false],
    [{ verb: 'get', resource: 'secrets', namespace }, false, false],
    ...['get', 'create', 'update', 'patch', 'delete'].map((verb): [Access, boolean, boolean] => [
      { verb, resource: 'leases', group: 'coordination.k8s.io', namespace },
      true,
      verb === 'get',
    ]),
  ]),
  // nothing namespaced outside the Calico namespaces (but --drain's cluster-wide pod list)
  [{ verb: 'list', resource: 'pods', namespace: 'default' }, true, false], // --drain lists a node's pods in every namespace
  [{ verb: 'create', resource: 'leases', group: 'coordination.k8s.io', namespace: 'default' }, false, false],
  [{ verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' }, true, true],
];

describe('harness', function () {
  this.timeout(180_000);
  let cp: ControlPlane;

  before(async () => {
    cp = await controlPlane();
  });

  describe('control plane @matrix', () => {
    it('serves the API with token auth and writes a kubeconfig per user', async () => {
      for (const user of ['admin', 'plugin', 'readonly', 'noaccess'] as const) {
        const r = await cp.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
          user,
        });
        assert.equal(r.code, 0, describeRun(r, `kubectl auth whoami as ${user}`));
        assert.equal(r.stdout, USERS[user].name);
      }
      await assert.rejects(
        () => new KubeClient({ server: cp.server, token: 'wrong', insecure: true }).get('/api/v1/nodes'),
        (e: unknown) => e instanceof KubeError && e.status === 401,
      );
    });

    it('runs etcd and kube-apiserver each in its own process group, with pidfiles', () => {
      const pids = cp.pids();
      assert.deepEqual(pids.map((p) => p.name).sort(), ['etcd', 'kube-apiserver']);
      for (const p of pids) {
        assert.ok(procStartTime(p.pid), `${p.name} (${p.pid}) is running`);
        const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
        const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        assert.equal(pgid, p.pid, `${p.name} leads its own process group`);
        assert.ok(fs.existsSync(path.join(cp.dir, `${p.name}.pid`)));
      }
    });

    it(`is Kubernetes ${k8sVersion()} ($CALICO_TUNE_K8S) and validates the CRDs of every Calico release`, async () => {
      const c = cp.client();
      const v = await c.get<{ gitVersion: string; minor: string }>('/version');
      assert.ok(v.gitVersion.startsWith(`v${k8sVersion()}.`), v.gitVersion);
      assert.equal(`1.${parseInt(v.minor, 10)}`, k8sVersion());
      for (const release of CALICO_RELEASES) {
        const crds = (
          yaml.loadAll(fs.readFileSync(calicoFile(release, 'operator-crds.yaml'), 'utf8')) as Obj[]
        ).filter((d) => d?.kind === 'CustomResourceDefinition');
        // A dry-run create validates the CRD (schema, CEL rules compiled by this API server) and stores
        // nothing; 409 (the same CRD name is installed) comes after validation, so it counts as valid.
        const refused: string[] = [];
        for (const crd of crds) {
          try {
            await c.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
              body: crd,
              query: { dryRun: 'All' },
              okStatuses: [409],
            });
          } catch (e) {
            if (!(e instanceof KubeError && e.status === 422)) throw e;
            refused.push(`${crd.metadata.name}: ${e.message}`);
          }
        }
        assert.deepEqual(refused, [], `Kubernetes ${v.gitVersion} refuses ${release} CRDs`);
      }
    });
  });

  describe('audit log', () => {
    beforeEach(async () => {
      await loadFixture(cp, { nodes: 3 });
    });

    it('records writes with the user, and not reads', async () => {
      const mark = cp.audit.mark();
      await cp.client('plugin').get('/api/v1/nodes');
      const r2 = await cp.kubectl(
        ['patch', 'node', 'node-cp-a1', '--type=merge', '-p', '{"metadata":{"labels":{"audit-test":"yes"}}}'],
        { user: 'plugin' },
      );
      assert.equal(r2.code, 0, describeRun(r2, 'kubectl patch as plugin'));
      const writes = await cp.audit.writesSince(mark, { user: USERS.plugin.name });
      const patches = writes.filter(
        (e) => e.verb === 'patch' && e.objectRef?.resource === 'nodes' && e.objectRef.name === 'node-cp-a1',
      );
      assert.ok(
        patches.length >= 1,
        `a patch of node-cp-a1 is logged; got ${writes.map(describeEvent).join('; ')}`,
      );
      assert.ok(writes.every((e) => e.verb !== 'get' && e.verb !== 'list'));
      assert.deepEqual(await cp.audit.writesSince(cp.audit.mark(), { user: USERS.plugin.name }), []);
    });

    it('records refused writes too (403), unless onlySucceeded', async () => {
      const mark = cp.audit.mark();
      await assert.rejects(
        () =>
          cp.client('readonly').request('PATCH', '/api/v1/nodes/node-cp-a1', {
            body: { metadata: { labels: { x: 'y' } } },
            contentType: 'application/merge-patch+json',
          }),
        (e: unknown) => e instanceof KubeError && e.status === 403,
      );
      const all = await cp.audit.writesSince(mark, { user: USERS.readonly.name });
      assert.equal(all.length, 1, all.map(describeEvent).join('; '));
      assert.equal(all[0]!.responseStatus?.code, 403);
      assert.deepEqual(
        await cp.audit.writesSince(mark, { user: USERS.readonly.name, onlySucceeded: true }),
        [],
      );
    });
  });

  describe('docs/rbac.yaml @matrix', () => {
    for (const [access, plugin, readonly] of MATRIX) {
      const label = `${access.verb} ${access.group ? `${access.group}/` : ''}${access.resource}${access.subresource ? `/${access.subresource}` : ''}${access.name ? ` ${access.name}` : ''}${access.namespace ? ` in ${access.namespace}` : ''}`;
      it(`${label}: plugin ${plugin ? 'yes' : 'no'}, readonly ${readonly ? 'yes' : 'no'}, noaccess ${access.resource === 'selfsubjectaccessreviews' ? 'yes' : 'no'}`, async () => {
        assert.equal(await can(cp, 'plugin', access), plugin, 'plugin');
        assert.equal(await can(cp, 'readonly', access), readonly, 'readonly');
        assert.equal(
          await can(cp, 'noaccess', access),
          access.resource === 'selfsubjectaccessreviews',
          'noaccess',
        );
      });
    }
  });

  describe('fixtures', () => {
    it('look like a running cluster: status written through /status where the server resets it', async () => {
      await loadFixture(cp, { nodes: 12, install: 'operator' });
      const c = cp.client();
      const nodes = (await c.list('/api/v1/nodes')).items;
      assert.equal(nodes.length, 12);
      const ready = (n: Obj): boolean =>
        ((n.status?.['conditions'] as { type: string; status: string }[]) ?? []).some(
          (x) => x.type === 'Ready' && x.status === 'True',
        );
      assert.ok(nodes.every(ready), 'every node Ready');
      const typha = await c.get('/apis/apps/v1/namespaces/calico-system/deployments/calico-typha');
      assert.equal(typha.status?.['readyReplicas'], 3);
      const pods = (
        await c.list('/api/v1/namespaces/calico-system/pods', { labelSelector: 'k8s-app=calico-typha' })
      ).items;
      assert.equal(pods.length, 3);
      assert.ok(pods.every((p) => p.status?.['phase'] === 'Running'));
      const pdb = await c.get('/apis/policy/v1/namespaces/calico-system/poddisruptionbudgets/calico-typha');
      assert.equal(pdb.status?.['disruptionsAllowed'], 1);
      const inst = await c.get('/apis/operator.tigera.io/v1/installations/default');
      assert.equal(inst.status?.['calicoVersion'], 'v3.31.3');
    });

    it('reset() leaves nodes, Calico objects and fixture namespaces empty, and keeps RBAC', async () => {
      await loadFixture(cp, { nodes: 6, install: 'manifest', rrs: 1 });
      await cp.reset();
      const c = cp.client();
      assert.equal((await c.list('/api/v1/nodes')).items.length, 0);
      for (const plural of [
        'bgpconfigurations',
        'bgppeers',
        'ippools',
        'felixconfigurations',
        'clusterinformations',
        'caliconodestatuses',
      ]) {
        assert.equal((await c.list(`/apis/crd.projectcalico.org/v1/${plural}`)).items.length, 0, plural);
      }
      for (const ns of ['kube-system', 'calico-system']) {
        assert.equal((await c.list(`/api/v1/namespaces/${ns}/pods`)).items.length, 0);
        assert.equal((await c.list(`/apis/apps/v1/namespaces/${ns}/deployments`)).items.length, 0);
        assert.equal((await c.list(`/apis/apps/v1/namespaces/${ns}/daemonsets`)).items.length, 0);
      }
      assert.ok(await c.getOptional('/apis/rbac.authorization.k8s.io/v1/clusterroles/calico-tune'));
      assert.ok(await can(cp, 'plugin', { verb: 'patch', resource: 'nodes' }));
    });

    it('applies the real calico-typha.yaml (without its CRDs) and cleans it up on reset', async () => {
      await cp.reset();
      const r = await cp.applyTyphaManifest('v3.31.3');
      assert.ok(r.created >= 10, `created ${r.created}`);
      const c = cp.client();
      const dep = await c.get('/apis/apps/v1/namespaces/kube-system/deployments/calico-typha');
      assert.equal(dep.spec?.['replicas'], 1);
      assert.ok(await c.getOptional('/apis/rbac.authorization.k8s.io/v1/clusterroles/calico-node'));
      await cp.reset();
      assert.equal(
        await c.getOptional('/apis/apps/v1/namespaces/kube-system/deployments/calico-typha'),
        undefined,
      );
      assert.equal(
        await c.getOptional('/apis/rbac.authorization.k8s.io/v1/clusterroles/calico-node'),
        undefined,
      );
      assert.ok(
        await c.getOptional('/apis/rbac.authorization.k8s.io/v1/clusterroles/calico-tune'),
        'our RBAC stays',
      );
    });
  });

  describe('process hygiene', () => {
    /** What `fn` gave or threw, and the harness's lines on stderr while it ran. */
    async function withHarnessLines<T>(
      fn: () => Promise<T>,
    ): Promise<{ value?: T; error?: Error; lines: string[] }> {
      const lines: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
        lines.push(
          ...String(chunk)
            .split('\n')
            .filter((l) => l.startsWith('[harness]')),
        );
        return write(chunk, ...rest);
      }) as typeof process.stderr.write;
      try {
        return { value: await fn(), lines };
      } catch (e) {
        return { error: e as Error, lines };
      } finally {
        process.stderr.write = write;
      }
    }

    /** A start that must fail: its error, the harness's stderr lines, and the directories of `label` left after it. */
    async function startWatched(
      label: string,
      fn: () => Promise<unknown>,
    ): Promise<{ error: Error; lines: string[]; left: string[] }> {
      const { error, lines } = await withHarnessLines(fn);
      assert.ok(error, 'the start failed');
      const left = fs.readdirSync(harnessBaseDir()).filter((d) => d.startsWith(`${label}-`));
      return { error, lines, left };
    }

    it('a kube-apiserver not ready in time is stopped, its state said, and a new one started; the third is an error', async () => {
      const label = `notready${process.pid}`;
      const { error, lines, left } = await startWatched(label, () =>
        ControlPlane.start({ label, readyTimeoutMs: 1 }),
      );
      assert.match(error.message, /^kube-apiserver not ready after \d+ ms/);
      // what each process was doing, from /proc: the state letter and its CPU time
      assert.match(
        error.message,
        /processes: etcd\(\d+\) [RSD] cpu \d+\.\ds, kube-apiserver\(\d+\) [RSD] cpu/,
      );
      assert.match(error.message, /tail of its log:/);
      assert.equal(
        lines.filter((l) => l === '[harness] starting a new control plane').length,
        2,
        lines.join('\n'),
      );
      assert.equal(lines.filter((l) => l.startsWith('[harness] kube-apiserver not ready after')).length, 2);
      assert.deepEqual(left, [], 'each attempt stopped its processes and removed its directory');
    });

    it('a kube-apiserver that keeps using the CPU is slow, not stuck: it is given more time, not replaced', async () => {
      const label = `busy${process.pid}`;
      // 300 ms is far below any real start; any CPU use counts as busy here, so each window is extended
      const {
        value: cp,
        error,
        lines,
      } = await withHarnessLines(() => ControlPlane.start({ label, readyTimeoutMs: 300, busyCpuSeconds: 0 }));
      try {
        assert.ifError(error);
        assert.ok(cp!.timings.readyMs > 300, `ready after ${cp!.timings.readyMs} ms, past the first window`);
        assert.deepEqual(
          lines.filter((l) => /not ready|starting a new/.test(l)),
          [],
          'one start, never replaced',
        );
      } finally {
        await cp?.stop();
      }
    });

    it('an abandoned start (the signal stopAll aborts at the end of a run) ends at once, and is not started again', async () => {
      const label = `abandoned${process.pid}`;
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      const { error, lines, left } = await startWatched(label, () =>
        // never ready: only the abort can end it within the test's time
        ControlPlane.start({ label, readyTimeoutMs: 600_000, signal: ac.signal }),
      );
      assert.match(error.message, /control plane start abandoned/);
      assert.deepEqual(
        lines.filter((l) => /not ready|starting a new/.test(l)),
        [],
      );
      assert.deepEqual(left, []);
    });

    it('sweepStale() kills the process groups of a crashed run and removes its directory', async () => {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-sweep-'));
      const dir = path.join(base, 'cp-crashed');
      fs.mkdirSync(dir);
      // an owner that no longer exists, and a "server" that is still running in its own group
      fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 12345, start: '1' }));
      const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
      child.unref();
      const pid = child.pid!;
      fs.writeFileSync(
        path.join(dir, 'etcd.pid'),
        JSON.stringify({ pid, start: procStartTime(pid), name: 'etcd' }),
      );
      // a live owner's directory must survive
      const mine = path.join(base, 'cp-live');
      fs.mkdirSync(mine);
      fs.writeFileSync(
        path.join(mine, 'owner.json'),
        JSON.stringify({ pid: process.pid, start: procStartTime(process.pid) }),
      );
      try {
        const lines = sweepStale(base);
        assert.equal(lines.length, 1, lines.join('\n'));
        assert.match(lines[0]!, /killed etcd/);
        assert.ok(!fs.existsSync(dir));
        assert.ok(fs.existsSync(mine));
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(procStartTime(pid), undefined, 'the stray process is gone');
      } finally {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        fs.rmSync(base, { recursive: true, force: true });
      }
    });
  });
});
