/** `version`: the plugin's version and runtime, and the Kubernetes and Calico versions of the cluster. */
import type { ClusterSnapshot } from '../model/types.js';

/** The document `version -o json|yaml` prints. */
export interface VersionDoc {
  apiVersion: 'calico-tune/v1';
  kind: 'Version';
  plugin: { version: string; runtime: string };
  cluster?: ClusterVersions;
}

export interface ClusterVersions {
  server?: string | undefined;
  context?: string | undefined;
  kubernetesVersion?: string | undefined;
  calico: {
    version?: string | undefined;
    versionSource?: string | undefined;
    installMode: string;
    apiMode: string;
  };
}

/** The document without the cluster (`version --client`, and before the cluster is read). */
export function versionDoc(plugin: VersionDoc['plugin']): VersionDoc {
  return { apiVersion: 'calico-tune/v1', kind: 'Version', plugin };
}

/** Where the cluster's versions come from: the API server's and the snapshot's, Calico's as detected. */
export function clusterVersions(s: ClusterSnapshot): ClusterVersions {
  return {
    server: s.source.server,
    context: s.source.context,
    kubernetesVersion: s.source.kubernetesVersion,
    calico: {
      version: s.calico.version?.raw,
      versionSource: s.calico.version?.source,
      installMode: s.calico.installMode,
      apiMode: s.calico.apiMode,
    },
  };
}
