import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideProbe, familyCount, probeFinding, type ProbeInput } from '../../../src/monitoring/probe.js';
import { buildMonitoringReport } from '../../../src/monitoring/report.js';
import { stripAnsi } from '../../../src/render/color.js';
import { renderMonitoring } from '../../../src/render/monitoring.js';
import { snap } from '../helpers.js';
import { TYPHA_METRICS_V331 } from '../typha/fixtures.js';
import { FELIX_METRICS_V331 } from './felix-fixtures.js';

const typha = (pods: ProbeInput['pods'], extra: Partial<ProbeInput> = {}): ProbeInput => ({
  component: 'typha',
  namespace: 'kube-system',
  port: 9093,
  podsFound: pods.length,
  pods,
  ...extra,
});
const refused =
  'the API server could not reach the pod on port 9093 (HTTP 503: error trying to reach service: dial tcp 198.18.1.2:9093: connect: connection refused)';

describe('monitoring status probe (pure)', () => {
  it('familyCount: one per family (histogram/summary series and _total counters fold into theirs)', () => {
    const text = [
      '# TYPE a_seconds histogram',
      'a_seconds_bucket{le="1"} 1',
      'a_seconds_bucket{le="+Inf"} 2',
      'a_seconds_sum 3',
      'a_seconds_count 2',
      '# TYPE b summary',
      'b{quantile="0.5"} 1',
      'b_sum 1',
      'b_count 1',
      'untyped_one 4',
      'untyped_one{x="y"} 5',
      '# TYPE c counter',
      'c_total 1',
    ].join('\n');
    assert.equal(familyCount(text), 4);
    assert.equal(familyCount(''), 0);
    assert.equal(familyCount('# HELP only a comment\n'), 0);
    // a real capture: every `# TYPE` family, nothing counted twice
    const declared = (t: string): number => (t.match(/^# TYPE /gm) ?? []).length;
    assert.equal(familyCount(FELIX_METRICS_V331), declared(FELIX_METRICS_V331));
    assert.equal(familyCount(TYPHA_METRICS_V331), declared(TYPHA_METRICS_V331));
  });

  it('serving: the first pod by name that answered with metrics, whatever the others said', () => {
    const p = decideProbe(
      typha([
        { pod: 'typha-b', node: 'n2', text: TYPHA_METRICS_V331 },
        { pod: 'typha-a', node: 'n1', error: refused, status: 503 },
        { pod: 'typha-c', node: 'n3', text: TYPHA_METRICS_V331 },
      ]),
    );
    assert.equal(p.state, 'serving');
    assert.equal(p.serving, true);
    assert.equal(p.pod, 'typha-b');
    assert.equal(p.families, familyCount(TYPHA_METRICS_V331));
    assert.equal(p.reason, null);
    assert.deepEqual(
      p.pods.map((x) => [x.pod, x.error === null]),
      [
        ['typha-a', false],
        ['typha-b', true],
        ['typha-c', true],
      ],
    );
  });

  it('not serving: the first failing pod and its reason; an empty answer is not serving', () => {
    const p = decideProbe(
      typha([
        { pod: 'typha-b', node: 'n2', text: '# nothing\n' },
        { pod: 'typha-a', node: 'n1', error: refused, status: 503 },
      ]),
    );
    assert.equal(p.state, 'not-serving');
    assert.equal(p.serving, false);
    assert.equal(p.reason, `typha-a: ${refused} (and 1 more pod(s) tried)`);
    assert.equal(p.pods[1]!.error, 'answered with no metrics');
    const none = decideProbe(typha([]));
    assert.equal(none.state, 'not-serving');
    assert.match(none.reason!, /no calico-typha pod in kube-system/);
    const notRunning = decideProbe(typha([], { podsFound: 2 }));
    assert.match(notRunning.reason!, /none of the 2 calico-typha pod\(s\) in kube-system is running/);
  });

  it('forbidden only when every pod was refused with 403, or the pods could not be listed for 403', () => {
    const f = decideProbe(
      typha([
        { pod: 'a', node: 'n', error: 'forbidden', status: 403 },
        { pod: 'b', node: 'n', error: 'forbidden', status: 403 },
      ]),
    );
    assert.equal(f.state, 'forbidden');
    assert.equal(f.serving, null);
    assert.match(f.reason!, /forbidden to get pods\/proxy in kube-system/);
    assert.equal(
      decideProbe(typha([], { listError: { message: 'forbidden', status: 403 } })).state,
      'forbidden',
    );
    const other = decideProbe(typha([], { listError: { message: 'boom', status: 500 } }));
    assert.equal(other.state, 'not-checked');
    assert.match(other.reason!, /could not list the calico-typha pods: boom/);
    // one 403 among other failures is still "not serving"
    assert.equal(
      decideProbe(
        typha([
          { pod: 'a', node: 'n', error: 'forbidden', status: 403 },
          { pod: 'b', node: 'n', error: refused, status: 503 },
        ]),
      ).state,
      'not-serving',
    );
  });

  it('property: serving iff some pod answered with a family; a finding exactly when not serving', () => {
    const answer = fc.oneof(
      fc.record({ text: fc.constantFrom(TYPHA_METRICS_V331, '', 'x 1') }),
      fc.record({ error: fc.constant('e'), status: fc.constantFrom(403, 503, undefined) }),
    );
    fc.assert(
      fc.property(fc.array(answer, { maxLength: 4 }), (answers) => {
        const pods = answers.map((a, i) => ({ pod: `p${i}`, node: 'n', ...a }));
        const p = decideProbe(typha(pods));
        const anyGood = pods.some((x) => 'text' in x && familyCount(x.text) > 0);
        assert.equal(p.state === 'serving', anyGood);
        assert.equal(p.serving === true, anyGood);
        assert.equal(p.pods.length, pods.length);
        const f = probeFinding({ component: 'typha', namespace: 'kube-system', port: 9093, switch: 's' }, p);
        assert.equal(f !== undefined, p.state === 'not-serving');
      }),
    );
  });

  it('the finding says which component, port, what to check, and the rollout command', () => {
    const p = decideProbe(typha([{ pod: 'typha-a', node: 'n1', error: refused, status: 503 }]));
    const f = probeFinding(
      {
        component: 'typha',
        namespace: 'kube-system',
        port: 9093,
        switch: 'Deployment kube-system/calico-typha env X',
      },
      p,
    )!;
    assert.equal(f.code, 'METRICS_NOT_SERVED');
    assert.equal(f.severity, 'warning');
    assert.match(
      f.message,
      /^Typha metrics are on \(Deployment kube-system\/calico-typha env X, port 9093\)/,
    );
    assert.match(f.message, /connection refused/);
    assert.match(f.message, /TYPHA_PROMETHEUSMETRICSPORT/);
    assert.match(f.message, /rolled out/);
    assert.deepEqual(f.objects, [{ kind: 'Pod', name: 'typha-a', namespace: 'kube-system' }]);
    assert.equal(f.fix, 'kubectl rollout status -n kube-system deployment/calico-typha');
  });

  it('report: offline says the probe was not run; live it decides for enabled components only', () => {
    const s = snap({ nodes: 3, zones: 1, install: 'manifest', typhaMetrics: true, felixMetrics: false });
    const offline = buildMonitoringReport(s, {
      ran: false,
      reason: 'offline (--snapshot): the /metrics probe was not run',
    });
    assert.deepEqual(offline.probe, {
      ran: false,
      reason: 'offline (--snapshot): the /metrics probe was not run',
      timeoutMs: null,
    });
    for (const c of offline.components.filter((x) => x.present))
      assert.equal(c.serving.state, 'not-checked', c.component);
    assert.ok(!offline.findings.some((f) => f.code === 'METRICS_NOT_SERVED'));
    const live = buildMonitoringReport(s, {
      ran: true,
      timeoutMs: 5000,
      inputs: [typha([{ pod: 'calico-typha-0', node: 'n', error: refused, status: 503 }])],
    });
    const t = live.components.find((c) => c.component === 'typha')!;
    assert.equal(t.serving.state, 'not-serving');
    const felix = live.components.find((c) => c.component === 'felix')!;
    assert.equal(felix.serving.state, 'not-checked');
    assert.equal(felix.serving.reason, 'not checked: metrics are off');
    assert.deepEqual(
      live.findings.filter((f) => f.code === 'METRICS_NOT_SERVED').map((f) => f.objects[0]!.name),
      ['calico-typha-0'],
    );
    assert.deepEqual(live.probe, { ran: true, reason: null, timeoutMs: 5000 });
    // the table: SERVING per component, the full reason under it, the finding; offline says not probed
    const strip = stripAnsi;
    const human = strip(renderMonitoring(live, false));
    assert.match(human, /SERVING/);
    assert.match(
      human,
      /typha serving: no: calico-typha-0: the API server could not reach .*connection refused/,
    );
    assert.match(human, /METRICS_NOT_SERVED/);
    const ok = buildMonitoringReport(s, {
      ran: true,
      timeoutMs: 5000,
      inputs: [typha([{ pod: 'calico-typha-0', node: 'n', text: TYPHA_METRICS_V331 }])],
    });
    assert.match(
      strip(renderMonitoring(ok, false)),
      new RegExp(`yes \\(pod calico-typha-0, ${familyCount(TYPHA_METRICS_V331)} families\\)`),
    );
    assert.match(
      strip(renderMonitoring(offline, false)),
      /serving: offline \(--snapshot\): the \/metrics probe was not run/,
    );
  });
});

describe('monitoring status: the operator Service of a component whose metrics are off', () => {
  it('is not shown as if it existed (found by a review)', () => {
    const s = snap({ nodes: 6, zones: 1, install: 'operator' });
    const text = stripAnsi(renderMonitoring(buildMonitoringReport(s), false));
    const typha = text.split('\n').find((l) => l.startsWith('typha'))!;
    assert.match(typha, /off/);
    assert.doesNotMatch(typha, /calico-typha-metrics:calico-typha-metrics \(operator\)/);
    assert.match(typha, /none \(the operator creates calico-typha-metrics with the metrics\)/);
  });
});
