/**
 * The label on every object kubectl calico-tune creates (a reflector BGPPeer, a gate's CalicoNodeStatus, the
 * journal Lease, monitoring Services, ServiceMonitors, PrometheusRules and dashboards):
 * `app.kubernetes.io/managed-by=kubectl-calico-tune`, the name it writes with (its field manager), so that
 * `kubectl get <kind> -A -l app.kubernetes.io/managed-by=kubectl-calico-tune` lists them (and
 * `-l app.kubernetes.io/managed-by=calico-tune` the monitoring objects 0.1 made).
 */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubectl-calico-tune';
export const MANAGED_BY_LABELS: Readonly<Record<string, string>> = { [MANAGED_BY_LABEL]: MANAGED_BY };
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
/** What 0.1's monitoring plans labelled their objects with: still read as ours (relabelled, undone). */
export const LEGACY_MANAGED_BY = 'calico-tune';

/** Whether labels say kubectl calico-tune made the object (either value). */
export function managedByUs(labels: Readonly<Record<string, string>> | undefined): boolean {
  const v = labels?.[MANAGED_BY_LABEL];
  return v === MANAGED_BY || v === LEGACY_MANAGED_BY;
}
