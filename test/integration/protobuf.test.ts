/**
 * A report reads the Nodes in Kubernetes protobuf (src/kube/protobuf.ts): on the real API server, the
 * decoded list must say what the JSON of the same list says, for every field the tool reads, and parse to
 * the same NodeInfo; the fields it does not read (managedFields, images, volumes, finalizers) are left out;
 * an error answered in protobuf reads as clearly as one in JSON. The same list in JSON, cut into its items while
 * it streams over HTTP/2 (src/kube/json-list.ts), reads as HTTP/1.1 reads it whole.
 */
import assert from 'node:assert/strict';
import { KubeApi } from '../../src/kube/api.js';
import { ApiError, KubeHttp } from '../../src/kube/http.js';
import { jsonListDecoder, type JsonList, type JsonListStream } from '../../src/kube/json-list.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { readLiveSnapshot } from '../../src/kube/snapshot.js';
import { parseNode } from '../../src/model/parse.js';
import { Node } from '../../src/model/resources.js';
import type { KubeObject } from '../../src/model/types.js';
import { controlPlane, loadFixture, type ControlPlane } from '../harness/index.js';

/** A node with every field the decoder reads, and several it must skip. */
const RICH: KubeObject = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'node-rich',
    labels: { 'topology.kubernetes.io/zone': 'z-1', 'route-reflector': 'true', empty: '' },
    annotations: {
      'projectcalico.org/IPv4Address': '10.9.9.9/24',
      'projectcalico.org/ASNumber': '64513',
      'projectcalico.org/RouteReflectorClusterID': '244.0.0.9',
      'projectcalico.org/labels': '{"calico-only":"x"}',
      'example.com/unicode': 'ünïcödé ✓ '.repeat(50),
    },
    // no finalizers: nothing would remove them, and the harness's reset could not delete the node
    // (the unit test covers skipping them)
    ownerReferences: [
      { apiVersion: 'v1', kind: 'Namespace', name: 'default', uid: '00000000-0000-0000-0000-000000000000' },
    ],
  },
  spec: {
    podCIDR: '10.244.9.0/24',
    podCIDRs: ['10.244.9.0/24', 'fd00:9::/64'],
    providerID: 'aws:///z-1/i-rich',
    unschedulable: true,
    taints: [
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: '2026-11-30T10:00:00Z' },
      { key: 'dedicated', value: 'bgp', effect: 'NoExecute' },
    ],
  },
  status: {
    capacity: { cpu: '16', memory: '65842396Ki', pods: '110', 'ephemeral-storage': '100Gi' },
    allocatable: { cpu: '15500m', memory: '63Gi', pods: '110' },
    phase: 'Running',
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'KubeletNotReady',
        message: 'PLEG is not healthy',
        lastHeartbeatTime: '2026-12-01T09:00:00Z',
        lastTransitionTime: '2026-12-01T08:00:00Z',
      },
      { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'm' },
    ],
    addresses: [
      { type: 'InternalIP', address: '10.9.9.9' },
      { type: 'Hostname', address: 'node-rich' },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: 'm',
      systemUUID: 'u',
      bootID: 'b',
      kernelVersion: '6.1.0',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'containerd://1.7.0',
      kubeletVersion: 'v1.34.4',
      kubeProxyVersion: 'v1.34.4',
      operatingSystem: 'linux',
      architecture: 'arm64',
    },
    images: [{ names: ['registry.example/calico/node:v3.31.3'], sizeBytes: 123456789 }],
    volumesInUse: ['kubernetes.io/csi/x'],
  },
};

/** What the decoder keeps of a JSON Node (the fields it documents). */
function kept(o: KubeObject): unknown {
  const m = o.metadata as Record<string, unknown>;
  const pick = (from: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> =>
    Object.fromEntries(keys.filter((k) => from?.[k] !== undefined).map((k) => [k, from![k]]));
  const status = (o.status ?? {}) as Record<string, unknown>;
  const quantities = (q: unknown): Record<string, unknown> | undefined =>
    q ? pick(q as Record<string, unknown>, ['cpu', 'memory']) : undefined;
  return {
    metadata: pick(m, [
      'name',
      'namespace',
      'uid',
      'resourceVersion',
      'creationTimestamp',
      'deletionTimestamp',
      'labels',
      'annotations',
    ]),
    spec: pick(o.spec, ['podCIDR', 'podCIDRs', 'providerID', 'unschedulable', 'taints']),
    status: pick(
      {
        ...status,
        capacity: quantities(status['capacity']),
        allocatable: quantities(status['allocatable']),
        conditions: (status['conditions'] as Record<string, unknown>[] | undefined)?.map((c) =>
          pick(c, ['type', 'status']),
        ),
        nodeInfo: status['nodeInfo']
          ? pick(status['nodeInfo'] as Record<string, unknown>, [
              'osImage',
              'operatingSystem',
              'architecture',
            ])
          : undefined,
      },
      ['capacity', 'allocatable', 'phase', 'conditions', 'addresses', 'nodeInfo'],
    ),
  };
}

/** `f` with a client that speaks HTTP/1.1 (CALICO_TUNE_HTTP2=0), which reads every answer whole. */
async function overHttp1<T>(kubeconfig: string, f: (h1: KubeHttp) => Promise<T>): Promise<T> {
  const prev = process.env['CALICO_TUNE_HTTP2'];
  process.env['CALICO_TUNE_HTTP2'] = '0';
  try {
    const h1 = new KubeHttp(resolveKubeconfig({ kubeconfig }));
    h1.trace = [];
    try {
      const r = await f(h1);
      assert.equal(h1.trace.find((t) => t.req.startsWith('GET /api/v1/nodes'))!.first, undefined, 'HTTP/1.1');
      return r;
    } finally {
      h1.close();
    }
  } finally {
    if (prev === undefined) delete process.env['CALICO_TUNE_HTTP2'];
    else process.env['CALICO_TUNE_HTTP2'] = prev;
  }
}

describe('Nodes read in protobuf', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let api: KubeApi;

  after(async () => {
    await cp.reset();
    const { items } = await cp.client('admin').list('/api/v1/nodes');
    assert.deepEqual(items, [], 'the test leaves no node behind');
  });

  before(async () => {
    cp = await controlPlane();
    await loadFixture(cp, { nodes: 300, zones: 3, rrs: 3, notReady: 4, unschedulable: 5 });
    await cp.apply([RICH as never]);
    api = new KubeApi(new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('plugin') })));
  });

  it('says what the JSON of the same list says, for every field the tool reads', async () => {
    const json = await api.list(Node, { resourceVersion: '0', pageSize: 0 });
    const before = api.http.bytes.wire;
    const proto = await api.list(Node, { resourceVersion: '0', pageSize: 0, protobuf: true });
    const protoWire = api.http.bytes.wire - before;
    assert.equal(proto.items.length, 301);
    assert.equal(proto.resourceVersion, json.resourceVersion);
    const byName = new Map(proto.items.map((o) => [o.metadata.name, o]));
    for (const j of json.items) {
      const p = byName.get(j.metadata.name);
      assert.ok(p, j.metadata.name);
      assert.deepEqual(p, { apiVersion: 'v1', kind: 'Node', ...(kept(j) as object) }, j.metadata.name);
      assert.deepEqual(parseNode(p), parseNode(j), j.metadata.name);
    }
    const rich = byName.get('node-rich')!;
    assert.equal(rich.metadata.annotations?.['example.com/unicode'], 'ünïcödé ✓ '.repeat(50));
    assert.deepEqual(rich.metadata.labels?.['empty'], '');
    assert.ok(
      !('images' in rich.status!) &&
        !('volumesInUse' in rich.status!) &&
        !('daemonEndpoints' in rich.status!),
    );
    assert.ok(!('managedFields' in rich.metadata) && !('ownerReferences' in rich.metadata));
    const info = parseNode(rich);
    assert.equal(info.ready, false);
    assert.deepEqual(info.badConditions, ['MemoryPressure']);
    assert.equal(info.bgp.rrClusterId, '244.0.0.9');
    assert.equal(info.cpuMillis, 15500);
    assert.equal(info.arch, 'arm64');
    assert.ok(protoWire > 0);
  });

  it('decodes the same list streamed over HTTP/2 as from the whole body over HTTP/1.1', async () => {
    // over HTTP/2 the gzipped list is gunzipped and decoded chunk by chunk as it arrives (kube/http.ts)
    const h2 = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('plugin') }));
    h2.trace = [];
    const streamed = await new KubeApi(h2).list(Node, { resourceVersion: '0', pageSize: 0, protobuf: true });
    const nodes = h2.trace.find((t) => t.req.startsWith('GET /api/v1/nodes'))!;
    assert.ok(nodes.first !== undefined && nodes.last !== undefined, 'read over HTTP/2 (stamped chunks)');
    assert.ok(h2.bytes.decoded > 3 * h2.bytes.wire, `gzipped: ${h2.bytes.wire} -> ${h2.bytes.decoded} bytes`);
    h2.close();
    const whole = await overHttp1(cp.kubeconfig('plugin'), (h1) =>
      new KubeApi(h1).list(Node, { resourceVersion: '0', pageSize: 0, protobuf: true }),
    );
    assert.equal(streamed.items.length, 301);
    assert.deepEqual(streamed, whole);
  });

  it('reads the list in JSON item by item as it streams over HTTP/2, to what HTTP/1.1 parses whole', async () => {
    // the JSON of a Node list is cut into its items while it arrives (kube/json-list.ts), gunzipped on the
    // thread pool; over HTTP/1.1 it is parsed whole
    const h2 = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('plugin') }));
    h2.trace = [];
    let d: JsonListStream | undefined;
    const received = { bytes: 0, protobuf: true };
    const get = (h: KubeHttp): Promise<JsonList> =>
      h.request<JsonList>('GET', '/api/v1/nodes', {
        query: { resourceVersion: '0' },
        jsonList: () => (d = jsonListDecoder()),
        received,
      });
    const streamed = await get(h2);
    assert.deepEqual(received, { bytes: h2.bytes.decoded, protobuf: false }, 'its size, gunzipped');
    const nodes = h2.trace.find((t) => t.req.startsWith('GET /api/v1/nodes'))!;
    assert.ok(nodes.first !== undefined, 'read over HTTP/2 (stamped chunks)');
    assert.ok(h2.bytes.decoded > 3 * h2.bytes.wire, `gzipped: ${h2.bytes.wire} -> ${h2.bytes.decoded} bytes`);
    assert.equal(d?.itemsParsed, 301, 'every item parsed on its own');
    h2.close();
    d = undefined;
    const streamedBytes = received.bytes;
    Object.assign(received, { bytes: 0, protobuf: true });
    const whole = await overHttp1(cp.kubeconfig('plugin'), get);
    assert.equal(d, undefined, 'HTTP/1.1 parses the whole body');
    assert.deepEqual(received, { bytes: streamedBytes, protobuf: false }, 'the same size over HTTP/1.1');
    assert.equal(streamed.items.length, 301);
    assert.deepEqual(streamed, whole);
    // and as the tool reads it: the same Nodes either way
    const h2again = new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('plugin') }));
    h2again.trace = [];
    const listed = await new KubeApi(h2again).list(Node, { resourceVersion: '0', pageSize: 0 });
    assert.ok(h2again.trace[0]?.first !== undefined, 'over HTTP/2');
    h2again.close();
    assert.deepEqual(
      listed,
      await overHttp1(cp.kubeconfig('plugin'), (h1) =>
        new KubeApi(h1).list(Node, { resourceVersion: '0', pageSize: 0 }),
      ),
    );
  });

  it('reads every page of a paged list', async () => {
    const paged = await api.list(Node, { pageSize: 70, protobuf: true });
    assert.equal(paged.items.length, 301);
    assert.equal(new Set(paged.items.map((o) => o.metadata.name)).size, 301);
  });

  it("a report's read and a plan's read of the cluster parse to the same nodes", async () => {
    const report = await readLiveSnapshot(api, { cachedOk: true });
    const fresh = await readLiveSnapshot(api, {});
    const nodes = (s: typeof report): unknown[] =>
      s.objects
        .filter((o) => o.kind === 'Node')
        .map(parseNode)
        .sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(nodes(report), nodes(fresh));
  });

  it('an error answered in protobuf reads as clearly as one in JSON', async () => {
    const denied = new KubeApi(new KubeHttp(resolveKubeconfig({ kubeconfig: cp.kubeconfig('noaccess') })));
    for (const protobuf of [false, true]) {
      const e = await denied.list(Node, { protobuf }).then(
        () => assert.fail('listed nodes without access'),
        (x: unknown) => x,
      );
      assert.ok(e instanceof ApiError, String(e));
      assert.equal(e.status, 403);
      assert.equal(e.reason, 'Forbidden');
      assert.match(e.message, /nodes is forbidden: User "[^"]+" cannot list resource "nodes"/);
    }
  });
});
