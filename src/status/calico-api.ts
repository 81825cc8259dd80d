/**
 * CALICO_API_UNAVAILABLE (warning: pod networking is not affected, but nothing can change Calico objects safely):
 * projectcalico.org/v3 is registered (the `v3.projectcalico.org` APIService of an
 * operator install's calico-apiserver) but its server does not answer. Every request to that group fails with
 * 503 (calicoctl, kubectl get of Calico resources, the operator's own reconciliation of Calico objects), and
 * the API server's namespace deletion and garbage collection stall on the failing discovery. The tool read
 * the crd.projectcalico.org/v1 objects behind it and refuses to change anything until it is back: writing
 * the v1 CRDs behind a calico-apiserver bypasses its validation and defaulting, which Calico's docs forbid.
 */
import type { Finding } from '../model/finding.js';
import type { ClusterSnapshot } from '../model/types.js';

export function calicoApiFindings(s: ClusterSnapshot): Finding[] {
  const why = s.source.calicoApiUnavailable;
  if (!why) return [];
  return [
    {
      code: 'CALICO_API_UNAVAILABLE',
      severity: 'warning',
      message: `the Calico API server is registered but not available: ${why}; Calico objects were read through crd.projectcalico.org/v1, and calico-tune refuses changes until it is back`,
      objects: [{ kind: 'APIService', name: 'v3.projectcalico.org' }],
      fix: 'kubectl get apiservice v3.projectcalico.org -o yaml (status.conditions says why); kubectl -n calico-apiserver get pods,endpoints; then re-run',
    },
  ];
}
