/**
 * BGP findings for `status`, from the session topology and the route-propagation verifier:
 * - BGP_NODES_UNREACHABLE (critical): node pairs that do not learn each other's routes.
 * - BGP_RR_SINGLE_POINT_OF_FAILURE (warning): every pair is fine now, but losing one route reflector cuts some off.
 * - BGP_PEER_DUPLICATES_MESH (warning): a BGPPeer renders Node_/Global_ protocols to nodes that already have
 *   Mesh_ sessions with each other (confd does not de-duplicate; the duplicates never come up).
 * - BGP_PEER_SELECTOR_MATCHES_NOTHING (warning): a nodeSelector/peerSelector (or `node`) that selects no node.
 * - BGP_PEER_ALLOW_LOCAL_AS_IGNORED (warning): numAllowedLocalASNumbers on a peerSelector BGPPeer (confd ignores it).
 * - BGP_PEER_SELECTOR_INVALID (critical): a selector Calico cannot parse (confd skips the BGPPeer).
 * - BGP_CONFIG_REFUSED (critical): bird.cfg files BIRD refuses (a peerIP BGPPeer without asNumber; two mesh nodes
 *   with one IPv4Address): confd keeps the last good config, and a restarted calico-node has no BGP.
 * - BGP_MESH_EBGP_NOT_CONNECTED (warning): mesh pairs of different AS numbers on different subnets, whose
 *   sessions never come up (Mesh_ protocols have no multihop).
 * - BGP_ROUTE_POLICY_NOT_MODELLED (warning): BGPFilters or localASNumber on BGPPeers, pools with disableBGPExport,
 *   or well-known communities (no-export, no-advertise) in prefixAdvertisements: what the model does not evaluate.
 * - BGP_PEER_CONFLICT (warning): two BGPPeers give one node the same peer with different settings; confd keeps
 *   one in Go map order (not defined, and may change at each re-render).
 */
import type { ClusterSnapshot, ObjectRef } from '../model/types.js';
import { type Finding, firstRefs, nodeRef } from '../model/finding.js';
import { parseSelectorCached } from './selector.js';
import { bgpStateFromSnapshot, type BgpState } from './state.js';
import { computeTopology, meshDuplicates, type PeerSpec, type Topology } from './topology.js';
import { type Unreachable, type UnreachableCause, verifyTopology } from './verify.js';
import { append } from '../model/arrays.js';
import { listSome, num, plural } from '../model/format.js';
import { parseDurationMs } from '../model/duration.js';

const RR_SELECTOR = "route-reflector == 'true'";
/** More BGPPeers than this with the same kind of problem are one finding (a BGPPeer per node makes thousands). */
const MAX_PEER_FINDINGS = 5;
const MESH_ON_PATCH = `kubectl patch bgpconfiguration default --type=merge -p '{"spec":{"nodeToNodeMeshEnabled":true}}'`;

function peerRef(p: PeerSpec): ObjectRef {
  return { kind: 'BGPPeer', name: p.name };
}

/** `bgppeers.crd.projectcalico.org` or `bgppeers.projectcalico.org`, as kubectl needs it. */
function peerResource(p: PeerSpec): string {
  const group = p.info.apiVersion.split('/')[0] || 'crd.projectcalico.org';
  return `bgppeers.${group}`;
}

function exampleText(ex: Unreachable[], max = 2): string {
  return ex
    .slice(0, max)
    .map((e) => `${e.from} does not learn ${e.to}'s routes: ${e.reason}`)
    .join('; ');
}

function selectorKeys(text: string): string[] {
  try {
    return [...parseSelectorCached(text).keys];
  } catch {
    return [];
  }
}

/** A concrete fix for the most telling cause among the examples. */
function unreachableFix(t: Topology, causes: Set<UnreachableCause>, isolated: string[]): string {
  const s = t.state;
  const rrs = s.nodes.filter((n) => n.participates && n.clusterId !== undefined);
  const ids = [...new Set(rrs.map((n) => n.clusterId!))];
  const fixes: string[] = [];
  if (causes.has('shared-cluster-id')) {
    fixes.push(
      `peer every client with every route reflector of cluster ID ${ids.join('/')} (a BGPPeer with nodeSelector: all() and ` +
        `peerSelector: ${RR_SELECTOR}), or give each route reflector its own cluster ID and mesh the reflectors: ` +
        `kubectl annotate node ${rrs[1]?.name ?? '<rr>'} projectcalico.org/RouteReflectorClusterID=<unused IPv4> --overwrite`,
    );
  }
  if (causes.has('not-reflected') || causes.has('no-path')) {
    fixes.push(
      `make the route reflectors peer with each other and every client peer with a route reflector ` +
        `(BGPPeer nodeSelector: all(), peerSelector: ${RR_SELECTOR}; kubectl calico-tune migrate plan --to route-reflectors shows the full set)`,
    );
  }
  if (causes.has('isolated') || isolated.length > 0) {
    fixes.push(
      s.meshEnabled
        ? `give the isolated nodes sessions: a node with a cluster ID is outside the mesh and needs a BGPPeer that selects it ` +
            `(peerSelector: ${RR_SELECTOR}), or remove its cluster ID: kubectl annotate node ${isolated[0] ?? '<node>'} projectcalico.org/RouteReflectorClusterID-`
        : `peer the isolated nodes with the route reflectors (BGPPeer nodeSelector: all(), peerSelector: ${RR_SELECTOR}; ` +
            `kubectl calico-tune rr promote <node> if there is none), or turn the mesh back on: ${MESH_ON_PATCH}`,
    );
  }
  if (causes.has('as-path-loop') || causes.has('cluster-list-loop') || causes.has('originator-loop')) {
    fixes.push(
      'check the AS numbers and cluster IDs along the peering chain (kubectl calico-tune status -o yaml shows the sessions)',
    );
  }
  return (
    fixes.join('; or ') ||
    `kubectl calico-tune status -o yaml  # lists the sessions; then peer the nodes with a route reflector`
  );
}

export function bgpFindings(s: ClusterSnapshot, state: BgpState = bgpStateFromSnapshot(s)): Finding[] {
  if (s.calico.networkingBackend === 'vxlan' || s.calico.networkingBackend === 'none') return [];
  const out: Finding[] = [];
  const t = computeTopology(state);

  // Selectors Calico cannot parse.
  for (const p of t.peers) {
    const sp = p.selectorProblem;
    if (!sp) continue;
    out.push({
      code: 'BGP_PEER_SELECTOR_INVALID',
      severity: 'critical',
      message:
        `BGPPeer ${p.name} has an invalid ${sp.field} ${JSON.stringify(sp.selector)} (error at position ${sp.position}: ` +
        `${sp.message.replace(/^invalid selector .*? at position \d+: /, '')}); confd skips the whole BGPPeer, so it creates no sessions`,
      objects: [peerRef(p)],
      fix: `kubectl edit ${peerResource(p)} ${p.name}  # fix spec.${sp.field}; quote it in YAML ('${sp.field}: "..."'), an unquoted leading ! is a YAML tag`,
    });
  }

  // Configs BIRD refuses: the model already gives those nodes no session (Topology.isolated).
  for (const r of t.refused) {
    const nodes = `${plural(r.nodes.length, 'node')} (${r.nodes.slice(0, 3).join(', ')}${r.nodes.length > 3 ? ', ...' : ''})`;
    const after =
      `confd's check (bird -p) fails, so on ${nodes} it keeps the last bird.cfg BIRD accepted: ` +
      `no BGP change reaches them any more, and a calico-node that restarts there has no BGP at all`;
    if (r.kind === 'peer-as') {
      const p = t.peers.find((x) => x.name === r.cause)!;
      out.push({
        code: 'BGP_CONFIG_REFUSED',
        severity: 'critical',
        message: `BGPPeer ${p.name} has peerIP ${p.peerIP} and no asNumber: confd renders \`neighbor ${p.peerIP} as 0;\`, which BIRD refuses ("Remote AS number must be set"); ${after}`,
        objects: [peerRef(p), ...firstRefs(r.nodes.map(nodeRef))],
        fix: `kubectl patch ${peerResource(p)} ${p.name} --type=merge -p '{"spec":{"asNumber":<the peer's AS>}}'`,
      });
    } else {
      out.push({
        code: 'BGP_CONFIG_REFUSED',
        severity: 'critical',
        message:
          `nodes ${r.sharing!.join(' and ')} have the same IPv4Address ${r.cause} while the node-to-node mesh is on: every other ` +
          `mesh node renders \`protocol bgp Mesh_${r.cause.replace(/\./g, '_')}\` twice, which BIRD refuses ("Symbol already defined"); ${after}`,
        objects: firstRefs(r.sharing!.map(nodeRef)),
        fix: `give each node its own address (calico-node's IP_AUTODETECTION_METHOD, e.g. interface=eth0 or cidr=<node subnet>), then check projectcalico.org/IPv4Address on ${r.sharing!.join(' and ')}`,
      });
    }
  }
  if (t.meshNotConnected.pairs) {
    const [a, b] = t.meshNotConnected.example!;
    out.push({
      code: 'BGP_MESH_EBGP_NOT_CONNECTED',
      severity: 'warning',
      message:
        `${plural(t.meshNotConnected.pairs, 'node pair')} of the node-to-node mesh have different AS numbers and are not on one subnet ` +
        `(e.g. ${a} and ${b}): confd renders mesh protocols without multihop, and BIRD's eBGP waits for a directly ` +
        `connected neighbour, so these sessions never come up`,
      objects: [nodeRef(a), nodeRef(b)],
      fix: 'peer nodes of different AS numbers through BGPPeers (Node_ protocols have multihop), e.g. each rack with its ToR or its own route reflectors, and turn the mesh off; or give the nodes one AS number',
    });
  }

  // Route policy the model does not evaluate: its verdicts assume every pool route is exported and accepted
  // (a review against confd's templates: a BGPFilter rejecting the pool CIDR on the reflectors' BGPPeer cuts every
  // client off while the model says reachable)
  const policy: string[] = [];
  const objects: ObjectRef[] = [];
  for (const p of t.peers) {
    const filters = p.info.spec['filters'];
    if (Array.isArray(filters) && filters.length) {
      policy.push(`BGPPeer ${p.name} applies BGPFilter ${filters.map(String).join(', ')}`);
      objects.push(peerRef(p));
    }
    // (v3.31: the local AS of the peering's forward protocols; the reverse side still expects the node's AS)
    const localAs = Number(p.info.spec['localASNumber'] ?? 0);
    if (localAs > 0) {
      policy.push(
        `BGPPeer ${p.name} sets localASNumber ${localAs}, which the model reads as the node's own AS`,
      );
      objects.push(peerRef(p));
    }
  }
  for (const o of s.objects) {
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    if (o.kind === 'IPPool' && spec['disableBGPExport'] === true && spec['disabled'] !== true) {
      policy.push(`IPPool ${o.metadata.name} has disableBGPExport: its routes are not advertised over BGP`);
      objects.push({ kind: 'IPPool', name: o.metadata.name });
    }
    if (o.kind === 'BGPConfiguration' && Array.isArray(spec['prefixAdvertisements'])) {
      const wellKnown = JSON.stringify(spec['prefixAdvertisements']).match(
        /65535:6528[12]|no-export|no-advertise/g,
      );
      if (wellKnown) {
        policy.push(
          `BGPConfiguration ${o.metadata.name} tags prefixes with ${[...new Set(wellKnown)].join(', ')}, which BIRD honours before any filter (no-advertise stops route reflection, no-export stops eBGP)`,
        );
        objects.push({ kind: 'BGPConfiguration', name: o.metadata.name });
      }
    }
  }
  if (policy.length)
    out.push({
      code: 'BGP_ROUTE_POLICY_NOT_MODELLED',
      severity: 'warning',
      message: `route policy and settings the BGP model does not evaluate: ${policy.slice(0, 3).join('; ')}${policy.length > 3 ? `; and ${policy.length - 3} more` : ''}. Reachability here, and every plan's verdicts, assume each pool route is exported and accepted`,
      objects: firstRefs(objects),
      fix: 'check these do not reject or scope the pod CIDRs between nodes (calicoctl node status and birdcl show the routes; kubectl calico-tune bgp peers --source birdcl NODE compares them with the model)',
    });

  // Selectors (or node names) that select nothing: one finding per BGPPeer, or one for all of them when there
  // are many (a BGPPeer per node after its reflector was demoted: a review counted 50 warnings in one status)
  const nothing: Finding[] = [];
  for (const p of t.peers) {
    if (p.selectorProblem) continue;
    const problems: string[] = [];
    const keys: string[] = [];
    if (p.info.nodeSelector === undefined && p.info.node !== undefined && p.localMatches === 0)
      problems.push(`spec.node ${JSON.stringify(p.info.node)} names no node`);
    else if (p.info.nodeSelector !== undefined && p.localMatches === 0) {
      problems.push(`nodeSelector ${JSON.stringify(p.info.nodeSelector)} matches no node`);
      append(keys, selectorKeys(p.info.nodeSelector));
    }
    if (p.info.peerSelector !== undefined && p.remoteMatches === 0) {
      problems.push(
        `peerSelector ${JSON.stringify(p.info.peerSelector)} matches no node with an IPv4 address`,
      );
      append(keys, selectorKeys(p.info.peerSelector));
    }
    if (problems.length === 0) continue;
    const uniq = [...new Set(keys)];
    nothing.push({
      code: 'BGP_PEER_SELECTOR_MATCHES_NOTHING',
      severity: 'warning',
      message: `BGPPeer ${p.name}: ${problems.join(' and ')}, so it creates no BGP sessions`,
      objects: [peerRef(p)],
      fix:
        (uniq.length > 0
          ? `compare with the node labels: kubectl get nodes -L ${uniq.join(',')}; `
          : 'kubectl get nodes; ') +
        `then fix it (kubectl edit ${peerResource(p)} ${p.name}) or delete it (kubectl delete ${peerResource(p)} ${p.name})`,
    });
  }
  if (nothing.length > MAX_PEER_FINDINGS)
    out.push({
      code: 'BGP_PEER_SELECTOR_MATCHES_NOTHING',
      severity: 'warning',
      message: `${num(nothing.length)} BGPPeers create no BGP sessions, their node, nodeSelector or peerSelector selecting no node: ${nothing
        .slice(0, 3)
        .map((f) => f.message.replace(/, so it creates no BGP sessions$/, ''))
        .join('; ')}; and ${num(nothing.length - 3)} more`,
      objects: firstRefs(nothing.flatMap((f) => f.objects)),
      fix: 'compare them with the node labels (kubectl get nodes --show-labels); delete the ones an earlier design left behind (kubectl get bgppeers lists them), or fix their selectors',
    });
  else out.push(...nothing);

  // numAllowedLocalASNumbers where confd ignores it: it sets `allow local as` for peerIP BGPPeers only
  for (const p of t.peers) {
    const n = Number(p.info.spec['numAllowedLocalASNumbers'] ?? 0);
    if (!(n > 0) || p.info.peerIP !== undefined) continue;
    out.push({
      code: 'BGP_PEER_ALLOW_LOCAL_AS_IGNORED',
      severity: 'warning',
      message: `BGPPeer ${p.name} sets numAllowedLocalASNumbers: ${n} with a peerSelector: Calico's confd renders \`allow local as\` only for BGPPeers with a peerIP, so its sessions keep BIRD's AS-path loop check`,
      objects: [peerRef(p)],
      fix: `peer by peerIP (one BGPPeer per reflector: peerIP, asNumber, numAllowedLocalASNumbers), or give the nodes behind the reflectors their reflectors' AS number`,
    });
  }

  out.push(...peerConflicts(t, selectorNextHop(s)));

  // BGPPeer protocols that duplicate mesh sessions.
  if (state.meshEnabled) {
    for (const [j, d] of meshDuplicates(t)) {
      const p = t.peers[j]!;
      const [a, b] = d.example.map((i) => state.nodes[i]!.name);
      out.push({
        code: 'BGP_PEER_DUPLICATES_MESH',
        severity: 'warning',
        message:
          `BGPPeer ${p.name} adds ${p.global ? 'Global_' : 'Node_'} sessions between ${plural(d.pairs, 'node pair')} that already have ` +
          `node-to-node mesh sessions (e.g. ${a} and ${b}): confd does not de-duplicate them, BIRD attaches the peer's ` +
          `connection to the Mesh_ protocol, and the duplicates stay down (calicoctl node status shows them not Established)`,
        objects: [peerRef(p), nodeRef(a!), nodeRef(b!)],
        fix:
          `while the mesh is on, let the peerSelector match only nodes with a route-reflector cluster ID (they are outside the mesh), ` +
          `e.g. peerSelector: ${RR_SELECTOR}; or finish the move to route reflectors: kubectl calico-tune migrate plan --to route-reflectors`,
      });
    }
  }

  // Reachability, now and with one route reflector down.
  const v = verifyTopology(t, { n1: true, maxExamples: 3 });
  if (v.unreachablePairs > 0) {
    const onlyExternal = v.unreachablePairs === v.unreachableWithExternalPeers;
    const causes = new Set(v.examples.map((e) => e.cause));
    const names = [...new Set([...v.examples.flatMap((e) => [e.from, e.to]), ...v.isolated])];
    const isolatedText =
      v.isolated.length > 0
        ? ` ${plural(v.isolated.length, 'node has', 'nodes have')} no BGP session at all (${v.isolated.slice(0, 5).join(', ')}${v.isolated.length > 5 ? ', ...' : ''}).`
        : '';
    const shared = causes.has('shared-cluster-id')
      ? ' This is the shared-cluster-ID partial peering of projectcalico/calico#2735.'
      : '';
    out.push({
      code: 'BGP_NODES_UNREACHABLE',
      severity: onlyExternal ? 'info' : 'critical',
      message:
        `${plural(v.unreachablePairs, 'node pair')} of ${num(v.participating)} BGP nodes cannot reach each other: ` +
        `${exampleText(v.examples)}.${isolatedText}${shared}` +
        (onlyExternal
          ? ' All of them have external BGP peers, which may relay routes between them (the model cannot see external routers).'
          : v.unreachableWithExternalPeers > 0
            ? ` (${plural(v.unreachableWithExternalPeers, 'pair')} of them have external peers on both ends, which might relay.)`
            : ''),
      objects: firstRefs(names.map(nodeRef)),
      fix: unreachableFix(t, causes, v.isolated),
    });
  } else if (v.n1 && !v.n1.ok) {
    for (const f of v.n1.failures) {
      const rr = state.nodes.find((n) => n.name === f.rr);
      out.push({
        code: 'BGP_RR_SINGLE_POINT_OF_FAILURE',
        severity: 'warning',
        message:
          `if route reflector ${f.rr}${rr?.zone ? ` (zone ${rr.zone})` : ''} fails or restarts, ${plural(f.unreachablePairs, 'node pair')} ` +
          `lose routes to each other: ${exampleText(f.examples, 1)}`,
        objects: firstRefs([nodeRef(f.rr), ...f.examples.flatMap((e) => [nodeRef(e.from), nodeRef(e.to)])]),
        fix:
          `add a route reflector (ideally in another zone) and peer every client with every route reflector: ` +
          `kubectl calico-tune rr promote <node>; with a shared cluster ID, every client must peer with every reflector`,
      });
    }
  }
  return out;
}

/** BGPPeer fields that choose the nodes and the peer, not what confd renders for a (node, peer) key. */
const SELECTION_FIELDS = new Set([
  'node',
  'nodeSelector',
  'peerSelector',
  'peerIP',
  'reversePeering',
  'localWorkloadSelector',
]);

/**
 * Whether confd takes a peerSelector BGPPeer's keepOriginalNextHop and nextHopMode: from Calico v3.30.2 on
 * (client.go nodeAsBGPPeers; before, only peerIP BGPPeers had them). Unknown version: the newest behaviour.
 */
function selectorNextHop(s: ClusterSnapshot): boolean {
  const v = s.calico.version;
  if (!v) return true;
  return v.major > 3 || (v.major === 3 && (v.minor > 30 || (v.minor === 30 && v.patch >= 2)));
}

/**
 * What confd stores as the value of a peering key, and BIRD renders, besides what the peer node gives: the
 * BGPPeer's spec without its selection fields (and without asNumber for a peerSelector BGPPeer, whose remote
 * AS is the node's), as canonical JSON, field by field. `ebgp`: the session's peer AS differs from the node's
 * (bird.cfg.template renders `next hop keep` only then); `selectorNextHop`: above.
 */
function peerSettings(p: PeerSpec, ebgp: boolean, selectorNextHop: boolean): Map<string, string> {
  const out = new Map<string, string>();
  const spec = p.info.spec;
  const bySelector = p.info.peerIP === undefined;
  for (const k of Object.keys(spec).sort()) {
    if (SELECTION_FIELDS.has(k)) continue;
    // what confd does not take from a peerSelector BGPPeer (the node gives the AS; no allow local as, no
    // local AS; no next-hop settings before v3.30.2), nor keepOriginalNextHop once nextHopMode is set, and what
    // BIRD is not given for an iBGP session (keepOriginalNextHop)
    if (bySelector && (k === 'asNumber' || k === 'numAllowedLocalASNumbers' || k === 'localASNumber'))
      continue;
    if (bySelector && !selectorNextHop && (k === 'keepOriginalNextHop' || k === 'nextHopMode')) continue;
    if (k === 'keepOriginalNextHop' && (spec['nextHopMode'] !== undefined || !ebgp)) continue;
    const v = normalSetting(k, spec[k]);
    if (v !== undefined) out.set(k, canonicalJson(v));
  }
  return out;
}

/** A setting as confd renders it: defaults (false, 0, UseNodeIP) as unset, durations in seconds. */
function normalSetting(k: string, v: unknown): unknown {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return undefined;
  if (k === 'sourceAddress' && v === 'UseNodeIP') return undefined;
  if (k === 'maxRestartTime' && typeof v === 'string') {
    const ms = parseDurationMs(v);
    return ms === undefined ? v : Math.round(ms / 1000);
  }
  return v;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The fields two settings differ in. */
function differing(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

/**
 * BGP_PEER_CONFLICT. confd (client.go updatePeersV1) emits a value per key, (peer IP, port) for global BGPPeers and
 * (node, peer IP, port) for the others, global ones first; the first value for a key wins, and BGPPeers of one
 * pass are walked in Go map order. Two BGPPeers of one pass that give a key different values therefore leave
 * the outcome undefined, and it may change whenever confd recomputes its peerings. Linear in what confd
 * expands: per peer, only the BGPPeers that share it are compared, node by node.
 */
function peerConflicts(t: Topology, selectorNextHop: boolean): Finding[] {
  const byPeer = new Map<string, PeerSpec[]>();
  const add = (key: string, p: PeerSpec): void => {
    const l = byPeer.get(key);
    if (l) l.push(p);
    else byPeer.set(key, [p]);
  };
  for (const p of t.peers) {
    if (p.ignored) continue;
    const pass = p.global ? 'g' : 'n';
    if (p.info.peerIP !== undefined) {
      if (p.peerIP !== undefined) add(`${pass}|${p.peerIP}|${p.port ?? ''}`, p);
    } else
      for (const i of p.remote.indices(t.n)) {
        const ip = t.ip[i];
        if (ip !== undefined) add(`${pass}|${ip}|`, p);
      }
  }
  interface Conflict {
    a: PeerSpec;
    b: PeerSpec;
    peers: Set<string>;
    /** The nodes concerned (undefined: every node, global BGPPeers). */
    nodes: Set<number> | undefined;
    fields: string[];
  }
  const found = new Map<string, Conflict>();
  const note = (a: PeerSpec, b: PeerSpec, peer: string, node: number | undefined, fields: string[]): void => {
    const [x, y] = a.name < b.name ? [a, b] : [b, a];
    const key = `${x.index}|${y.index}`;
    let c = found.get(key);
    if (!c)
      found.set(
        key,
        (c = { a: x, b: y, peers: new Set(), nodes: node === undefined ? undefined : new Set(), fields }),
      );
    c.peers.add(peer);
    if (node !== undefined) c.nodes?.add(node);
  };
  const settings = new Map<string, Map<string, string>>();
  const settingsOf = (p: PeerSpec, ebgp: boolean): Map<string, string> => {
    const key = `${p.index}|${ebgp}`;
    let v = settings.get(key);
    if (!v) settings.set(key, (v = peerSettings(p, ebgp, selectorNextHop)));
    return v;
  };
  const nodeOfIp = new Map<string, number>();
  t.ip.forEach((ip, i) => ip !== undefined && nodeOfIp.set(ip, i));
  /** The AS the session's peer has: a peerIP BGPPeer's asNumber (0 when unset, as confd renders it), else the peer node's. */
  const peerAs = (p: PeerSpec, ip: string): number | undefined =>
    p.info.peerIP !== undefined ? (p.asNumber ?? 0) : t.state.nodes[nodeOfIp.get(ip) ?? -1]?.asNumber;
  /**
   * Whether the session of a node of AS `nodeAs` to `ip` through `p` is eBGP, as bird.cfg.template decides:
   * the peer's AS against the node's effective AS (a peerIP BGPPeer's localASNumber when set, else the node's).
   */
  const ebgp = (p: PeerSpec, ip: string, nodeAs: number): boolean => {
    const remote = peerAs(p, ip);
    const local = p.info.peerIP !== undefined ? Number(p.info.spec['localASNumber'] ?? 0) : 0;
    return remote === undefined || remote !== (local > 0 ? local : nodeAs);
  };
  /** The AS numbers the nodes have (a global BGPPeer is rendered on each node with its own). */
  const nodeAses = [...new Set(t.state.nodes.map((n) => n.asNumber))];
  for (const [key, specs] of byPeer) {
    if (specs.length < 2) continue;
    const [pass, ip, port] = key.split('|') as [string, string, string];
    const peer = port ? `${ip}:${port}` : ip;
    // a node key is dropped when a global key for the same peer exists (confd's emit): no conflict there
    if (pass === 'n' && byPeer.has(`g|${ip}|${port}`)) continue;
    if (pass === 'g') {
      const first = specs[0]!;
      for (const p of specs.slice(1)) {
        const fields = [
          ...new Set(
            nodeAses.flatMap((as) =>
              differing(settingsOf(first, ebgp(first, ip, as)), settingsOf(p, ebgp(p, ip, as))),
            ),
          ),
        ].sort();
        if (fields.length) note(first, p, peer, undefined, fields);
      }
      continue;
    }
    const firstOf = new Map<number, PeerSpec>();
    for (const p of specs)
      for (const i of p.local.indices(t.n)) {
        if (t.ip[i] === ip) continue; // a node skips a peer whose IP is its own
        const prev = firstOf.get(i);
        if (!prev) {
          firstOf.set(i, p);
          continue;
        }
        if (prev === p) continue;
        const as = t.state.nodes[i]!.asNumber;
        const fields = differing(settingsOf(prev, ebgp(prev, ip, as)), settingsOf(p, ebgp(p, ip, as)));
        if (fields.length) note(prev, p, peer, i, fields);
      }
  }
  const size = (c: Conflict): number => c.nodes?.size ?? t.n;
  const all = [...found.values()].sort((x, y) => size(y) - size(x) || x.a.name.localeCompare(y.a.name));
  const fix =
    'make the BGPPeers agree, or narrow their node/nodeSelector so that no node gets the same peer from both; then check the session with kubectl calico-tune bgp peers';
  const text = (c: Conflict): string =>
    `BGPPeers ${c.a.name} and ${c.b.name} both configure ${c.peers.size > 1 ? `the peers ${listSome([...c.peers], 2)}` : `the peer ${[...c.peers][0]}`} on ${
      c.nodes === undefined
        ? 'every node'
        : `${plural(c.nodes.size, 'node')} (e.g. ${t.state.nodes[c.nodes.values().next().value!]!.name})`
    }, with different ${c.fields.join(', ')}`;
  const after =
    'confd keeps one of them per node in Go map order, so which applies is not defined and can change whenever confd recomputes its peerings (each change reconfigures BIRD); the model assumed the first by name';
  if (all.length > MAX_PEER_FINDINGS)
    return [
      {
        code: 'BGP_PEER_CONFLICT',
        severity: 'warning',
        message: `${num(all.length)} pairs of BGPPeers give nodes the same peer with different settings: ${all
          .slice(0, 3)
          .map(text)
          .join('; ')}; and ${num(all.length - 3)} more. ${after[0]!.toUpperCase()}${after.slice(1)}`,
        objects: firstRefs(all.flatMap((c) => [peerRef(c.a), peerRef(c.b)])),
        fix,
      },
    ];
  return all.map((c) => ({
    code: 'BGP_PEER_CONFLICT',
    severity: 'warning',
    message: `${text(c)}: ${after}`,
    objects: [peerRef(c.a), peerRef(c.b)],
    fix,
  }));
}
