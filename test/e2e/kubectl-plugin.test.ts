/**
 * End to end through the real kubectl: plugin discovery on PATH (`kubectl calico-tune ...`), and an
 * offline krew install from a locally built archive and manifest (krew checks the sha256).
 * The archive holds a wrapper script that execs node on this checkout; the single-binary packaging
 * comes later.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import {
  BIN_RUN,
  cliEnv,
  controlPlane,
  defaultBinDir,
  describeRun,
  loadFixture,
  run,
  type ControlPlane,
  type RunResult,
} from '../harness/index.js';

const KREW_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

function writeWrapper(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'kubectl-calico_tune');
  fs.writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${BIN_RUN}" "$@"\n`, { mode: 0o755 });
  return file;
}

describe('e2e: kubectl plugin', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let tmp: string;
  /**
   * PATH with only what the test needs: our dir(s), the kubectl bin dir of the control plane's Kubernetes
   * version, the default bin dir (kubectl-krew; the same dir on 1.34), and the system.
   */
  const pathWith = (...dirs: string[]): string =>
    [...dirs, cp.bin, defaultBinDir(), '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter);
  const kubectl = (args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> =>
    run(path.join(cp.bin, 'kubectl'), args, { env: { ...cliEnv(), ...env }, timeoutMs: 90_000 });

  before(async () => {
    cp = await controlPlane();
    await loadFixture(cp, { nodes: 5 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-e2e-'));
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('kubectl plugin dispatch (kubectl-calico_tune on PATH)', () => {
    let pluginDir: string;
    before(() => {
      pluginDir = path.join(tmp, 'plugin-bin');
      writeWrapper(pluginDir);
    });

    it('kubectl plugin list finds it', async () => {
      const r = await kubectl(['plugin', 'list'], { PATH: pathWith(pluginDir) });
      assert.match(r.stdout, /kubectl-calico_tune/, describeRun(r, 'kubectl plugin list'));
    });

    it('kubectl calico-tune status -o json reads the test cluster', async () => {
      const r = await kubectl(['calico-tune', 'status', '-o', 'json'], {
        PATH: pathWith(pluginDir),
        KUBECONFIG: cp.kubeconfig('plugin'),
      });
      assert.equal(r.code, 0, describeRun(r, 'kubectl calico-tune status'));
      const rep = JSON.parse(r.stdout) as {
        kind: string;
        nodes: { total: number };
        source: { server: string };
      };
      assert.equal(rep.kind, 'StatusReport');
      assert.equal(rep.nodes.total, 5);
      assert.equal(rep.source.server, cp.server);
    });

    it('passes flags after the plugin name through, and the exit code back (2 for an unknown context)', async () => {
      const r = await kubectl(
        ['calico-tune', 'status', '--kubeconfig', cp.kubeconfigAll, '--context', 'nope'],
        { PATH: pathWith(pluginDir) },
      );
      assert.equal(r.code, 2, describeRun(r, 'kubectl calico-tune status --context nope'));
      assert.match(r.stderr, /nope/);
    });
  });

  describe('krew install --manifest --archive (offline)', () => {
    let krewRoot: string;
    let archive: string;
    let manifest: string;

    before(async () => {
      const pkg = path.join(tmp, 'pkg');
      writeWrapper(pkg);
      fs.copyFileSync(path.join(path.dirname(BIN_RUN), '..', 'package.json'), path.join(pkg, 'LICENSE')); // any file: krew copies what `files` lists
      archive = path.join(tmp, 'calico-tune.tar.gz');
      const tar = await run('tar', ['-czf', archive, '-C', pkg, 'kubectl-calico_tune', 'LICENSE']);
      assert.equal(tar.code, 0, describeRun(tar, 'tar'));
      const arch = KREW_ARCH[process.arch];
      assert.ok(arch, `no krew arch for ${process.arch}`);
      const plugin = (sha256: string): Record<string, unknown> => ({
        apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
        kind: 'Plugin',
        metadata: { name: 'calico-tune' },
        spec: {
          version: 'v0.1.0',
          homepage: 'https://example.invalid/kubectl-calico-tune',
          shortDescription: 'Check and safely tune Calico BGP and Typha',
          description: 'Test manifest written by test/e2e/kubectl-plugin.test.ts.',
          platforms: [
            {
              selector: { matchLabels: { os: process.platform, arch } },
              uri: 'https://example.invalid/kubectl-calico-tune/calico-tune.tar.gz',
              sha256,
              bin: 'kubectl-calico_tune',
              files: [
                { from: 'kubectl-calico_tune', to: '.' },
                { from: 'LICENSE', to: '.' },
              ],
            },
          ],
        },
      });
      const sha = crypto.createHash('sha256').update(fs.readFileSync(archive)).digest('hex');
      manifest = path.join(tmp, 'calico-tune.yaml');
      fs.writeFileSync(manifest, yaml.dump(plugin(sha)));
      fs.mkdirSync(path.join(tmp, 'bad-sha'));
      fs.writeFileSync(path.join(tmp, 'bad-sha', 'calico-tune.yaml'), yaml.dump(plugin('0'.repeat(64))));
      krewRoot = path.join(tmp, 'krew');
    });

    const krewEnv = (): NodeJS.ProcessEnv => ({
      KREW_ROOT: krewRoot,
      KREW_NO_UPGRADE_CHECK: '1',
      PATH: pathWith(path.join(krewRoot, 'bin')),
    });

    it('refuses an archive whose sha256 does not match the manifest', async () => {
      const r = await kubectl(
        [
          'krew',
          'install',
          `--manifest=${path.join(tmp, 'bad-sha', 'calico-tune.yaml')}`,
          `--archive=${archive}`,
        ],
        {
          ...krewEnv(),
          KREW_ROOT: path.join(tmp, 'krew-bad'),
        },
      );
      assert.notEqual(r.code, 0, describeRun(r, 'krew install with a wrong sha256'));
      assert.match(r.stderr + r.stdout, /sha256|checksum|hash/i);
    });

    it('installs the plugin, and `kubectl calico-tune --help` works from $KREW_ROOT/bin', async () => {
      const inst = await kubectl(
        ['krew', 'install', `--manifest=${manifest}`, `--archive=${archive}`],
        krewEnv(),
      );
      assert.equal(inst.code, 0, describeRun(inst, 'kubectl krew install'));
      const link = path.join(krewRoot, 'bin', 'kubectl-calico_tune');
      assert.ok(fs.existsSync(link), `${link} exists`);
      assert.ok(fs.realpathSync(link).startsWith(path.join(krewRoot, 'store', 'calico-tune', 'v0.1.0')));
      const help = await kubectl(['calico-tune', '--help'], krewEnv());
      assert.equal(help.code, 0, describeRun(help, 'kubectl calico-tune --help'));
      assert.match(help.stdout, /kubectl calico-tune/);
      assert.match(help.stdout, /status/);
    });

    it('the krew-installed plugin talks to the cluster', async () => {
      const r = await kubectl(['calico-tune', 'status', '-o', 'json'], {
        ...krewEnv(),
        KUBECONFIG: cp.kubeconfig('plugin'),
      });
      assert.equal(r.code, 0, describeRun(r, 'kubectl calico-tune status (krew)'));
      assert.equal((JSON.parse(r.stdout) as { nodes: { total: number } }).nodes.total, 5);
    });

    it('krew list shows it, and it uninstalls cleanly', async () => {
      // list/uninstall insist on an initialised index (a git clone); an empty local repository will do offline
      const git = await run('git', ['init', '-q', path.join(krewRoot, 'index', 'default')]);
      assert.equal(git.code, 0, describeRun(git, 'git init'));
      const list = await kubectl(['krew', 'list'], krewEnv());
      assert.equal(list.code, 0, describeRun(list, 'kubectl krew list'));
      assert.match(list.stdout, /calico-tune/);
      const r = await kubectl(['krew', 'uninstall', 'calico-tune'], krewEnv());
      assert.equal(r.code, 0, describeRun(r, 'kubectl krew uninstall'));
      assert.ok(!fs.existsSync(path.join(krewRoot, 'bin', 'kubectl-calico_tune')));
      const gone = await kubectl(['calico-tune', '--help'], krewEnv());
      assert.notEqual(gone.code, 0);
    });
  });
});
