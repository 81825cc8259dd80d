/**
 * Mesh -> route reflectors, and back. Calico's documented no-disruption procedure (calico-domain.md §3),
 * made exact: every step carries its undo, every intermediate state is verified by the BGP model.
 * Pure; refusals are usage errors (exit 2, nothing changed).
 */
import { SelectorParseError, trySelector } from '../bgp/selector.js';
import { bgpStateFromSnapshot } from '../bgp/state.js';
import { computeTopology, meshDuplicates } from '../bgp/topology.js';
import { NothingToDo, usageError } from '../errors.js';
import { verify } from '../bgp/verify.js';
import { calicoApiVersion } from '../model/api-mode.js';
import { effectiveBgp } from '../model/parse.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import { PlanBuilder } from '../plan/builder.js';
import type { Plan } from '../plan/types.js';
import { cautions, ineligibility, recommend } from '../rr/recommend.js';
import {
  addDemotion,
  addPromotion,
  conventionLabel,
  assignClusterIds,
  describeClusterIds,
  deletePeersServingNone,
  ensurePeering,
  parseLabel,
  requireNodes,
  validateClusterId,
} from '../rr/plan.js';
import { bgpApplies } from '../bgp/state.js';
import { fullMeshSessions, isRouteReflector, MESH_NODE_THRESHOLD } from '../model/calico.js';
import { append } from '../model/arrays.js';
import { num } from '../model/format.js';

export interface MigrateOptions {
  to: 'route-reflectors' | 'mesh';
  rrCount?: number | undefined;
  rr?: string[] | undefined;
  clusterId?: string | undefined;
  label?: string | undefined;
  drain?: boolean | undefined;
  /** Accept reflectors placed so that one zone's outage would cut nodes off. */
  allowZoneLoss?: boolean | undefined;
  timeout: string;
  name: string;
  command: string;
}

const BGP_CONFIG_REF = (apiVersion: string) => ({ apiVersion, kind: 'BGPConfiguration', name: 'default' });

/** Preflight shared by both directions: BGP in use, the API mode known. */
function preflight(s: ClusterSnapshot, to: MigrateOptions['to']): string[] {
  const warnings: string[] = [];
  if (!bgpApplies(s)) {
    throw usageError(
      `BGP networking is not in use (calico-node backend: ${s.calico.networkingBackend}${s.calico.networkingBackendSource ? `, from ${s.calico.networkingBackendSource}` : ''}): there is no BGP mesh to migrate`,
    );
  }
  if (s.calico.apiMode === 'none')
    throw usageError(
      'no Calico API found in this cluster (neither crd.projectcalico.org/v1 nor projectcalico.org/v3)',
    );
  if (s.calico.networkingBackend === 'unknown')
    warnings.push('the networking backend could not be determined; assuming BGP (bird)');
  if (!s.calico.version)
    warnings.push(
      'the Calico version could not be determined; assuming >= v3.21 (nodes with a cluster ID leave the mesh)',
    );
  else if (s.calico.version.minor < 21)
    throw usageError(
      `Calico ${s.calico.version.raw} keeps reflectors in the mesh (before v3.21); this tool plans for v3.21 and later`,
    );
  // disabled pools count: the pods with their addresses keep their routes (encap/model.ts anyPoolNeedsBgp)
  const pools = s.ipPools.filter((p) => p.ipVersion === 4);
  if (pools.length && pools.every((p) => p.vxlanMode !== 'Never')) {
    warnings.push(
      `every IPv4 pool uses VXLAN (${pools.map((p) => p.name).join(', ')}): Felix, not BGP, programs the pod routes; ${
        to === 'mesh'
          ? `the migration only changes BGP sessions, and raises them to the full mesh's ${num(fullMeshSessions(s.nodes.length))}`
          : 'the migration only reduces BGP sessions'
      }`,
    );
  }
  return warnings;
}

export function planMigration(s: ClusterSnapshot, opts: MigrateOptions): Plan {
  return opts.to === 'mesh' ? planToMesh(s, opts) : planToRouteReflectors(s, opts);
}

function planToRouteReflectors(s: ClusterSnapshot, opts: MigrateOptions): Plan {
  const warnings = preflight(s, 'route-reflectors');
  const bgp = effectiveBgp(s);
  // an unknown --rr node is an error whatever the cluster's state
  if (opts.rr?.length) requireNodes(s, opts.rr);
  if (!bgp.meshEnabled) {
    const v = verify(bgpStateFromSnapshot(s), { maxExamples: 1 });
    if (v.ok && s.nodes.some(isRouteReflector))
      throw new NothingToDo(
        'the full mesh is already off and the route reflectors reach every node (kubectl calico-tune rr list)',
      );
    throw usageError(
      `the full mesh is already off, but ${v.unreachablePairs} node pairs cannot reach each other`,
      'see kubectl calico-tune status; manage the reflectors with rr promote / rr replace',
    );
  }
  const nodeCount = s.nodes.filter((n) => !n.virtualKubelet).length;
  if (nodeCount <= MESH_NODE_THRESHOLD) {
    warnings.push(
      `the cluster has ${num(nodeCount)} nodes; the full mesh works well up to ~${MESH_NODE_THRESHOLD} (Calico's best-practice guide) — migrating is allowed but not needed yet`,
    );
  }
  const label = parseLabel(opts.label ?? conventionLabel(s));
  if (opts.clusterId !== undefined) validateClusterId(opts.clusterId);
  const apiVersion = calicoApiVersion(s.calico.apiMode);

  // conflicting peers: global peers to cluster nodes, and peers that duplicate mesh sessions
  const topo = computeTopology(bgpStateFromSnapshot(s));
  const dups = meshDuplicates(topo);
  for (const [peerIdx, d] of dups) {
    const p = topo.peers[peerIdx];
    warnings.push(
      `BGPPeer ${p?.name ?? '?'} duplicates ${d.pairs} mesh session(s) while the mesh is on; those sessions change when the mesh goes off`,
    );
  }
  for (const p of s.bgpPeers) {
    if (!p.node && !p.nodeSelector && p.peerIP)
      warnings.push(
        `global BGPPeer ${p.name} (peerIP ${p.peerIP}) stays: every node keeps its session to it`,
      );
  }
  if (
    bgp.defaultConfig?.nodeMeshPassword !== undefined ||
    bgp.defaultConfig?.nodeMeshMaxRestartTime !== undefined
  ) {
    warnings.push(
      'nodeMeshPassword / nodeMeshMaxRestartTime are set: they are cleared in the same update that turns the mesh off (Calico rejects them with the mesh off)',
    );
  }

  // choose the reflectors
  let chosen: string[];
  const existing = s.nodes.filter(isRouteReflector).map((n) => n.name);
  if (opts.rr?.length) {
    for (const n of requireNodes(s, opts.rr))
      if (!isRouteReflector(n)) warnings.push(...cautions(s, n).map((c) => `${n.name}: ${c}`));
    chosen = [...new Set([...existing, ...opts.rr])];
  } else {
    const r = recommend(s, { count: opts.rrCount });
    append(warnings, r.warnings);
    chosen = r.chosen.map((c) => c.node);
  }
  if (chosen.length < 2)
    throw opts.rr?.length
      ? // the person chose the reflectors: the number is the problem, not the nodes' size
        usageError(
          `--rr names ${chosen.length} route reflector(s) (existing ones included): at least 2 are needed to turn the mesh off safely`,
          'name at least two nodes, in different zones: --rr NODE,NODE (kubectl calico-tune rr recommend suggests them)',
        )
      : usageError(
          `only ${chosen.length} route reflector(s) possible: at least 2 are needed to turn the mesh off safely`,
          'pass --rr NODE,NODE,... or relax the size limits (kubectl calico-tune rr recommend --min-cpu/--min-memory)',
        );
  // reflectors promoted before (rr promote, or by hand): nothing to promote, only the mesh to turn off
  const toPromote = chosen.filter((n) => !existing.includes(n));
  const fresh = toPromote.length ? requireNodes(s, toPromote) : [];
  for (const n of fresh) {
    const why = ineligibility(n);
    if (why.length)
      throw usageError(
        `node ${n.name} cannot be a route reflector: ${why.join('; ')}`,
        'choose others: kubectl calico-tune rr recommend',
      );
  }

  const b = new PlanBuilder(s, { timeout: opts.timeout });
  if (!bgp.defaultConfig) {
    b.add({
      title: 'Create BGPConfiguration default with the mesh explicitly on',
      why: 'it does not exist yet (Calico then uses its defaults); the mesh can only be turned off by updating it',
      action: 'create',
      manifest: {
        apiVersion,
        kind: 'BGPConfiguration',
        metadata: { name: 'default' },
        spec: { nodeToNodeMeshEnabled: true },
      } as KubeObject,
      precondition: { exists: false },
    });
  }
  const clusterIds = assignClusterIds(
    s,
    fresh.map((n) => n.name),
    opts.clusterId,
  );
  ensurePeering(
    b,
    fresh.map((n) => n.name),
    label,
    clusterIds,
  );
  const cordoned: string[] = [];
  for (const n of fresh) {
    if (addPromotion(b, n, label, clusterIds.get(n.name)!, { drain: opts.drain })) cordoned.push(n.name);
  }
  const rrNames = chosen;
  b.wait(
    `Wait until each of the ${rrNames.length} reflectors lists every node Established`,
    'the gate before turning the mesh off: each reflector must list every node as an Established peer',
    rrNames,
    { exact: true, onTimeout: 'rollback' },
  );
  b.add({
    title: 'Turn the full mesh off (and clear nodeMeshPassword / nodeMeshMaxRestartTime)',
    why: 'one update: Calico rejects the mesh password fields while the mesh is off. Routes keep flowing through the reflectors, whose sessions are Established.',
    action: 'patch',
    object: BGP_CONFIG_REF(apiVersion),
    patch: { spec: { nodeToNodeMeshEnabled: false, nodeMeshPassword: null, nodeMeshMaxRestartTime: null } },
    precondition: { exists: true },
    checkpoint: true,
    undoGateNodes: sampleClients(b, rrNames),
  });
  const clients = sampleClients(b, rrNames);
  b.wait(
    `Wait until the ${rrNames.length} reflectors list every node Established, and ${clients.length} of ${b.state.nodes.length - rrNames.length} clients (one per zone) have exactly the reflector sessions`,
    `reflectors list every client; ${clients.length} client(s) (one per zone) are checked for leftover mesh sessions`,
    [...rrNames, ...clients],
    { exact: true, onTimeout: 'pause' },
  );
  for (const name of cordoned)
    b.add({
      title: `Uncordon ${name}`,
      why: 'the migration is done; reflectors may run workloads again',
      action: 'uncordon',
      object: { apiVersion: 'v1', kind: 'Node', name },
    });

  const after = b.topology();
  const n = after.state.nodes.filter((x) => x.participates).length;
  return b.finish({
    name: opts.name,
    command: opts.command,
    allowZoneLoss: opts.allowZoneLoss,
    description: `Move ${num(n)} nodes from the BGP full mesh to ${rrNames.length} route reflectors (${fresh.length === rrNames.length ? describeClusterIds(clusterIds) : fresh.length ? `${rrNames.length - fresh.length} already, ${fresh.length} new with ${describeClusterIds(clusterIds)}` : 'already reflectors'}) without disruption`,
    changes: [
      ...(bgp.defaultConfig ? [] : ['create BGPConfiguration default (mesh on)']),
      ...fresh.map((x) => `${x.name} (${x.zone ?? 'no zone'}): becomes a route reflector`),
      'BGPConfiguration default: nodeToNodeMeshEnabled false',
    ],
    warnings,
  });
}

/** One non-reflector per zone (up to 3): observed for leftover or missing sessions. */
function sampleClients(b: PlanBuilder, rrs: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of b.state.nodes) {
    if (rrs.includes(n.name) || n.os !== 'linux' || n.virtualKubelet || !n.ready) continue;
    const z = n.zone ?? '';
    if (seen.has(z)) continue;
    seen.add(z);
    out.push(n.name);
    if (out.length >= 3) break;
  }
  return out;
}

function planToMesh(s: ClusterSnapshot, opts: MigrateOptions): Plan {
  const warnings = preflight(s, 'mesh');
  const bgp = effectiveBgp(s);
  if (bgp.meshEnabled && !s.nodes.some(isRouteReflector))
    throw new NothingToDo('the full mesh is already on and there are no route reflectors');
  const nodeCount = s.nodes.filter((n) => !n.virtualKubelet).length;
  if (nodeCount > MESH_NODE_THRESHOLD) {
    warnings.push(
      `the cluster has ${num(nodeCount)} nodes: a full mesh above ~${MESH_NODE_THRESHOLD} nodes means ${num(fullMeshSessions(nodeCount))} sessions`,
    );
  }
  const label = parseLabel(opts.label ?? conventionLabel(s));
  const apiVersion = calicoApiVersion(s.calico.apiMode);
  const rrs = s.nodes.filter(isRouteReflector);
  const b = new PlanBuilder(s, { timeout: opts.timeout });
  if (!bgp.meshEnabled) {
    const probe = sampleClients(
      b,
      rrs.map((r) => r.name),
    );
    b.add({
      title: 'Turn the full mesh on',
      why: 'mesh sessions come up next to the reflector sessions; nothing is removed yet',
      action: 'patch',
      object: BGP_CONFIG_REF(apiVersion),
      patch: { spec: { nodeToNodeMeshEnabled: true } },
      precondition: { exists: true },
      checkpoint: true,
    });
    // no ready ordinary node to sample (every BGP node is a reflector): no mesh session to wait for yet
    if (probe.length)
      b.wait(
        `Wait until the mesh sessions are Established on ${probe.length} of ${num(b.state.nodes.length)} nodes (one per zone)`,
        'a sample: CalicoNodeStatus is meant for a few nodes at a time',
        probe,
        { exact: true, onTimeout: 'rollback' },
      );
  }
  // A demoted reflector joins the mesh, but the other reflectors (outside the mesh) learn routes only from
  // their own clients: when clients peer with their zone's reflectors only, the first demotion cuts the
  // demoted node off from the other zones' reflectors (a review). So, when not every node peers with every
  // reflector yet, a BGPPeer makes them do so (ensurePeering, the one `migrate --to route-reflectors` uses),
  // and the reflectors list every node before the first demotion; it selects nothing once they are gone.
  if (rrs.length > 1) {
    const before = b.steps.length;
    // (ordinary nodes that carry the label: no such BGPPeer, and the verification says whether one is needed)
    ensurePeering(b, [], label, new Map(), { othersLabelled: 'skip' });
    // the Ready reflectors: a NotReady one's calico-node most likely never reports (a review)
    const watched = rrs.filter((r) => r.ready).map((r) => r.name);
    if (b.steps.length > before && watched.length)
      b.wait(
        `Wait until each of the ${watched.length} Ready reflectors lists every node Established`,
        'before the first demotion: every node must be a client of every reflector, so that the reflectors that stay learn the demoted node routes and it learns theirs',
        watched,
        { exact: true, onTimeout: 'rollback' },
      );
  }
  for (const rr of rrs)
    addDemotion(
      b,
      b.state.nodes.find((n) => n.name === rr.name)!,
      label,
      { drain: opts.drain },
    );
  // BGPPeers that only served the reflectors now select nothing: remove them
  deletePeersServingNone(b, (p) => {
    const sel = trySelector(p.peerSelector ?? '');
    return (
      !(sel instanceof SelectorParseError) &&
      sel.keys.some((k) => /route-?reflector/i.test(k) || k === label.key)
    );
  });
  return b.finish({
    name: opts.name,
    command: opts.command,
    allowZoneLoss: opts.allowZoneLoss,
    description: `Move back from ${rrs.length} route reflectors to the BGP full mesh`,
    changes: [
      ...(bgp.meshEnabled ? [] : ['BGPConfiguration default: nodeToNodeMeshEnabled true']),
      ...rrs.map((r) => `${r.name}: stops being a route reflector`),
    ],
    warnings,
  });
}
