/**
 * Reading a ClusterSnapshot: live from the API server (every list paginated, in parallel, each object
 * read once) or from a file (a kubectl `List` in YAML or JSON, as `snapshot save` writes it).
 */
import fs from 'node:fs';
import { readInputFile } from './files.js';
import { toJson, toYaml } from '../render/output.js';
import { CliError, usageError } from '../errors.js';
import {
  CALICO_V3,
  JOURNAL_LEASE_NAME,
  parseSnapshot,
  SNAPSHOT_INFO_API_VERSION,
  SNAPSHOT_INFO_KIND,
  detectApiMode,
} from '../model/parse.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import { loadAllNoAliases, YamlAnchorError } from '../model/yaml.js';
import { KubeApi, type ListReceived } from './api.js';
import {
  type Discovery,
  nodesInProtobuf,
  readCachedDiscovery,
  saveDiscovery,
  sameDiscovery,
} from './discovery-cache.js';
import { ApiError } from './http.js';
import * as R from '../model/resources.js';
import { append } from '../model/arrays.js';
import { ALERTS_RULE, DASHBOARDS_CONFIGMAP } from '../model/monitoring.js';
import { holderIsDeadHere } from './journal.js';

export interface LiveReadOptions {
  context?: string | undefined;
  /** Also read CalicoNodeStatus objects (gates and `bgp peers` need them; status does not). */
  nodeStatuses?: boolean | undefined;
  /**
   * A report: lists may come from the API server's watch cache (`resourceVersion=0`, possibly a moment
   * stale, cheaper for the server). Never for a plan's preconditions or the executor's observations.
   */
  cachedOk?: boolean | undefined;
  /** Progress callback for long reads. */
  progress?: ((msg: string) => void) | undefined;
}

const CALICO_NAMESPACES = ['calico-system', 'kube-system'];
/** Where the journal Lease may be (kube/journal.ts). */
const JOURNAL_NAMESPACES = CALICO_NAMESPACES;

/** The group versions whose presence changes what a live read reads (and records in the snapshot). */
const READ_DEPENDS_ON = /projectcalico\.org|tigera\.io|monitoring\.coreos\.com/;

/**
 * Reads everything the tool needs from the cluster. A report (`cachedOk`) sends its reads at once with the
 * server's last discovery answer (kube/discovery-cache.ts) while it reads the server's current one, and reads
 * again if the two differ in anything the read depends on; any other read waits for discovery.
 */
export async function readLiveSnapshot(api: KubeApi, opts: LiveReadOptions = {}): Promise<ClusterSnapshot> {
  const fresh = api.discovery().then(([groupVersions, version]): Discovery => ({ groupVersions, version }));
  const cached = readCachedDiscovery(api.server);
  // a report reads the Nodes in protobuf when the last one read many (CALICO_TUNE_PROTOBUF=0/1: never/always)
  const pb = process.env['CALICO_TUNE_PROTOBUF'];
  const protobuf = opts.cachedOk === true && pb !== '0' && (pb === '1' || nodesInProtobuf(cached));
  // the size and encoding of the Node list read (the guess's, or the read again's), for the next report's choice
  const guessed: ListReceived = { bytes: 0, protobuf: false };
  let nodeList = guessed;
  let guess: Promise<ClusterSnapshot> | undefined;
  if (opts.cachedOk && cached) {
    guess = readWithDiscovery(api, opts, cached, protobuf, guessed);
    guess.catch(() => {}); // awaited below when the guess stands
  }
  const d = await fresh; // discovery's own failure is the command's, as without the cache
  let snap: ClusterSnapshot;
  try {
    if (guess && sameDiscovery(cached!, d, (g) => READ_DEPENDS_ON.test(g))) snap = await guess;
    else {
      if (guess) opts.progress?.('the API groups changed since the last run: reading again');
      nodeList = { bytes: 0, protobuf: false };
      snap = await readWithDiscovery(api, opts, d, protobuf, nodeList);
    }
  } catch (e) {
    saveDiscovery(api.server, d, cached);
    throw e;
  }
  saveDiscovery(
    api.server,
    opts.cachedOk
      ? {
          ...d,
          nodes: snap.nodes.length,
          nodeBytes: nodeList.bytes,
          nodesProtobuf: nodeList.protobuf,
          // refused now, or refused before and so not asked this time
          nodesProtobufRefused: nodeList.refused || (!protobuf && cached?.nodesProtobufRefused) || undefined,
        }
      : d,
    cached,
  );
  return snap;
}

async function readWithDiscovery(
  api: KubeApi,
  opts: LiveReadOptions,
  discovery: Discovery,
  protobuf: boolean,
  nodeList: ListReceived,
): Promise<ClusterSnapshot> {
  const warnings: string[] = [];
  const kubernetesVersion = discovery.version;
  let apiGroups = discovery.groupVersions;
  let calicoApiUnavailable: string | undefined;
  if (apiGroups.includes(CALICO_V3)) {
    // the calico-apiserver may be registered but down: read the v1 CRDs behind it then, and say so
    calicoApiUnavailable = await api.groupVersionUnavailable(CALICO_V3);
    if (calicoApiUnavailable) {
      apiGroups = apiGroups.filter((g) => g !== CALICO_V3);
      warnings.push(
        `the Calico API server is registered but not available (${calicoApiUnavailable}): read crd.projectcalico.org/v1 instead; changes are refused until it is back (kubectl get apiservice v3.projectcalico.org)`,
      );
    }
  }
  const mode = detectApiMode(apiGroups, []);
  const hasOperator = apiGroups.includes(R.Installation.apiVersion);
  const objects: KubeObject[] = [];

  /** Optional reads degrade to a warning on 403/404; essential ones throw. */
  const optional = async (what: string, f: () => Promise<KubeObject[]>): Promise<void> => {
    try {
      append(objects, await f());
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
        warnings.push(`could not read ${what}: ${e.status === 403 ? 'forbidden' : 'not found'}`);
        return;
      }
      throw e;
    }
  };
  const one = async (t: R.ResourceType, name: string, ns?: string): Promise<KubeObject[]> => {
    const o = await api.get(t, name, ns, opts.cachedOk ? { resourceVersion: '0' } : {});
    return o ? [o] : [];
  };

  opts.progress?.('reading nodes and Calico resources');
  // a report reads each list from the cache in one response (no sequential pages of 500)
  const rv = opts.cachedOk ? ({ resourceVersion: '0', pageSize: 0 } as const) : {};
  // in protobuf, the Nodes are two thirds of the bytes or fewer, and only the fields parse.ts reads are built
  const tasks: Promise<unknown>[] = [
    api.list(R.Node, { ...rv, protobuf, received: nodeList }).then((r) => append(objects, r.items)),
  ];
  if (mode !== 'none') {
    const c = (k: R.CalicoKind): R.ResourceType => R.calicoType(k, mode);
    tasks.push(
      api.list(c('BGPConfiguration'), rv).then((r) => append(objects, r.items)),
      api.list(c('BGPPeer'), rv).then((r) => append(objects, r.items)),
      api.list(c('IPPool'), rv).then((r) => append(objects, r.items)),
      // every FelixConfiguration: a node's own node.<name> wins over default for that node (model/felix.ts)
      optional('FelixConfigurations', async () => (await api.list(c('FelixConfiguration'), rv)).items),
      optional('ClusterInformation default', () => one(c('ClusterInformation'), 'default')),
      optional('KubeControllersConfiguration default', () =>
        one(c('KubeControllersConfiguration'), 'default'),
      ),
    );
    if (opts.nodeStatuses) {
      tasks.push(optional('CalicoNodeStatus', async () => (await api.list(c('CalicoNodeStatus'), rv)).items));
    }
  }
  if (hasOperator) tasks.push(optional('Installation default', () => one(R.Installation, 'default')));
  for (const ns of CALICO_NAMESPACES) {
    tasks.push(
      optional(`Deployment ${ns}/calico-typha`, () => one(R.Deployment, 'calico-typha', ns)),
      optional(`DaemonSet ${ns}/calico-node`, () => one(R.DaemonSet, 'calico-node', ns)),
      optional(`PodDisruptionBudget ${ns}/calico-typha`, () =>
        one(R.PodDisruptionBudget, 'calico-typha', ns),
      ),
      optional(`Deployment ${ns}/calico-kube-controllers`, () =>
        one(R.Deployment, 'calico-kube-controllers', ns),
      ),
      optional(
        `Services in ${ns} (metrics Services)`,
        async () => (await api.list(R.Service, { namespace: ns })).items,
      ),
      optional(
        `Typha pods in ${ns}`,
        async () =>
          (await api.list(R.Pod, { namespace: ns, labelSelector: 'k8s-app=calico-typha', ...rv })).items,
      ),
    );
  }
  tasks.push(
    optional('Namespace kube-system (the cluster identity plans record)', () =>
      one(R.Namespace, 'kube-system'),
    ),
    ...JOURNAL_NAMESPACES.map((ns) =>
      optional(`Lease ${ns}/${JOURNAL_LEASE_NAME} (an unfinished plan)`, () =>
        one(R.Lease, JOURNAL_LEASE_NAME, ns),
      ),
    ),
    optional('Deployment kube-system/calico-typha-horizontal-autoscaler', () =>
      one(R.Deployment, 'calico-typha-horizontal-autoscaler', 'kube-system'),
    ),
    optional('ConfigMap kube-system/calico-config', () => one(R.ConfigMap, 'calico-config', 'kube-system')),
    optional('ConfigMap kube-system/kubeadm-config (the pod subnet)', () =>
      one(R.ConfigMap, 'kubeadm-config', 'kube-system'),
    ),
  );
  const namespaces = (): Promise<void> =>
    optional('Namespaces', async () =>
      (await api.list(R.Namespace)).items.filter((n) => n.metadata.name !== 'kube-system'),
    );
  if (!apiGroups.includes(R.ServiceMonitor.apiVersion)) {
    // without prometheus-operator too: `monitoring plan --dashboards` must know that its namespace exists
    // (else a plan half applied: a review) and whether the dashboards ConfigMap is there already; reports read
    // the same (two small reads), so that a saved snapshot reports what the cluster does
    tasks.push(
      namespaces(),
      optional(`ConfigMap monitoring/${DASHBOARDS_CONFIGMAP}`, () =>
        one(R.ConfigMap, DASHBOARDS_CONFIGMAP, 'monitoring'),
      ),
    );
  }
  if (apiGroups.includes(R.ServiceMonitor.apiVersion)) {
    // prometheus-operator: Prometheus objects (their selectors), every ServiceMonitor (what scrapes Calico),
    // namespaces (serviceMonitorNamespaceSelector), and the rules and dashboards `monitoring plan` creates
    const prometheuses: KubeObject[] = [];
    tasks.push(
      optional('Prometheus objects', async () => {
        const items = (await api.list(R.Prometheus)).items;
        append(prometheuses, items);
        return items;
      }),
      optional('ServiceMonitors', async () => (await api.list(R.ServiceMonitor)).items),
      namespaces(),
    );
    await Promise.all(tasks);
    tasks.length = 0;
    const monitoringNs = new Set(['monitoring', ...prometheuses.map((p) => p.metadata.namespace ?? '')]);
    // the rule wherever it is (a ruleNamespaceSelector may place it in any namespace): one list by name
    tasks.push(
      optional(
        `PrometheusRules named ${ALERTS_RULE}`,
        async () =>
          (await api.list(R.PrometheusRule, { fieldSelector: `metadata.name=${ALERTS_RULE}` })).items,
      ),
    );
    for (const ns of monitoringNs) {
      tasks.push(
        optional(`ConfigMap ${ns}/${DASHBOARDS_CONFIGMAP}`, () => one(R.ConfigMap, DASHBOARDS_CONFIGMAP, ns)),
      );
    }
  }
  await Promise.all(tasks);
  performance.mark('read');
  const snap = parseSnapshot(objects, {
    kind: 'live',
    server: api.server,
    context: opts.context,
    capturedAt: new Date().toISOString(),
    apiGroups: apiGroups.filter((g) => READ_DEPENDS_ON.test(g)),
    kubernetesVersion,
    warnings,
    calicoApiUnavailable,
  });
  // a holder that is a process of this machine, gone (killed, hung up): not running, as the executor judges it
  if (snap.journal?.holder && holderIsDeadHere(snap.journal.holder)) snap.journal.holderGone = true;
  return snap;
}

/** Reads a snapshot file (kubectl List, YAML or JSON; also a multi-document YAML stream of objects). */
export function readSnapshotFile(path: string): ClusterSnapshot {
  const text = readInputFile(path, 'snapshot file');
  let docs: unknown[];
  try {
    // JSON is YAML, but JSON.parse is ~10x faster on large snapshots
    const t = text.trimStart();
    docs = t.startsWith('{')
      ? [JSON.parse(t)]
      : loadAllNoAliases(text).filter((d) => d !== null && d !== undefined);
  } catch (e) {
    if (e instanceof YamlAnchorError)
      throw usageError(
        `snapshot file ${path}: ${e.message}`,
        "save the snapshot again with `kubectl calico-tune snapshot save`, or expand the aliases first (e.g. `yq 'explode(.)'`)",
      );
    throw usageError(
      `snapshot file ${path} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const items: KubeObject[] = [];
  for (const d of docs) {
    const o = d as Record<string, unknown>;
    if (
      o &&
      typeof o === 'object' &&
      typeof o['kind'] === 'string' &&
      o['kind'].endsWith('List') &&
      Array.isArray(o['items'])
    ) {
      append(items, o['items'] as KubeObject[]);
    } else items.push(o as KubeObject);
  }
  items.forEach((o, i) => {
    if (
      !o ||
      typeof o !== 'object' ||
      typeof o.kind !== 'string' ||
      typeof o.apiVersion !== 'string' ||
      !o.metadata ||
      typeof o.metadata.name !== 'string'
    ) {
      throw usageError(
        `snapshot file ${path}: item ${i} is not a Kubernetes object (needs apiVersion, kind, metadata.name)`,
      );
    }
  });
  if (items.length === 0) throw usageError(`snapshot file ${path} holds no objects`);
  try {
    return parseSnapshot(items, { kind: 'file', path, capturedAt: fs.statSync(path).mtime.toISOString() });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw usageError(`snapshot file ${path} could not be parsed: ${(e as Error).message}`);
  }
}

/** The kubectl `List` that `snapshot save` writes: a SnapshotInfo item, then every object read. */
export function snapshotToList(s: ClusterSnapshot): Record<string, unknown> {
  const info: KubeObject = {
    apiVersion: SNAPSHOT_INFO_API_VERSION,
    kind: SNAPSHOT_INFO_KIND,
    metadata: { name: 'snapshot' },
    spec: {
      server: s.source.server,
      context: s.source.context,
      capturedAt: s.source.capturedAt,
      apiGroups: s.source.apiGroups,
      kubernetesVersion: s.source.kubernetesVersion,
      calicoApiMode: s.calico.apiMode,
      ...(s.source.calicoApiUnavailable ? { calicoApiUnavailable: s.source.calicoApiUnavailable } : {}),
    },
  };
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [info, ...s.objects] };
}

/** Writes what `snapshot save` saves (`snapshotToList`) as YAML or JSON to a file, or stdout for `-`. */
export function writeSnapshotFile(
  path: string,
  s: ClusterSnapshot,
  format: 'yaml' | 'json',
): Record<string, unknown> {
  const list = snapshotToList(s);
  const text = `${format === 'json' ? toJson(list) : toYaml(list)}\n`;
  if (path === '-') process.stdout.write(text);
  else fs.writeFileSync(path, text);
  return list;
}
