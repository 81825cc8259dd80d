/**
 * The configuration checks behind `status` (pure functions over a snapshot). Reachability findings come
 * from the BGP model (src/bgp/findings.ts); Typha findings from src/typha/analysis.ts.
 */
import { parseSelectorCached, type Selector } from '../bgp/selector.js';
import { bgpApplies, bgpStateFromSnapshot, nodeIPv4, runsBird, withoutDeadReflectors } from '../bgp/state.js';
import { verify } from '../bgp/verify.js';
import { fullMeshSessions, isRouteReflector, MESH_NODE_THRESHOLD, RR_LABEL_KEYS } from '../model/calico.js';
import { clusterIdProblem, isMaskedIPv4Network, parseIPv4Cidr, ipv4Network } from '../model/net.js';
import { effectiveBgp, LABEL_ZONE } from '../model/parse.js';
import type { BgpPeerInfo, ClusterSnapshot, NodeInfo, ObjectRef } from '../model/types.js';
import { type Finding, firstRefs, nodeRef } from '../model/finding.js';
import { append } from '../model/arrays.js';
import { detectMonitoring } from '../monitoring/detect.js';
import { monitoringFindings } from '../monitoring/findings.js';
import { listSome, num, plural } from '../model/format.js';
import { podRoutesNeedBgp } from './install.js';
import { felixTunnelOff, poolTarget } from '../encap/model.js';
import { operatorPending } from '../encap/plan.js';

function bgpConfigRef(): ObjectRef {
  return { kind: 'BGPConfiguration', name: 'default' };
}

function safeMatches(selector: string | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  try {
    return parseSelectorCached(selector).matches(labels);
  } catch {
    return false;
  }
}

/** Whether some BGPPeer gives this node a session as the remote side or as the local side. */
export function peersSelectingNode(s: ClusterSnapshot, n: NodeInfo): BgpPeerInfo[] {
  const ip = nodeIPv4(n);
  return s.bgpPeers.filter((p) => {
    const remote =
      (p.peerSelector !== undefined && safeMatches(p.peerSelector, n.calicoLabels)) ||
      (p.peerIP !== undefined && ip !== undefined && p.peerIP.split(':')[0] === ip);
    const local =
      p.node === n.name ||
      safeMatches(p.nodeSelector, n.calicoLabels) ||
      (p.node === undefined && p.nodeSelector === undefined);
    return remote || (local && (p.peerSelector !== undefined || p.peerIP !== undefined));
  });
}

/**
 * The BGPPeers whose peerSelector talks about route reflectors, one per distinct selector (the first by
 * name): a BGPPeer per node repeats the same few selectors thousands of times.
 */
const rrSelectorsCache = new WeakMap<ClusterSnapshot, { name: string; text: string; sel: Selector }[]>();
function rrSelectors(s: ClusterSnapshot): { name: string; text: string; sel: Selector }[] {
  let out = rrSelectorsCache.get(s);
  if (out) return out;
  out = [];
  const seen = new Set<string>();
  for (const p of s.bgpPeers) {
    if (!p.peerSelector || seen.has(p.peerSelector)) continue;
    seen.add(p.peerSelector);
    try {
      const sel = parseSelectorCached(p.peerSelector);
      if (sel.keys.some((k) => /route-?reflector/i.test(k)))
        out.push({ name: p.name, text: p.peerSelector, sel });
    } catch {
      /* invalid selectors are reported by the BGP model */
    }
  }
  rrSelectorsCache.set(s, out);
  return out;
}

/** Nodes marked as route reflectors by a label, or selected by a peerSelector that talks about reflectors. */
function labelledAsRR(s: ClusterSnapshot, n: NodeInfo): string | undefined {
  for (const k of RR_LABEL_KEYS) {
    if (k in n.labels && (k !== 'route-reflector' || n.labels[k] === 'true'))
      return `label ${k}${n.labels[k] ? `=${n.labels[k]}` : ''}`;
  }
  for (const p of rrSelectors(s)) {
    if (p.sel.matches(n.calicoLabels)) return `BGPPeer ${p.name} peerSelector ${p.text}`;
  }
  return undefined;
}

export function configFindings(s: ClusterSnapshot): Finding[] {
  const out: Finding[] = [];
  const bgp = effectiveBgp(s);
  const nodes = s.nodes;
  const applies = bgpApplies(s);
  const rrs = nodes.filter(isRouteReflector);
  const zones = new Set(nodes.map((n) => n.zone).filter((z): z is string => !!z));

  // BIRD runs, but every pool is VXLAN and no external peer takes routes: BGP carries no pod route, so advice
  // driven by BGP session counts (reflectors, mesh size) does not apply; turning BGP off does
  const bgpIdle = applies && !podRoutesNeedBgp(s);
  if (bgpIdle) {
    const bgpNodes = nodes.filter(runsBird).length;
    out.push({
      code: 'ENCAP_BGP_UNUSED',
      severity: 'info',
      message: `every IP pool uses VXLAN and no BGPPeer has a peerIP: Felix programs the pod routes and BGP carries none, yet calico-node runs BIRD (${bgpNodes} nodes${bgp.meshEnabled ? `, ${num(fullMeshSessions(bgpNodes))} mesh sessions` : ''}); route-reflector advice does not apply`,
      objects: s.ipPools.map((p) => ({ kind: 'IPPool', name: p.name })),
      fix:
        s.calico.installMode === 'operator'
          ? 'turn BGP off: kubectl patch installation default --type=merge -p \'{"spec":{"calicoNetwork":{"bgp":"Disabled"}}}\''
          : 'turn BGP off: set calico_backend: vxlan in ConfigMap kube-system/calico-config and remove -bird-live / -bird-ready from the calico-node probes (kubectl calico-tune encap report)',
    });
  }

  if (applies) {
    // 1. full mesh on a large cluster
    const bgpNodes = nodes.filter(runsBird).length;
    if (bgp.meshEnabled && bgpNodes > MESH_NODE_THRESHOLD && !bgpIdle) {
      const sessions = fullMeshSessions(bgpNodes);
      out.push({
        code: 'FULL_MESH_LARGE_CLUSTER',
        severity: 'warning',
        message: `the BGP full mesh is on with ${num(bgpNodes)} nodes (> ${MESH_NODE_THRESHOLD}): ${num(sessions)} sessions, ${num(bgpNodes - 1)} on every node`,
        objects: [bgpConfigRef()],
        fix: 'move to route reflectors: kubectl calico-tune migrate plan --to route-reflectors',
      });
    }

    // 1b. Linux nodes without the BGP address calico-node records when it starts: no BIRD there, so no
    // sessions and no routes to their pods; the BGP model leaves them out (IPv6-only nodes excepted)
    const noAddress = nodes.filter(
      (n) =>
        (n.os === 'linux' || n.os === 'unknown') &&
        !n.virtualKubelet &&
        nodeIPv4(n) === undefined &&
        !n.bgp.ipv6Address,
    );
    if (noAddress.length) {
      const bad = noAddress.filter((n) => n.bgp.ipv4Address);
      out.push({
        code: 'NODE_NO_BGP_ADDRESS',
        severity: 'warning',
        message: `${noAddress.length === 1 ? `node ${noAddress[0]!.name} has` : `${num(noAddress.length)} Linux nodes have`} no usable projectcalico.org/IPv4Address${
          bad.length
            ? ` (${bad
                .map((n) => `"${n.bgp.ipv4Address}" on ${n.name}`)
                .slice(0, 3)
                .join(', ')}: not an address with a prefix length)`
            : ''
        }: calico-node has not started there or cannot detect the node's address, so BIRD runs with no session and no other node learns routes to its pods; the BGP model leaves ${noAddress.length === 1 ? 'it' : 'them'} out`,
        objects: firstRefs(noAddress.map((n) => nodeRef(n.name))),
        fix: `find the node's calico-node pod (kubectl get pods -n ${s.calico.installMode === 'operator' ? 'calico-system' : 'kube-system'} -l k8s-app=calico-node --field-selector spec.nodeName=${noAddress[0]!.name}) and read its log (kubectl logs POD -c calico-node): not started, or IP autodetection failed (IP_AUTODETECTION_METHOD, or the Installation's nodeAddressAutodetectionV4)`,
      });
    }

    // 2. cluster IDs Calico ignores
    for (const n of nodes) {
      const raw = n.bgp.rrClusterIdRaw;
      if (raw === undefined || raw === '' || n.bgp.rrClusterId !== undefined) continue;
      out.push({
        code: 'RR_CLUSTER_ID_INVALID',
        severity: 'critical',
        message: `node ${n.name} has route-reflector cluster ID "${raw}", which ${clusterIdProblem(raw)}: Calico ignores it silently, so the node is not a route reflector`,
        objects: [nodeRef(n.name)],
        fix: `kubectl annotate node ${n.name} --overwrite projectcalico.org/RouteReflectorClusterID=244.0.0.1  (a bare IPv4 address, e.g. the one your other RRs use)`,
      });
    }
    // ... and a network Calico keeps, which BIRD refuses
    for (const n of nodes) {
      const id = n.bgp.rrClusterId;
      if (id === undefined || !isMaskedIPv4Network(id)) continue;
      out.push({
        code: 'RR_CLUSTER_ID_NETWORK',
        severity: 'critical',
        message: `node ${n.name} has route-reflector cluster ID "${id}", a network, not an address: Calico accepts it, so every other node treats ${n.name} as a route reflector and leaves it out of the mesh, but BIRD on ${n.name} refuses "rr cluster id ${id};", which confd writes into every protocol toward a route-reflector client (a syntax error in confd's check; a node with no client session loads its config), so it keeps its last good configuration, or none after a restart: its sessions and its pods' routes are not what Calico's objects say; the BGP model leaves it out`,
        objects: [nodeRef(n.name)],
        fix: `kubectl annotate node ${n.name} --overwrite projectcalico.org/RouteReflectorClusterID=${id.split('/')[0]}  (a bare IPv4 address)`,
      });
    }

    // 3a. labelled as RR but no cluster ID
    for (const n of nodes) {
      if (isRouteReflector(n) || (n.bgp.rrClusterIdRaw ?? '') !== '') continue;
      const why = labelledAsRR(s, n);
      if (!why) continue;
      out.push({
        code: 'RR_LABEL_WITHOUT_CLUSTER_ID',
        severity: 'warning',
        message: `node ${n.name} is marked as a route reflector (${why}) but has no cluster ID: it peers as an ordinary node and reflects nothing`,
        objects: [nodeRef(n.name)],
        fix: `kubectl calico-tune rr promote ${n.name}  (or remove the label if it is not meant to be a reflector)`,
      });
    }

    // 3b. cluster ID but no BGPPeer gives it sessions
    for (const n of rrs) {
      if (peersSelectingNode(s, n).length > 0) continue;
      out.push({
        code: 'RR_NOT_PEERED',
        severity: 'critical',
        message: `route reflector ${n.name} (cluster ID ${n.bgp.rrClusterId}) is selected by no BGPPeer: a node with a cluster ID leaves the full mesh (Calico >= v3.21), so it has no BGP sessions at all`,
        objects: [nodeRef(n.name)],
        fix: `create a BGPPeer whose peerSelector matches it (e.g. label it route-reflector=true and use peerSelector: route-reflector == 'true'), or: kubectl calico-tune rr promote ${n.name}`,
      });
    }

    // 3c. a reflector whose node is not Ready: calico-node there is most likely down, so its clients keep only
    // the sessions to the other reflectors (the BGP model counts every reflector up)
    const ready = rrs.filter((n) => n.ready);
    const down = rrs.filter((n) => !n.ready);
    // what the Ready reflectors alone carry (per-zone peering: a dead zone reflector cuts its zone off, however
    // many reflectors are Ready elsewhere)
    const alone = down.length
      ? verify(bgpStateFromSnapshot(withoutDeadReflectors(s)), { maxExamples: 1 })
      : undefined;
    for (const n of down) {
      const ex = alone?.examples[0];
      const cut = alone && alone.unreachablePairs > 0;
      out.push({
        code: 'RR_NOT_READY',
        severity: cut || (!bgp.meshEnabled && ready.length < 2) ? 'critical' : 'warning',
        message: `route reflector ${n.name} is not Ready: its BGP sessions are most likely down${
          cut
            ? `; without ${down.length === 1 ? 'it' : `the ${down.length} reflectors not Ready`}, ${num(alone.unreachablePairs)} node pairs have no route${ex ? ` (e.g. ${ex.from} does not learn ${ex.to}'s routes)` : ''}`
            : `, so its clients rely on ${
                ready.length
                  ? `the ${ready.length} Ready reflector${ready.length === 1 ? '' : 's'} (${ready.map((r) => r.name).join(', ')})${!bgp.meshEnabled && ready.length < 2 ? ': one more failure cuts nodes off' : ''}`
                  : 'the full mesh'
              }`
        }`,
        objects: [nodeRef(n.name)],
        fix: `bring ${n.name} back, or replace it: kubectl calico-tune rr recommend, then kubectl calico-tune rr replace ${n.name} NEW`,
      });
    }

    // 4. redundancy and zone spread
    if (rrs.length === 1 && !bgpIdle) {
      const rr = rrs[0]!;
      out.push({
        code: 'RR_SINGLE',
        severity: 'warning',
        message: `only one route reflector (${rr.name}): ${bgp.meshEnabled ? 'a second one is needed before the mesh can be turned off safely' : 'if it fails or restarts, nodes lose routes to each other'}`,
        objects: [nodeRef(rr.name)],
        fix: 'add reflectors: kubectl calico-tune rr recommend, then kubectl calico-tune rr promote NODE',
      });
    } else if (rrs.length > 1 && zones.size > 1 && !bgpIdle) {
      const rrZones = new Set(rrs.map((n) => n.zone ?? '(none)'));
      if (rrZones.size === 1) {
        out.push({
          code: 'RR_SINGLE_ZONE',
          severity: 'warning',
          message: `all ${rrs.length} route reflectors are in zone ${[...rrZones][0]} while nodes span ${zones.size} zones (${LABEL_ZONE}): losing that zone cuts BGP for every zone`,
          objects: rrs.map((n) => nodeRef(n.name)),
          fix: 'spread reflectors across zones: kubectl calico-tune rr recommend shows candidates per zone; then rr replace OLD NEW',
        });
      }
    }

    // 4b. an explicitly empty selector: the BGPPeer applies to every node (often the YAML trap: an unquoted
    // `nodeSelector: !has(x)` is a YAML tag, which Go's YAML decodes to "")
    for (const p of s.bgpPeers) {
      const empty = (['nodeSelector', 'peerSelector'] as const).filter((f) => p.spec[f] === '');
      if (!empty.length) continue;
      out.push({
        code: 'BGP_PEER_EMPTY_SELECTOR',
        severity: 'warning',
        message: `BGPPeer ${p.name} has an empty ${empty.join(' and ')}: ${empty.includes('nodeSelector') ? 'it applies to every node (a global peer)' : 'Calico ignores it and uses peerIP'}; an unquoted "!has(...)" in YAML decodes to "" exactly like this`,
        objects: [{ kind: 'BGPPeer', name: p.name }],
        fix: `quote the selector in the YAML (nodeSelector: "!has(route-reflector)") and re-apply, or remove the field`,
      });
    }

    // 5. mesh off and nothing replaces it
    if (!bgp.meshEnabled && s.bgpPeers.length === 0) {
      out.push({
        code: 'MESH_OFF_NO_PEERS',
        severity: 'critical',
        message:
          'the node-to-node mesh is disabled and there is no BGPPeer: nodes exchange no routes, so pod traffic between nodes has no routes (unless VXLAN carries it)',
        objects: [bgpConfigRef()],
        fix: 'kubectl patch bgpconfiguration default --type=merge -p \'{"spec":{"nodeToNodeMeshEnabled":true}}\'  (or set up route reflectors: kubectl calico-tune migrate plan --to route-reflectors)',
      });
    }
  }

  // 6. mesh password / restart time with the mesh off: Calico's validation rejects the object
  const def = bgp.defaultConfig;
  if (
    def &&
    def.nodeToNodeMeshEnabled === false &&
    (def.nodeMeshPassword !== undefined || def.nodeMeshMaxRestartTime !== undefined)
  ) {
    const fields = [
      def.nodeMeshPassword !== undefined ? 'nodeMeshPassword' : '',
      def.nodeMeshMaxRestartTime !== undefined ? 'nodeMeshMaxRestartTime' : '',
    ].filter(Boolean);
    out.push({
      code: 'MESH_FIELDS_WITH_MESH_OFF',
      severity: 'warning',
      message: `BGPConfiguration default sets ${fields.join(' and ')} while nodeToNodeMeshEnabled is false: Calico's validation rejects this, so every later update of the object through Calico's API fails`,
      objects: [bgpConfigRef()],
      fix: `kubectl patch bgpconfiguration default --type=merge -p '{"spec":{${fields.map((f) => `"${f}":null`).join(',')}}}'`,
    });
  }

  // 6b. a pool's tunnel switched off in Felix: what encap plans refuse (TUNNEL_OFF_IN_FELIX), already the case
  for (const p of s.ipPools) {
    const mode = poolTarget(p);
    if (mode === 'invalid') continue;
    const off = felixTunnelOff(s, p, mode);
    if (!off) continue;
    const kind = off.kind;
    out.push({
      code: 'ENCAP_TUNNEL_OFF',
      severity: 'critical',
      message: `IP pool ${p.name} (${p.cidr}) uses ${kind} (${mode.endsWith('crosssubnet') ? 'CrossSubnet' : 'Always'})${p.disabled ? ', disabled (the addresses it gave out may still be in use),' : ''} but ${off.offs.map((o) => o.setting).join('; and ')}: Felix creates no ${off.device}, so pod traffic between nodes over ${kind}${p.disabled ? ', for pods that still have its addresses,' : ''} is dropped`,
      objects: [{ kind: 'IPPool', name: p.name }],
      fix: off.offs.map((o) => `${o.action}${o.command ? `: ${o.command}` : ''}`).join('; '),
    });
  }

  // 6c. a pool the Installation owns that does not have the mode the Installation asks for: the operator has
  // not applied it (yet), e.g. right after `encap apply` (a review: status kept showing the old mode silently)
  for (const p of s.ipPools) {
    const want = operatorPending(s, p);
    if (!want) continue;
    out.push({
      code: 'ENCAP_OPERATOR_PENDING',
      severity: 'warning',
      message: `Installation default asks for ${want} for ${p.cidr}, but IP pool ${p.name} still uses ${poolTarget(p)}: the operator has not applied it (it writes the pool through the Calico API server)`,
      objects: [
        { kind: 'IPPool', name: p.name },
        { kind: 'Installation', name: 'default' },
      ],
      fix: 'kubectl get tigerastatus   # the operator and the apiserver component; kubectl logs -n tigera-operator deploy/tigera-operator',
    });
  }

  // 6e. VXLAN pools: calico-node gives every node a VXLAN pool selects a tunnel address from it, per family
  // (projectcalico.org/IPv4VXLANTunnelAddr, IPv6VXLANTunnelAddr; node/pkg/allocateip). Until a node has one,
  // Felix programs no VXLAN route of that family to it: right after IPIP -> VXLAN that is seconds, longer means
  // the allocator is stuck (a review: status said nothing; the domain review: IPv6 was not checked). Ready
  // Linux nodes with an address of the family only: calico-node runs and is up there.
  // (a pool whose allowedUses leaves out Tunnel gives no tunnel address: allocateip skips it; a review)
  const tunnelUse = (name: string): boolean => {
    const uses = s.objects.find((o) => o.kind === 'IPPool' && o.metadata.name === name)?.spec?.[
      'allowedUses'
    ];
    return !Array.isArray(uses) || uses.includes('Tunnel');
  };
  for (const family of [4, 6] as const) {
    const vxlanPools = s.ipPools.filter(
      (p) => p.ipVersion === family && !p.disabled && p.vxlanMode !== 'Never' && tunnelUse(p.name),
    );
    if (!vxlanPools.length) continue;
    const annotation = `projectcalico.org/IPv${family}VXLANTunnelAddr`;
    const selectors = vxlanPools.flatMap((p) => {
      try {
        return [parseSelectorCached(p.nodeSelector || 'all()')];
      } catch {
        return [];
      }
    });
    const without = nodes.filter(
      (n) =>
        n.ready &&
        n.os === 'linux' &&
        !n.virtualKubelet &&
        (family === 4 ? n.bgp.ipv4Address : n.bgp.ipv6Address) !== undefined &&
        !n.annotations[annotation] &&
        selectors.some((sel) => sel.matches(n.calicoLabels)),
    );
    if (without.length)
      out.push({
        code: 'ENCAP_TUNNEL_ADDRESS_MISSING',
        severity: 'warning',
        message: `${plural(without.length, 'node has', 'nodes have')} no ${family === 6 ? 'IPv6 ' : ''}VXLAN tunnel address (${annotation}) although VXLAN pool ${vxlanPools.map((p) => p.name).join(', ')} selects ${without.length === 1 ? 'it' : 'them'} (${listSome(without.map((n) => n.name))}): Felix programs no ${family === 6 ? 'IPv6 ' : ''}VXLAN route to ${without.length === 1 ? 'it' : 'them'}, so pods there are cut off over VXLAN. calico-node allocates it seconds after a switch to VXLAN; longer, its allocator is stuck`,
        objects: firstRefs(without.map((n) => nodeRef(n.name))),
        fix: `kubectl logs -n ${s.calico.nodeNamespace ?? 'calico-system'} -l k8s-app=calico-node -c calico-node | grep -i tunnel   # and free addresses in the pool: calicoctl ipam show`,
      });
  }

  // 6d. an IPv6 pool on nodes none of which has an IPv6 address Calico knows (projectcalico.org/IPv6Address):
  // calico-node gives them no IPv6 BGP sessions or routes, so pods with its addresses are cut off between
  // nodes (a review: no finding); VXLAN pools too need the node's IPv6 address for the tunnel
  const v6 = s.ipPools.filter((p) => p.ipVersion === 6 && !p.disabled);
  if (v6.length && nodes.length > 1 && !nodes.some((n) => n.bgp.ipv6Address))
    out.push({
      code: 'POOL_IPV6_NO_NODE_ADDRESS',
      severity: 'warning',
      message: `IPv6 pool${v6.length > 1 ? 's' : ''} ${v6.map((p) => `${p.name} (${p.cidr})`).join(', ')}, but no node has an IPv6 address in Calico (projectcalico.org/IPv6Address): calico-node sets up no IPv6 BGP sessions or tunnels, so pods given its addresses cannot reach pods on other nodes`,
      objects: v6.map((p) => ({ kind: 'IPPool', name: p.name })),
      fix: 'give calico-node an IPv6 address to use (IP6=autodetect, IP6_AUTODETECTION_METHOD on the calico-node DaemonSet or nodeAddressAutodetectionV6 in the Installation), or disable the pool',
    });

  // 7. encapsulation Always where every node shares one subnet (the nodes' addresses are parsed only when a
  // pool encapsulates Always, and only until two subnets or an address without one show up)
  const always = s.ipPools.filter(
    (p) => !p.disabled && p.ipVersion === 4 && (p.ipipMode === 'Always' || p.vxlanMode === 'Always'),
  );
  let subnet: string | undefined;
  for (const n of always.length && nodes.length > 1 ? nodes : []) {
    const c = n.bgp.ipv4Address ? parseIPv4Cidr(n.bgp.ipv4Address) : undefined;
    const net = c && c.prefix < 32 ? ipv4Network(c.addr, c.prefix) : undefined;
    if (!net || (subnet !== undefined && net !== subnet)) {
      subnet = undefined;
      break;
    }
    subnet = net;
  }
  if (subnet !== undefined) {
    for (const p of always) {
      const mode = p.ipipMode === 'Always' ? 'ipipMode' : 'vxlanMode';
      out.push({
        code: 'ENCAP_ALWAYS_SAME_SUBNET',
        severity: 'info',
        message: `IP pool ${p.name} (${p.cidr}) encapsulates every packet (${mode}: Always) although all ${num(nodes.length)} nodes share subnet ${subnet}: CrossSubnet routes natively inside the subnet and saves the tunnel overhead (Calico's best-practice guide measured IPIP 4.43 vs BGP 4.67 Gbit/s node to remote pod)`,
        objects: [{ kind: 'IPPool', name: p.name }],
        fix: `kubectl calico-tune encap plan --pool ${p.name} --mode ${mode === 'ipipMode' ? 'ipip' : 'vxlan'}-crosssubnet   (then encap apply: on operator installs it changes the Installation, which the operator keeps)`,
      });
    }
  }

  // 8. Monitoring (Felix and kube-controllers switches, Services, ServiceMonitors; Typha's switch is in the
  // Typha analysis): precise findings, each fixed by `monitoring plan`
  if (s.calico.installMode !== 'unknown' || s.felixConfiguration)
    append(out, monitoringFindings(detectMonitoring(s)));
  return out;
}

/** Counts used by the status header. */
export function nodeCounts(nodes: readonly NodeInfo[]) {
  const zones: Record<string, number> = {};
  let schedulable = 0;
  let linux = 0;
  let notReady = 0;
  for (const n of nodes) {
    if (!n.unschedulable) schedulable++;
    if (n.os === 'linux') linux++;
    if (!n.ready) notReady++;
    const z = n.zone ?? '(none)';
    zones[z] = (zones[z] ?? 0) + 1;
  }
  return { total: nodes.length, schedulable, linux, notReady, zones };
}

export { firstRefs };
