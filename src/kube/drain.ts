/**
 * Draining a node as `kubectl drain` does for workloads: every pod on it except DaemonSet and mirror pods is
 * evicted through the Eviction API, which respects PodDisruptionBudgets; a blocked eviction is retried until
 * the deadline.
 */
import { CliError, ExitCode } from '../errors.js';
import { formatDuration } from '../model/duration.js';
import { Pod } from '../model/resources.js';
import type { KubeApi } from './api.js';
import { ApiError } from './http.js';

export interface DrainOptions {
  dryRun: boolean;
  deadline: number;
  log: (line: string) => void;
  status: (line: string) => void;
  /** Throws when the run was interrupted (called between retries). */
  checkInterrupt: () => void;
}

export async function drainNode(api: KubeApi, node: string, opts: DrainOptions): Promise<void> {
  const { items } = await api.list(Pod, { fieldSelector: `spec.nodeName=${node}` });
  const evictable = items.filter(
    (p) =>
      !(p.metadata.ownerReferences as { kind?: string }[] | undefined)?.some((o) => o.kind === 'DaemonSet') &&
      !p.metadata.annotations?.['kubernetes.io/config.mirror'] &&
      !p.metadata['deletionTimestamp'],
  );
  const { deadline } = opts;
  for (const p of evictable) {
    const who = `${p.metadata.namespace}/${p.metadata.name}`;
    let blockedSince = 0;
    for (;;) {
      try {
        await api.evict(p.metadata.name, p.metadata.namespace ?? '', { dryRun: opts.dryRun });
        break;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) break;
        if (!(e instanceof ApiError && e.status === 429)) throw e;
        if (!blockedSince) {
          blockedSince = Date.now();
          opts.log(
            `  drain ${node}: evicting ${who} is blocked by a PodDisruptionBudget; retrying for up to ${formatDuration(Math.max(0, deadline - Date.now()))}`,
          );
        }
        if (Date.now() >= deadline) {
          throw new CliError(
            `drain ${node}: a PodDisruptionBudget still blocks evicting ${who} after ${formatDuration(Date.now() - blockedSince)}`,
            ExitCode.CLUSTER,
            { hints: [`check: kubectl get pdb -n ${p.metadata.namespace}; or plan without --drain`] },
          );
        }
        opts.status(
          `drain ${node}: ${who} blocked by a PodDisruptionBudget (${formatDuration(Date.now() - blockedSince)})`,
        );
        await new Promise((r) => setTimeout(r, Math.min(5000, Math.max(100, deadline - Date.now()))));
        opts.checkInterrupt();
      }
    }
  }
  if (evictable.length)
    opts.log(`  drained ${node}: evicted ${evictable.length} pod(s) (DaemonSet pods stay)`);
}
