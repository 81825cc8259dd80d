/**
 * Install checks from the best-practice guide (pure): pod CIDR agreement between kubeadm's podSubnet, the
 * Installation and the IP pools; NetworkManager on the nodes; the scale numbers `status -o wide` shows.
 */
import { anyPoolNeedsBgp, targetNeedsBgp } from '../encap/model.js';
import { operatorPending } from '../encap/plan.js';
import { type Finding, firstRefs, nodeRef } from '../model/finding.js';
import { parseIPv4Cidr } from '../model/net.js';
import type { ClusterSnapshot } from '../model/types.js';
import { calicoAtLeast, OPERATOR_V134_CALICO_MINOR } from '../model/calico.js';

/** The guide's NetworkManager drop-in (`/etc/NetworkManager/conf.d/calico.conf`). */
export const NETWORKMANAGER_CONF =
  '[keyfile]\nunmanaged-devices=interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico;interface-name:vxlan-v6.calico;interface-name:wireguard.cali;interface-name:wg-v6.cali';

/** Distributions that run NetworkManager by default (osImage as the kubelet reports it). */
const NM_OS = /\b(red hat|rhel|rocky|alma ?linux|centos|fedora|suse|sles|opensuse|oracle linux)\b/i;

/** kubeadm's `ClusterConfiguration.networking.podSubnet` (comma-separated for dual stack), when readable. */
export function kubeadmPodSubnets(s: ClusterSnapshot): string[] | undefined {
  const cm = s.objects.find(
    (o) =>
      o.kind === 'ConfigMap' &&
      o.metadata.name === 'kubeadm-config' &&
      o.metadata.namespace === 'kube-system',
  );
  const text = (cm?.['data'] as Record<string, unknown> | undefined)?.['ClusterConfiguration'];
  if (typeof text !== 'string') return undefined;
  // the operator reads it the same way: the line `podSubnet: ...` (pod_cidr_detection.go)
  const m = /^\s*podSubnet:\s*["']?([^"'\s#]+)["']?/m.exec(text);
  return m
    ? m[1]!
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];
}

/** Whether IPv4 CIDR `inner` lies inside `outer` (IPv6: textual equality only). */
export function cidrWithin(inner: string, outer: string): boolean {
  const a = parseIPv4Cidr(inner);
  const b = parseIPv4Cidr(outer);
  if (!a || !b) return inner === outer;
  if (a.prefix < b.prefix) return false;
  const mask = b.prefix === 0 ? 0 : (~0 << (32 - b.prefix)) >>> 0;
  return (a.addr & mask) >>> 0 === (b.addr & mask) >>> 0;
}

export function installFindings(s: ClusterSnapshot): Finding[] {
  const out: Finding[] = [];
  const pools = s.ipPools.filter((p) => !p.disabled);

  // pod CIDR agreement: kubeadm podSubnet ⊇ every pool (the guide's install step; the operator refuses otherwise)
  const subnets = kubeadmPodSubnets(s);
  if (subnets && subnets.length) {
    const outside = pools.filter((p) => !subnets.some((sub) => cidrWithin(p.cidr, sub)));
    if (outside.length) {
      const want = outside.map((p) => p.cidr).join(',');
      out.push({
        code: 'POD_CIDR_OUTSIDE_PODSUBNET',
        severity: 'warning',
        message: `IP pool(s) ${outside.map((p) => `${p.name} (${p.cidr})`).join(', ')} lie outside kubeadm's podSubnet ${subnets.join(',')}: kube-proxy and the controller manager treat pod traffic from those addresses as external, and the tigera-operator refuses an Installation pool outside the podSubnet ("not within the platform's configured pod network CIDR(s)")`,
        objects: [
          { kind: 'ConfigMap', name: 'kubeadm-config', namespace: 'kube-system' },
          ...outside.map((p) => ({ kind: 'IPPool', name: p.name })),
        ],
        fix: `set ClusterConfiguration networking.podSubnet to the pool CIDR (the guide): kubectl -n kube-system edit configmap kubeadm-config   # networking: podSubnet: ${want}   (and kube-controller-manager --cluster-cidr=${want} on each control-plane node)`,
      });
    }
  } else if (subnets && !subnets.length) {
    out.push({
      code: 'POD_CIDR_PODSUBNET_UNSET',
      severity: 'info',
      message: `kubeadm's ClusterConfiguration has no networking.podSubnet: the guide sets it to the Calico pool's CIDR${pools[0] ? ` (${pools[0].cidr})` : ''} so that Kubernetes and Calico agree on the pod network`,
      objects: [{ kind: 'ConfigMap', name: 'kubeadm-config', namespace: 'kube-system' }],
      fix: `kubectl -n kube-system edit configmap kubeadm-config   # under ClusterConfiguration: networking: podSubnet: ${pools[0]?.cidr ?? '<pool CIDR>'}`,
    });
  }

  // Installation pool CIDR vs the IPPools that exist
  if (s.installation && s.calico.installMode === 'operator' && s.ipPools.length) {
    const cidrs = new Set(s.ipPools.map((p) => p.cidr));
    const missing = s.installation.ipPools.filter((p) => p.cidr && !cidrs.has(p.cidr));
    if (missing.length) {
      const have = s.ipPools.map((p) => `${p.name} (${p.cidr})`).join(', ');
      out.push({
        code: 'POD_CIDR_INSTALLATION_MISMATCH',
        severity: 'warning',
        message: `Installation default lists pool CIDR(s) ${missing.map((p) => p.cidr).join(', ')} but no IPPool has ${missing.length > 1 ? 'them' : 'it'} (pools: ${have}): the operator's view of the pod network and Calico's differ, ${
          calicoAtLeast(s, OPERATOR_V134_CALICO_MINOR) === false
            ? 'and this operator does not act on it (it has no IP pool controller before Calico 3.28), but after an upgrade the operator would create the pool or report itself degraded'
            : 'so the operator either keeps recreating a pool or reports itself degraded'
        }`,
        objects: [
          { kind: 'Installation', name: 'default' },
          ...s.ipPools.map((p) => ({ kind: 'IPPool', name: p.name })),
        ],
        fix: `make Installation spec.calicoNetwork.ipPools[].cidr match the IPPool: kubectl edit installation default   # cidr: ${s.ipPools[0]!.cidr}`,
      });
    }
  }

  // NetworkManager distributions: Calico's interfaces must be unmanaged (the tool cannot see the host)
  const nm = s.nodes.filter((n) => n.os !== 'windows' && n.osImage && NM_OS.test(n.osImage));
  if (nm.length) {
    const images = [...new Set(nm.map((n) => n.osImage!))].slice(0, 3).join(', ');
    out.push({
      code: 'NODE_NETWORKMANAGER',
      severity: 'info',
      message: `${nm.length} node(s) run a NetworkManager distribution (${images}): if NetworkManager manages Calico's cali*, tunl*, vxlan.calico and wireguard.cali interfaces it can remove their routes and addresses. The tool cannot see the hosts: check that /etc/NetworkManager/conf.d/calico.conf exists on each (the guide's install step)`,
      objects: firstRefs(nm.map((n) => nodeRef(n.name))),
      fix: `on each node: printf '${NETWORKMANAGER_CONF.replace('\n', '\\n')}\\n' > /etc/NetworkManager/conf.d/calico.conf && systemctl restart NetworkManager`,
    });
  }
  return out;
}

/**
 * Whether BGP carries any pod route: some pool is IPIP or unencapsulated, or the operator is still to make it so
 * (ENCAP_OPERATOR_PENDING), or external peers exist.
 */
export function podRoutesNeedBgp(s: ClusterSnapshot): boolean {
  if (!s.ipPools.length) return true; // unknown: assume the default (IPIP)
  return (
    anyPoolNeedsBgp(s.ipPools) ||
    // a mode the operator is still to apply counts as well: "turn BGP off" under a pending IPIP breaks it (a review)
    s.ipPools.some((p) => {
      const t = operatorPending(s, p);
      return t !== undefined && targetNeedsBgp(t);
    }) ||
    s.bgpPeers.some((p) => !!p.peerIP)
  );
}

export interface ScaleNumbers {
  nodes: number;
  /** Objects the tool read, per kind (what the API server and etcd carry for Calico, as far as visible). */
  objectsByKind: Record<string, number>;
  typhaReplicas: number | null;
  /** calico-node (Felix) connections per ready Typha: nodes / ready replicas. */
  nodesPerTypha: number | null;
  note: string;
}

export function scaleNumbers(s: ClusterSnapshot): ScaleNumbers {
  const objectsByKind: Record<string, number> = {};
  for (const o of s.objects) objectsByKind[o.kind] = (objectsByKind[o.kind] ?? 0) + 1;
  const ready = s.typha.deployment ? s.typha.deployment.readyReplicas : null;
  const linux = s.nodes.filter((n) => n.os !== 'windows').length;
  return {
    nodes: s.nodes.length,
    objectsByKind: Object.fromEntries(
      Object.entries(objectsByKind).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ),
    typhaReplicas: ready,
    nodesPerTypha: ready ? Math.ceil(linux / ready) : null,
    note:
      s.nodes.length > 300
        ? 'past a few hundred nodes the guide asks for API server and etcd headroom: Calico watches every node, pod and policy through them'
        : 'below a few hundred nodes the API server and etcd need no extra headroom for Calico (the guide)',
  };
}
