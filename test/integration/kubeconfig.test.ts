/**
 * Credentials and kubeconfig handling against the real API server, as kubectl does them: exec credential
 * plugins, token files, several KUBECONFIG files, --server/--token/--certificate-authority/--insecure flags,
 * and impersonation with --as/--as-group (checked through the audit log).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { controlPlane, loadFixture, runCli, USERS, type ControlPlane } from '../harness/index.js';

function kubeconfig(
  server: string,
  ca: string | undefined,
  user: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'c',
        cluster: { server, ...(ca ? { 'certificate-authority': ca } : { 'insecure-skip-tls-verify': true }) },
      },
    ],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
    ...extra,
  });
}

describe('kubeconfig and credentials against the real API server', function () {
  // a control plane may take over 2 min to start while a 5,000-node fixture loads beside it (CI)
  this.timeout(300_000);
  let cp: ControlPlane;
  let dir: string;
  let ca: string;
  before(async () => {
    cp = await controlPlane();
    await loadFixture(cp, { nodes: 3, zones: 1 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-kc-'));
    ca = path.join(cp.dir, 'pki', 'apiserver.crt');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const nodes = async (args: string[], env?: NodeJS.ProcessEnv): Promise<number> => {
    const r = await runCli(['status', '-o', 'json', ...args], { env });
    assert.ok(r.code === 0 || r.code === 1, `${args.join(' ')}: ${r.stderr}`);
    return r.json<{ nodes: { total: number } }>().nodes.total;
  };

  it('runs an exec credential plugin (client.authentication.k8s.io/v1) and uses its token', async () => {
    const plugin = path.join(dir, 'get-token.mjs');
    const seen = path.join(dir, 'exec-info.json');
    fs.writeFileSync(
      plugin,
      `import fs from 'node:fs';
fs.writeFileSync(${JSON.stringify(seen)}, process.env.KUBERNETES_EXEC_INFO ?? '');
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: ${JSON.stringify(cp.token('plugin'))} } }));`,
    );
    const kc = path.join(dir, 'exec.yaml');
    fs.writeFileSync(
      kc,
      kubeconfig(cp.server, ca, {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: [plugin],
          interactiveMode: 'Never',
        },
      }),
    );
    assert.equal(await nodes(['--kubeconfig', kc]), 3);
    const info = JSON.parse(fs.readFileSync(seen, 'utf8')) as {
      kind: string;
      spec: { interactive: boolean };
    };
    assert.equal(info.kind, 'ExecCredential');
    assert.equal(info.spec.interactive, false);
    // a plugin that fails: exit 3 with its name
    fs.writeFileSync(
      kc,
      kubeconfig(cp.server, ca, {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: ['-e', 'process.exit(7)'],
        },
      }),
    );
    const r = await runCli(['status', '--kubeconfig', kc]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /exec credential plugin .* exited with code 7/);
  });

  it('reads a tokenFile relative to the kubeconfig', async () => {
    fs.mkdirSync(path.join(dir, 'secrets'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'secrets', 'token'), `${cp.token('readonly')}\n`);
    const kc = path.join(dir, 'tokenfile.yaml');
    fs.writeFileSync(kc, kubeconfig(cp.server, ca, { tokenFile: 'secrets/token' }));
    assert.equal(await nodes(['--kubeconfig', kc]), 3);
  });

  it('merges several KUBECONFIG files: the first current-context and the first definition win', async () => {
    const first = path.join(dir, 'first.yaml');
    const second = path.join(dir, 'second.yaml');
    // the first file names a context defined only in the second; the second also points "c" elsewhere
    fs.writeFileSync(
      first,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'x',
        clusters: [{ name: 'c', cluster: { server: cp.server, 'certificate-authority': ca } }],
      }),
    );
    fs.writeFileSync(
      second,
      kubeconfig(
        'https://127.0.0.1:1',
        undefined,
        { token: cp.token('plugin') },
        { 'current-context': 'elsewhere' },
      ),
    );
    assert.equal(await nodes([], { KUBECONFIG: [first, second].join(path.delimiter) }), 3);
  });

  it('applies --server, --token, --certificate-authority and --insecure-skip-tls-verify like kubectl', async () => {
    const empty = path.join(dir, 'empty.yaml');
    fs.writeFileSync(
      empty,
      yaml.dump({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }),
    );
    assert.equal(
      await nodes([
        '--kubeconfig',
        empty,
        '--server',
        cp.server,
        '--token',
        cp.token('plugin'),
        '--certificate-authority',
        ca,
      ]),
      3,
    );
    assert.equal(
      await nodes([
        '--kubeconfig',
        empty,
        '--server',
        cp.server,
        '--token',
        cp.token('plugin'),
        '--insecure-skip-tls-verify',
      ]),
      3,
    );
    const noCa = await runCli([
      'status',
      '--kubeconfig',
      empty,
      '--server',
      cp.server,
      '--token',
      cp.token('plugin'),
    ]);
    assert.equal(noCa.code, 3, noCa.stderr);
    assert.match(noCa.stderr, /TLS verification failed|self.signed|certificate/i);
    const badToken = await runCli([
      'status',
      '--kubeconfig',
      empty,
      '--server',
      cp.server,
      '--token',
      'wrong',
      '--insecure-skip-tls-verify',
    ]);
    assert.equal(badToken.code, 3);
    assert.match(badToken.stderr, /401 Unauthorized/);
    // the token of --token is the one refused, not the kubeconfig's user (an operator trial)
    const theirs = await runCli(['status', '--token', 'wrong', '--insecure-skip-tls-verify'], {
      kubeconfig: cp.kubeconfig('readonly'),
    });
    assert.equal(theirs.code, 3);
    assert.match(theirs.stderr, /rejected the token given with --token \(401 Unauthorized\)/);
    assert.doesNotMatch(theirs.stderr, /user "/);
  });

  it('connects to a host name and checks the certificate against tls-server-name, as kubectl does', async () => {
    // the HTTP/2 connection resolves the name and builds its TLS context meanwhile, then starts TLS on the
    // connected socket (src/kube/http.ts): the server's certificate names kubernetes and 127.0.0.1, not localhost
    const port = new URL(cp.server).port;
    const token = cp.token('plugin');
    const write = (name: string, extra: Record<string, unknown>): string => {
      const f = path.join(dir, `${name}.yaml`);
      const doc = yaml.load(kubeconfig(`https://localhost:${port}`, ca, { token })) as {
        clusters: { cluster: Record<string, unknown> }[];
      };
      Object.assign(doc.clusters[0]!.cluster, extra);
      fs.writeFileSync(f, yaml.dump(doc));
      return f;
    };
    assert.equal(await nodes(['--kubeconfig', write('sni-good', { 'tls-server-name': 'kubernetes' })]), 3);
    for (const [name, extra] of [
      ['sni-wrong', { 'tls-server-name': 'wrong.example' }],
      ['sni-none', {}], // the host name itself, which the certificate does not name
    ] as const) {
      const r = await runCli(['status', '--kubeconfig', write(name, extra)]);
      assert.equal(r.code, 3, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /TLS verification failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/, name);
    }
  });

  it('impersonates with --as and --as-group (several groups sent as separate headers)', async () => {
    const mark = cp.audit.mark();
    // the impersonated identity is what the server authorises: as the read-only user, a write is refused
    const w = await runCli([
      'rr',
      'promote',
      'node-cp-a1',
      '--yes',
      '--kubeconfig',
      cp.kubeconfig('admin'),
      '--as',
      USERS.readonly.name,
      '--as-group',
      'calico-tune:viewers',
      '--as-group',
      'system:authenticated',
    ]);
    assert.equal(w.code, 3, w.stderr);
    assert.match(w.stderr, /user "calico-tune-readonly" may not .*patch nodes/);
    const reviews = (
      await cp.audit.writesSince(mark, { user: USERS.admin.name, includeReviews: true })
    ).filter((e) => e.objectRef?.resource === 'selfsubjectaccessreviews');
    assert.ok(reviews.length > 0, 'access reviews were made');
    for (const e of reviews) {
      assert.equal(e.impersonatedUser?.username, USERS.readonly.name);
      assert.deepEqual([...(e.impersonatedUser?.groups ?? [])].sort(), [
        'calico-tune:viewers',
        'system:authenticated',
      ]);
    }
    const writes = await cp.audit.writesSince(mark, { user: USERS.admin.name });
    assert.deepEqual(writes, [], 'nothing was written');
  });
});
