/**
 * Hostile files through the real CLI (offline, no control plane): a 500-byte YAML alias bomb as `--snapshot`
 * and as a plan file (`apply -f`, `migrate apply -f`) exits 2 at once with a clear message, before anything
 * connects to a cluster; a 500,000-object snapshot runs `status` without a stack overflow.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { snapshotToList } from '../../src/kube/snapshot.js';
import { generateCluster } from '../fixtures/generate.js';
import { parseSnapshot } from '../../src/model/parse.js';
import { runCli, describeRun } from '../harness/index.js';

function aliasBomb(head: string[]): string {
  const lines = [...head, 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let prev = 'a';
  for (const name of 'bcdefghi') {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    prev = name;
  }
  return `${lines.join('\n')}\n`;
}

describe('hostile files through the CLI', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-hostile-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a YAML alias bomb as --snapshot exits 2 (walked, it would never end), naming the anchor', async () => {
    const file = path.join(dir, 'bomb.yaml');
    fs.writeFileSync(file, aliasBomb(['apiVersion: v1', 'kind: List', 'items: []']));
    assert.ok(fs.statSync(file).size < 500);
    for (const args of [
      ['status', '--snapshot', file],
      ['bgp', 'topology', '--snapshot', file],
      ['migrate', 'plan', '--to', 'route-reflectors', '--snapshot', file],
    ]) {
      const r = await runCli(args, { timeoutMs: 20_000 });
      assert.equal(r.code, 2, describeRun(r, args.join(' ')));
      assert.match(r.stderr, /YAML anchors and aliases are not accepted \(anchor "&a"/);
    }
  });

  it('a YAML alias bomb as a plan file exits 2 before connecting anywhere', async () => {
    const file = path.join(dir, 'bomb-plan.yaml');
    fs.writeFileSync(file, aliasBomb(['apiVersion: calico-tune/v1', 'kind: Plan']));
    for (const cmd of [['apply'], ['migrate', 'apply']]) {
      // a server nobody listens on: the file must be refused before any connection is tried
      const args = [...cmd, '-f', file, '--yes', '--server', 'https://127.0.0.1:1', '--token', 't'];
      const r = await runCli(args, { timeoutMs: 20_000 });
      assert.equal(r.code, 2, describeRun(r, args.join(' ')));
      assert.match(r.stderr, /plan file .*bomb-plan\.yaml: YAML anchors and aliases are not accepted/);
      assert.doesNotMatch(r.stderr, /connection refused/);
    }
  });

  it('a 500,000-object snapshot runs status without a stack overflow', async () => {
    const N = 500_000;
    const cluster = generateCluster({ nodes: 12, zones: 3 });
    const list = snapshotToList(
      parseSnapshot(cluster, { kind: 'file', path: 'x', capturedAt: new Date().toISOString() }),
    ) as {
      items: unknown[];
    };
    const base = list.items.length;
    const file = path.join(dir, 'huge.json');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, `{"apiVersion":"v1","kind":"List","items":[`);
    fs.writeSync(fd, list.items.map((o) => JSON.stringify(o)).join(','));
    let chunk: string[] = [];
    for (let i = base; i < N; i++) {
      chunk.push(`,{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c${i}","namespace":"default"}}`);
      if (chunk.length >= 10_000) {
        fs.writeSync(fd, chunk.join(''));
        chunk = [];
      }
    }
    fs.writeSync(fd, `${chunk.join('')}]}`);
    fs.closeSync(fd);
    const r = await runCli(['status', '--snapshot', file, '-o', 'json'], { timeoutMs: 100_000 });
    assert.ok(r.code === 0 || r.code === 1, describeRun(r, 'status on 500,000 objects'));
    assert.doesNotMatch(r.stderr, /call stack/);
    assert.equal(r.json<{ nodes: { total: number } }>().nodes.total, 12);
  });
});
