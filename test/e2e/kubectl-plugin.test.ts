/**
 * End to end through the real kubectl: plugin discovery on PATH (`kubectl calico-tune ...`), and an
 * offline krew install from a locally built archive and manifest (krew checks the sha256).
 * The krew part installs the real release artefacts of `npm run package` (scripts/package.js): the single
 * binary, run by kubectl with a PATH that holds no node.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import {
  BIN_RUN,
  REPO_ROOT,
  cliEnv,
  controlPlane,
  defaultBinDir,
  DEFAULT_CALICO,
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

/** The values of a cobra `__complete` answer (descriptions and the `:directive` line dropped). */
function candidates(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith(':') && !l.startsWith('Completion ended'))
    .map((l) => l.split('\t')[0]!);
}

function writeWrapper(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'kubectl-calico_tune');
  fs.writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${BIN_RUN}" "$@"\n`, { mode: 0o755 });
  return file;
}

describe('e2e: kubectl plugin', function () {
  // a control plane may take over 2 min to start while a 5,000-node fixture loads beside it (CI)
  this.timeout(300_000);
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

  /** `status -o json` read the 5-node fixture of this control plane. */
  const assertStatusOfFixture = (r: RunResult, what: string): void => {
    assert.equal(r.code, 0, describeRun(r, what));
    const rep = JSON.parse(r.stdout) as {
      kind: string;
      nodes: { total: number };
      source: { server: string };
    };
    assert.equal(rep.kind, 'StatusReport');
    assert.equal(rep.nodes.total, 5);
    assert.equal(rep.source.server, cp.server);
  };

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
      assertStatusOfFixture(r, 'kubectl calico-tune status');
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

  describe('the npm package (npm pack), its bin linked as npm links it', () => {
    let binDir: string;
    let cache: string;
    before(async function () {
      this.timeout(120_000);
      const pack = await run('npm', ['pack', REPO_ROOT, '--silent', '--pack-destination', tmp], {
        env: cliEnv(),
        timeoutMs: 90_000,
      });
      assert.equal(pack.code, 0, describeRun(pack, 'npm pack'));
      const tgz = path.join(tmp, pack.stdout.trim().split('\n').pop()!);
      const prefix = path.join(tmp, 'npm-global', 'lib', 'node_modules', 'kubectl-calico-tune');
      fs.mkdirSync(prefix, { recursive: true });
      // npm writes each file with the time it wrote it (pacote's noMtime), in the archive's order: the
      // manifest may well be newer than the bundle (tar -m: no times from the archive; the manifest last)
      const untar = await run('tar', ['xzmf', tgz, '-C', prefix, '--strip-components=1'], { env: cliEnv() });
      assert.equal(untar.code, 0, describeRun(untar, 'tar'));
      const later = new Date(Date.now() + 5_000);
      fs.utimesSync(path.join(prefix, 'oclif.manifest.json'), later, later);
      // the dependencies npm would install beside it
      fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(prefix, 'node_modules'));
      // npm's bin link: a relative symlink to the package's bin/run.js
      binDir = path.join(tmp, 'npm-global', 'bin');
      fs.mkdirSync(binDir);
      fs.symlinkSync(
        '../lib/node_modules/kubectl-calico-tune/bin/run.js',
        path.join(binDir, 'kubectl-calico_tune'),
      );
      cache = path.join(tmp, 'npm-cache-home');
    });

    it('runs the command through the bundle (bin/run.js as CommonJS) and its own code cache', async () => {
      const env = {
        PATH: pathWith(binDir),
        KUBECONFIG: cp.kubeconfig('plugin'),
        XDG_CACHE_HOME: cache,
        CALICO_TUNE_HTTP_STATS: 'trace',
      };
      const first = await kubectl(['calico-tune', 'status', '-o', 'json'], env);
      assertStatusOfFixture(first, 'kubectl calico-tune status (npm package)');
      // the 'command' mark is made by the bundle's entry (src/cli/standalone.ts), not on oclif's path
      assert.match(first.stderr, /calico-tune-http-stats .*"command"/, describeRun(first, 'stats'));
      const v8 = path.join(cache, 'calico-tune', 'v8');
      const files = fs.readdirSync(v8).filter((f) => f.startsWith('run.'));
      assert.equal(files.length, 1, files.join(' '));
      assert.match(files[0]!, /^run\.[0-9a-f]{8}\.[0-9a-f]{16}\.status\.v8$/);
      const written = fs.statSync(path.join(v8, files[0]!)).mtimeMs;
      const second = await kubectl(['calico-tune', 'status', '-o', 'json'], env);
      assertStatusOfFixture(second, 'kubectl calico-tune status (npm package, again)');
      assert.equal(fs.statSync(path.join(v8, files[0]!)).mtimeMs, written, 'cached data used, not rewritten');
      const help = await kubectl(['calico-tune', '--help'], env);
      assert.equal(help.code, 0, describeRun(help, 'kubectl calico-tune --help (npm package)'));
      assert.match(help.stdout, /USAGE/);
    });
  });

  describe('krew install of the single binary (npm run package), run without Node.js', () => {
    let home: string;
    let archive: string;
    let manifest: string;
    const krewRoot = (): string => path.join(home, '.krew');

    before(async function () {
      this.timeout(600_000); // a cold build compiles the binary (about 30 s); later runs reuse it (scripts/package.js)
      const pkg = await run(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package.js')], {
        timeoutMs: 590_000,
      });
      assert.equal(pkg.code, 0, describeRun(pkg, 'node scripts/package.js'));
      manifest = path.join(REPO_ROOT, 'dist', 'krew', 'calico-tune.yaml');
      const arch = KREW_ARCH[process.arch];
      assert.ok(arch, `no krew arch for ${process.arch}`);
      archive = path.join(
        REPO_ROOT,
        'dist',
        'krew',
        `kubectl-calico_tune-${process.platform}-${arch}.tar.gz`,
      );
      home = path.join(tmp, 'home');
      fs.mkdirSync(home, { recursive: true });
    });

    /** Only the krew bin dir, kubectl's and kubectl-krew's: no node on it (checked below). */
    const bare = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      PATH: [path.join(krewRoot(), 'bin'), cp.bin, defaultBinDir()].join(path.delimiter),
      HOME: home,
      ...extra,
    });
    const kubectlBare = (args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> =>
      run(path.join(cp.bin, 'kubectl'), args, { env, timeoutMs: 90_000 });

    it('the manifest is a krew Plugin with a v-semver, and the sha256 of the archive', () => {
      const m = yaml.load(fs.readFileSync(manifest, 'utf8')) as {
        apiVersion: string;
        kind: string;
        metadata: { name: string };
        spec: {
          version: string;
          platforms: {
            selector: { matchLabels: { os: string; arch: string } };
            uri: string;
            sha256: string;
            bin: string;
            files: { from: string; to: string }[];
          }[];
        };
      };
      assert.equal(m.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
      assert.equal(m.kind, 'Plugin');
      assert.equal(m.metadata.name, 'calico-tune');
      assert.match(m.spec.version, /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
      const p = m.spec.platforms.find(
        (x) =>
          x.selector.matchLabels.os === process.platform &&
          x.selector.matchLabels.arch === KREW_ARCH[process.arch],
      );
      assert.ok(p, 'a platform entry for this machine');
      assert.equal(p.bin, 'kubectl-calico_tune');
      assert.equal(p.sha256, crypto.createHash('sha256').update(fs.readFileSync(archive)).digest('hex'));
      assert.ok(p.uri.endsWith(path.basename(archive)), p.uri);
      assert.deepEqual(p.files.map((f) => f.from).sort(), [
        'LICENSE',
        'NOTICE',
        'kubectl-calico_tune',
        'kubectl_complete-calico_tune',
      ]);
    });

    it('the PATH of these runs holds no node', async () => {
      const r = await run('/bin/sh', ['-c', 'command -v node || echo none'], { env: bare() });
      assert.equal(r.stdout.trim(), 'none', describeRun(r, 'command -v node'));
    });

    it('refuses an archive whose sha256 does not match the manifest', async () => {
      const bad = path.join(tmp, 'bad-sha', 'calico-tune.yaml');
      fs.mkdirSync(path.dirname(bad), { recursive: true });
      fs.writeFileSync(
        bad,
        fs.readFileSync(manifest, 'utf8').replace(/sha256: "[0-9a-f]{64}"/g, `sha256: "${'0'.repeat(64)}"`),
      );
      const r = await kubectlBare(['krew', 'install', `--manifest=${bad}`, `--archive=${archive}`], {
        ...bare(),
        HOME: path.join(tmp, 'home-bad'),
      });
      assert.notEqual(r.code, 0, describeRun(r, 'krew install with a wrong sha256'));
      assert.match(r.stderr + r.stdout, /sha256|checksum|hash/i);
    });

    it('kubectl krew install --manifest --archive installs the binary into ~/.krew', async () => {
      const inst = await kubectlBare(
        ['krew', 'install', `--manifest=${manifest}`, `--archive=${archive}`],
        bare({ KREW_NO_UPGRADE_CHECK: '1' }),
      );
      assert.equal(inst.code, 0, describeRun(inst, 'kubectl krew install'));
      const link = path.join(krewRoot(), 'bin', 'kubectl-calico_tune');
      assert.ok(fs.existsSync(link), `${link} exists`);
      const real = fs.realpathSync(link);
      assert.ok(real.startsWith(path.join(krewRoot(), 'store', 'calico-tune', 'v')), real);
      // one executable, not a script that needs an interpreter
      assert.equal(fs.readFileSync(real).subarray(0, 4).toString('latin1'), '\x7fELF');
      const help = await kubectlBare(['calico-tune', '--help'], bare());
      assert.equal(help.code, 0, describeRun(help, 'kubectl calico-tune --help'));
      assert.match(help.stdout, /kubectl calico-tune/);
      assert.match(help.stdout, /status/);
    });

    it('kubectl calico-tune status works with only PATH (no node), HOME and KUBECONFIG set', async () => {
      const env = bare({ KUBECONFIG: cp.kubeconfig('plugin') });
      assert.deepEqual(Object.keys(env).sort(), ['HOME', 'KUBECONFIG', 'PATH']);
      const r = await kubectlBare(['calico-tune', 'status', '-o', 'json'], env);
      assertStatusOfFixture(r, 'kubectl calico-tune status (krew binary)');
      // nothing on stderr: Bun's HTTP/2 client hung each stream's timeout on the session, and the 17 reads of a
      // status printed a MaxListenersExceededWarning (and left a listener per request on the session)
      assert.equal(r.stderr, '', describeRun(r, 'stderr of kubectl calico-tune status (krew binary)'));
      const human = await kubectlBare(['calico-tune', 'status'], env);
      assert.equal(human.code, 0, describeRun(human, 'kubectl calico-tune status (table)'));
      assert.match(human.stdout, /NODES\s+5 total/);
    });

    it('monitoring plan --dashboards -o yaml: the binary carries the dashboards (and their notice) and plans the ConfigMap the npm build plans', async () => {
      const args = ['monitoring', 'plan', '--dashboards', '--namespace', 'default', '-o', 'yaml'];
      const bin = await kubectlBare(['calico-tune', ...args], bare({ KUBECONFIG: cp.kubeconfig('plugin') }));
      const node = await run(process.execPath, [BIN_RUN, ...args], {
        env: cliEnv({ kubeconfig: cp.kubeconfig('plugin') }),
      });
      type Step = { manifest?: { kind: string; data?: Record<string, string> } };
      const configMap = (r: RunResult, what: string) => {
        assert.equal(r.code, 0, describeRun(r, what));
        const plan = yaml.load(r.stdout) as { kind: string; steps: Step[] };
        assert.equal(plan.kind, 'Plan', what);
        const cm = plan.steps.find((st) => st.manifest?.kind === 'ConfigMap')?.manifest;
        assert.ok(cm, `${what}: a ConfigMap step`);
        return cm;
      };
      const fromBin = configMap(bin, 'kubectl calico-tune monitoring plan --dashboards (krew binary)');
      assert.deepEqual(fromBin, configMap(node, 'monitoring plan --dashboards (node bin/run.js)'));
      assert.deepEqual(Object.keys(fromBin.data ?? {}).sort(), [
        'felix-dashboard.json',
        'kube-controllers-dashboard.json',
        'typha-dashboard.json',
      ]);
      // Calico's dashboard, whole: v3.31.3's Felix dashboard with its datasources templated
      const shipped = JSON.parse(
        fs.readFileSync(path.join(REPO_ROOT, 'assets', 'grafana', 'v3.31.3', 'felix-dashboard.json'), 'utf8'),
      ) as { title: string; panels: unknown[] };
      const felix = JSON.parse(fromBin.data!['felix-dashboard.json']!) as typeof shipped;
      assert.equal(felix.title, shipped.title);
      assert.equal(felix.panels.length, shipped.panels.length);
      // the Apache-2.0 notice of those files is in the binary too (and in the archive, above)
      const notice = fs.readFileSync(path.join(REPO_ROOT, 'assets', 'grafana', 'NOTICE'), 'utf8');
      const real = fs.realpathSync(path.join(krewRoot(), 'bin', 'kubectl-calico_tune'));
      assert.ok(fs.readFileSync(real).includes(notice.split('\n')[0]!), 'the NOTICE text is in the binary');
    });

    it('kubectl calico-tune version: the plugin, Kubernetes and Calico versions of the test cluster (-o json)', async () => {
      const r = await kubectlBare(
        ['calico-tune', 'version', '-o', 'json'],
        bare({ KUBECONFIG: cp.kubeconfig('plugin') }),
      );
      assert.equal(r.code, 0, describeRun(r, 'kubectl calico-tune version -o json'));
      const v = JSON.parse(r.stdout) as {
        kind: string;
        plugin: { version: string; runtime: string };
        cluster: { server: string; kubernetesVersion: string; calico: { version: string } };
      };
      const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      assert.equal(v.kind, 'Version');
      assert.equal(v.plugin.version, `v${pkg.version}`);
      assert.match(v.plugin.runtime, /^single binary/);
      assert.equal(v.cluster.server, cp.server);
      assert.equal(v.cluster.kubernetesVersion, cp.serverVersion);
      const calico = cp.calico ?? DEFAULT_CALICO; // what loadFixture generated
      assert.equal(v.cluster.calico.version, calico);
      const human = await kubectlBare(
        ['calico-tune', 'version'],
        bare({ KUBECONFIG: cp.kubeconfig('plugin') }),
      );
      assert.match(human.stdout, new RegExp(`^Calico: +${calico.replace(/\./g, '\\.')} `, 'm'));
    });

    it('did you mean: stauts -> status, rr promot -> rr promote (no oclif "rr:promot"), node-a-06 -> node names', async () => {
      const env = bare({ KUBECONFIG: cp.kubeconfig('plugin') });
      const typo = await kubectlBare(['calico-tune', 'stauts'], env);
      assert.equal(typo.code, 2, describeRun(typo, 'kubectl calico-tune stauts'));
      assert.match(typo.stderr, /^error: unknown command "stauts"/m);
      assert.match(typo.stderr, /did you mean: status\?/);
      const sub = await kubectlBare(['calico-tune', 'rr', 'promot', 'node-a-002'], env);
      assert.equal(sub.code, 2, describeRun(sub, 'kubectl calico-tune rr promot'));
      assert.match(sub.stderr, /did you mean: rr promote\?/);
      assert.doesNotMatch(sub.stderr, /rr:promot/);
      const node = await kubectlBare(['calico-tune', 'rr', 'promote', 'node-a-02', '--dry-run'], env);
      assert.equal(node.code, 2, describeRun(node, 'kubectl calico-tune rr promote node-a-02'));
      assert.match(node.stderr, /node "node-a-02" does not exist/);
      assert.match(node.stderr, /did you mean: node-a-002/);
    });

    it('the binary keeps the exit codes: 2 and a one-line error for an unknown context', async () => {
      const r = await kubectlBare(
        ['calico-tune', 'status', '--context', 'nope'],
        bare({ KUBECONFIG: cp.kubeconfigAll }),
      );
      assert.equal(r.code, 2, describeRun(r, 'kubectl calico-tune status --context nope'));
      assert.match(r.stderr, /^error: .*nope/m);
    });

    it('completion install puts kubectl_complete-calico_tune next to the krew link; kubectl completes through it', async () => {
      const inst = await kubectlBare(['calico-tune', 'completion', 'install'], bare());
      assert.equal(inst.code, 0, describeRun(inst, 'kubectl calico-tune completion install'));
      const helper = path.join(krewRoot(), 'bin', 'kubectl_complete-calico_tune');
      assert.ok(fs.existsSync(helper), `${helper} written`);
      const env = bare({ KUBECONFIG: cp.kubeconfig('plugin') });
      // commands, from kubectl's own __complete
      const cmds = await kubectlBare(['__complete', 'calico-tune', 'rr', 'pro'], env);
      assert.equal(cmds.code, 0, describeRun(cmds, 'kubectl __complete calico-tune rr pro'));
      assert.deepEqual(candidates(cmds.stdout), ['promote']);
      // node names, read from the cluster: those kubectl lists, starting with the typed prefix
      const get = await kubectlBare(['get', 'nodes', '-o', 'name'], env);
      const want = get.stdout
        .split('\n')
        .map((l) => l.replace(/^node\//, ''))
        .filter((n) => n.startsWith('node-a-0'))
        .sort();
      assert.ok(want.length > 0, describeRun(get, 'kubectl get nodes'));
      const nodes = await kubectlBare(['__complete', 'calico-tune', 'rr', 'promote', 'node-a-0'], env);
      assert.equal(nodes.code, 0, describeRun(nodes, 'kubectl __complete calico-tune rr promote node-a-0'));
      assert.deepEqual(candidates(nodes.stdout), want);
      assert.match(nodes.stdout, /^:4$/m);
      // -o values
      const out = await kubectlBare(['__complete', 'calico-tune', 'status', '-o', ''], env);
      assert.deepEqual(candidates(out.stdout), ['table', 'wide', 'json', 'yaml']);
    });

    it('krew list shows it, and kubectl krew uninstall removes it', async () => {
      // list/uninstall insist on an initialised index (a git clone); an empty local repository will do offline
      const git = await run('git', ['init', '-q', path.join(krewRoot(), 'index', 'default')]);
      assert.equal(git.code, 0, describeRun(git, 'git init'));
      const list = await kubectlBare(['krew', 'list'], bare({ KREW_NO_UPGRADE_CHECK: '1' }));
      assert.equal(list.code, 0, describeRun(list, 'kubectl krew list'));
      assert.match(list.stdout, /calico-tune/);
      const r = await kubectlBare(['krew', 'uninstall', 'calico-tune'], bare({ KREW_NO_UPGRADE_CHECK: '1' }));
      assert.equal(r.code, 0, describeRun(r, 'kubectl krew uninstall'));
      assert.ok(!fs.existsSync(path.join(krewRoot(), 'bin', 'kubectl-calico_tune')));
      assert.ok(!fs.existsSync(path.join(krewRoot(), 'store', 'calico-tune')));
      fs.rmSync(path.join(krewRoot(), 'bin', 'kubectl_complete-calico_tune'), { force: true });
      const gone = await kubectlBare(['calico-tune', '--help'], bare());
      assert.notEqual(gone.code, 0);
    });
  });

  describe('completion through kubectl of reflector and node names (rr demote, rr replace)', () => {
    let pluginDir: string;
    before(async () => {
      await loadFixture(cp, { nodes: 8, rrs: 2 });
      pluginDir = path.join(tmp, 'completion-bin');
      writeWrapper(pluginDir);
      const r = await run(process.execPath, [BIN_RUN, 'completion', 'install', '--dir', pluginDir]);
      assert.equal(r.code, 0, describeRun(r, 'completion install --dir'));
    });
    const complete = async (...words: string[]): Promise<RunResult> => {
      const r = await kubectl(['__complete', 'calico-tune', ...words], {
        PATH: pathWith(pluginDir),
        KUBECONFIG: cp.kubeconfig('plugin'),
      });
      assert.equal(r.code, 0, describeRun(r, `kubectl __complete calico-tune ${words.join(' ')}`));
      return r;
    };

    it('rr demote offers only the reflectors; rr promote only the other nodes', async () => {
      const list = await run(process.execPath, [BIN_RUN, 'rr', 'list', '-o', 'json'], {
        env: cliEnv({ kubeconfig: cp.kubeconfig('plugin') }),
      });
      const doc = JSON.parse(list.stdout) as { routeReflectors: { node: string }[] };
      const rrs = doc.routeReflectors.map((r) => r.node).sort();
      assert.equal(rrs.length, 2);
      assert.deepEqual(candidates((await complete('rr', 'demote', '')).stdout), rrs);
      const promote = candidates((await complete('rr', 'promote', 'node-')).stdout);
      assert.equal(promote.length, 8 - 2, promote.join(' '));
      for (const r of rrs) assert.ok(!promote.includes(r), `${r} is not offered for promotion`);
    });

    it('rr replace: the old reflector first, then a node that is not one; a variadic list skips names typed', async () => {
      const rrs = candidates((await complete('rr', 'replace', '')).stdout);
      assert.equal(rrs.length, 2);
      const next = candidates((await complete('rr', 'replace', rrs[0]!, '')).stdout);
      assert.ok(next.length > 0 && !next.some((n) => rrs.includes(n)), next.join(' '));
      const second = candidates((await complete('rr', 'demote', rrs[0]!, '')).stdout);
      assert.deepEqual(second, [rrs[1]]);
    });

    it('plan files: apply -f asks the shell for yaml/json files; unknown words get nothing', async () => {
      const r = await complete('apply', '-f', '');
      assert.deepEqual(candidates(r.stdout), ['yaml', 'yml', 'json']);
      assert.match(r.stdout, /^:8$/m);
      assert.deepEqual(candidates((await complete('stauts', '')).stdout), []);
    });

    it('an unreachable API server gives no candidates, not an error', async () => {
      const bad = path.join(tmp, 'unreachable.kubeconfig');
      fs.writeFileSync(
        bad,
        fs.readFileSync(cp.kubeconfig('plugin'), 'utf8').replace(/server: .*/, 'server: https://127.0.0.1:1'),
      );
      const r = await kubectl(['__complete', 'calico-tune', 'rr', 'promote', ''], {
        PATH: pathWith(pluginDir),
        KUBECONFIG: bad,
      });
      assert.equal(r.code, 0, describeRun(r, 'kubectl __complete against an unreachable server'));
      assert.deepEqual(candidates(r.stdout), []);
    });
  });
});
