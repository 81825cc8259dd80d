/**
 * Plain data types of the cluster snapshot. No I/O here: the snapshot is built from Kubernetes objects by
 * `parseSnapshot` (src/model/parse.ts), whether they came from the API server or from a file.
 */

/** A Kubernetes object as read from the API or a file (only what we use is typed). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown> | undefined;
  status?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
  creationTimestamp?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
  ownerReferences?: unknown[] | undefined;
  [key: string]: unknown;
}

/** A reference to an object, as findings and plan steps name it. */
export interface ObjectRef {
  kind: string;
  name: string;
  namespace?: string | undefined;
}

/**
 * How Calico resources are served:
 * - `crd.projectcalico.org/v1`: the v1 CRDs only (manifest installs without the Calico API server);
 * - `projectcalico.org/v3`: the aggregated Calico API server (stores in the v1 CRDs);
 * - `projectcalico.org/v3-crd`: native v3 CRDs (Calico 3.32+ tech preview; v3 group present, v1 absent);
 * - `none`: no Calico API found.
 */
export type CalicoApiMode =
  'crd.projectcalico.org/v1' | 'projectcalico.org/v3' | 'projectcalico.org/v3-crd' | 'none';

export type InstallMode = 'operator' | 'manifest' | 'unknown';

/** calico-node's networking backend: `bird` runs BGP; `vxlan` and `none` do not. */
export type NetworkingBackend = 'bird' | 'vxlan' | 'none' | 'unknown';

export interface Taint {
  key: string;
  value?: string | undefined;
  effect: string;
}

export interface NodeInfo {
  name: string;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
  createdAt?: string | undefined;
  /** Kubernetes labels. */
  labels: Record<string, string>;
  /** The labels Calico selectors see: Kubernetes labels merged over `projectcalico.org/labels`. */
  calicoLabels: Record<string, string>;
  annotations: Record<string, string>;
  zone?: string | undefined;
  region?: string | undefined;
  os: string;
  arch?: string | undefined;
  instanceType?: string | undefined;
  ready: boolean;
  /** `spec.unschedulable` (cordoned). */
  unschedulable: boolean;
  taints: Taint[];
  /** Pressure / unavailable conditions that are True. */
  badConditions: string[];
  /** Allocatable (else capacity) CPU in millicores and memory in bytes; 0 when unknown. */
  cpuMillis: number;
  memoryBytes: number;
  /** Capacity (else allocatable): what the machine has, for sizing rules such as "8 CPU / 32 GiB". */
  cpuCapacityMillis: number;
  memoryCapacityBytes: number;
  internalIP?: string | undefined;
  /** `spec.providerID` (e.g. `aws:///eu-west-1a/i-0abc`): the cloud the node runs in. */
  providerID?: string | undefined;
  /** `status.nodeInfo.osImage` (e.g. `Rocky Linux 9.3 (Blue Onyx)`). */
  osImage?: string | undefined;
  /** Virtual-kubelet nodes (label `type=virtual-kubelet`): no calico-node; the Typha autoscaler leaves out only AKS ones (typha/formula.ts aksVirtualNode). */
  virtualKubelet: boolean;
  controlPlane: boolean;
  bgp: NodeBgp;
}

export interface NodeBgp {
  /** `projectcalico.org/IPv4Address` (e.g. `10.0.0.5/24`). */
  ipv4Address?: string | undefined;
  ipv6Address?: string | undefined;
  /** Per-node AS number (`projectcalico.org/ASNumber`), when set and valid. */
  asNumber?: number | undefined;
  /** The raw `projectcalico.org/RouteReflectorClusterID` annotation value, if any. */
  rrClusterIdRaw?: string | undefined;
  /** The cluster ID Calico will use: the raw value when it is a bare dotted-quad IPv4, else undefined. */
  rrClusterId?: string | undefined;
}

export interface BgpConfigurationInfo {
  name: string;
  apiVersion: string;
  resourceVersion?: string | undefined;
  /** Unset means Calico's default (mesh enabled). */
  nodeToNodeMeshEnabled?: boolean | undefined;
  asNumber?: number | undefined;
  nodeMeshPassword?: unknown;
  nodeMeshMaxRestartTime?: string | undefined;
  listenPort?: number | undefined;
  spec: Record<string, unknown>;
}

export interface BgpPeerInfo {
  name: string;
  apiVersion: string;
  resourceVersion?: string | undefined;
  node?: string | undefined;
  nodeSelector?: string | undefined;
  peerIP?: string | undefined;
  peerSelector?: string | undefined;
  asNumber?: number | undefined;
  /** `Auto` (default) or `Manual` (v3.30.3+): whether confd adds the automatic reverse peerings. */
  reversePeering?: string | undefined;
  spec: Record<string, unknown>;
}

export type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

export interface IPPoolInfo {
  name: string;
  apiVersion: string;
  cidr: string;
  ipVersion: 4 | 6;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  disabled: boolean;
  nodeSelector: string;
  blockSize?: number | undefined;
  /** metadata.labels (the operator marks the pools it owns with `app.kubernetes.io/managed-by`). */
  labels: Record<string, string>;
}

export interface TyphaPodInfo {
  name: string;
  namespace: string;
  node?: string | undefined;
  zone?: string | undefined;
  phase?: string | undefined;
  ready: boolean;
  hostNetwork: boolean;
}

export interface TyphaInfo {
  /** Where Typha runs: `calico-system` (operator) or `kube-system` (manifest). */
  deployment?:
    | {
        namespace: string;
        name: string;
        resourceVersion?: string | undefined;
        /** `spec.replicas` (desired). */
        replicas: number;
        readyReplicas: number;
        availableReplicas: number;
        updatedReplicas: number;
        image?: string | undefined;
        /** Container resource requests of the typha container. */
        requests?: Record<string, string> | undefined;
        limits?: Record<string, string> | undefined;
        antiAffinity: 'required' | 'preferred' | 'none';
        antiAffinityTopologyKeys: string[];
        topologySpreadKeys: string[];
        hostNetwork: boolean;
        /** The Typha Prometheus metrics setting from the container env. */
        metricsEnabled: boolean;
        metricsPort?: number | undefined;
      }
    | undefined;
  pods: TyphaPodInfo[];
  pdb?:
    | {
        namespace: string;
        name: string;
        maxUnavailable?: string | number | undefined;
        minAvailable?: string | number | undefined;
        disruptionsAllowed?: number | undefined;
      }
    | undefined;
  /** A `calico-typha-horizontal-autoscaler` (cluster-proportional-autoscaler) deployment, if present. */
  autoscaler?: { namespace: string; name: string; replicas: number } | undefined;
}

export interface InstallationInfo {
  name: string;
  resourceVersion?: string | undefined;
  /** `spec.calicoNetwork.bgp`: `Enabled` | `Disabled` | undefined (operator default: Enabled). */
  bgp?: string | undefined;
  typhaMetricsPort?: number | undefined;
  nodeMetricsPort?: number | undefined;
  variant?: string | undefined;
  calicoVersion?: string | undefined;
  ipPools: { cidr?: string; encapsulation?: string; natOutgoing?: string; nodeSelector?: string }[];
}

export interface FelixConfigurationInfo {
  name: string;
  prometheusMetricsEnabled: boolean;
  prometheusMetricsPort: number;
}

export interface CalicoNodeStatusPeer {
  peerIP: string;
  type: string;
  state: string;
  since?: string | undefined;
}

export interface CalicoNodeStatusInfo {
  name: string;
  node: string;
  peersV4: CalicoNodeStatusPeer[];
  peersV6: CalicoNodeStatusPeer[];
  lastUpdated?: string | undefined;
}

/** Version of Calico, parsed. */
export interface CalicoVersion {
  /** e.g. `v3.31.3`. */
  raw: string;
  major: number;
  minor: number;
  patch: number;
  /** Where it was read from: `ClusterInformation`, `Installation`, `image`. */
  source: string;
}

export interface SnapshotSource {
  kind: 'live' | 'file';
  /** API server URL for a live snapshot (or the one recorded in the file). */
  server?: string | undefined;
  context?: string | undefined;
  path?: string | undefined;
  capturedAt: string;
  /** The API groups/versions the server serves (from discovery), when known. */
  apiGroups?: string[] | undefined;
  kubernetesVersion?: string | undefined;
  /** UID of the kube-system namespace: the cluster's identity (plans record it). */
  clusterUID?: string | undefined;
  /** What could not be read (e.g. forbidden optional lists); the snapshot is usable but incomplete. */
  warnings?: string[] | undefined;
  /**
   * Set when projectcalico.org/v3 is registered (an APIService) but its server does not answer: why. The
   * Calico objects were then read through crd.projectcalico.org/v1, and nothing may be written.
   */
  calicoApiUnavailable?: string | undefined;
}

/** What the journal Lease (`calico-tune`, docs/plan-format.md) says, as far as `status` needs it. */
export interface JournalInfo {
  namespace: string;
  holder?: string | undefined;
  renewedAt?: string | undefined;
  /** The Lease's duration: a holder that has not renewed it for longer is gone (the executor's own rule). */
  leaseSeconds?: number | undefined;
  plan: string;
  phase: string;
  done: number;
  /** The step started and not recorded done (its write may have landed: a kill in between). */
  inFlight?: string | undefined;
  /** Steps a rollback undid (of `done`). */
  undone?: number | undefined;
  /** The step whose undo was being written when the rollback stopped. */
  undoing?: string | undefined;
  /** The holder is a process on this machine that no longer exists (set by the live read). */
  holderGone?: boolean | undefined;
  /** Steps in the plan, when recorded. */
  steps?: number | undefined;
  message?: string | undefined;
  /** The command that built the plan, when recorded. */
  command?: string | undefined;
}

export interface ClusterSnapshot {
  source: SnapshotSource;
  calico: {
    version?: CalicoVersion | undefined;
    installMode: InstallMode;
    apiMode: CalicoApiMode;
    networkingBackend: NetworkingBackend;
    /** Where the backend was read from (Installation, DaemonSet env, ConfigMap), for explanations. */
    networkingBackendSource?: string | undefined;
    /** calico-node's namespace (`calico-system` or `kube-system`) when found. */
    nodeNamespace?: string | undefined;
  };
  nodes: NodeInfo[];
  bgpConfigurations: BgpConfigurationInfo[];
  bgpPeers: BgpPeerInfo[];
  ipPools: IPPoolInfo[];
  felixConfiguration?: FelixConfigurationInfo | undefined;
  installation?: InstallationInfo | undefined;
  typha: TyphaInfo;
  calicoNodeStatuses: CalicoNodeStatusInfo[];
  /** A plan recorded in the cluster's journal Lease (unfinished: paused, failed, or running elsewhere). */
  journal?: JournalInfo | undefined;
  /** Every object the snapshot was built from, in a stable order (what `snapshot save` writes). */
  objects: KubeObject[];
}
