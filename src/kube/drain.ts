/**
 * Draining a node as `kubectl drain` does for workloads: every pod on it except DaemonSet and mirror pods is
 * evicted through the Eviction API, which respects PodDisruptionBudgets; a blocked eviction is retried until
 * the deadline; then the drain waits until the evicted pods are gone (their grace period ends), as kubectl
 * does, so that the step after it (a reflector's sessions re-forming) finds no pod still serving.
 * Like `kubectl drain` without `--force` and `--delete-emptydir-data`, it refuses a node with a running pod
 * that no controller would recreate, or whose emptyDir data eviction would lose (a review found both evicted
 * without a word): before any eviction, and the executor asks the same before a plan's first write.
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

type PodObj = Awaited<ReturnType<KubeApi['list']>>['items'][number];

/** The pods a drain evicts: not DaemonSet or mirror pods, not already being deleted. */
function evictableOf(items: PodObj[]): PodObj[] {
  return items.filter(
    (p) =>
      !(p.metadata.ownerReferences as { kind?: string }[] | undefined)?.some((o) => o.kind === 'DaemonSet') &&
      !p.metadata.annotations?.['kubernetes.io/config.mirror'] &&
      !p.metadata['deletionTimestamp'],
  );
}

/**
 * Why `kubectl drain` (without --force, --delete-emptydir-data) would refuse these pods: one line per pod that
 * no controller recreates or that has emptyDir data, unless it has finished (Succeeded or Failed).
 */
export function drainBlockers(items: PodObj[]): string[] {
  const out: string[] = [];
  for (const p of evictableOf(items)) {
    const phase = (p.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const who = `${p.metadata.namespace}/${p.metadata.name}`;
    const owners = (p.metadata.ownerReferences as { controller?: boolean }[] | undefined) ?? [];
    const why: string[] = [];
    if (!owners.some((o) => o.controller === true)) why.push('no controller would recreate it');
    const volumes = ((p.spec as { volumes?: { emptyDir?: unknown }[] } | undefined)?.volumes ?? []).filter(
      (v) => v.emptyDir !== undefined,
    );
    if (volumes.length) why.push('its emptyDir data would be lost');
    if (why.length) out.push(`${who} (${why.join('; ')})`);
  }
  return out;
}

/** The refusal for a node with such pods (kubectl drain's, with what to do). */
export function drainRefusal(node: string, blockers: string[]): CliError {
  return new CliError(
    `drain ${node}: ${blockers.length} pod(s) kubectl drain would not evict without --force / --delete-emptydir-data: ${blockers.slice(0, 5).join(', ')}${blockers.length > 5 ? `, and ${blockers.length - 5} more` : ''}`,
    ExitCode.CLUSTER,
    {
      hints: [
        `move or delete them yourself (kubectl delete pod -n NAMESPACE NAME), then run the command again`,
        'or plan without draining (--no-drain): the node keeps its pods while its BGP sessions re-form',
      ],
    },
  );
}

export async function drainNode(api: KubeApi, node: string, opts: DrainOptions): Promise<void> {
  const { items } = await api.list(Pod, { fieldSelector: `spec.nodeName=${node}` });
  const blockers = drainBlockers(items);
  if (blockers.length) throw drainRefusal(node, blockers);
  const evictable = evictableOf(items);
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
  if (!evictable.length || opts.dryRun) {
    if (evictable.length)
      opts.log(`  drained ${node}: evicted ${evictable.length} pod(s) (DaemonSet pods stay)`);
    return;
  }
  // as kubectl drain: the step is done when the evicted pods are gone, not when their eviction was accepted
  const uids = new Set(evictable.map((p) => String(p.metadata['uid'] ?? '')));
  const started = Date.now();
  for (;;) {
    const left = (await api.list(Pod, { fieldSelector: `spec.nodeName=${node}` })).items.filter((p) =>
      uids.has(String(p.metadata['uid'] ?? '')),
    );
    if (!left.length) break;
    if (Date.now() >= deadline)
      throw new CliError(
        `drain ${node}: ${left.length} evicted pod(s) still terminating after ${formatDuration(Date.now() - started)}: ${left
          .slice(0, 5)
          .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
          .join(', ')}`,
        ExitCode.CLUSTER,
        { hints: [`check: kubectl get pods -A --field-selector spec.nodeName=${node}`] },
      );
    opts.status(
      `drain ${node}: waiting for ${left.length} evicted pod(s) to terminate (${formatDuration(Date.now() - started)})`,
    );
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(50, deadline - Date.now()))));
    opts.checkInterrupt();
  }
  opts.log(
    `  drained ${node}: evicted ${evictable.length} pod(s), all gone after ${formatDuration(Date.now() - started)} (DaemonSet pods stay)`,
  );
}
