/**
 * Builds a ClusterSnapshot from Kubernetes objects (a kubectl `List`'s items, or what the API returned).
 * Version-aware for Calico v3.27 and v3.31 objects in `crd.projectcalico.org/v1` and `projectcalico.org/v3`.
 */
import { clusterIdProblem, isMaskedIPv4Network, parseASNumber } from './net.js';
import { felixBool } from './felix.js';
import { cpuMillis, memoryBytes } from './quantity.js';
import type {
  BgpConfigurationInfo,
  BgpPeerInfo,
  CalicoApiMode,
  CalicoNodeStatusInfo,
  CalicoNodeStatusPeer,
  CalicoVersion,
  ClusterSnapshot,
  EncapMode,
  FelixConfigurationInfo,
  InstallationInfo,
  InstallMode,
  IPPoolInfo,
  JournalInfo,
  KubeObject,
  NetworkingBackend,
  NodeInfo,
  SnapshotSource,
  Taint,
  TyphaInfo,
  TyphaPodInfo,
} from './types.js';

export const SNAPSHOT_INFO_API_VERSION = 'calico-tune/v1';
export const SNAPSHOT_INFO_KIND = 'SnapshotInfo';

export const ANN_RR_CLUSTER_ID = 'projectcalico.org/RouteReflectorClusterID';
export const ANN_IPV4 = 'projectcalico.org/IPv4Address';
export const ANN_IPV6 = 'projectcalico.org/IPv6Address';
export const ANN_ASN = 'projectcalico.org/ASNumber';
export const ANN_CALICO_LABELS = 'projectcalico.org/labels';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

export const CALICO_V1 = 'crd.projectcalico.org/v1';
export const CALICO_V3 = 'projectcalico.org/v3';
export const OPERATOR_V1 = 'operator.tigera.io/v1';

const TYPHA_NAME = 'calico-typha';
const TYPHA_AUTOSCALER_NAME = 'calico-typha-horizontal-autoscaler';
const BAD_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}
function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

export function isCalicoGroup(apiVersion: string): boolean {
  return apiVersion === CALICO_V1 || apiVersion === CALICO_V3;
}

/**
 * Parsed nodes by object identity. Plans re-derive the snapshot after every step while changing one object
 * at a time (merge patches return a new object and leave the others as they were), so this cache makes the
 * re-parse cost proportional to what changed.
 */
const nodeCache = new WeakMap<KubeObject, NodeInfo>();

/** Parses a Kubernetes Node into what the tool needs. */
export function parseNode(o: KubeObject): NodeInfo {
  let n = nodeCache.get(o);
  if (!n) {
    n = parseNodeUncached(o);
    nodeCache.set(o, n);
  }
  return n;
}

function parseNodeUncached(o: KubeObject): NodeInfo {
  // labels and annotations are shared with the object, not copied: objects are never modified (a plan's
  // step makes new ones), and a 5,000-node report made three copies per node, all for the garbage collector
  const labels = o.metadata.labels ?? {};
  const annotations = o.metadata.annotations ?? {};
  const spec = obj(o.spec);
  const status = obj(o.status);

  let calicoLabels: Record<string, string> = labels;
  const calicoLabelsJson = annotations[ANN_CALICO_LABELS];
  if (calicoLabelsJson) {
    let calicoOnly: Record<string, string> = {};
    try {
      const parsed = JSON.parse(calicoLabelsJson) as unknown;
      calicoOnly = Object.fromEntries(
        Object.entries(obj(parsed)).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
    } catch {
      calicoOnly = {};
    }
    // Kubernetes labels win on conflict (libcalico-go node.go mergeCalicoAndK8sLabels).
    calicoLabels = { ...calicoOnly, ...labels };
  }

  let ready = false;
  const badConditions: string[] = [];
  let readySeen = false;
  for (const c of arr(status['conditions'])) {
    const cc = obj(c);
    const type = cc['type'];
    if (type === 'Ready' && !readySeen) {
      readySeen = true; // the first Ready condition counts, as before
      ready = cc['status'] === 'True';
    } else if (cc['status'] === 'True' && BAD_CONDITIONS.includes(String(type)))
      badConditions.push(String(type));
  }
  const taints: Taint[] = arr(spec['taints']).map((t) => {
    const tt = obj(t);
    return { key: String(tt['key'] ?? ''), value: str(tt['value']), effect: String(tt['effect'] ?? '') };
  });
  const alloc = obj(status['allocatable']);
  const cap = obj(status['capacity']);
  const internalIP = str(
    obj(arr(status['addresses']).find((a) => obj(a)['type'] === 'InternalIP'))['address'],
  );
  const nodeInfo = obj(status['nodeInfo']);

  const rrRaw = annotations[ANN_RR_CLUSTER_ID];
  // Calico keeps a bare address, and a masked network too (which BIRD then refuses: RR_CLUSTER_ID_NETWORK)
  const rrValid =
    rrRaw !== undefined &&
    rrRaw !== '' &&
    (clusterIdProblem(rrRaw) === undefined || isMaskedIPv4Network(rrRaw));

  return {
    name: o.metadata.name,
    uid: o.metadata.uid,
    resourceVersion: o.metadata.resourceVersion,
    createdAt: o.metadata.creationTimestamp,
    labels,
    calicoLabels,
    annotations,
    zone: labels[LABEL_ZONE] ?? labels['failure-domain.beta.kubernetes.io/zone'],
    region: labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'],
    os:
      labels['kubernetes.io/os'] ??
      labels['beta.kubernetes.io/os'] ??
      str(nodeInfo['operatingSystem']) ??
      'unknown',
    arch: labels['kubernetes.io/arch'] ?? labels['beta.kubernetes.io/arch'] ?? str(nodeInfo['architecture']),
    instanceType: labels['node.kubernetes.io/instance-type'] ?? labels['beta.kubernetes.io/instance-type'],
    ready,
    unschedulable: spec['unschedulable'] === true,
    taints,
    badConditions,
    cpuMillis: cpuMillis(alloc['cpu'] ?? cap['cpu']),
    memoryBytes: memoryBytes(alloc['memory'] ?? cap['memory']),
    cpuCapacityMillis: cpuMillis(cap['cpu'] ?? alloc['cpu']),
    memoryCapacityBytes: memoryBytes(cap['memory'] ?? alloc['memory']),
    internalIP,
    providerID: str(spec['providerID']) || undefined,
    osImage: str(nodeInfo['osImage']) || undefined,
    virtualKubelet: labels['type'] === 'virtual-kubelet',
    controlPlane:
      'node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels,
    bgp: {
      ipv4Address: annotations[ANN_IPV4] || undefined,
      ipv6Address: annotations[ANN_IPV6] || undefined,
      asNumber: annotations[ANN_ASN] !== undefined ? parseASNumber(annotations[ANN_ASN]) : undefined,
      rrClusterIdRaw: rrRaw,
      rrClusterId: rrValid ? rrRaw : undefined,
    },
  };
}

function parseBgpConfiguration(o: KubeObject): BgpConfigurationInfo {
  const spec = obj(o.spec);
  return {
    name: o.metadata.name,
    apiVersion: o.apiVersion,
    resourceVersion: o.metadata.resourceVersion,
    nodeToNodeMeshEnabled: bool(spec['nodeToNodeMeshEnabled']),
    asNumber: spec['asNumber'] !== undefined ? parseASNumber(spec['asNumber']) : undefined,
    nodeMeshPassword: spec['nodeMeshPassword'] ?? undefined,
    nodeMeshMaxRestartTime: str(spec['nodeMeshMaxRestartTime']),
    listenPort: num(spec['listenPort']),
    spec,
  };
}

const peerCache = new WeakMap<KubeObject, BgpPeerInfo>();

/** Parsed once per object: plan steps re-parse the snapshot, and a BGPPeer per node makes thousands. */
function parseBgpPeer(o: KubeObject): BgpPeerInfo {
  let p = peerCache.get(o);
  if (!p) peerCache.set(o, (p = parseBgpPeerUncached(o)));
  return p;
}

function parseBgpPeerUncached(o: KubeObject): BgpPeerInfo {
  const spec = obj(o.spec);
  return {
    name: o.metadata.name,
    apiVersion: o.apiVersion,
    resourceVersion: o.metadata.resourceVersion,
    node: str(spec['node']) || undefined,
    nodeSelector: str(spec['nodeSelector']) || undefined,
    peerIP: str(spec['peerIP']) || undefined,
    peerSelector: str(spec['peerSelector']) || undefined,
    asNumber: spec['asNumber'] !== undefined ? parseASNumber(spec['asNumber']) : undefined,
    reversePeering: str(spec['reversePeering']),
    spec,
  };
}

function encap(v: unknown): EncapMode {
  const s = String(v ?? '').toLowerCase();
  if (s === 'always') return 'Always';
  if (s === 'crosssubnet' || s === 'cross-subnet') return 'CrossSubnet';
  return 'Never';
}

/** The annotation where libcalico-go keeps a Calico object's own metadata on its crd.projectcalico.org/v1 CR. */
const ANN_CALICO_METADATA = 'projectcalico.org/metadata';

/**
 * A Calico object's labels as Calico's API gives them: through crd.projectcalico.org/v1 only projectcalico.org/
 * and operator.tigera.io/ labels stay on the CR, the rest are in the projectcalico.org/metadata annotation
 * (libcalico-go k8s/resources/resources.go ConvertCalicoResourceToK8sResource and back).
 */
export function calicoLabels(o: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = o.metadata.annotations?.[ANN_CALICO_METADATA];
  if (raw) {
    try {
      const labels = (JSON.parse(raw) as { labels?: unknown }).labels;
      if (labels && typeof labels === 'object')
        for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
    } catch {
      /* not JSON: Calico ignores it too */
    }
  }
  // (libcalico-go: the annotation's labels win over the CR's own)
  return { ...(o.metadata.labels ?? {}), ...out };
}

function parseIPPool(o: KubeObject): IPPoolInfo {
  const spec = obj(o.spec);
  const cidr = String(spec['cidr'] ?? '');
  let ipipMode = encap(spec['ipipMode']);
  // the v1 legacy field spec.ipip {enabled, mode}: when present it wins over ipipMode (libcalico-go
  // resources/ippool.go IPPoolv1v3Converter: enabled false is Never, mode cross-subnet CrossSubnet, else Always)
  const legacy = spec['ipip'];
  if (legacy !== undefined && legacy !== null && typeof legacy === 'object') {
    const l = legacy as Record<string, unknown>;
    ipipMode = l['enabled'] !== true ? 'Never' : l['mode'] === 'cross-subnet' ? 'CrossSubnet' : 'Always';
  }
  return {
    name: o.metadata.name,
    apiVersion: o.apiVersion,
    cidr,
    ipVersion: cidr.includes(':') ? 6 : 4,
    ipipMode,
    vxlanMode: encap(spec['vxlanMode']),
    natOutgoing: spec['natOutgoing'] === true || spec['nat-outgoing'] === true,
    disabled: spec['disabled'] === true,
    nodeSelector: str(spec['nodeSelector']) || 'all()',
    blockSize: num(spec['blockSize']),
    labels: calicoLabels(o),
  };
}

function parseInstallation(o: KubeObject): InstallationInfo {
  const spec = obj(o.spec);
  const status = obj(o.status);
  const computed = obj(status['computed']);
  const net = obj(spec['calicoNetwork']);
  const computedNet = obj(computed['calicoNetwork']);
  return {
    name: o.metadata.name,
    resourceVersion: o.metadata.resourceVersion,
    bgp: str(net['bgp']) ?? str(computedNet['bgp']),
    typhaMetricsPort: num(spec['typhaMetricsPort']),
    nodeMetricsPort: num(spec['nodeMetricsPort']),
    variant: str(spec['variant']) ?? str(status['variant']),
    calicoVersion: str(status['calicoVersion']),
    ipPools: arr(net['ipPools'] ?? computedNet['ipPools']).map((p) => {
      const pp = obj(p);
      return {
        cidr: str(pp['cidr']),
        encapsulation: str(pp['encapsulation']),
        natOutgoing: str(pp['natOutgoing']),
        nodeSelector: str(pp['nodeSelector']),
      };
    }),
  };
}

function parseFelixConfiguration(o: KubeObject): FelixConfigurationInfo {
  const spec = obj(o.spec);
  return {
    name: o.metadata.name,
    prometheusMetricsEnabled: spec['prometheusMetricsEnabled'] === true,
    prometheusMetricsPort: num(spec['prometheusMetricsPort']) ?? 9091,
  };
}

function parseNodeStatus(o: KubeObject): CalicoNodeStatusInfo {
  const spec = obj(o.spec);
  const status = obj(o.status);
  const bgp = obj(status['bgp']);
  const peers = (v: unknown): CalicoNodeStatusPeer[] =>
    arr(v).map((p) => {
      const pp = obj(p);
      return {
        peerIP: String(pp['peerIP'] ?? ''),
        type: String(pp['type'] ?? ''),
        state: String(pp['state'] ?? ''),
        since: str(pp['since']),
      };
    });
  return {
    name: o.metadata.name,
    node: String(spec['node'] ?? ''),
    peersV4: peers(bgp['peersV4']),
    peersV6: peers(bgp['peersV6']),
    lastUpdated: str(status['lastUpdated']),
  };
}

/** Parses `v3.31.3`, `3.31.3` or an image reference ending in such a tag. */
export function parseCalicoVersion(raw: string, source: string): CalicoVersion | undefined {
  const m = /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(raw.includes(':') ? raw.slice(raw.lastIndexOf(':') + 1) : raw);
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3] ?? 0);
  return { raw: `v${major}.${minor}.${patch}`, major, minor, patch, source };
}

interface Container {
  name?: string;
  image?: string;
  env?: { name?: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  ports?: { containerPort?: number; name?: string }[];
}

function podSpecOf(o: KubeObject): Obj {
  return obj(obj(obj(o.spec)['template'])['spec']);
}
function containersOf(o: KubeObject): Container[] {
  return arr(podSpecOf(o)['containers']) as Container[];
}
function envOf(c: Container | undefined, name: string): string | undefined {
  return c?.env?.find((e) => e.name === name)?.value;
}

/** The calico-node DaemonSet: the operator's in calico-system first, else a manifest install's. */
function calicoNodeDaemonSet(objects: readonly KubeObject[]): KubeObject | undefined {
  return (
    objects.find(
      (o) =>
        o.kind === 'DaemonSet' &&
        o.metadata.name === 'calico-node' &&
        o.metadata.namespace === 'calico-system',
    ) ?? objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'calico-node')
  );
}

/** A literal value of the calico-node container's environment (`name`), if set. */
export function calicoNodeEnv(objects: readonly KubeObject[], name: string): string | undefined {
  const ds = calicoNodeDaemonSet(objects);
  return ds
    ? envOf(
        containersOf(ds).find((c) => c.name === 'calico-node'),
        name,
      )
    : undefined;
}

/**
 * The calico-node container's `name`, resolved as the kubelet does for a literal value or a ConfigMap key
 * (the manifests take FELIX_TYPHAK8SSERVICENAME from calico-config's typha_service_name); `from` says where.
 */
export function calicoNodeEnvResolved(
  objects: readonly KubeObject[],
  name: string,
): { value: string; from: string } | undefined {
  const ds = calicoNodeDaemonSet(objects);
  const e = ds
    ? containersOf(ds)
        .find((c) => c.name === 'calico-node')
        ?.env?.find((x) => x.name === name)
    : undefined;
  if (!e) return undefined;
  if (e.value !== undefined)
    return { value: e.value, from: `${name} in DaemonSet ${ds!.metadata.namespace ?? ''}/calico-node` };
  const ref = obj(obj(e.valueFrom)['configMapKeyRef']);
  const cmName = typeof ref['name'] === 'string' ? ref['name'] : undefined;
  const key = typeof ref['key'] === 'string' ? ref['key'] : undefined;
  if (!cmName || !key) return undefined;
  const ns = ds!.metadata.namespace;
  const cm = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === cmName && o.metadata.namespace === ns,
  );
  const v = obj((cm as { data?: unknown } | undefined)?.data)[key];
  return typeof v === 'string'
    ? { value: v, from: `${name} = ${key} in ConfigMap ${ns ?? ''}/${cmName}` }
    : undefined;
}

function parseTypha(objects: KubeObject[], nodesByName: Map<string, NodeInfo>): TyphaInfo {
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const dep =
    deployments.find((o) => o.metadata.name === TYPHA_NAME && o.metadata.namespace === 'calico-system') ??
    deployments.find((o) => o.metadata.name === TYPHA_NAME);
  const autoscalerObj = deployments.find((o) => o.metadata.name === TYPHA_AUTOSCALER_NAME);
  const info: TyphaInfo = { pods: [] };
  if (autoscalerObj) {
    info.autoscaler = {
      namespace: autoscalerObj.metadata.namespace ?? '',
      name: autoscalerObj.metadata.name,
      replicas: num(obj(autoscalerObj.spec)['replicas']) ?? 1,
    };
  }
  if (dep) {
    const spec = obj(dep.spec);
    const status = obj(dep.status);
    const podSpec = podSpecOf(dep);
    const c = containersOf(dep).find((cc) => cc.name === 'calico-typha') ?? containersOf(dep)[0];
    const affinity = obj(obj(podSpec['affinity'])['podAntiAffinity']);
    const required = arr(affinity['requiredDuringSchedulingIgnoredDuringExecution']).map(obj);
    const preferred = arr(affinity['preferredDuringSchedulingIgnoredDuringExecution']).map((p) =>
      obj(obj(p)['podAffinityTerm']),
    );
    const metricsEnv = envOf(c, 'TYPHA_PROMETHEUSMETRICSENABLED');
    const portEnv = envOf(c, 'TYPHA_PROMETHEUSMETRICSPORT');
    info.deployment = {
      namespace: dep.metadata.namespace ?? '',
      name: dep.metadata.name,
      resourceVersion: dep.metadata.resourceVersion,
      replicas: num(spec['replicas']) ?? 1,
      readyReplicas: num(status['readyReplicas']) ?? 0,
      availableReplicas: num(status['availableReplicas']) ?? 0,
      updatedReplicas: num(status['updatedReplicas']) ?? 0,
      image: c?.image,
      requests: c?.resources?.requests,
      limits: c?.resources?.limits,
      antiAffinity: required.length > 0 ? 'required' : preferred.length > 0 ? 'preferred' : 'none',
      antiAffinityTopologyKeys: [...required, ...preferred].map((t) => String(t['topologyKey'] ?? '')),
      topologySpreadKeys: arr(podSpec['topologySpreadConstraints']).map((t) =>
        String(obj(t)['topologyKey'] ?? ''),
      ),
      hostNetwork: podSpec['hostNetwork'] === true,
      // Typha reads its booleans as Felix does (1/t/true/y/yes; anything else invalid: the default, off)
      metricsEnabled: felixBool(metricsEnv) === true,
      metricsPort: portEnv !== undefined ? num(portEnv) : felixBool(metricsEnv) === true ? 9093 : undefined,
    };
    const pods: TyphaPodInfo[] = objects
      .filter(
        (o) =>
          o.kind === 'Pod' &&
          o.metadata.namespace === dep.metadata.namespace &&
          o.metadata.labels?.['k8s-app'] === TYPHA_NAME,
      )
      .map((p) => {
        const ps = obj(p.spec);
        const st = obj(p.status);
        const node = str(ps['nodeName']);
        const ready = arr(st['conditions']).some(
          (cc) => obj(cc)['type'] === 'Ready' && obj(cc)['status'] === 'True',
        );
        return {
          name: p.metadata.name,
          namespace: p.metadata.namespace ?? '',
          node,
          zone: node ? nodesByName.get(node)?.zone : undefined,
          phase: str(st['phase']),
          ready,
          hostNetwork: ps['hostNetwork'] === true,
        };
      });
    info.pods = pods;
    const pdb = objects.find(
      (o) =>
        o.kind === 'PodDisruptionBudget' &&
        o.metadata.namespace === dep.metadata.namespace &&
        o.metadata.name === TYPHA_NAME,
    );
    if (pdb) {
      const ps = obj(pdb.spec);
      info.pdb = {
        namespace: pdb.metadata.namespace ?? '',
        name: pdb.metadata.name,
        maxUnavailable: (ps['maxUnavailable'] as string | number | undefined) ?? undefined,
        minAvailable: (ps['minAvailable'] as string | number | undefined) ?? undefined,
        disruptionsAllowed: num(obj(pdb.status)['disruptionsAllowed']),
      };
    }
  }
  return info;
}

/** Decides the Calico API mode from discovery (when known) or from the objects' apiVersions. */
export function detectApiMode(apiGroups: string[] | undefined, objects: KubeObject[]): CalicoApiMode {
  if (apiGroups) {
    const v1 = apiGroups.includes(CALICO_V1);
    const v3 = apiGroups.includes(CALICO_V3);
    // discovery.go#UsingV3CRDs: v3 present and v1 absent => native v3 CRDs; both => API server over v1.
    if (v3 && !v1) return 'projectcalico.org/v3-crd';
    if (v3 && v1) return 'projectcalico.org/v3';
    if (v1) return 'crd.projectcalico.org/v1';
    return 'none';
  }
  if (objects.some((o) => o.apiVersion === CALICO_V3)) return 'projectcalico.org/v3';
  if (objects.some((o) => o.apiVersion === CALICO_V1)) return 'crd.projectcalico.org/v1';
  return 'none';
}

function detectBackend(
  objects: KubeObject[],
  installation: InstallationInfo | undefined,
): { backend: NetworkingBackend; source?: string; nodeNamespace?: string } {
  const ds = calicoNodeDaemonSet(objects);
  const nodeNamespace = ds?.metadata.namespace;
  const dsEnv = calicoNodeEnv(objects, 'CALICO_NETWORKING_BACKEND');
  const norm = (v: string): NetworkingBackend =>
    v === 'bird' ? 'bird' : v === 'vxlan' ? 'vxlan' : v === 'none' ? 'none' : 'unknown';
  if (dsEnv)
    return {
      backend: norm(dsEnv),
      source: `DaemonSet ${nodeNamespace}/calico-node env CALICO_NETWORKING_BACKEND`,
      nodeNamespace,
    };
  if (installation) {
    if (installation.bgp === 'Disabled') {
      const vx = installation.ipPools.some((p) => (p.encapsulation ?? '').startsWith('VXLAN'));
      return {
        backend: vx ? 'vxlan' : 'none',
        source: 'Installation spec.calicoNetwork.bgp: Disabled',
        nodeNamespace,
      };
    }
    return {
      backend: 'bird',
      source: installation.bgp
        ? `Installation spec.calicoNetwork.bgp: ${installation.bgp}`
        : 'Installation default (bgp: Enabled)',
      nodeNamespace,
    };
  }
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'calico-config');
  const cmBackend = str(obj(cm?.['data'])['calico_backend']);
  if (cmBackend)
    return {
      backend: norm(cmBackend),
      source: `ConfigMap ${cm?.metadata.namespace}/calico-config calico_backend`,
      nodeNamespace,
    };
  return { backend: 'unknown', nodeNamespace };
}

function detectVersion(
  objects: KubeObject[],
  installation: InstallationInfo | undefined,
): CalicoVersion | undefined {
  const ci = objects.find((o) => o.kind === 'ClusterInformation' && o.metadata.name === 'default');
  const civ = str(obj(ci?.spec)['calicoVersion']);
  if (civ) {
    const v = parseCalicoVersion(civ, 'ClusterInformation');
    if (v) return v;
  }
  if (installation?.calicoVersion) {
    const v = parseCalicoVersion(installation.calicoVersion, 'Installation status');
    if (v) return v;
  }
  for (const name of ['calico-node', TYPHA_NAME]) {
    const w = objects.find(
      (o) => (o.kind === 'DaemonSet' || o.kind === 'Deployment') && o.metadata.name === name,
    );
    const image = w ? containersOf(w)[0]?.image : undefined;
    if (image) {
      const v = parseCalicoVersion(image, `${w?.kind} ${w?.metadata.namespace}/${name} image`);
      if (v) return v;
    }
  }
  return undefined;
}

function detectInstallMode(objects: KubeObject[], installation: InstallationInfo | undefined): InstallMode {
  if (installation) return 'operator';
  const manifestSign = objects.some(
    (o) =>
      o.metadata.namespace === 'kube-system' &&
      ((o.kind === 'DaemonSet' && o.metadata.name === 'calico-node') ||
        (o.kind === 'Deployment' && o.metadata.name === TYPHA_NAME) ||
        (o.kind === 'ConfigMap' && o.metadata.name === 'calico-config')),
  );
  return manifestSign ? 'manifest' : 'unknown';
}

const keyCache = new WeakMap<KubeObject, string>();

/** Object arrays of snapshots this module made, which are in sortKey order (snapshotWithChange relies on it). */
const sortedObjects = new WeakSet<KubeObject[]>();

/** Stable order for objects: kind, namespace, name. */
function sortKey(o: KubeObject): string {
  let k = keyCache.get(o);
  if (k === undefined) {
    k = `${o.kind}\u0000${o.metadata.namespace ?? ''}\u0000${o.metadata.name}`;
    keyCache.set(o, k);
  }
  return k;
}

/**
 * Builds the snapshot. `source` describes where the objects came from; when the objects include a
 * `calico-tune/v1 SnapshotInfo` item (as `snapshot save` writes), its recorded server, API groups and
 * capture time are used.
 */
export function parseSnapshot(items: KubeObject[], source: SnapshotSource): ClusterSnapshot {
  const info = items.find((o) => o.apiVersion === SNAPSHOT_INFO_API_VERSION && o.kind === SNAPSHOT_INFO_KIND);
  const objects = items.filter((o) => o !== info);
  if (info) {
    const s = obj(info.spec);
    source = {
      ...source,
      server: source.server ?? str(s['server']),
      context: source.context ?? str(s['context']),
      capturedAt: str(s['capturedAt']) ?? source.capturedAt,
      apiGroups:
        source.apiGroups ?? (Array.isArray(s['apiGroups']) ? (s['apiGroups'] as string[]) : undefined),
      kubernetesVersion: source.kubernetesVersion ?? str(s['kubernetesVersion']),
      clusterUID: source.clusterUID ?? str(s['clusterUID']),
      calicoApiUnavailable: source.calicoApiUnavailable ?? str(s['calicoApiUnavailable']),
    };
  }
  const kubeSystem = items.find(
    (o) => o.kind === 'Namespace' && o.apiVersion === 'v1' && o.metadata.name === 'kube-system',
  );
  const uid = (kubeSystem?.metadata as { uid?: unknown } | undefined)?.uid;
  if (typeof uid === 'string' && uid) source = { ...source, clusterUID: uid };
  let sorted = true;
  for (let i = 1; i < objects.length && sorted; i++)
    sorted = sortKey(objects[i - 1]!) <= sortKey(objects[i]!);
  if (!sorted) {
    // keys looked up once each, not twice per comparison (a live read arrives in the order lists answer)
    const keyed = objects.map((o, i) => ({ k: sortKey(o), i, o }));
    keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i));
    for (let i = 0; i < keyed.length; i++) objects[i] = keyed[i]!.o;
  }
  sortedObjects.add(objects);

  const nodes: NodeInfo[] = [];
  const bgpConfigurations: BgpConfigurationInfo[] = [];
  const bgpPeers: BgpPeerInfo[] = [];
  const ipPools: IPPoolInfo[] = [];
  const calicoNodeStatuses: CalicoNodeStatusInfo[] = [];
  let installation: InstallationInfo | undefined;
  let journal: JournalInfo | undefined;
  let felixConfiguration: FelixConfigurationInfo | undefined;

  for (const o of objects) {
    if (o.kind === 'Node' && o.apiVersion === 'v1') nodes.push(parseNode(o));
    else if (isCalicoGroup(o.apiVersion)) {
      if (o.kind === 'BGPConfiguration') bgpConfigurations.push(parseBgpConfiguration(o));
      else if (o.kind === 'BGPPeer') bgpPeers.push(parseBgpPeer(o));
      else if (o.kind === 'IPPool') ipPools.push(parseIPPool(o));
      else if (o.kind === 'CalicoNodeStatus') calicoNodeStatuses.push(parseNodeStatus(o));
      else if (o.kind === 'FelixConfiguration' && o.metadata.name === 'default')
        felixConfiguration = parseFelixConfiguration(o);
    } else if (o.kind === 'Installation' && o.apiVersion === OPERATOR_V1 && o.metadata.name === 'default') {
      installation = parseInstallation(o);
    } else if (o.kind === 'Lease' && o.metadata.name === JOURNAL_LEASE_NAME) {
      journal ??= parseJournalLease(o);
    }
  }
  const nodesByName = new Map(nodes.map((n) => [n.name, n]));
  const backend = detectBackend(objects, installation);
  return {
    source,
    calico: {
      version: detectVersion(objects, installation),
      installMode: detectInstallMode(objects, installation),
      apiMode: detectApiMode(source.apiGroups, objects),
      networkingBackend: backend.backend,
      networkingBackendSource: backend.source,
      nodeNamespace: backend.nodeNamespace,
    },
    nodes,
    bgpConfigurations,
    bgpPeers,
    ipPools,
    felixConfiguration,
    installation,
    typha: parseTypha(objects, nodesByName),
    calicoNodeStatuses,
    journal,
    objects,
  };
}

/**
 * The objects of a snapshot with this kind, namespace and name (several when a file lists one twice, e.g. in two
 * API groups). A binary search in the snapshots this module made (in order), a scan in others.
 */
export function objectsNamed(
  s: ClusterSnapshot,
  kind: string,
  name: string,
  namespace?: string | undefined,
): KubeObject[] {
  const objects = s.objects;
  const same = (o: KubeObject): boolean =>
    o.metadata.name === name && o.kind === kind && (o.metadata.namespace ?? '') === (namespace ?? '');
  if (!sortedObjects.has(objects)) return objects.filter(same);
  const key = `${kind}\u0000${namespace ?? ''}\u0000${name}`;
  let lo = 0;
  let hi = objects.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sortKey(objects[mid]!) < key) lo = mid + 1;
    else hi = mid;
  }
  const out: KubeObject[] = [];
  for (let i = lo; i < objects.length && sortKey(objects[i]!) === key; i++) out.push(objects[i]!);
  return out;
}

/** The snapshot lists that plan steps change: v1 Nodes, Calico BGPPeers and BGPConfigurations. */
type Category = 'node' | 'peer' | 'config';

function categoryOf(o: KubeObject): Category | undefined {
  if (o.kind === 'Node' && o.apiVersion === 'v1') return 'node';
  if (!isCalicoGroup(o.apiVersion)) return undefined;
  if (o.kind === 'BGPPeer') return 'peer';
  if (o.kind === 'BGPConfiguration') return 'config';
  return undefined;
}

/** `list` with the item at `at` replaced by `item`, removed (`item` undefined), or `item` inserted there. */
function spliced<T>(list: readonly T[], at: number, remove: boolean, item: T | undefined): T[] {
  const out = list.slice(0, at);
  if (item !== undefined) out.push(item);
  for (let i = remove ? at + 1 : at; i < list.length; i++) out.push(list[i]!);
  return out;
}

/**
 * The snapshot after one object of a kind plan steps write (a v1 Node, a Calico BGPPeer or BGPConfiguration)
 * is replaced (`before` -> `after`), added (`before` undefined) or removed (`after` undefined): the same as
 * `parseSnapshot` of the resulting objects, at the cost of the change (a plan step changes one object of
 * 20,000 at 10,000 nodes, and parsing them all again at every step dominated planning). `before` must be the
 * only object of `prev.objects` with its kind, namespace and name, and `after` must have the same ones.
 * Undefined for any other change, or when `prev` was not made by this module (its objects may not be in
 * order): the caller parses everything.
 */
export function snapshotWithChange(
  prev: ClusterSnapshot,
  before: KubeObject | undefined,
  after: KubeObject | undefined,
): ClusterSnapshot | undefined {
  const changed = after ?? before;
  if (!changed) return prev;
  const cat = categoryOf(changed);
  if (!cat || (before && after && (categoryOf(before) !== cat || sortKey(before) !== sortKey(after))))
    return undefined;
  const objects = prev.objects;
  if (!sortedObjects.has(objects)) return undefined;
  let at: number;
  if (before) {
    at = objects.indexOf(before);
    if (at < 0) return undefined;
  } else {
    // after the last object that sorts before or with it (parseSnapshot's stable sort of the appended object)
    const key = sortKey(changed);
    let lo = 0;
    let hi = objects.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sortKey(objects[mid]!) <= key) lo = mid + 1;
      else hi = mid;
    }
    at = lo;
  }
  // the position in the category's list: how many of its objects come before
  let k = 0;
  for (let i = 0; i < at; i++) if (categoryOf(objects[i]!) === cat) k++;
  const nextObjects = spliced(objects, at, !!before, after);
  sortedObjects.add(nextObjects);
  const out: ClusterSnapshot = { ...prev, objects: nextObjects };
  if (cat === 'node') {
    const b = before ? parseNode(before) : undefined;
    const a = after ? parseNode(after) : undefined;
    out.nodes = spliced(prev.nodes, k, !!before, a);
    // Typha pods carry their node's zone
    if (!b || !a || b.zone !== a.zone || b.name !== a.name)
      out.typha = parseTypha(nextObjects, new Map(out.nodes.map((n) => [n.name, n])));
  } else if (cat === 'peer') {
    out.bgpPeers = spliced(prev.bgpPeers, k, !!before, after ? parseBgpPeer(after) : undefined);
  } else {
    out.bgpConfigurations = spliced(
      prev.bgpConfigurations,
      k,
      !!before,
      after ? parseBgpConfiguration(after) : undefined,
    );
  }
  if (cat !== 'node') {
    // from the objects' API groups when discovery is not recorded
    const apiMode = detectApiMode(prev.source.apiGroups, nextObjects);
    if (apiMode !== prev.calico.apiMode) out.calico = { ...prev.calico, apiMode };
  }
  return out;
}

/** The journal Lease's name (kube/journal.ts writes it). */
export const JOURNAL_LEASE_NAME = 'calico-tune';
export const JOURNAL_STATE_ANNOTATION = 'calico-tune.io/state';

/** The progress a journal Lease records; undefined when it records no plan. */
export function parseJournalLease(o: KubeObject): JournalInfo | undefined {
  const raw = o.metadata.annotations?.[JOURNAL_STATE_ANNOTATION];
  if (!raw) return undefined;
  let st: Record<string, unknown>;
  try {
    st = obj(JSON.parse(raw));
  } catch {
    return undefined;
  }
  const spec = obj(o.spec);
  return {
    namespace: o.metadata.namespace ?? '',
    holder: str(spec['holderIdentity']) || undefined,
    renewedAt: str(spec['renewTime']),
    leaseSeconds: typeof spec['leaseDurationSeconds'] === 'number' ? spec['leaseDurationSeconds'] : undefined,
    plan: str(st['plan']) ?? '?',
    phase: str(st['phase']) ?? '?',
    done: Array.isArray(st['done']) ? st['done'].length : 0,
    inFlight: str(st['current']) || undefined,
    undone: Array.isArray(st['undone']) ? st['undone'].length : undefined,
    undoing: str(st['undoing']) || undefined,
    steps: typeof st['steps'] === 'number' ? st['steps'] : undefined,
    message: str(st['message']),
    command: str(st['command']),
  };
}

/** The effective global BGP settings: the `default` BGPConfiguration with Calico's defaults applied. */
export interface EffectiveBgp {
  defaultConfig?: BgpConfigurationInfo | undefined;
  meshEnabled: boolean;
  asNumber: number;
}

export const DEFAULT_AS_NUMBER = 64512;

export function effectiveBgp(s: ClusterSnapshot): EffectiveBgp {
  const def = s.bgpConfigurations.find((c) => c.name === 'default');
  return {
    defaultConfig: def,
    meshEnabled: def?.nodeToNodeMeshEnabled ?? true,
    asNumber: def?.asNumber ?? DEFAULT_AS_NUMBER,
  };
}
