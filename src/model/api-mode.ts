import type { CalicoApiMode } from './types.js';

/** The Calico API version to read and write for an API mode (planners write objects in it). */
export function calicoApiVersion(mode: CalicoApiMode): string {
  return mode === 'crd.projectcalico.org/v1' || mode === 'none'
    ? 'crd.projectcalico.org/v1'
    : 'projectcalico.org/v3';
}
