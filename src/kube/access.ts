/** Permission checks before the first write: every verb a plan (and its undo) needs, by SelfSubjectAccessReview. */
import { CliError, ExitCode, usageError } from '../errors.js';
import { typeFor, type ResourceType } from '../model/resources.js';
import type { Plan, Step } from '../plan/types.js';
import type { KubeApi } from './api.js';

export interface Access {
  verb: string;
  group: string;
  resource: string;
  namespace?: string | undefined;
  /** The object a patch or delete names: RBAC rules may be limited to names (docs/rbac.yaml's Installation). */
  name?: string | undefined;
  subresource?: string | undefined;
}

/** The REST type a step writes (undefined for wait and drain). */
export function resourceOf(step: Step): ResourceType | undefined {
  const ref =
    step.object ??
    (step.manifest ? { apiVersion: step.manifest.apiVersion, kind: step.manifest.kind } : undefined);
  if (!ref) return undefined;
  const t = typeFor(ref.apiVersion, ref.kind);
  if (!t)
    throw usageError(
      `the plan names an object kind the executor does not handle: ${ref.apiVersion} ${ref.kind}`,
    );
  return t;
}

export function accessFor(steps: Step[], calicoGroup: string, leaseNs: string | undefined): Access[] {
  const out: Access[] = [];
  const seen = new Set<string>();
  const add = (a: Access): void => {
    const key = JSON.stringify(a);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(a);
    }
  };
  for (const s of steps) {
    for (const st of [s, ...s.undo]) {
      const t = st.action === 'wait' || st.action === 'drain' ? undefined : resourceOf(st);
      if (t) {
        const group = t.apiVersion.includes('/') ? t.apiVersion.split('/')[0]! : '';
        const verb = st.action === 'create' ? 'create' : st.action === 'delete' ? 'delete' : 'patch';
        const name = verb === 'create' ? undefined : st.object?.name;
        add({ verb, group, resource: t.plural, namespace: st.object?.namespace, name });
      }
      if (st.action === 'drain') {
        add({ verb: 'list', group: '', resource: 'pods' });
        add({ verb: 'create', group: '', resource: 'pods', subresource: 'eviction' });
      }
      if (st.gate) {
        for (const verb of ['create', 'get', 'delete'])
          add({ verb, group: calicoGroup, resource: 'caliconodestatuses' });
      }
    }
  }
  if (leaseNs) {
    for (const verb of ['get', 'create', 'update', 'delete'])
      add({ verb, group: 'coordination.k8s.io', resource: 'leases', namespace: leaseNs });
  }
  return out;
}

/** Checks every permission the plan needs before the first write (SelfSubjectAccessReview). */
export async function checkPermissions(
  api: KubeApi,
  plan: Plan,
  calicoGroup: string,
  leaseNs: string | undefined,
): Promise<void> {
  const needs = accessFor(plan.steps, calicoGroup, leaseNs);
  const results = await Promise.all(needs.map(async (a) => ({ a, r: await api.can(a.verb, a) })));
  const denied = results
    .filter((x) => !x.r.allowed)
    .map(
      ({ a }) =>
        `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}${a.name ? ` ${a.name}` : ''}${a.namespace ? ` in ${a.namespace}` : ''}`,
    );
  if (denied.length) {
    throw new CliError(
      `user "${api.http.cfg.impersonateUser ?? api.http.cfg.userName ?? '?'}" may not ${denied.join(', ')}`,
      ExitCode.CLUSTER,
      {
        changed: 'nothing was changed (permissions are checked before the first write)',
        hints: [
          'bind the ClusterRole in docs/rbac.yaml (calico-tune) to this user, or run as a cluster admin',
        ],
      },
    );
  }
}
