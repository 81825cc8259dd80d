/**
 * Files a user (or an attacker) hands the tool: YAML alias bombs in snapshots and plans are refused fast
 * (exit 2), a snapshot of 500,000 objects loads without overflowing the stack, and ordinary YAML still loads.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { CliError, ExitCode } from '../../../src/errors.js';
import { readSnapshotFile, snapshotToList } from '../../../src/kube/snapshot.js';
import { append, maxOf, minOf } from '../../../src/model/arrays.js';
import { loadAllNoAliases, loadNoAliases, YamlAnchorError } from '../../../src/model/yaml.js';
import { parsePlan } from '../../../src/plan/file.js';
import { objects, snapshotOf } from '../helpers.js';

/** The classic "billion laughs": 9 levels of 9 aliases, about 500 bytes, 9^9 = 387 million leaves. */
export function aliasBomb(head = ''): string {
  const lines = [head, 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let prev = 'a';
  for (const name of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    prev = name;
  }
  return `${lines.filter(Boolean).join('\n')}\n`;
}

function isUsage(re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof CliError, `a CliError, got ${String(e)}`);
    assert.equal(e.exitCode, ExitCode.USAGE);
    assert.match(e.message, re);
    return true;
  };
}

describe('hostile input', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-hostile-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('YAML anchors and aliases', () => {
    it('the bomb is small, and plain js-yaml would accept it (so the guard is what refuses it)', () => {
      const bomb = aliasBomb();
      assert.ok(bomb.length < 600, `${bomb.length} bytes`);
      const doc = yaml.load(bomb) as Record<string, unknown[]>;
      assert.equal(doc['i']!.length, 9, 'js-yaml loads it: the cost comes when the result is walked');
    });

    it('a snapshot file with the alias bomb is refused before it is walked (exit 2), naming the anchor', () => {
      const file = path.join(dir, 'bomb-snapshot.yaml');
      fs.writeFileSync(file, aliasBomb('apiVersion: v1\nkind: List\nitems: []'));
      const heap = process.memoryUsage().heapUsed;
      assert.throws(() => readSnapshotFile(file), isUsage(/anchors and aliases are not accepted.*&a/));
      assert.ok(process.memoryUsage().heapUsed - heap < 20e6, 'and with little memory');
    });

    it('an alias inside a Kubernetes object (a merge key reusing labels) is refused too', () => {
      const file = path.join(dir, 'merge-key.yaml');
      fs.writeFileSync(
        file,
        `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: a
    labels: &l {zone: z1}
- apiVersion: v1
  kind: Node
  metadata:
    name: b
    labels:
      <<: *l
`,
      );
      assert.throws(() => readSnapshotFile(file), isUsage(/anchor "&l"/));
    });

    it('an alias with no anchor is a plain YAML error (exit 2)', () => {
      const file = path.join(dir, 'dangling.yaml');
      fs.writeFileSync(file, 'apiVersion: v1\nkind: List\nitems: *nothing\n');
      assert.throws(() => readSnapshotFile(file), isUsage(/not valid YAML/));
    });

    it('a plan file with the alias bomb is refused before it is walked (exit 2)', () => {
      const text = aliasBomb('apiVersion: calico-tune/v1\nkind: Plan');
      assert.throws(() => parsePlan(text, 'plan file p.yaml'), isUsage(/plan file p.yaml: YAML anchors/));
    });

    it('ordinary YAML still loads: a multi-document stream, strings holding "&" and "*", a kubectl List', () => {
      const docs = loadAllNoAliases(
        'a: "x & y"\nb: "*not-an-alias"\nc: [1, 2]\n---\nd: plain & text\ne: 2*3\n',
      );
      assert.deepEqual(docs, [
        { a: 'x & y', b: '*not-an-alias', c: [1, 2] },
        { d: 'plain & text', e: '2*3' },
      ]);
      assert.deepEqual(loadNoAliases('k: v'), { k: 'v' });
      assert.throws(() => loadNoAliases('a: &x 1\nb: *x\n'), YamlAnchorError);

      const items = objects({ nodes: 12, zones: 3, rrs: 2 });
      const file = path.join(dir, 'ok.yaml');
      fs.writeFileSync(file, yaml.dump(snapshotToList(snapshotOf(items)), { noRefs: true }));
      const s = readSnapshotFile(file);
      assert.equal(s.nodes.length, 12);
      assert.equal(s.nodes.filter((n) => n.bgp.rrClusterId).length, 2);
    });

    it('the shipped YAML examples still load', () => {
      const examples = path.resolve('examples');
      const yamls = fs.readdirSync(examples).filter((f) => f.endsWith('.yaml'));
      assert.ok(yamls.length > 0);
      for (const f of yamls) assert.ok(readSnapshotFile(path.join(examples, f)).nodes.length > 0, f);
    });
  });

  describe('very large snapshots', () => {
    it('a 500,000-object snapshot (JSON List) loads through the real parse path without a stack overflow', () => {
      const N = 500_000;
      const NODES = 50_000;
      const file = path.join(dir, 'huge.json');
      const fd = fs.openSync(file, 'w');
      const chunk: string[] = ['{"apiVersion":"v1","kind":"List","items":['];
      for (let i = 0; i < N; i++) {
        chunk.push(
          (i ? ',' : '') +
            (i < NODES
              ? `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n${i}","annotations":{"projectcalico.org/IPv4Address":"10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/16"}}}`
              : `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c${i}","namespace":"default"}}`),
        );
        if (chunk.length > 10_000) fs.writeSync(fd, chunk.splice(0).join(''));
      }
      chunk.push(']}');
      fs.writeSync(fd, chunk.join(''));
      fs.closeSync(fd);
      const s = readSnapshotFile(file);
      assert.equal(s.nodes.length, NODES);
      assert.equal(s.objects.length, N);
      assert.ok(s.nodes.some((n) => n.name === `n${NODES - 1}`));
    });

    it('the array helpers take arrays far beyond the spread limit', () => {
      const big = Array.from({ length: 1_000_000 }, (_, i) => i);
      assert.throws(() => Math.max(...big), RangeError, 'the spread does overflow on this engine');
      assert.equal(maxOf(big), 999_999);
      assert.equal(minOf(big), 0);
      assert.equal(maxOf([], 0), 0);
      assert.equal(minOf([]), Infinity);
      const to: number[] = [1];
      append(to, big);
      assert.equal(to.length, 1_000_001);
    });
  });
});
