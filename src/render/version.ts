/** `version` for a person: one line for the plugin, two for the cluster. */
import type { ClusterVersions, VersionDoc } from '../status/version.js';

export function renderPluginVersion(p: VersionDoc['plugin']): string {
  return `Plugin:      ${p.version} (${p.runtime})`;
}

export function renderClusterVersions(c: ClusterVersions): string {
  return (
    `Kubernetes:  ${c.kubernetesVersion ?? 'unknown'}${c.server ? ` (${c.server})` : ''}\n` +
    `Calico:      ${c.calico.version ?? 'not found'}${c.calico.versionSource ? ` (from ${c.calico.versionSource})` : ''} · ${c.calico.installMode} install · API ${c.calico.apiMode}`
  );
}
