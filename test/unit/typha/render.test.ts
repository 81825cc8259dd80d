import assert from 'node:assert/strict';
import { renderTyphaReport, operatorFormulaText } from '../../../src/render/typha.js';
import { colorEnabled, setColor, stripAnsi } from '../../../src/render/color.js';
import { analyseTypha, typhaWhatIf } from '../../../src/typha/analysis.js';
import { combineTyphaMetrics, metricsNotRead, podResult } from '../../../src/typha/metrics.js';
import { buildTyphaReport } from '../../../src/typha/report.js';
import { snap } from '../helpers.js';
import { TYPHA_METRICS_OLD, TYPHA_METRICS_V331 } from './fixtures.js';

describe('render/typha: the human report', () => {
  let saved: boolean;
  before(() => {
    saved = colorEnabled();
    setColor(false);
  });
  after(() => setColor(saved));

  const live = (): ReturnType<typeof buildTyphaReport> => {
    const s = snap({ nodes: 150, zones: 3, install: 'manifest', typhaMetrics: true });
    s.source = {
      kind: 'live',
      server: 'https://10.0.0.1:6443',
      context: 'prod',
      capturedAt: '2026-11-24T00:00:00Z',
    };
    const a = analyseTypha(s);
    const pods = a.actual!.pods;
    const metrics = combineTyphaMetrics(
      [
        podResult(pods[0]!.name, pods[0]!.node ?? null, { text: TYPHA_METRICS_V331 }),
        podResult(pods[1]!.name, pods[1]!.node ?? null, { text: TYPHA_METRICS_OLD }),
        podResult(pods[2]!.name, pods[2]!.node ?? null, { error: 'no answer within 3s (--metrics-timeout)' }),
      ],
      { port: 9093, timeoutMs: 3000 },
    );
    return buildTyphaReport(a, { source: s.source, liveMetrics: metrics });
  };

  it('a live cluster with metrics: every section, the live figures, the failed pod and why', () => {
    const out = renderTyphaReport(live(), false);
    for (const h of ['CLUSTER', 'TYPHA', 'NODES', 'RECOMMENDED', 'RUNNING', 'LOAD', 'GROWTH', 'FINDINGS'])
      assert.match(out, new RegExp(`^${h}`, 'm'), h);
    assert.match(out, /^CLUSTER\s+https:\/\/10\.0\.0\.1:6443 \(context prod\)$/m);
    assert.match(out, /^TYPHA\s+manifest install · kube-system\/calico-typha · 3\/3 ready · 3 available$/m);
    assert.match(out, /RECOMMENDED {2}3-20 replicas \(manifest guidance\) · running 3: ok/);
    assert.match(
      out,
      /live\s+237 active · 199 streaming · 37-200 per pod · 3 dropped \(rebalancing\) · worst client latency 21ms/,
    );
    assert.match(out, /read 2 of 3 Typha pods; the others: no answer within 3s/);
    assert.match(out, /calico-typha-\S+\s+200\s+199\s+3\s+21ms/);
    assert.match(out, /calico-typha-\S+\s+no answer within 3s/);
    assert.match(out, /PDB\s+calico-typha: maxUnavailable 1/);
    assert.match(out, /metrics\s+on, port 9093/);
    assert.ok(!out.includes('\u001b['), 'no colour when colour is off');
  });

  it('says why live metrics were not read', () => {
    const s = snap({ nodes: 12, zones: 3 });
    const r = buildTyphaReport(analyseTypha(s), {
      source: s.source,
      liveMetrics: metricsNotRead('could not read metrics from any of 3 Typha pod(s): forbidden'),
    });
    assert.match(
      renderTyphaReport(r, false),
      /live\s+not read: could not read metrics from any of 3 Typha pod\(s\): forbidden/,
    );
  });

  it('what-if: no running section, the recommendation, growth and the chart, within 80 columns', () => {
    const r = buildTyphaReport(typhaWhatIf(1200), {
      source: 'what-if',
      liveMetrics: metricsNotRead('what-if'),
    });
    const out = renderTyphaReport(r, false);
    assert.match(out, /^WHAT-IF\s+1,200 nodes/m);
    assert.ok(!/^RUNNING/m.test(out));
    assert.match(out, /RECOMMENDED {2}8 replicas \(operator formula\)$/m);
    assert.match(out, /operator formula\s+8\s+⌊1,200\/200⌋ \+ 2 = 8/);
    assert.match(out, /next changes 1,400 nodes -> 9 · 1,600 nodes -> 10 · 1,800 nodes -> 11/);
    assert.match(out, /\^ what-if: 1,200 nodes, 8 replicas/);
    for (const l of out.split('\n')) assert.ok(stripAnsi(l).length <= 80, `too wide: ${l}`);
  });

  it('no Typha, Pending pods, an autoscaler: shown as such', () => {
    const none = snap({ nodes: 40, install: 'manifest', typhaReplicas: 0 });
    assert.match(
      renderTyphaReport(
        buildTyphaReport(analyseTypha(none), {
          source: none.source,
          liveMetrics: metricsNotRead('no Typha runs'),
        }),
        false,
      ),
      /^TYPHA\s+not installed/m,
    );
    const auto = snap({ nodes: 150, install: 'manifest', typhaAutoscaler: true }, (items) => {
      const p = items.find((o) => o.kind === 'Pod' && o.metadata.labels?.['k8s-app'] === 'calico-typha')!;
      delete p.spec!['nodeName'];
      p.status = { phase: 'Pending' };
    });
    const out = renderTyphaReport(
      buildTyphaReport(analyseTypha(auto), { source: auto.source, liveMetrics: metricsNotRead('x') }),
      false,
    );
    assert.match(out, /scaled by kube-system\/calico-typha-horizontal-autoscaler/);
    assert.match(out, /tune the autoscaler, do not scale by hand/);
    assert.match(out, /calico-typha-\S+\s+Pending\s+-\s+no/);
  });

  it('explains the operator formula', () => {
    assert.equal(operatorFormulaText(2), '1 for up to 2 nodes');
    assert.equal(operatorFormulaText(4), '2 for up to 4 nodes');
    assert.equal(operatorFormulaText(150), '⌊150/200⌋ + 2 = 2, at least 3');
    assert.equal(operatorFormulaText(1000), '⌊1,000/200⌋ + 2 = 7');
  });
});
