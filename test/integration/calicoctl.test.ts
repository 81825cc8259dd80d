/**
 * Calico's own calicoctl (v3.31.0, kubernetes datastore) reads back what the plugin writes: the cluster ID and
 * label of a node promoted with `rr promote`, the BGPPeer it creates, and the `default` BGPConfiguration that
 * `migrate apply --to route-reflectors` switches the mesh off in. calicoctl goes through libcalico-go's
 * conversion of Kubernetes Nodes and of the crd.projectcalico.org objects, so a field the plugin wrote in a
 * form Calico does not understand (wrong annotation, wrong type) shows up here.
 *
 * Needs calicoctl (`CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh`); fails, never skips, without it.
 */
import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { calicoctl, requireCalicoTools } from '../harness/calico-tools.js';
import {
  controlPlane,
  describeRun,
  loadFixture,
  runCli,
  startSimulator,
  type ControlPlane,
  type Obj,
  type Simulator,
} from '../harness/index.js';

const CAPI = '/apis/crd.projectcalico.org/v1';

interface CalicoList {
  kind: string;
  items: Obj[];
}

/** `calicoctl <args> -o yaml`, parsed. */
async function ctlYaml<T = Obj>(cp: ControlPlane, args: string[]): Promise<T> {
  const r = await calicoctl([...args, '-o', 'yaml'], { kubeconfig: cp.kubeconfig('admin') });
  assert.equal(r.code, 0, describeRun(r, `calicoctl ${args.join(' ')}`));
  return yaml.load(r.stdout) as T;
}

describe('calicoctl reads what the plugin writes (calicoctl v3.31.0, CRDs v3.31.3)', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let sim: Simulator | undefined;

  before(async () => {
    requireCalicoTools(); // throws with `CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh` when anything is missing
    cp = await controlPlane({ calico: 'v3.31.3' });
  });
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('rr promote: calicoctl shows routeReflectorClusterID 244.0.0.1 and the BGPPeer the plugin created', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3 });
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const node = 'node-a-002';
    const r = await runCli(['rr', 'promote', node, '--yes'], { kubeconfig: cp.kubeconfig('plugin') });
    assert.equal(r.code, 0, describeRun(r, 'rr promote'));

    const n = await ctlYaml(cp, ['get', 'node', node]);
    assert.equal(n.kind, 'Node');
    const bgp = (n.spec as { bgp?: Record<string, unknown> }).bgp ?? {};
    assert.equal(bgp['routeReflectorClusterID'], '244.0.0.1', `calicoctl get node ${node}:\n${yaml.dump(n)}`);
    assert.equal(n.metadata.labels?.['route-reflector'], 'true');
    assert.equal(bgp['ipv4Address'], '10.20.0.15/20', 'the address the generator set, untouched');
    const all = await ctlYaml<CalicoList>(cp, ['get', 'nodes']);
    assert.deepEqual(
      all.items
        .filter((x) => (x.spec as { bgp?: Record<string, unknown> }).bgp?.['routeReflectorClusterID'])
        .map((x) => x.metadata.name),
      [node],
      'only the promoted node is a reflector',
    );

    const peers = await ctlYaml<CalicoList>(cp, ['get', 'bgppeers']);
    const written = (await cp.client('admin').list(`${CAPI}/bgppeers`)).items;
    assert.deepEqual(
      peers.items.map((p) => p.metadata.name),
      written.map((p) => p.metadata.name),
      'calicoctl lists the BGPPeers that are stored',
    );
    const peer = peers.items.find((p) => p.metadata.name === 'peer-with-route-reflectors');
    assert.ok(peer, `calicoctl get bgppeers:\n${yaml.dump(peers)}`);
    assert.equal(peer.apiVersion, 'projectcalico.org/v3');
    assert.equal(peer.spec?.['nodeSelector'], 'all()');
    assert.equal(peer.spec?.['peerSelector'], "route-reflector == 'true'");
    assert.equal(peer.spec?.['peerIP'], undefined);
    assert.equal(peer.spec?.['node'], undefined);
  });

  it('migrate apply --to route-reflectors: calicoctl reads nodeToNodeMeshEnabled false and the reflectors', async () => {
    await loadFixture(cp, { nodes: 12, zones: 3 });
    const before = await ctlYaml(cp, ['get', 'bgpconfiguration', 'default']);
    assert.equal(before.spec?.['nodeToNodeMeshEnabled'], true);
    sim = await startSimulator(cp, { knobs: { establishDelayMs: 200 } });
    const r = await runCli(['migrate', 'apply', '--to', 'route-reflectors', '--yes'], {
      kubeconfig: cp.kubeconfig('plugin'),
      timeoutMs: 240_000,
    });
    assert.equal(r.code, 0, describeRun(r, 'migrate apply'));

    const cfg = await ctlYaml(cp, ['get', 'bgpconfiguration', 'default']);
    assert.equal(
      cfg.spec?.['nodeToNodeMeshEnabled'],
      false,
      `calicoctl get bgpconfiguration default:\n${yaml.dump(cfg)}`,
    );
    assert.equal(cfg.spec?.['asNumber'], 64512, 'the rest of the spec is kept');
    const nodes = await ctlYaml<CalicoList>(cp, ['get', 'nodes']);
    const ids = nodes.items
      .map((x) => (x.spec as { bgp?: Record<string, unknown> }).bgp?.['routeReflectorClusterID'])
      .filter(Boolean);
    assert.ok(ids.length >= 2, `reflectors through calicoctl: ${ids.length}`);
    assert.equal(new Set(ids).size, ids.length, `a cluster ID each: ${ids.join(', ')}`);
    const peers = await ctlYaml<CalicoList>(cp, ['get', 'bgppeers']);
    assert.deepEqual(
      peers.items.map((p) => p.metadata.name),
      ['peer-with-route-reflectors'],
    );
  });
});
