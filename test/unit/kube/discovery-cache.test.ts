import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DISCOVERY_TTL_MS,
  discoveryCacheFile,
  nodesInProtobuf,
  PROTOBUF_ABOVE_BYTES,
  PROTOBUF_ABOVE_NODES,
  PROTOBUF_STAYS_ABOVE_BYTES,
  readCachedDiscovery,
  sameDiscovery,
  saveDiscovery,
} from '../../../src/kube/discovery-cache.js';

describe('discovery cache (kube/discovery-cache.ts)', () => {
  const SERVER = 'https://127.0.0.1:6443';
  const T = 1_800_000_000_000;
  const D = { groupVersions: ['v1', 'apps/v1', 'crd.projectcalico.org/v1'], version: 'v1.34.1' };
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'discovery-cache-'));
    env = { XDG_CACHE_HOME: tmp };
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('saves an answer per server (mode 0600) and reads it back until it is six hours old', () => {
    assert.equal(readCachedDiscovery(SERVER, env, T), undefined, 'nothing cached yet');
    saveDiscovery(SERVER, D, undefined, env, T);
    const file = discoveryCacheFile(SERVER, env)!;
    assert.equal(path.dirname(file), path.join(tmp, 'calico-tune', 'discovery'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.deepEqual(readCachedDiscovery(SERVER, env, T + 1000), { ...D, savedAt: T });
    assert.deepEqual(readCachedDiscovery(SERVER, env, T + DISCOVERY_TTL_MS)?.savedAt, T);
    assert.equal(readCachedDiscovery(SERVER, env, T + DISCOVERY_TTL_MS + 1), undefined, 'too old');
    assert.equal(
      readCachedDiscovery(SERVER, env, T - 1),
      undefined,
      'saved in the future: a clock went back',
    );
    assert.equal(readCachedDiscovery('https://127.0.0.1:6444', env, T), undefined, 'another server');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)], 'no temporary file left');
  });

  it('anything malformed, or written for another server, is no cache', () => {
    saveDiscovery(SERVER, D, undefined, env, T);
    const file = discoveryCacheFile(SERVER, env)!;
    const good = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const bad of [
      '{"server":',
      'null',
      '[]',
      JSON.stringify({ ...good, server: 'https://other:6443' }),
      JSON.stringify({ ...good, groupVersions: 'v1' }),
      JSON.stringify({ ...good, groupVersions: ['v1', 3] }),
      JSON.stringify({ ...good, savedAt: String(T) }),
      JSON.stringify({ ...good, version: 134 }),
    ]) {
      fs.writeFileSync(file, bad);
      assert.equal(readCachedDiscovery(SERVER, env, T), undefined, bad);
    }
    const { version: _v, ...noVersion } = good;
    fs.writeFileSync(file, JSON.stringify(noVersion));
    assert.deepEqual(readCachedDiscovery(SERVER, env, T), {
      groupVersions: D.groupVersions,
      version: undefined,
      savedAt: T,
    });
  });

  it('rewrites the file only when the answer changed or the file is an hour old', () => {
    saveDiscovery(SERVER, D, undefined, env, T);
    const file = discoveryCacheFile(SERVER, env)!;
    const saved = readCachedDiscovery(SERVER, env, T)!;
    saveDiscovery(SERVER, { ...D, groupVersions: [...D.groupVersions].reverse() }, saved, env, T + 60_000);
    assert.equal(
      readCachedDiscovery(SERVER, env, T + 60_000)!.savedAt,
      T,
      'same answer, recent: not rewritten',
    );
    saveDiscovery(SERVER, D, saved, env, T + 3600_000);
    assert.equal(
      readCachedDiscovery(SERVER, env, T + 3600_000)!.savedAt,
      T + 3600_000,
      'an hour old: rewritten',
    );
    const changed = { groupVersions: [...D.groupVersions, 'monitoring.coreos.com/v1'], version: D.version };
    const now = readCachedDiscovery(SERVER, env, T + 3600_001)!;
    saveDiscovery(SERVER, changed, now, env, T + 3600_001);
    assert.deepEqual(readCachedDiscovery(SERVER, env, T + 3600_002)!.groupVersions, changed.groupVersions);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).server, SERVER);
  });

  it('keeps the Node count of the last report; it picks protobuf above 2,000 Nodes, and is rewritten when it crosses', () => {
    assert.equal(PROTOBUF_ABOVE_NODES, 2000);
    assert.equal(nodesInProtobuf(undefined), true, 'nothing known: protobuf');
    saveDiscovery(SERVER, D, undefined, env, T);
    const none = readCachedDiscovery(SERVER, env, T)!;
    assert.equal(none.nodes, undefined);
    assert.equal(nodesInProtobuf(none), true);
    saveDiscovery(SERVER, { ...D, nodes: 1000 }, none, env, T + 1);
    const small = readCachedDiscovery(SERVER, env, T + 1)!;
    assert.deepEqual(
      [small.nodes, small.savedAt, nodesInProtobuf(small)],
      [1000, T + 1, false],
      'a count is saved',
    );
    saveDiscovery(SERVER, { ...D, nodes: 2000 }, small, env, T + 2);
    assert.equal(readCachedDiscovery(SERVER, env, T + 2)!.nodes, 1000, 'same side: not rewritten');
    saveDiscovery(SERVER, D, small, env, T + 3);
    assert.equal(readCachedDiscovery(SERVER, env, T + 3)!.nodes, 1000, 'a plan (no count) keeps it');
    saveDiscovery(SERVER, { ...D, nodes: 2001 }, small, env, T + 4);
    const big = readCachedDiscovery(SERVER, env, T + 4)!;
    assert.deepEqual([big.nodes, nodesInProtobuf(big)], [2001, true], 'crossed: rewritten');
    saveDiscovery(SERVER, { ...D, groupVersions: ['v1'] }, big, env, T + 5);
    assert.deepEqual(
      readCachedDiscovery(SERVER, env, T + 5),
      { groupVersions: ['v1'], version: D.version, savedAt: T + 5, nodes: 2001 },
      'a new answer keeps the count',
    );
    const file = discoveryCacheFile(SERVER, env)!;
    for (const bad of [-1, 1.5, '12', null]) {
      fs.writeFileSync(
        file,
        JSON.stringify({ server: SERVER, groupVersions: ['v1'], savedAt: T, nodes: bad }),
      );
      assert.equal(readCachedDiscovery(SERVER, env, T)!.nodes, undefined, `nodes ${String(bad)}`);
    }
  });

  it('below 2,000 Nodes the size of the last list decides: protobuf above 3 MB of JSON, kept above 1.8 MB', () => {
    const MB = 1 << 20;
    assert.deepEqual([PROTOBUF_ABOVE_BYTES, PROTOBUF_STAYS_ABOVE_BYTES], [3 * MB, 1.8 * MB]);
    const at = (nodes: number, nodeBytes: number | undefined, nodesProtobuf: boolean): boolean =>
      nodesInProtobuf({ ...D, savedAt: T, nodes, nodeBytes, nodesProtobuf });
    // 1,000 generated Nodes: 2.6 MB of JSON, 1.72 MB of protobuf (as a first report reads them): JSON
    assert.equal(at(1000, 2.6 * MB, false), false);
    assert.equal(at(1000, 1.72 * MB, true), false);
    // 400 Nodes with a kubelet's 50 images each: 5.0 MB of JSON, 4.1 of protobuf: protobuf, and it stays
    assert.equal(at(400, 5.0 * MB, false), true);
    assert.equal(at(400, 4.1 * MB, true), true);
    // 150 such Nodes: 1.9 MB of JSON, 1.5 of protobuf: JSON either way
    assert.equal(at(150, 1.9 * MB, false), false);
    assert.equal(at(150, 1.5 * MB, true), false);
    // just over the line, a list whose protobuf is 66% of its JSON (generated Nodes) does not switch back
    assert.equal(at(1160, 3.01 * MB, false), true);
    assert.equal(at(1160, 1.99 * MB, true), true);
    // a count alone (a cache from before sizes were kept) and more than 2,000 Nodes decide as before
    assert.equal(at(1000, undefined, false), false);
    assert.equal(at(2001, 0.5 * MB, false), true);

    // saved with the count, read back; rewritten when the choice changes, not otherwise
    saveDiscovery(SERVER, { ...D, nodes: 400, nodeBytes: 5 * MB, nodesProtobuf: false }, undefined, env, T);
    const json = readCachedDiscovery(SERVER, env, T)!;
    assert.deepEqual(
      [json.nodes, json.nodeBytes, json.nodesProtobuf, nodesInProtobuf(json)],
      [400, 5 * MB, false, true],
    );
    saveDiscovery(SERVER, { ...D, nodes: 400, nodeBytes: 4 * MB, nodesProtobuf: true }, json, env, T + 1);
    assert.equal(readCachedDiscovery(SERVER, env, T + 1)!.savedAt, T, 'the same choice: not rewritten');
    saveDiscovery(SERVER, { ...D, nodes: 100, nodeBytes: MB, nodesProtobuf: true }, json, env, T + 2);
    const shrunk = readCachedDiscovery(SERVER, env, T + 2)!;
    assert.deepEqual(
      [shrunk.nodes, shrunk.nodeBytes, nodesInProtobuf(shrunk)],
      [100, MB, false],
      'rewritten',
    );
    // a plan reads no Nodes for the record: a rewrite (the hourly one) keeps it
    saveDiscovery(SERVER, D, shrunk, env, T + 2 + 3600_001);
    assert.deepEqual(
      readCachedDiscovery(SERVER, env, T + 2 + 3600_001),
      { ...shrunk, savedAt: T + 2 + 3600_001 },
      'a plan (nothing read) keeps it',
    );
    // a size that is not a count is no size
    const file = discoveryCacheFile(SERVER, env)!;
    for (const bad of [-1, 1.5, '12', null]) {
      fs.writeFileSync(
        file,
        JSON.stringify({ server: SERVER, groupVersions: ['v1'], savedAt: T, nodes: 10, nodeBytes: bad }),
      );
      assert.deepEqual(
        [readCachedDiscovery(SERVER, env, T)!.nodes, readCachedDiscovery(SERVER, env, T)!.nodeBytes],
        [10, undefined],
        `nodeBytes ${String(bad)}`,
      );
    }
  });

  it('is off with CALICO_TUNE_DISCOVERY_CACHE=0, and never uses a directory others may write', () => {
    const off = { ...env, CALICO_TUNE_DISCOVERY_CACHE: '0' };
    saveDiscovery(SERVER, D, undefined, off, T);
    assert.equal(discoveryCacheFile(SERVER, off), undefined);
    assert.equal(fs.existsSync(path.join(tmp, 'calico-tune', 'discovery')), false);
    saveDiscovery(SERVER, D, undefined, env, T);
    assert.equal(readCachedDiscovery(SERVER, off, T), undefined);
    fs.chmodSync(path.join(tmp, 'calico-tune', 'discovery'), 0o777);
    assert.equal(readCachedDiscovery(SERVER, env, T), undefined, 'world-writable directory');
    assert.equal(discoveryCacheFile(SERVER, { XDG_CACHE_HOME: 'relative' }), undefined);
  });

  it('two answers are the same when the version and the group versions that matter agree', () => {
    const calico = (g: string): boolean => g.includes('projectcalico.org');
    const b = {
      groupVersions: ['batch/v1', 'crd.projectcalico.org/v1', 'crd.projectcalico.org/v1'],
      version: D.version,
    };
    assert.equal(sameDiscovery(D, b, calico), true, 'other groups, order and repeats do not matter');
    assert.equal(sameDiscovery(D, { ...b, version: 'v1.34.2' }, calico), false, 'the version does');
    assert.equal(sameDiscovery(D, { ...b, version: undefined }, calico), false);
    assert.equal(
      sameDiscovery(D, { ...b, groupVersions: [...b.groupVersions, 'projectcalico.org/v3'] }, calico),
      false,
      'a Calico group more',
    );
    assert.equal(sameDiscovery(D, { ...b, groupVersions: ['v1'] }, calico), false, 'a Calico group less');
  });
});
