/**
 * `status` and `snapshot save` against a real API server, on both Calico releases and both install
 * modes, run as the least-privilege plugin user; both commands must write nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CALICO_RELEASES,
  controlPlane,
  describeEvent,
  describeRun,
  loadFixture,
  runCli,
  USERS,
  type ControlPlane,
} from '../harness/index.js';
import { generateCluster } from '../fixtures/generate.js';

type Report = Record<string, unknown> & {
  kind: string;
  source: Record<string, unknown>;
  calico: { version: string | null; installMode: string; apiMode: string; networkingBackend: string };
  nodes: { total: number; linux: number };
  bgp: { meshEnabled: boolean; routeReflectors: unknown[]; peers: unknown[] };
  typha: { installMode: string; replicas: { desired: number; ready: number } | null };
  summary: { critical: number; warning: number; info: number };
  findings: { severity: string; id?: string; message?: string }[];
};

let tmp: string;

/** Asserts the plugin user made no write request (create/update/patch/delete) since `mark`. */
async function assertNoWrites(cp: ControlPlane, mark: number, what: string): Promise<void> {
  const writes = await cp.audit.writesSince(mark, { user: USERS.plugin.name });
  assert.deepEqual(writes.map(describeEvent), [], `${what} must write nothing`);
}

for (const version of CALICO_RELEASES) {
  describe(`status and snapshot save (Calico ${version})`, function () {
    this.timeout(180_000);
    let cp: ControlPlane;

    before(async () => {
      cp = await controlPlane({ calico: version });
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-status-'));
    });
    after(() => {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    for (const install of ['operator', 'manifest'] as const) {
      describe(`${install} install`, () => {
        before(async () => {
          await loadFixture(cp, { nodes: 12, zones: 3, install });
        });

        it('status -o json reports the cluster and writes nothing @matrix', async () => {
          const mark = cp.audit.mark();
          const r = await runCli(['status', '--kubeconfig', cp.kubeconfig('plugin'), '-o', 'json']);
          assert.equal(r.code, 0, describeRun(r, 'status'));
          const rep = r.json<Report>();
          assert.equal(rep.kind, 'StatusReport');
          assert.equal(rep.source['kind'], 'live');
          assert.equal(rep.source['server'], cp.server);
          assert.equal(rep.nodes.total, 12);
          assert.equal(rep.calico.version, version);
          assert.equal(rep.calico.installMode, install);
          assert.equal(rep.calico.apiMode, 'crd.projectcalico.org/v1');
          assert.equal(rep.calico.networkingBackend, 'bird');
          assert.equal(rep.bgp.meshEnabled, true);
          assert.equal(rep.typha.installMode, install);
          assert.ok(
            rep.typha.replicas && rep.typha.replicas.desired >= 1,
            `typha replicas: ${JSON.stringify(rep.typha.replicas)}`,
          );
          assert.equal(
            rep.summary.critical,
            0,
            `no critical finding expected: ${JSON.stringify(rep.findings)}`,
          );
          assert.deepEqual(
            (rep.source['warnings'] as string[]) ?? [],
            [],
            'the plugin role can read everything status reads',
          );
          await assertNoWrites(cp, mark, 'status');
        });

        it('status (table) prints a human report', async () => {
          const r = await runCli(['status'], { kubeconfig: cp.kubeconfig('plugin') });
          assert.equal(r.code, 0, describeRun(r, 'status'));
          assert.match(r.stdout, new RegExp(version.replace(/\./g, '\\.')));
          assert.equal(
            r.stdout.includes('\u001b['),
            false,
            'no colour when NO_COLOR is set / not a terminal',
          );
        });

        it('snapshot save writes nothing, and status --snapshot gives the same report apart from source', async () => {
          const file = path.join(tmp, `${version}-${install}.yaml`);
          const mark = cp.audit.mark();
          const save = await runCli([
            'snapshot',
            'save',
            '-f',
            file,
            '--kubeconfig',
            cp.kubeconfig('plugin'),
          ]);
          assert.equal(save.code, 0, describeRun(save, 'snapshot save'));
          // -f FILE, the old spelling, still works and says what to type instead
          assert.match(save.stderr, /snapshot save -f FILE is now snapshot save FILE/);
          assert.ok(fs.existsSync(file));
          await assertNoWrites(cp, mark, 'snapshot save');

          const live = await runCli(['status', '--kubeconfig', cp.kubeconfig('plugin'), '-o', 'json']);
          assert.equal(live.code, 0, describeRun(live, 'status'));
          const offline = await runCli(['status', '--snapshot', file, '-o', 'json']);
          assert.equal(offline.code, 0, describeRun(offline, 'status --snapshot'));
          const a = live.json<Report>();
          const b = offline.json<Report>();
          assert.equal(b.source['kind'], 'file');
          assert.equal(b.source['path'], file);
          const { source: _a, ...restA } = a;
          const { source: _b, ...restB } = b;
          assert.deepEqual(restB, restA);
        });

        it('snapshot save - --format json prints a kubectl List on stdout', async () => {
          const r = await runCli([
            'snapshot',
            'save',
            '-',
            '--format',
            'json',
            '--kubeconfig',
            cp.kubeconfig('plugin'),
          ]);
          assert.equal(r.code, 0, describeRun(r, 'snapshot save -'));
          const list = r.json<{ kind: string; items: { kind: string }[] }>();
          assert.equal(list.kind, 'List');
          assert.equal(list.items.filter((i) => i.kind === 'Node').length, 12);
        });
      });
    }

    it('the read-only user can run status too, and nothing is written @matrix', async () => {
      await loadFixture(cp, { nodes: 6, install: 'operator' });
      const mark = cp.audit.mark();
      const r = await runCli(['status', '--kubeconfig', cp.kubeconfig('readonly'), '-o', 'json']);
      assert.equal(r.code, 0, describeRun(r, 'status as readonly'));
      assert.equal(r.json<Report>().nodes.total, 6);
      const writes = await cp.audit.writesSince(mark, { user: USERS.readonly.name });
      assert.deepEqual(writes.map(describeEvent), []);
    });

    it('reads the real calico-typha.yaml objects (manifest install)', async () => {
      await cp.reset();
      // nodes and Calico resources from the generator, the kube-system objects from the real manifest
      const objs = generateCluster({
        nodes: 8,
        install: 'manifest',
        calico: version,
        typhaReplicas: 0,
      }).filter((o) => o.kind === 'Node' || o.apiVersion.startsWith('crd.projectcalico.org'));
      await cp.apply(objs);
      await cp.applyTyphaManifest(version);
      const r = await runCli(['status', '--kubeconfig', cp.kubeconfig('plugin'), '-o', 'json']);
      assert.ok(r.code === 0 || r.code === 1, describeRun(r, 'status'));
      const rep = r.json<Report>();
      assert.equal(rep.calico.installMode, 'manifest');
      assert.equal(rep.typha.installMode, 'manifest');
      assert.equal(rep.typha.replicas?.desired, 1, 'calico-typha.yaml asks for 1 replica');
      assert.equal(rep.nodes.total, 8);
    });
  });
}
