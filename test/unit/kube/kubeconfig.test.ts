import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from '../../../src/errors.js';
import { parseDuration, resolveKubeconfig } from '../../../src/kube/kubeconfig.js';

function write(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

describe('kube/kubeconfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-kubeconfig-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const a = `apiVersion: v1
kind: Config
current-context: ctx-a
clusters:
- name: shared
  cluster: {server: https://a.example:6443, certificate-authority: certs/ca.crt}
users:
- name: shared
  user: {token: token-from-a}
contexts:
- name: ctx-a
  context: {cluster: shared, user: shared, namespace: team-a}
`;
  const b = `apiVersion: v1
kind: Config
current-context: ctx-b
clusters:
- name: shared
  cluster: {server: https://b.example:6443}
- name: only-b
  cluster: {server: https://only-b.example:6443, insecure-skip-tls-verify: true}
users:
- name: shared
  user: {token: token-from-b}
- name: exec-user
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/get-token, args: [--cluster, x], env: [{name: FOO, value: bar}]}
contexts:
- name: ctx-a
  context: {cluster: only-b, user: exec-user}
- name: ctx-b
  context: {cluster: only-b, user: exec-user}
`;

  it('merges KUBECONFIG files as kubectl does: the first definition and the first current-context win', () => {
    write(dir, 'certs/ca.crt', 'CA-PEM');
    const fa = write(dir, 'a.yaml', a);
    const fb = write(dir, 'sub/b.yaml', b);
    const r = resolveKubeconfig({}, { KUBECONFIG: `${fa}${path.delimiter}${fb}`, HOME: dir });
    assert.equal(r.contextName, 'ctx-a');
    assert.equal(r.server, 'https://a.example:6443');
    assert.equal(r.token, 'token-from-a');
    assert.equal(r.namespace, 'team-a');
    assert.equal(r.ca?.toString(), 'CA-PEM', 'relative CA path resolved against the file that defines it');
  });

  it('selects another context, resolves exec commands relative to their file, and skips missing files', () => {
    const fa = write(dir, 'a.yaml', a);
    const fb = write(dir, 'sub/b.yaml', b);
    const r = resolveKubeconfig(
      { context: 'ctx-b' },
      { KUBECONFIG: [path.join(dir, 'missing.yaml'), fa, fb].join(path.delimiter), HOME: dir },
    );
    assert.equal(r.server, 'https://only-b.example:6443');
    assert.equal(r.insecureSkipTlsVerify, true);
    assert.equal(r.exec?.command, path.join(dir, 'sub', 'bin', 'get-token'));
    assert.deepEqual(r.exec?.args, ['--cluster', 'x']);
    assert.deepEqual(r.exec?.env, [{ name: 'FOO', value: 'bar' }]);
    assert.equal(r.namespace, 'default');
  });

  it('applies kubectl flag overrides', () => {
    const fa = write(dir, 'a.yaml', a);
    write(dir, 'certs/ca.crt', 'CA');
    write(dir, 'other-ca.crt', 'OTHER');
    const r = resolveKubeconfig(
      {
        kubeconfig: fa,
        server: 'https://override:443',
        token: 't2',
        as: 'jane',
        asGroups: ['g1', 'g2'],
        namespace: 'ns1',
        certificateAuthority: path.join(dir, 'other-ca.crt'),
        insecureSkipTlsVerify: true,
      },
      { HOME: dir },
    );
    assert.equal(r.server, 'https://override:443');
    assert.equal(r.token, 't2');
    assert.equal(r.impersonateUser, 'jane');
    assert.deepEqual(r.impersonateGroups, ['g1', 'g2']);
    assert.equal(r.namespace, 'ns1');
    assert.equal(r.ca?.toString(), 'OTHER');
    assert.equal(r.insecureSkipTlsVerify, true);
  });

  it('refuses bad input with exit code 2 and a message naming the problem', () => {
    const fa = write(dir, 'a.yaml', a);
    write(dir, 'certs/ca.crt', 'CA');
    const err = (f: () => unknown): CliError => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof CliError);
        return e;
      }
      assert.fail('expected an error');
    };
    const e1 = err(() => resolveKubeconfig({ kubeconfig: fa, context: 'nope' }, { HOME: dir }));
    assert.equal(e1.exitCode, 2);
    assert.match(e1.message, /context "nope" does not exist/);
    assert.match(e1.hints.join(' '), /ctx-a/);
    assert.equal(
      err(() => resolveKubeconfig({ kubeconfig: path.join(dir, 'nope.yaml') }, { HOME: dir })).exitCode,
      2,
    );
    assert.equal(
      err(() => resolveKubeconfig({ kubeconfig: fa, asGroups: ['g'] }, { HOME: dir })).exitCode,
      2,
    );
    write(dir, 'bad.yaml', 'clusters: [');
    assert.match(
      err(() => resolveKubeconfig({ kubeconfig: path.join(dir, 'bad.yaml') }, { HOME: dir })).message,
      /not valid YAML/,
    );
    assert.match(
      err(() => resolveKubeconfig({}, { HOME: path.join(dir, 'empty-home') })).message,
      /no kubeconfig found/,
    );
  });

  it('parses --request-timeout durations', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('45'), 45_000);
    assert.throws(() => parseDuration('soon'), CliError);
  });
});
