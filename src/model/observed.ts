/** BGP sessions as seen on a live node (CalicoNodeStatus or birdcl), shared by gates, `bgp peers` and kube/. */

export interface ObservedPeer {
  peerIP: string;
  state: string;
  /** NodeMesh, NodePeer or GlobalPeer (CalicoNodeStatus `type`; from the protocol name with birdcl). */
  type?: string | undefined;
}

export interface ObservedNode {
  node: string;
  /** Undefined while no status has been reported yet. */
  peers?: ObservedPeer[] | undefined;
  source: 'CalicoNodeStatus' | 'birdcl';
  /** When the report was made (CalicoNodeStatus `status.lastUpdated`, or the time birdcl answered), ms since epoch. */
  reportedAt?: number | undefined;
  error?: string | undefined;
}
