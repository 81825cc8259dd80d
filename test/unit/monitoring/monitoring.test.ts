import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NothingToDo } from '../../../src/errors.js';
import type { KubeObject } from '../../../src/model/types.js';
import { chooseTarget, detectMonitoring } from '../../../src/monitoring/detect.js';
import { monitoringFindings } from '../../../src/monitoring/findings.js';
import { DEFAULT_PORTS, planMonitoring, type MonitoringOptions } from '../../../src/monitoring/plan.js';
import { buildMonitoringReport } from '../../../src/monitoring/report.js';
import { labelsSatisfying, parseLabelList, selects } from '../../../src/monitoring/selector.js';
import { templateDatasource } from '../../../src/monitoring/dashboards.js';
import { integrityProblems, planDigest } from '../../../src/plan/integrity.js';
import { staleness } from '../../../src/plan/fingerprint.js';
import { applyStepToObjects } from '../../../src/plan/simulate.js';
import type { Plan } from '../../../src/plan/types.js';
import { configFindings } from '../../../src/status/checks.js';
import { setCalicoNodeEnv, snap, snapshotOf } from '../helpers.js';
import type { ClusterSpec } from '../../fixtures/generate.js';

const MANAGED = 'app.kubernetes.io/managed-by';
const OPTS: MonitoringOptions = {
  serviceMonitors: true,
  alerts: false,
  ports: DEFAULT_PORTS,
  timeout: '10m',
  name: 'monitoring-test',
  command: 'test',
  createdAt: '2026-12-01T00:00:00Z',
};

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});
const prometheus = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'Prometheus',
  metadata: { name, namespace },
  spec,
});
/** kube-prometheus-stack's usual Prometheus: ServiceMonitors labelled release=prometheus, in its namespace. */
const stack = (): KubeObject[] => [
  ns('kube-system'),
  ns('monitoring'),
  ns('calico-system'),
  prometheus('monitoring', 'k8s', { serviceMonitorSelector: { matchLabels: { release: 'prometheus' } } }),
];

function after(plan: Plan, items: KubeObject[]): KubeObject[] {
  let objs = items;
  for (const s of plan.steps) objs = applyStepToObjects(objs, s);
  return objs;
}

function itemsOf(spec: ClusterSpec, extra: KubeObject[] = []): KubeObject[] {
  const s = snap(spec);
  return [...s.objects, ...extra];
}

describe('monitoring/selector', () => {
  it('matches matchLabels and every expression operator; null selects nothing, {} everything', () => {
    assert.equal(selects(null, {}), false);
    assert.equal(selects({}, { a: '1' }), true);
    assert.equal(selects({ matchLabels: { release: 'prometheus' } }, { release: 'prometheus' }), true);
    assert.equal(selects({ matchLabels: { release: 'prometheus' } }, { release: 'other' }), false);
    const e = (operator: string, values?: string[]) => ({
      matchExpressions: [{ key: 'k', operator, values }],
    });
    assert.equal(selects(e('In', ['a', 'b']), { k: 'b' }), true);
    assert.equal(selects(e('In', ['a']), {}), false);
    assert.equal(selects(e('NotIn', ['a']), { k: 'a' }), false);
    assert.equal(selects(e('NotIn', ['a']), {}), true);
    assert.equal(selects(e('Exists'), { k: '' }), true);
    assert.equal(selects(e('DoesNotExist'), { k: '' }), false);
    assert.equal(selects(e('Bogus'), { k: 'a' }), false);
  });

  it('property: the labels it proposes are selected by the selector (or it says none can be)', () => {
    const key = fc.constantFrom('a', 'b', 'release');
    const val = fc.constantFrom('x', 'y', 'prometheus');
    const expr = fc.record({
      key,
      operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
      values: fc.array(val, { maxLength: 2 }),
    });
    fc.assert(
      fc.property(
        fc.dictionary(key, val),
        fc.array(expr, { maxLength: 3 }),
        (matchLabels, matchExpressions) => {
          const sel = { matchLabels, matchExpressions };
          const l = labelsSatisfying(sel);
          if (l) assert.ok(selects(sel, l));
        },
      ),
    );
  });

  it('parses k=v lists and refuses malformed ones', () => {
    assert.deepEqual(parseLabelList('release=prometheus, team=net').labels, {
      release: 'prometheus',
      team: 'net',
    });
    assert.deepEqual(parseLabelList('app.kubernetes.io/part-of=x').labels, {
      'app.kubernetes.io/part-of': 'x',
    });
    assert.match(parseLabelList('release').error!, /"release" is not a label/);
    assert.match(parseLabelList('a=b c').error!, /not a label/);
  });

  it('refuses what the API server refuses, before any write (a review: bad/key/x=1 patched the Installation, then the ServiceMonitor got a 422)', () => {
    for (const bad of [
      'bad/key/x=1', // two slashes
      'Example.com/x=1', // prefix not a lowercase DNS subdomain
      '/x=1', // empty prefix
      'example.com/=1', // empty name
      `${'a'.repeat(64)}=1`, // name over 63
      `${'a'.repeat(250)}.com/x=1`, // prefix over 253
      `x=${'v'.repeat(64)}`, // value over 63
      'x=-v', // value must begin with an alphanumeric
      'under_score.io/x=1', // '_' is not allowed in a DNS subdomain
    ])
      assert.ok(parseLabelList(bad).error, `${bad} is refused`);
    for (const good of [
      'a=',
      'A_b.c-d=E_f.g-h',
      'sub.example.com/Name_1=v',
      `${'a'.repeat(63)}=${'b'.repeat(63)}`,
    ])
      assert.equal(parseLabelList(good).error, undefined, good);
    assert.match(parseLabelList('release=a,release=b').error!, /release.*twice/);
    assert.deepEqual(parseLabelList('release=a,release=a').labels, { release: 'a' });
  });
});

describe('monitoring/detect', () => {
  it('operator install: Felix and Typha switches live on the Installation; the operator makes the Typha Service', () => {
    const st = detectMonitoring(snap({ nodes: 12, zones: 1, install: 'operator' }));
    const felix = st.components.find((c) => c.component === 'felix')!;
    assert.equal(felix.enabled, false);
    assert.deepEqual([felix.switch.kind, felix.switch.field], ['Installation', 'spec.nodeMetricsPort']);
    assert.equal(felix.namespace, 'calico-system');
    assert.equal(felix.service, undefined);
    const typha = st.components.find((c) => c.component === 'typha')!;
    assert.equal(typha.present, true);
    assert.equal(typha.switch.field, 'spec.typhaMetricsPort');
    assert.equal(typha.service?.source, 'operator');
    assert.equal(typha.service?.portName, 'calico-typha-metrics');
    const on = detectMonitoring(
      snap({ nodes: 12, zones: 1, install: 'operator', typhaMetrics: true }, (o) => {
        const inst = o.find((x) => x.kind === 'Installation')!;
        inst.spec = { ...inst.spec, nodeMetricsPort: 9191 };
      }),
    );
    assert.deepEqual(
      on.components.filter((c) => c.present).map((c) => [c.component, c.enabled, c.port]),
      [
        ['felix', true, 9191],
        ['typha', true, 9093],
      ],
    );
  });

  it("a node's own FelixConfiguration node.NAME with prometheusMetricsEnabled: false: its Felix serves none, said so", () => {
    const spec = { nodes: 12, zones: 1, install: 'manifest', felixMetrics: true } as const;
    let off = '';
    const st = detectMonitoring(
      snap(spec, (o) => {
        const def = o.find((x) => x.kind === 'FelixConfiguration')!;
        off = o.find((x) => x.kind === 'Node')!.metadata.name;
        o.push({
          apiVersion: def.apiVersion,
          kind: 'FelixConfiguration',
          metadata: { name: `node.${off}` },
          spec: { prometheusMetricsEnabled: false },
        });
      }),
    );
    const felix = st.components.find((c) => c.component === 'felix')!;
    assert.deepEqual(felix.offOn, [{ object: `node.${off}`, nodes: [off] }]);
    const f = monitoringFindings(st).find((x) => x.code === 'FELIX_METRICS_OFF_ON_NODES');
    assert.ok(f, JSON.stringify(monitoringFindings(st)));
    assert.match(f.message, new RegExp(`off on 1 node\\(s\\).*node\\.${off}.*no Felix metrics from ${off}`));
    assert.equal(
      detectMonitoring(snap(spec)).components.find((c) => c.component === 'felix')!.offOn,
      undefined,
    );
  });

  it('manifest install: FelixConfiguration, the Deployment env, and an env override no plan can change', () => {
    const st = detectMonitoring(snap({ nodes: 12, zones: 1, install: 'manifest', felixMetrics: true }));
    const felix = st.components.find((c) => c.component === 'felix')!;
    assert.deepEqual(
      [felix.enabled, felix.switch.kind, felix.namespace],
      [true, 'FelixConfiguration', 'kube-system'],
    );
    const typha = st.components.find((c) => c.component === 'typha')!;
    assert.deepEqual(
      [typha.switch.kind, typha.switch.field],
      ['Deployment', 'env TYPHA_PROMETHEUSMETRICSENABLED'],
    );
    const overridden = detectMonitoring(
      snap({ nodes: 12, zones: 1, install: 'manifest', felixMetrics: true }, (o) => {
        const ds = o.find((x) => x.kind === 'DaemonSet')!;
        const c = (ds.spec as { template: { spec: { containers: { env?: unknown[] }[] } } }).template.spec
          .containers[0]!;
        c.env = [...(c.env ?? []), { name: 'FELIX_PROMETHEUSMETRICSENABLED', value: 'false' }];
      }),
    );
    const f2 = overridden.components.find((c) => c.component === 'felix')!;
    assert.equal(f2.enabled, false);
    assert.match(f2.override!, /overrides FelixConfiguration default/);
    assert.deepEqual(
      monitoringFindings(overridden).map((f) => f.code),
      ['METRICS_ENV_OVERRIDE'],
    );
  });

  it('kube-controllers: KubeControllersConfiguration port 0 is off, and so is a field left unset; no object: 9094', () => {
    const kcc = (port?: number): KubeObject => ({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'KubeControllersConfiguration',
      metadata: { name: 'default' },
      spec: port === undefined ? {} : { prometheusMetricsPort: port },
    });
    const off = detectMonitoring(snapshotOf(itemsOf({ nodes: 6, zones: 1 }, [kcc(0)])));
    const kc = off.components.find((c) => c.component === 'kube-controllers')!;
    assert.deepEqual([kc.present, kc.enabled], [true, false]);
    assert.ok(monitoringFindings(off).some((f) => f.code === 'KUBE_CONTROLLERS_METRICS_DISABLED'));
    // kube-controllers reads a nil prometheusMetricsPort as 0 (kube-controllers/pkg/config/runconfig.go
    // mergeConfig); only the object it creates itself gets 9094 (clientv3 fills the default): a review found
    // an object written without the field reported as serving
    const unset = detectMonitoring(snapshotOf(itemsOf({ nodes: 6, zones: 1 }, [kcc()])));
    assert.deepEqual([unset.components[2]!.enabled, unset.components[2]!.port], [false, 9094]);
    const plan = planMonitoring(snapshotOf(itemsOf({ nodes: 6, zones: 1 }, [...stack(), kcc()])), OPTS);
    assert.ok(
      plan.steps.some(
        (x) =>
          x.object?.kind === 'KubeControllersConfiguration' &&
          JSON.stringify(x.patch) === JSON.stringify({ spec: { prometheusMetricsPort: 9094 } }),
      ),
      plan.steps.map((x) => x.title).join('\n'),
    );
    const def = detectMonitoring(snapshotOf(itemsOf({ nodes: 6, zones: 1 }, [kcc(9094)])));
    assert.deepEqual(
      [def.components[2]!.enabled, def.components[2]!.port, def.components[2]!.service?.name],
      [true, 9094, 'calico-kube-controllers-metrics'],
    );
  });

  it('an edited metrics Service, re-digested, that exposes a port outside the cluster is refused (a review: NodePort, externalIPs, Typha 5473)', () => {
    const plan = planMonitoring(snapshotOf(itemsOf({ nodes: 6, zones: 1 }, stack())), OPTS);
    const i = plan.steps.findIndex((x) => x.manifest?.kind === 'Service');
    assert.ok(i >= 0);
    assert.deepEqual(integrityProblems(plan), []);
    const edits: [string, (spec: Record<string, unknown>) => void, RegExp][] = [
      ['NodePort', (sp) => (sp['type'] = 'NodePort'), /is ClusterIP/],
      ['externalIPs', (sp) => (sp['externalIPs'] = ['10.9.9.9']), /Service spec/],
      [
        'another selector',
        (sp) => (sp['selector'] = { 'k8s-app': 'calico-typha', extra: 'x' }),
        /selects one Calico component/,
      ],
      [
        'another target port',
        (sp) => ((sp['ports'] as Record<string, unknown>[])[0]!['targetPort'] = 5473),
        /port = targetPort/,
      ],
    ];
    for (const [what, edit, re] of edits) {
      const q = structuredClone(plan);
      edit(q.steps[i]!.manifest!.spec as Record<string, unknown>);
      q.metadata.digest = planDigest(q);
      assert.match(integrityProblems(q).join('; '), re, what);
    }
    // a run that 0.1 recorded in the cluster (its creates labelled managed-by=calico-tune) can still be resumed
    // or rolled back; a plan file or a new plan must carry this version's value (a review)
    const legacy = structuredClone(plan);
    for (const st of legacy.steps)
      if (st.manifest)
        st.manifest.metadata.labels = { ...st.manifest.metadata.labels, [MANAGED]: 'calico-tune' };
    legacy.metadata.digest = planDigest(legacy);
    assert.match(
      integrityProblems(legacy).join('; '),
      /carries app.kubernetes.io\/managed-by=kubectl-calico-tune/,
    );
    assert.deepEqual(integrityProblems(legacy, undefined, true), []);
  });

  it('a saved plan that writes ServiceMonitors is stale once a Prometheus selector changed (a review: "done", and nothing scraped them)', () => {
    const items = itemsOf({ nodes: 6, zones: 1 }, stack());
    const plan = planMonitoring(snapshotOf(items), OPTS);
    assert.ok(plan.steps.some((x) => x.manifest?.kind === 'ServiceMonitor'));
    assert.deepEqual(staleness(plan, snapshotOf(items)), []);
    const moved = structuredClone(items);
    const prom = moved.find((o) => o.kind === 'Prometheus')!;
    (prom.spec as Record<string, unknown>)['serviceMonitorSelector'] = { matchLabels: { release: 'kps' } };
    const changes = staleness(plan, snapshotOf(moved));
    assert.equal(changes.length, 1, changes.join('; '));
    assert.match(changes[0]!, /^Prometheus\//);
    // what the selectors do not see (replicas, a version bump) does not make it stale
    const scaled = structuredClone(items);
    (scaled.find((o) => o.kind === 'Prometheus')!.spec as Record<string, unknown>)['replicas'] = 5;
    assert.deepEqual(staleness(plan, snapshotOf(scaled)), []);
  });

  it('a component that is not installed is not "enabled" (a review: kube-controllers present false, enabled true)', () => {
    const items = itemsOf({ nodes: 6, zones: 1 }).filter(
      (o) =>
        !(o.kind === 'Deployment' && /calico-(kube-controllers|typha)/.test(o.metadata.name)) &&
        o.kind !== 'KubeControllersConfiguration',
    );
    const inst = items.find((o) => o.kind === 'Installation');
    if (inst) inst.spec = { ...inst.spec, typhaMetricsPort: 9093 };
    const r = buildMonitoringReport(snapshotOf(items));
    for (const c of r.components.filter((x) => x.component !== 'felix'))
      assert.deepEqual([c.component, c.present, c.enabled], [c.component, false, false]);
    assert.equal(r.summary.enabled, r.components.find((c) => c.component === 'felix')!.enabled ? 1 : 0);
  });

  it('chooses where ServiceMonitors are selected: its namespace and labels, a namespace selector, or none', () => {
    const st = detectMonitoring(snapshotOf(itemsOf({ nodes: 6, zones: 1 }, stack())));
    assert.equal(st.crds, true);
    const t = chooseTarget(st, {});
    assert.deepEqual(
      [t.namespace, t.labels, t.selectedBy],
      ['monitoring', { release: 'prometheus' }, ['monitoring/k8s']],
    );
    // flags win; then the result says honestly that nothing selects them
    const wrong = chooseTarget(st, { labels: { team: 'net' } });
    assert.deepEqual(wrong.selectedBy, []);
    assert.match(wrong.reason, /no Prometheus object \(monitoring\/k8s\) selects/);
    // a namespace selector admits labelled namespaces only
    const sel = detectMonitoring(
      snapshotOf(
        itemsOf({ nodes: 6, zones: 1 }, [
          ns('kube-system'),
          ns('prom'),
          ns('observability', { scrape: 'yes' }),
          prometheus('prom', 'main', {
            serviceMonitorSelector: {},
            serviceMonitorNamespaceSelector: { matchLabels: { scrape: 'yes' } },
          }),
        ]),
      ),
    );
    assert.equal(chooseTarget(sel, {}).namespace, 'observability');
    // a null serviceMonitorSelector selects nothing
    const none = detectMonitoring(
      snapshotOf(
        itemsOf({ nodes: 6, zones: 1 }, [
          ns('kube-system'),
          ns('monitoring'),
          prometheus('monitoring', 'p', {}),
        ]),
      ),
    );
    assert.deepEqual(chooseTarget(none, {}).selectedBy, []);
  });
});

describe('monitoring/plan', () => {
  it("operator install: patches the Installation (not FelixConfiguration), never creates the operator's Services", () => {
    const items = itemsOf({ nodes: 12, zones: 1, install: 'operator' }, stack());
    const plan = planMonitoring(snapshotOf(items), OPTS);
    assert.deepEqual(integrityProblems(plan), []);
    const writes = plan.steps.map(
      (s) =>
        `${s.action} ${s.object?.kind}/${s.object?.namespace ? `${s.object.namespace}/` : ''}${s.object?.name}`,
    );
    assert.deepEqual(writes, [
      'patch Installation/default',
      'patch Installation/default',
      'create Service/calico-system/calico-felix-metrics',
      'create ServiceMonitor/monitoring/calico-felix-metrics',
      'create ServiceMonitor/monitoring/calico-typha-metrics',
    ]);
    assert.deepEqual(plan.steps[0]!.patch, { spec: { nodeMetricsPort: 9091 } });
    assert.deepEqual(plan.steps[0]!.undo[0]!.patch, { spec: { nodeMetricsPort: null } });
    const sm = plan.steps[4]!.manifest!;
    assert.deepEqual(sm.metadata.labels, {
      release: 'prometheus',
      'app.kubernetes.io/managed-by': 'kubectl-calico-tune',
    });
    assert.deepEqual(sm.spec, {
      endpoints: [{ port: 'calico-typha-metrics', interval: '15s', path: '/metrics' }],
      namespaceSelector: { matchNames: ['calico-system'] },
      selector: { matchLabels: { 'k8s-app': 'calico-typha-metrics' } },
    });
    for (const s of plan.steps.filter((x) => x.action === 'create'))
      assert.equal(s.undo[0]!.action, 'delete', `${s.title} is undone by a delete`);
    // once applied, a second plan has nothing to do
    assert.throws(() => planMonitoring(snapshotOf(after(plan, items)), OPTS), NothingToDo);
  });

  it('manifest install: FelixConfiguration, the Typha env (undo restores the containers), both Services, alerts', () => {
    const items = itemsOf({ nodes: 12, zones: 1, install: 'manifest' }, stack());
    const plan = planMonitoring(snapshotOf(items), {
      ...OPTS,
      alerts: true,
      ports: { ...DEFAULT_PORTS, typha: 9393 },
    });
    assert.deepEqual(integrityProblems(plan), []);
    assert.deepEqual(
      plan.steps.map((s) => `${s.action} ${s.object?.kind}/${s.object?.name}`),
      [
        'patch FelixConfiguration/default',
        'patch Deployment/calico-typha',
        'create Service/calico-felix-metrics',
        'create Service/calico-typha-metrics',
        'create ServiceMonitor/calico-felix-metrics',
        'create ServiceMonitor/calico-typha-metrics',
        'create PrometheusRule/calico-alerts',
      ],
    );
    const dep = items.find((o) => o.kind === 'Deployment' && o.metadata.name === 'calico-typha')!;
    const undo = plan.steps[1]!.undo[0]!.patch as { spec: { template: { spec: { containers: unknown } } } };
    assert.deepEqual(
      undo.spec.template.spec.containers,
      (dep.spec as { template: { spec: { containers: unknown } } }).template.spec.containers,
    );
    const svc = plan.steps[3]!.manifest!;
    assert.deepEqual((svc.spec as { ports: unknown }).ports, [
      { name: 'typha-metrics', port: 9393, targetPort: 9393, protocol: 'TCP' },
    ]);
    const done = snapshotOf(after(plan, items));
    assert.deepEqual(
      detectMonitoring(done)
        .components.filter((c) => c.present)
        .map((c) => [c.component, c.enabled, c.port, c.scrapedBy, c.selectedBy]),
      [
        ['felix', true, 9091, ['monitoring/calico-felix-metrics'], ['monitoring/k8s']],
        ['typha', true, 9393, ['monitoring/calico-typha-metrics'], ['monitoring/k8s']],
      ],
    );
    assert.deepEqual(buildMonitoringReport(done).findings, []);
    assert.throws(() => planMonitoring(done, { ...OPTS, alerts: true }), NothingToDo);
  });

  it('without prometheus-operator: switches and Services only, and it says why', () => {
    const s = snapshotOf(itemsOf({ nodes: 6, zones: 1, install: 'manifest' }));
    const live = {
      ...s,
      source: { ...s.source, kind: 'live' as const, apiGroups: ['crd.projectcalico.org/v1'] },
    };
    const plan = planMonitoring(live, OPTS);
    assert.ok(!plan.steps.some((x) => x.object?.kind === 'ServiceMonitor'));
    assert.ok(plan.summary.warnings.some((w) => /monitoring.coreos.com CRDs are not served/.test(w)));
  });

  it('refuses a ServiceMonitor namespace that does not exist (exit 2)', () => {
    const s = snapshotOf(itemsOf({ nodes: 6, zones: 1 }, stack()));
    assert.throws(() => planMonitoring(s, { ...OPTS, namespace: 'nope' }), /namespace nope does not exist/);
  });
});

describe('status: monitoring findings', () => {
  it('on operator installs FELIX_METRICS_DISABLED names the Installation it fixes, and points at monitoring plan', () => {
    const f = configFindings(snap({ nodes: 12, zones: 1, install: 'operator' })).find(
      (x) => x.code === 'FELIX_METRICS_DISABLED',
    )!;
    assert.deepEqual(f.objects, [{ kind: 'Installation', name: 'default', namespace: undefined }]);
    assert.match(f.message, /Installation default spec.nodeMetricsPort/);
    assert.match(f.fix, /monitoring plan/);
    const m = configFindings(snap({ nodes: 12, zones: 1, install: 'manifest' })).find(
      (x) => x.code === 'FELIX_METRICS_DISABLED',
    )!;
    assert.deepEqual(m.objects, [{ kind: 'FelixConfiguration', name: 'default', namespace: undefined }]);
  });

  it('a metrics port without a Service, and a ServiceMonitor no Prometheus selects', () => {
    const s = snap({ nodes: 12, zones: 1, install: 'manifest', felixMetrics: true });
    assert.ok(configFindings(s).some((f) => f.code === 'METRICS_SERVICE_MISSING'));
    const items = itemsOf(
      { nodes: 12, zones: 1, install: 'manifest', felixMetrics: true, metricsServices: true },
      [
        ...stack(),
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'ServiceMonitor',
          metadata: { name: 'felix', namespace: 'monitoring', labels: { release: 'other' } },
          spec: {
            endpoints: [{ port: 'felix-metrics' }],
            namespaceSelector: { matchNames: ['kube-system'] },
            selector: { matchLabels: { 'k8s-app': 'calico-felix-metrics' } },
          },
        },
      ],
    );
    const codes = configFindings(snapshotOf(items)).map((f) => f.code);
    assert.ok(codes.includes('SERVICEMONITOR_NOT_SELECTED'), codes.join(','));
  });
});

describe('monitoring/dashboards', () => {
  const calicoFelix = {
    id: 3,
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' } }] },
    panels: [
      {
        datasource: { type: 'prometheus', uid: 'P11C5FC3F3B681947' },
        targets: [{ datasource: { type: 'prometheus', uid: 'P11C5FC3F3B681947' }, expr: 'felix_log_errors' }],
      },
      { datasource: 'calico-demo-prometheus', panels: [{ datasource: 'calico-demo-prometheus' }] },
      { datasource: null, type: 'row' },
    ],
    templating: { list: [{ name: 'top_n' }] },
  };

  it("every Prometheus datasource becomes ${datasource}; Grafana's own and null stay; one variable is added", () => {
    const d = templateDatasource(calicoFelix);
    const text = JSON.stringify(d);
    assert.ok(!text.includes('P11C5FC3F3B681947') && !text.includes('calico-demo-prometheus'), text);
    assert.equal((text.match(/\$\{datasource\}/g) ?? []).length, 4);
    assert.match(text, /-- Grafana --/);
    assert.equal(d['id'], undefined);
    const names = (d['templating'] as { list: { name: string }[] }).list.map((v) => v.name);
    assert.deepEqual(names, ['datasource', 'top_n']);
    assert.deepEqual(templateDatasource(d), d, 'idempotent');
    assert.equal(calicoFelix.id, 3, 'the input is not changed');
  });

  it('the ConfigMap: sidecar label, the notice, three dashboards, created by the plan with an undo', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'operator' }, stack());
    const plan = planMonitoring(snapshotOf(items), {
      ...OPTS,
      dashboards: { 'felix-dashboard.json': calicoFelix },
    });
    assert.deepEqual(integrityProblems(plan), []);
    const cm = plan.steps.find((s) => s.manifest?.kind === 'ConfigMap')!.manifest!;
    assert.equal(cm.metadata.namespace, 'monitoring');
    assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
    assert.match(cm.metadata.annotations?.['calico-tune.io/notice'] ?? '', /Apache License 2\.0/);
    assert.deepEqual(Object.keys(cm['data'] as object).sort(), [
      'felix-dashboard.json',
      'kube-controllers-dashboard.json',
    ]);
    const kc = JSON.parse((cm['data'] as Record<string, string>)['kube-controllers-dashboard.json']!) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = kc.panels.flatMap((p) => p.targets.map((t) => t.expr)).join(' ');
    for (const m of ['ipam_allocations_per_node', 'ipam_blocks_per_node', 'ipam_ippool_size'])
      assert.match(exprs, new RegExp(m));
    assert.throws(
      () =>
        planMonitoring(snapshotOf(after(plan, items)), {
          ...OPTS,
          dashboards: { 'felix-dashboard.json': calicoFelix },
        }),
      NothingToDo,
    );
  });
});

describe('monitoring/plan: ports in the host network namespace', () => {
  it('refuses to turn Typha on with the port Felix already serves (found by a review: both Services on 9093)', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest', felixMetrics: true }, stack());
    const felix = items.find((o) => o.kind === 'FelixConfiguration')!;
    (felix.spec as Record<string, unknown>)['prometheusMetricsPort'] = 9093;
    assert.throws(
      () => planMonitoring(snapshotOf(items), OPTS),
      /Felix and Typha metrics would both listen on port 9093 on every node \(host network\): Felix serves it already/,
    );
    // another port for Typha: planned
    const p = planMonitoring(snapshotOf(items), { ...OPTS, ports: { ...DEFAULT_PORTS, typha: 9095 } });
    assert.ok(p.steps.some((x) => x.object?.kind === 'Deployment'));
  });
});

/** A Service as Calico's docs make it for Felix: felix-metrics-svc, its port without a name. */
const DOCS_FELIX_SERVICE: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'felix-metrics-svc', namespace: 'kube-system' },
  spec: { selector: { 'k8s-app': 'calico-node' }, ports: [{ port: 9091, targetPort: 9091 }] },
};

describe('monitoring: defects found by trying the tool (review of 2026-12-03)', () => {
  const env = setCalicoNodeEnv;
  const felixConfig = (items: KubeObject[]): Record<string, unknown> =>
    items.find((o) => o.kind === 'FelixConfiguration' && o.metadata.name === 'default')!.spec as Record<
      string,
      unknown
    >;
  const writes = (p: Plan): string[] =>
    p.steps.map((s) => `${s.action} ${s.object?.kind}/${s.object?.namespace ?? ''}/${s.object?.name}`);
  const portsOf = (m: KubeObject | undefined): unknown => (m?.spec as { ports?: unknown } | undefined)?.ports;

  it('Calico v3.27 operator installs: the operator (v1.32) makes no Typha metrics Service, so the plan creates one shaped as later operators do', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'operator', calico: 'v3.27.3' }, stack());
    const st = detectMonitoring(snapshotOf(items));
    assert.equal(st.components.find((c) => c.component === 'typha')!.service, undefined);
    const plan = planMonitoring(snapshotOf(items), OPTS);
    assert.deepEqual(integrityProblems(plan), []);
    const svc = plan.steps.find(
      (s) => s.action === 'create' && s.manifest?.metadata.name === 'calico-typha-metrics',
    )?.manifest;
    assert.ok(svc, writes(plan).join('\n'));
    assert.equal(svc.metadata.namespace, 'calico-system');
    assert.deepEqual(portsOf(svc), [
      { name: 'calico-typha-metrics', port: 9093, targetPort: 9093, protocol: 'TCP' },
    ]);
    assert.equal(svc.metadata.labels?.['k8s-app'], 'calico-typha-metrics');
    // once applied, the ServiceMonitor scrapes it and a second plan has nothing to do
    const done = snapshotOf(after(plan, items));
    assert.deepEqual(detectMonitoring(done).components.find((c) => c.component === 'typha')!.scrapedBy, [
      'monitoring/calico-typha-metrics',
    ]);
    assert.throws(() => planMonitoring(done, OPTS), NothingToDo);
    // v3.28 and later (operator v1.34+): the operator makes it, the plan does not
    const later = itemsOf({ nodes: 6, zones: 1, install: 'operator', calico: 'v3.31.3' }, stack());
    assert.ok(
      !writes(planMonitoring(snapshotOf(later), OPTS)).some((w) => w.includes('Service//calico-typha')),
    );
  });

  it("manifest install: Felix's port from calico-node's env is the one turned on and exposed, and a re-run converges", () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest' }, stack());
    env(items, 'FELIX_PROMETHEUSMETRICSPORT', '9095');
    const plan = planMonitoring(snapshotOf(items), { ...OPTS, ports: {} });
    assert.deepEqual(plan.steps[0]!.patch, { spec: { prometheusMetricsEnabled: true } });
    const svc = plan.steps.find((s) => s.manifest?.metadata.name === 'calico-felix-metrics')!.manifest;
    assert.deepEqual(portsOf(svc), [
      { name: 'felix-metrics', port: 9095, targetPort: 9095, protocol: 'TCP' },
    ]);
    assert.throws(() => planMonitoring(snapshotOf(after(plan, items)), { ...OPTS, ports: {} }), NothingToDo);
    // an explicit --felix-port the env would override: refused, exit 2
    assert.throws(
      () => planMonitoring(snapshotOf(items), { ...OPTS, ports: { felix: 9191 } }),
      /FELIX_PROMETHEUSMETRICSPORT=9095 .* overrides/,
    );
    // our own Service left on another port (by an earlier run): patched to the port Felix serves, not re-created
    const stale = after(plan, items).map((o) =>
      o.kind === 'Service' && o.metadata.name === 'calico-felix-metrics'
        ? {
            ...o,
            spec: {
              ...o.spec,
              ports: [{ name: 'felix-metrics', port: 9091, targetPort: 9091, protocol: 'TCP' }],
            },
          }
        : o,
    );
    const again = planMonitoring(snapshotOf(stale), { ...OPTS, ports: {} });
    assert.deepEqual(writes(again), ['patch Service/kube-system/calico-felix-metrics']);
    assert.deepEqual(integrityProblems(again), [], 'apply accepts it (its undo included)');
    assert.throws(() => planMonitoring(snapshotOf(after(again, stale)), { ...OPTS, ports: {} }), NothingToDo);
  });

  it('manifest install: a port chosen in FelixConfiguration is kept when metrics are turned on (not reset to 9091)', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest' }, stack());
    felixConfig(items)['prometheusMetricsPort'] = 9095;
    felixConfig(items)['prometheusMetricsEnabled'] = false;
    const plan = planMonitoring(snapshotOf(items), { ...OPTS, ports: {} });
    assert.deepEqual(plan.steps[0]!.patch, { spec: { prometheusMetricsEnabled: true } });
    const svc = plan.steps.find((s) => s.manifest?.metadata.name === 'calico-felix-metrics')!.manifest;
    assert.deepEqual(portsOf(svc), [
      { name: 'felix-metrics', port: 9095, targetPort: 9095, protocol: 'TCP' },
    ]);
    // an explicit port moves it
    const moved = planMonitoring(snapshotOf(items), { ...OPTS, ports: { felix: 9191 } });
    assert.deepEqual(moved.steps[0]!.patch, {
      spec: { prometheusMetricsEnabled: true, prometheusMetricsPort: 9191 },
    });
  });

  it("a Service made as Calico's docs show (felix-metrics-svc, an unnamed port) exposes Felix: no second Service; no ServiceMonitor for a port without a name, said why", () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest', felixMetrics: true }, [
      ...stack(),
      DOCS_FELIX_SERVICE,
    ]);
    const s = snapshotOf(items);
    assert.ok(!configFindings(s).some((f) => f.code === 'METRICS_SERVICE_MISSING'));
    assert.equal(detectMonitoring(s).components[0]!.service?.name, 'felix-metrics-svc');
    const plan = planMonitoring(s, { ...OPTS, ports: {} });
    assert.ok(!writes(plan).some((w) => w.includes('calico-felix-metrics')), writes(plan).join('\n'));
    assert.ok(
      plan.summary.warnings.some((w) => /felix-metrics-svc .*no name.*ServiceMonitor/.test(w)),
      plan.summary.warnings.join('\n'),
    );
  });
});

/** A manifest cluster whose Prometheus loads PrometheusRules labelled role=alert-rules, in its own namespace. */
const rulesStack = (): KubeObject[] =>
  itemsOf({ nodes: 6, zones: 1, install: 'manifest' }, [
    ns('kube-system'),
    ns('monitoring'),
    prometheus('monitoring', 'kps', {
      serviceMonitorSelector: { matchLabels: { release: 'prometheus' } },
      ruleSelector: { matchLabels: { role: 'alert-rules' } },
    }),
  ]);

describe('monitoring --alerts: the PrometheusRule is labelled for the ruleSelector (a review: it got the ServiceMonitor labels)', () => {
  const rule = (p: Plan): KubeObject | undefined =>
    p.steps.find((s) => s.manifest?.kind === 'PrometheusRule')?.manifest;
  it("labels from the Prometheus's ruleSelector, in a namespace its ruleNamespaceSelector admits", () => {
    const items = rulesStack();
    const p = planMonitoring(snapshotOf(items), { ...OPTS, alerts: true });
    assert.deepEqual(rule(p)?.metadata.labels, {
      role: 'alert-rules',
      'app.kubernetes.io/managed-by': 'kubectl-calico-tune',
    });
    assert.ok(!p.summary.warnings.some((w) => /PrometheusRule/.test(w)), p.summary.warnings.join('\n'));
  });
  it('a Prometheus without a ruleSelector loads no rules: said so', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest' }, stack());
    const p = planMonitoring(snapshotOf(items), { ...OPTS, alerts: true });
    assert.ok(rule(p));
    assert.ok(
      p.summary.warnings.some((w) =>
        /no Prometheus .*loads PrometheusRule monitoring\/calico-alerts/.test(w),
      ),
      p.summary.warnings.join('\n'),
    );
  });
});

describe('monitoring: a ServiceMonitor of ours that no Prometheus selects any more (a review: the fix said "nothing to do")', () => {
  it('relabels ours for the Prometheus that now selects elsewhere; names the command for one not ours', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest' }, stack());
    const first = planMonitoring(snapshotOf(items), OPTS);
    const applied = after(first, items).map((o) =>
      o.kind === 'Prometheus'
        ? { ...o, spec: { serviceMonitorSelector: { matchLabels: { release: 'kps' } } } }
        : o,
    );
    const s = snapshotOf(applied);
    assert.ok(configFindings(s).some((f) => f.code === 'SERVICEMONITOR_NOT_SELECTED'));
    const p = planMonitoring(s, OPTS);
    const patches = p.steps.filter((x) => x.action === 'patch' && x.object?.kind === 'ServiceMonitor');
    assert.deepEqual(patches.map((x) => x.object!.name).sort(), [
      'calico-felix-metrics',
      'calico-typha-metrics',
    ]);
    assert.deepEqual(integrityProblems(p), []);
    const done = snapshotOf(after(p, applied));
    assert.ok(!configFindings(done).some((f) => f.code === 'SERVICEMONITOR_NOT_SELECTED'));
    assert.throws(() => planMonitoring(done, OPTS), NothingToDo);
    // someone else's ServiceMonitor: not changed, but the plan names the command
    const theirs = applied.map((o) =>
      o.kind === 'ServiceMonitor'
        ? { ...o, metadata: { ...o.metadata, labels: { release: 'prometheus' } } }
        : o,
    );
    // nothing the plan may change: "nothing to do", with the command to run
    assert.throws(
      () => planMonitoring(snapshotOf(theirs), OPTS),
      (e: unknown) =>
        e instanceof NothingToDo &&
        /kubectl label servicemonitor -n monitoring calico-felix-metrics release=kps --overwrite \(not ours/.test(
          e.message,
        ),
    );
  });
});

describe('monitoring: defects found in the fixes (diff review of 2026-12-03)', () => {
  const writes = (p: Plan): string[] =>
    p.steps.map((s) => `${s.action} ${s.object?.kind}/${s.object?.namespace ?? ''}/${s.object?.name}`);
  it('a port moved by --felix-port moves our Service with it (it stayed on the old port)', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest' }, stack());
    const first = planMonitoring(snapshotOf(items), { ...OPTS, ports: {} });
    // then metrics are turned off again by hand; our Service stays on 9091
    const off = after(first, items).map((o) =>
      o.kind === 'FelixConfiguration' && o.metadata.name === 'default'
        ? { ...o, spec: { ...o.spec, prometheusMetricsEnabled: false } }
        : o,
    );
    const p = planMonitoring(snapshotOf(off), { ...OPTS, ports: { felix: 9111 } });
    assert.ok(writes(p).includes('patch Service/kube-system/calico-felix-metrics'), writes(p).join('\n'));
    assert.deepEqual(integrityProblems(p), []);
    // the patch's ports, edited and re-digested to another target port: refused as a created Service's would be
    const q = structuredClone(p);
    const patch = q.steps.find((x) => x.action === 'patch' && x.object?.kind === 'Service')!;
    (patch.patch as { spec: { ports: Record<string, unknown>[] } }).spec.ports[0]!['targetPort'] = 5473;
    q.metadata.digest = planDigest(q);
    assert.match(integrityProblems(q).join('; '), /port = targetPort/);
    const done = snapshotOf(after(p, off));
    const felix = detectMonitoring(done).components[0]!;
    assert.deepEqual(
      [felix.port, felix.service?.name, felix.scrapedBy],
      [9111, 'calico-felix-metrics', ['monitoring/calico-felix-metrics']],
    );
  });

  it("calico-node's env with a value Felix cannot read is Felix's default, still over FelixConfiguration", () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest', felixMetrics: true }, stack());
    setCalicoNodeEnv(items, 'FELIX_PROMETHEUSMETRICSENABLED', 'on');
    const felix = detectMonitoring(snapshotOf(items)).components[0]!;
    assert.equal(felix.enabled, false);
    assert.match(felix.override!, /FELIX_PROMETHEUSMETRICSENABLED=on \(not a boolean Felix reads/);
    // a tunnel switch: an unreadable value is the default (on when a pool needs it), whatever FelixConfiguration says
    const encap = snap({ nodes: 6, zones: 1, install: 'manifest', encapsulation: 'IPIP' }, (objs) => {
      (objs.find((o) => o.kind === 'FelixConfiguration')!.spec as Record<string, unknown>)['ipipEnabled'] =
        false;
      setCalicoNodeEnv(objs, 'FELIX_IPINIPENABLED', 'on');
    });
    assert.ok(!configFindings(encap).some((f) => f.code === 'ENCAP_TUNNEL_OFF'));
    // and Felix does not trim: " false" is not false
    const spaced = snap({ nodes: 6, zones: 1, install: 'manifest', encapsulation: 'IPIP' }, (objs) =>
      setCalicoNodeEnv(objs, 'FELIX_IPINIPENABLED', ' false'),
    );
    assert.ok(!configFindings(spaced).some((f) => f.code === 'ENCAP_TUNNEL_OFF'));
  });

  it('someone else\'s dashboards ConfigMap: not planned over, and said so (it was "nothing to do" without a word)', () => {
    const items = itemsOf(
      {
        nodes: 6,
        zones: 1,
        install: 'manifest',
        felixMetrics: true,
        typhaMetrics: true,
        metricsServices: true,
      },
      [
        ...stack(),
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'calico-grafana-dashboards', namespace: 'monitoring' },
          data: { x: 'y' },
        },
      ],
    );
    assert.throws(
      () => planMonitoring(snapshotOf(items), { ...OPTS, serviceMonitors: false, dashboards: {} }),
      (e: unknown) =>
        e instanceof NothingToDo && /calico-grafana-dashboards exists and is not ours/.test(e.message),
    );
  });

  it('a Service with a named port is preferred over one with an unnamed port (a ServiceMonitor can scrape only the first)', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest', felixMetrics: true }, [
      ...stack(),
      DOCS_FELIX_SERVICE,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'prom-felix', namespace: 'kube-system' },
        spec: { selector: { 'k8s-app': 'calico-node' }, ports: [{ name: 'metrics', port: 9091 }] },
      },
    ]);
    assert.equal(detectMonitoring(snapshotOf(items)).components[0]!.service?.name, 'prom-felix');
  });

  it('v3.27 operator: the Typha step does not claim the operator makes the Service, and the create title names its real port', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'operator', calico: 'v3.27.3' }, stack());
    const p = planMonitoring(snapshotOf(items), OPTS);
    const typha = p.steps.find((s) => /typhaMetricsPort/.test(s.title))!;
    assert.doesNotMatch(typha.why, /creates Service calico-system\/calico-typha-metrics itself/);
    assert.ok(
      p.steps.some(
        (s) =>
          s.title === 'create Service calico-system/calico-typha-metrics (port calico-typha-metrics 9093)',
      ),
    );
  });
});

describe('monitoring: defects found in the second diff review (2026-12-03)', () => {
  it("a port moved by a flag: the new Service gets a ServiceMonitor (the old Service's was counted for it)", () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest' }, [
      ...stack(),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'felix-metrics', namespace: 'kube-system', labels: { app: 'felix' } },
        spec: { selector: { 'k8s-app': 'calico-node' }, ports: [{ name: 'metrics', port: 9091 }] },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'felix', namespace: 'monitoring', labels: { release: 'prometheus' } },
        spec: {
          endpoints: [{ port: 'metrics' }],
          namespaceSelector: { matchNames: ['kube-system'] },
          selector: { matchLabels: { app: 'felix' } },
        },
      },
    ]);
    const p = planMonitoring(snapshotOf(items), { ...OPTS, ports: { felix: 9095 } });
    const titles = p.steps.map((x) => x.title);
    assert.ok(
      titles.some((t) =>
        /^create Service kube-system\/calico-felix-metrics \(port felix-metrics 9095\)/.test(t),
      ),
      titles.join('\n'),
    );
    assert.ok(
      titles.some((t) => /^create ServiceMonitor monitoring\/calico-felix-metrics/.test(t)),
      titles.join('\n'),
    );
  });

  it('the PrometheusRule goes where ruleNamespaceSelector admits it, with the ruleSelector labels', () => {
    const items = itemsOf({ nodes: 6, zones: 1, install: 'manifest' }, [
      ns('kube-system'),
      ns('monitoring'),
      ns('rules', { rules: 'on' }),
      prometheus('monitoring', 'kps', {
        serviceMonitorSelector: { matchLabels: { release: 'prometheus' } },
        ruleSelector: { matchLabels: { role: 'alert-rules' } },
        ruleNamespaceSelector: { matchLabels: { rules: 'on' } },
      }),
    ]);
    const p = planMonitoring(snapshotOf(items), { ...OPTS, alerts: true });
    const rule = p.steps.find((x) => x.manifest?.kind === 'PrometheusRule')!.manifest!;
    assert.equal(rule.metadata.namespace, 'rules');
    assert.deepEqual(rule.metadata.labels, {
      role: 'alert-rules',
      'app.kubernetes.io/managed-by': 'kubectl-calico-tune',
    });
    assert.ok(!p.summary.warnings.some((w) => /loads PrometheusRule/.test(w)), p.summary.warnings.join('\n'));
  });

  it('our PrometheusRule that no Prometheus loads any more (ruleSelector changed) is relabelled', () => {
    const items = rulesStack();
    const first = planMonitoring(snapshotOf(items), { ...OPTS, alerts: true });
    const changed = after(first, items).map((o) =>
      o.kind === 'Prometheus'
        ? { ...o, spec: { ...o.spec, ruleSelector: { matchLabels: { role: 'rules-v2' } } } }
        : o,
    );
    const p = planMonitoring(snapshotOf(changed), { ...OPTS, alerts: true });
    const patch = p.steps.find((x) => x.action === 'patch' && x.object?.kind === 'PrometheusRule');
    assert.deepEqual(patch?.patch, { metadata: { labels: { role: 'rules-v2' } } });
    assert.deepEqual(integrityProblems(p), []);
    assert.throws(
      () => planMonitoring(snapshotOf(after(p, changed)), { ...OPTS, alerts: true }),
      NothingToDo,
    );
  });

  it('a PrometheusRule an earlier version made (managed-by=calico-tune) is still ours: relabelled, its label kept as it is', () => {
    // (0.1 labelled monitoring objects calico-tune, everything else kubectl-calico-tune; now all say the latter)
    const items = rulesStack();
    const first = planMonitoring(snapshotOf(items), { ...OPTS, alerts: true });
    const changed = after(first, items).map((o) =>
      o.kind === 'Prometheus'
        ? { ...o, spec: { ...o.spec, ruleSelector: { matchLabels: { role: 'rules-v2' } } } }
        : o.kind === 'PrometheusRule'
          ? {
              ...o,
              metadata: {
                ...o.metadata,
                labels: { ...o.metadata.labels, 'app.kubernetes.io/managed-by': 'calico-tune' },
              },
            }
          : o,
    );
    const p = planMonitoring(snapshotOf(changed), { ...OPTS, alerts: true });
    const patch = p.steps.find((x) => x.action === 'patch' && x.object?.kind === 'PrometheusRule');
    assert.deepEqual(patch?.patch, { metadata: { labels: { role: 'rules-v2' } } });
    assert.deepEqual(patch?.precondition?.fields, [
      { path: ['metadata', 'labels', 'app.kubernetes.io/managed-by'], equals: 'calico-tune' },
    ]);
    assert.deepEqual(integrityProblems(p), []);
  });

  it('the kube-controllers step says why for an unset port too', () => {
    const items = itemsOf({ nodes: 6, zones: 1 }, [
      ...stack(),
      {
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'KubeControllersConfiguration',
        metadata: { name: 'default' },
        spec: {},
      },
    ]);
    const st = planMonitoring(snapshotOf(items), OPTS).steps.find(
      (x) => x.object?.kind === 'KubeControllersConfiguration',
    )!;
    assert.match(st.why, /0 or unset/);
  });
});

describe('render: a plan that changes no BGP object shows no BGP verdicts', () => {
  it('monitoring plan: no MODEL AFTER STEP column, no SESSIONS or VERIFICATION (a review: "✔ all reachable" beside a Service); a migration keeps them', async () => {
    const { renderPlan } = await import('../../../src/render/plan.js');
    const { setColor } = await import('../../../src/render/color.js');
    const { planMigration } = await import('../../../src/migrate/plan.js');
    setColor(false);
    const mon = renderPlan(planMonitoring(snap({ nodes: 6, zones: 1 }), OPTS), false);
    for (const bgp of ['MODEL AFTER STEP', 'SESSIONS', 'VERIFICATION', 'all reachable'])
      assert.ok(!mon.includes(bgp), `${bgp} in:\n${mon}`);
    const mig = renderPlan(
      planMigration(snap({ nodes: 12, zones: 3 }), {
        to: 'route-reflectors',
        timeout: '10m',
        name: 'm',
        command: 'kubectl calico-tune migrate plan --to route-reflectors',
      }),
      false,
    );
    for (const bgp of ['MODEL AFTER STEP', 'SESSIONS', 'VERIFICATION', 'all reachable'])
      assert.ok(mig.includes(bgp), bgp);
  });
});

describe('monitoring status: a Service the operator is to create is not counted as there', () => {
  it('typhaMetricsPort set, no calico-typha-metrics in the cluster: not exposed, and the table says the operator has not created it (a review: "(operator)" and exposed: 2)', async () => {
    const { renderMonitoring } = await import('../../../src/render/monitoring.js');
    const { setColor } = await import('../../../src/render/color.js');
    setColor(false);
    const s = snap({ nodes: 12, zones: 1, install: 'operator', typhaMetrics: true }, (o) =>
      o.filter((x) => !(x.kind === 'Service' && x.metadata.name === 'calico-typha-metrics')),
    );
    const r = buildMonitoringReport(s);
    const typha = r.components.find((c) => c.component === 'typha')!;
    assert.deepEqual([typha.enabled, typha.service?.source], [true, 'operator']);
    assert.equal(r.summary.exposed, 0);
    assert.match(renderMonitoring(r, false), /calico-typha-metrics \(the operator has not created it yet\)/);
  });
});
