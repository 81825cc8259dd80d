/**
 * The discovery cache (kube/discovery-cache.ts) against a real API server: a report sends its reads with the
 * server's last discovery answer before the current one is in, and a wrong cached answer never shows in the
 * report: it is corrected, read again and replaced. Plans never read with it. The order of the requests
 * comes from the plugin's own trace (CALICO_TUNE_HTTP_STATS=trace): which request was sent before which
 * answer, never how long anything took.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCachedDiscovery, saveDiscovery } from '../../src/kube/discovery-cache.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { controlPlane, describeRun, loadFixture, runCli, type ControlPlane } from '../harness/index.js';

interface Trace {
  req: string;
  sent: number;
  answered: number;
  protobuf?: true;
}

describe('discovery cache: reports read at once with the last answer, checked against the server', function () {
  // above the harness's time for a stuck start (90 s, then a new one; test/harness/control-plane.ts), so that
  // its diagnostics are what fails
  this.timeout(300_000);
  let cp: ControlPlane;
  let cache: string;
  let server: string;
  const env = (): NodeJS.ProcessEnv => ({ XDG_CACHE_HOME: cache });

  before(async () => {
    cp = await controlPlane();
    await loadFixture(cp, { nodes: 12, zones: 3, install: 'operator' });
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-discovery-'));
    server = resolveKubeconfig({ kubeconfig: cp.kubeconfig('plugin') }).server;
  });
  after(() => {
    if (cache) fs.rmSync(cache, { recursive: true, force: true });
  });

  /** Runs a command as the plugin user with the test's cache; returns its output and request trace. */
  async function traced(args: string[], extra: NodeJS.ProcessEnv = {}) {
    const r = await runCli([...args, '--kubeconfig', cp.kubeconfig('plugin'), '-o', 'json'], {
      env: { ...env(), CALICO_TUNE_HTTP_STATS: 'trace', ...extra },
    });
    assert.ok(r.code === 0 || r.code === 1, describeRun(r, args.join(' ')));
    const line = r.stderr.split('\n').find((l) => l.startsWith('calico-tune-http-stats '));
    assert.ok(line, `no trace on stderr:\n${r.stderr}`);
    const trace = (JSON.parse(line.slice('calico-tune-http-stats '.length)) as { trace: Trace[] }).trace;
    const first = (re: RegExp): Trace => {
      const t = trace.filter((x) => re.test(x.req)).sort((a, b) => a.sent - b.sent)[0];
      assert.ok(t, `no ${re} in ${trace.map((x) => x.req).join(', ')}`);
      return t;
    };
    return { r, trace, first, report: r.json<Record<string, unknown>>() };
  }
  /** The report without the time it was read. */
  const comparable = (rep: Record<string, unknown>) => ({
    ...rep,
    source: { ...(rep['source'] as object), capturedAt: undefined },
  });

  it('the first report saves the answer; the next sends its reads before discovery is answered, same report', async () => {
    assert.equal(readCachedDiscovery(server, env()), undefined);
    const cold = await traced(['status']);
    // without a cache the Node list waits for discovery
    assert.ok(cold.first(/^GET \/api\/v1\/nodes/).sent >= cold.first(/^GET \/apis$/).answered);
    const saved = readCachedDiscovery(server, env());
    assert.ok(saved, 'the server answer is cached');
    assert.ok(saved.groupVersions.includes('crd.projectcalico.org/v1'));
    assert.ok(saved.groupVersions.includes('operator.tigera.io/v1'));
    const version = (await cp.client('admin').get('/version')) as { gitVersion: string };
    assert.equal(saved.version, version.gitVersion);

    const warm = await traced(['status']);
    assert.ok(
      warm.first(/^GET \/api\/v1\/nodes/).sent < warm.first(/^GET \/apis$/).answered,
      'the Node list went out before discovery was answered',
    );
    assert.ok(
      warm.first(/^GET \/apis\/crd\.projectcalico\.org\/v1\/bgppeers/).sent <
        warm.first(/^GET \/apis$/).answered,
    );
    assert.equal(warm.trace.filter((t) => /bgppeers/.test(t.req)).length, 1, 'read once');
    assert.deepEqual(comparable(warm.report), comparable(cold.report));
    // the Node count is known now: 12 Nodes read in JSON, where the first run (nothing known) used protobuf
    assert.equal(cold.first(/^GET \/api\/v1\/nodes/).protobuf, true);
    assert.equal(readCachedDiscovery(server, env())?.nodes, 12);
    assert.equal(warm.first(/^GET \/api\/v1\/nodes/).protobuf, undefined);
    const cached = readCachedDiscovery(server, env())!;
    saveDiscovery(server, { ...cached, nodes: 5000 }, undefined, env());
    const big = await traced(['status']);
    assert.equal(big.first(/^GET \/api\/v1\/nodes/).protobuf, true, 'a cluster last seen with 5,000 Nodes');
    assert.deepEqual(comparable(big.report), comparable(cold.report));
    assert.equal(readCachedDiscovery(server, env())?.nodes, 12, 'the count read replaces it');
    // the size of the list read is kept with its encoding, and a large one picks protobuf below 2,000 Nodes
    // (50 kubelet images per Node make 400 Nodes 5 MB of JSON)
    const read = readCachedDiscovery(server, env())!;
    assert.equal(read.nodesProtobuf, true, 'the 5,000-node guess read protobuf');
    assert.ok(read.nodeBytes! > 12 * 300 && read.nodeBytes! < 12 * 20_000, `${read.nodeBytes} bytes`);
    saveDiscovery(
      server,
      { ...read, nodes: 400, nodeBytes: 5 << 20, nodesProtobuf: false },
      undefined,
      env(),
    );
    const heavy = await traced(['status']);
    assert.equal(heavy.first(/^GET \/api\/v1\/nodes/).protobuf, true, 'a list last read as 5 MB of JSON');
    assert.deepEqual(comparable(heavy.report), comparable(cold.report));
    const after = readCachedDiscovery(server, env())!;
    assert.deepEqual([after.nodes, after.nodesProtobuf], [12, true]);
    assert.ok(after.nodeBytes! < 1 << 20, 'the small list read replaces it');
    const small = await traced(['status']);
    assert.equal(
      small.first(/^GET \/api\/v1\/nodes/).protobuf,
      undefined,
      'and the next report reads JSON again',
    );
  });

  it('a wrong cached answer is corrected: the report is the server one, and the cache is replaced', async () => {
    const reference = await traced(['status'], { CALICO_TUNE_DISCOVERY_CACHE: '0' });
    // what another cluster behind the same URL could have left: the Calico API server, prometheus-operator,
    // no Calico CRDs, no operator, another Kubernetes version
    saveDiscovery(
      server,
      {
        groupVersions: ['v1', 'apps/v1', 'projectcalico.org/v3', 'monitoring.coreos.com/v1'],
        version: 'v1.20.0',
      },
      undefined,
      env(),
    );
    const t = await traced(['status']);
    assert.deepEqual(comparable(t.report), comparable(reference.report));
    const warnings = JSON.stringify(t.report);
    assert.doesNotMatch(warnings, /ServiceMonitor|projectcalico\.org\/v3|not found/);
    // the Calico lists were read again, after the server's answer
    const peers = t.trace.filter((x) => /crd\.projectcalico\.org\/v1\/bgppeers/.test(x.req));
    assert.equal(peers.length, 1, 'the guess had no Calico CRDs to read');
    assert.ok(peers[0]!.sent >= t.first(/^GET \/apis$/).answered);
    const saved = readCachedDiscovery(server, env());
    assert.ok(saved, 'cached');
    assert.ok(saved.groupVersions.includes('crd.projectcalico.org/v1'));
    assert.ok(!saved.groupVersions.includes('monitoring.coreos.com/v1'));
    assert.notEqual(saved.version, 'v1.20.0');
  });

  it('a plan never reads with the cached answer', async () => {
    await traced(['status']); // the cache holds the server's answer
    assert.ok(readCachedDiscovery(server, env()));
    const plan = await traced(['migrate', 'plan', '--to', 'route-reflectors']);
    assert.ok(plan.first(/^GET \/api\/v1\/nodes/).sent >= plan.first(/^GET \/apis$/).answered);
  });
});
