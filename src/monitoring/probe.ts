/**
 * `monitoring status`'s probe: does each component whose metrics are on actually serve `/metrics`? From the
 * answers of one or a few of its pods (read by kube/calico-metrics.ts through the API server's pod proxy),
 * decide per component: serving (which pod, how many metric families), not serving (why), forbidden (the user
 * may not use pods/proxy: not a cluster gap) or not checked (offline, metrics off, pods not listable). Pure.
 */
import type { Finding } from '../model/finding.js';
import { COMPONENT_INFO, type MetricsComponent } from '../model/monitoring.js';
import { parsePrometheusText } from '../typha/prometheus.js';

/** One pod's answer to `GET .../pods/POD:PORT/proxy/metrics`. `status`: the HTTP status of a refused request. */
export interface ProbePodAnswer {
  pod: string;
  node: string | null;
  text?: string | undefined;
  error?: string | undefined;
  status?: number | undefined;
}

/** What kube/ read for one component. */
export interface ProbeInput {
  component: MetricsComponent;
  namespace: string;
  port: number;
  /** The pods could not be listed (then `pods` is empty). */
  listError?: { message: string; status?: number | undefined } | undefined;
  /** Pods with the component's k8s-app label (all of them, before choosing which to read). */
  podsFound: number;
  /** The pods read (a few running ones). */
  pods: ProbePodAnswer[];
}

export type ProbeState = 'serving' | 'not-serving' | 'forbidden' | 'not-checked';

export interface ComponentProbe {
  state: ProbeState;
  /** true: a pod answered with metrics; false: none did; null: not known (forbidden, not checked). */
  serving: boolean | null;
  /** The pod that answered (the first by name). */
  pod: string | null;
  /** Metric families in its answer. */
  families: number | null;
  /** Why not serving / not checked / forbidden (null when serving). */
  reason: string | null;
  /** Pods with the component's label (null: not listed). */
  podsFound: number | null;
  /** Every pod read, with its answer. */
  pods: { pod: string; node: string | null; families: number | null; error: string | null }[];
}

/** Distinct metric families: `# TYPE` names, plus sample names not belonging to a declared family. */
export function familyCount(text: string): number {
  const m = parsePrometheusText(text);
  const fams = new Set(Object.keys(m.types));
  for (const s of m.samples) {
    if (fams.has(s.name)) continue;
    const base = s.name.replace(/_(bucket|sum|count|total|created)$/, '');
    if (base !== s.name && fams.has(base)) continue;
    fams.add(s.name);
  }
  return fams.size;
}

/** A probe that did not run, with why. */
export function notChecked(reason: string): ComponentProbe {
  return {
    state: 'not-checked',
    serving: null,
    pod: null,
    families: null,
    reason,
    podsFound: null,
    pods: [],
  };
}

const forbiddenReason = (what: string, ns: string): string =>
  `not checked: forbidden to ${what} in ${ns} (the read-only role has no pods/proxy; docs/rbac.yaml)`;

/** The decision for one component from its pods' answers. */
export function decideProbe(input: ProbeInput): ComponentProbe {
  const app = COMPONENT_INFO[input.component].app;
  if (input.listError) {
    return input.listError.status === 403
      ? {
          ...notChecked(forbiddenReason('list pods', input.namespace)),
          state: 'forbidden',
        }
      : notChecked(`not checked: could not list the ${app} pods: ${input.listError.message}`);
  }
  const pods = input.pods
    .map((p) => {
      if (p.text === undefined)
        return { pod: p.pod, node: p.node, families: null, error: p.error ?? 'no answer', status: p.status };
      const families = familyCount(p.text);
      return families > 0
        ? { pod: p.pod, node: p.node, families, error: null, status: undefined }
        : { pod: p.pod, node: p.node, families: 0, error: 'answered with no metrics', status: undefined };
    })
    .sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  const out = pods.map(({ status: _s, ...p }) => p);
  const good = pods.find((p) => p.error === null);
  if (good)
    return {
      state: 'serving',
      serving: true,
      pod: good.pod,
      families: good.families,
      reason: null,
      podsFound: input.podsFound,
      pods: out,
    };
  if (pods.length && pods.every((p) => p.status === 403))
    return {
      state: 'forbidden',
      serving: null,
      pod: null,
      families: null,
      reason: forbiddenReason('get pods/proxy', input.namespace),
      podsFound: input.podsFound,
      pods: out,
    };
  const reason = !pods.length
    ? input.podsFound
      ? `none of the ${input.podsFound} ${app} pod(s) in ${input.namespace} is running with a pod IP`
      : `no ${app} pod in ${input.namespace} (label k8s-app=${app})`
    : `${pods[0]!.pod}: ${pods[0]!.error}${pods.length > 1 ? ` (and ${pods.length - 1} more pod(s) tried)` : ''}`;
  return {
    state: 'not-serving',
    serving: false,
    pod: null,
    families: null,
    reason,
    podsFound: input.podsFound,
    pods: out,
  };
}

const LABEL = { felix: 'Felix', typha: 'Typha', 'kube-controllers': 'kube-controllers' } as const;
const WORKLOAD = {
  felix: 'daemonset/calico-node',
  typha: 'deployment/calico-typha',
  'kube-controllers': 'deployment/calico-kube-controllers',
} as const;
const PORT_SETTING = {
  felix: 'FelixConfiguration prometheusMetricsPort / FELIX_PROMETHEUSMETRICSPORT',
  typha: 'Installation typhaMetricsPort / TYPHA_PROMETHEUSMETRICSPORT',
  'kube-controllers': 'KubeControllersConfiguration prometheusMetricsPort',
} as const;

/** METRICS_NOT_SERVED: the switch is on, but no pod of the component answers `/metrics` on its port. */
export function probeFinding(
  c: { component: MetricsComponent; namespace: string; port: number; switch: string },
  p: ComponentProbe,
): Finding | undefined {
  if (p.state !== 'not-serving') return undefined;
  const name = LABEL[c.component];
  return {
    code: 'METRICS_NOT_SERVED',
    severity: 'warning',
    message: `${name} metrics are on (${c.switch}, port ${c.port}) but no ${COMPONENT_INFO[c.component].app} pod serves /metrics on :${c.port} through the API server's pod proxy: ${p.reason}. Check that ${name} listens on ${c.port} (${PORT_SETTING[c.component]}), and that the switch has rolled out to the pods (restarted since it changed)`,
    objects: [
      { kind: 'Pod', name: p.pods[0]?.pod ?? COMPONENT_INFO[c.component].app, namespace: c.namespace },
    ],
    fix: `kubectl rollout status -n ${c.namespace} ${WORKLOAD[c.component]}`,
  };
}
