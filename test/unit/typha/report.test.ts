import assert from 'node:assert/strict';
import { analyseTypha, typhaWhatIf } from '../../../src/typha/analysis.js';
import { metricsNotRead } from '../../../src/typha/metrics.js';
import {
  buildTyphaReport,
  growth,
  MAX_NODES,
  nextChanges,
  typhaClusterReport,
  typhaExitCode,
  typhaWhatIfReport,
  type TyphaMetricsReader,
} from '../../../src/typha/report.js';
import { parseNodeCount } from '../../../src/typha/report.js';
import { CliError } from '../../../src/errors.js';
import { snap } from '../helpers.js';

const notRead = metricsNotRead('test');

describe('typha/report: the TyphaReport document', () => {
  it('has the documented top-level shape', () => {
    const s = snap({ nodes: 150, zones: 3, install: 'manifest', typhaReplicas: 2 });
    const r = buildTyphaReport(analyseTypha(s), { source: s.source, liveMetrics: notRead });
    assert.deepEqual(Object.keys(r), [
      'apiVersion',
      'kind',
      'source',
      'whatIf',
      'installMode',
      'calicoInstallMode',
      'nodes',
      'recommended',
      'actual',
      'autoscaler',
      'load',
      'liveMetrics',
      'growth',
      'findings',
      'summary',
    ]);
    assert.equal(r.kind, 'TyphaReport');
    assert.equal(r.installMode, 'manifest');
    assert.equal(typeof r.recommended.operator, 'number');
    assert.deepEqual(r.recommended.manifest, { min: 3, max: 20, note: null });
    assert.equal(r.recommended.replicas, 3);
    assert.equal(r.actual?.desired, 2);
    assert.equal(r.actual?.port, 5473);
    assert.deepEqual(r.actual?.zones, [
      { zone: 'eu-west-1a', pods: 1 },
      { zone: 'eu-west-1b', pods: 1 },
    ]);
    assert.deepEqual(r.actual?.nodesWithSeveralPods, []);
    assert.deepEqual(r.summary, { critical: 0, warning: 1, info: 1 });
    assert.deepEqual(
      r.findings.map((f) => f.code),
      ['TYPHA_UNDER_PROVISIONED', 'TYPHA_METRICS_DISABLED'],
    );
    for (const f of r.findings)
      for (const k of ['code', 'severity', 'message', 'objects', 'fix']) assert.ok(k in f);
    // JSON round trip keeps nulls (documented: absent values are null)
    const j = JSON.parse(JSON.stringify(r));
    assert.equal(j.liveMetrics.totals, null);
    assert.equal(j.actual.pdb.minAvailable, null);
  });

  it('what-if: source kind what-if, actual null, recommended filled', () => {
    const r = buildTyphaReport(typhaWhatIf(1200), { source: 'what-if', liveMetrics: notRead });
    assert.equal(r.whatIf, true);
    assert.equal(r.source.kind, 'what-if');
    assert.equal(r.actual, null);
    assert.equal(r.recommended.operator, 8);
    assert.deepEqual(
      r.growth.rows.map((x) => [x.label, x.nodes, x.operator]),
      [
        ['now', 1200, 8],
        ['x2', 2400, 14],
        ['x5', 6000, 32],
        ['x10', 12000, 62],
      ],
    );
    assert.deepEqual(
      r.growth.nextChanges.map((x) => [x.nodes, x.operator]),
      [
        [1400, 9],
        [1600, 10],
        [1800, 11],
      ],
    );
    assert.equal(typhaExitCode(r, true), 0);
  });

  it('growth: fixed sizes for tiny clusters, no duplicate rows, nothing beyond the cap', () => {
    assert.deepEqual(
      growth(0, 'operator').rows.map((x) => x.nodes),
      [0, 10, 50, 200, 1000],
    );
    assert.deepEqual(
      growth(10, 'operator').rows.map((x) => x.label),
      ['now', 'x2', 'x5', 'x10'],
    );
    assert.deepEqual(
      growth(MAX_NODES, 'operator').rows.map((x) => x.nodes),
      [MAX_NODES],
    );
  });

  it('next changes of the manifest guidance, and none once it is pinned at 20', () => {
    assert.deepEqual(
      nextChanges(150, 'manifest', 3).map((x) => [x.nodes, x.manifest.min, x.manifest.max]),
      [
        [601, 4, 20],
        [801, 5, 20],
        [1001, 6, 20],
      ],
    );
    assert.deepEqual(
      nextChanges(2, 'manifest', 2).map((x) => [x.nodes, x.manifest.min, x.manifest.max]),
      [
        [3, 2, 2],
        [4, 3, 3],
      ],
    );
    assert.deepEqual(nextChanges(5000, 'manifest', 3), []);
    assert.deepEqual(
      nextChanges(3700, 'manifest', 3).map((x) => x.nodes),
      [3801],
    );
  });

  it('exit code: 1 on critical, and on warnings with --strict', () => {
    const crit = snap({ nodes: 12, controlPlane: 1, windows: 10 });
    const r = buildTyphaReport(analyseTypha(crit), { source: crit.source, liveMetrics: notRead });
    assert.equal(typhaExitCode(r, false), 1);
    const warn = snap({ nodes: 150, install: 'manifest', typhaReplicas: 2, typhaMetrics: true });
    const w = buildTyphaReport(analyseTypha(warn), { source: warn.source, liveMetrics: notRead });
    assert.equal(typhaExitCode(w, false), 0);
    assert.equal(typhaExitCode(w, true), 1);
  });

  it('--nodes accepts whole numbers only', () => {
    assert.equal(parseNodeCount('0'), 0);
    assert.equal(parseNodeCount(' 1200 '), 1200);
    for (const bad of ['-1', 'abc', '1.5', '', '1e3', '0x10', '2000000']) {
      assert.throws(
        () => parseNodeCount(bad),
        (e: unknown) => e instanceof CliError && e.exitCode === 2,
        bad,
      );
    }
  });
});

describe('typha/report: what-if and cluster reports (what `typha report` builds)', () => {
  it('a what-if reads no cluster and says so', () => {
    const r = typhaWhatIfReport(1200, 'manifest');
    assert.equal(r.whatIf, true);
    assert.equal(r.source.kind, 'what-if');
    assert.deepEqual(r.source.warnings, []);
    assert.equal(r.recommended.applies, 'manifest');
    assert.equal(r.liveMetrics.read, false);
    assert.match(r.liveMetrics.reason ?? '', /what-if/);
  });

  it('a snapshot file: metrics are not read, and the reader is never called', async () => {
    const s = snap({ nodes: 150, zones: 3, install: 'operator', typhaMetrics: true });
    const r = await typhaClusterReport(s, 3000, () => assert.fail('metrics read from a snapshot file'));
    assert.equal(r.whatIf, false);
    assert.equal(r.source.kind, 'file');
    assert.match(r.liveMetrics.reason ?? '', /snapshot file/);
  });

  it('a live cluster with metrics on: the reader gets every Typha pod on the metrics port; its answer is the report', async () => {
    const s = snap({ nodes: 150, zones: 3, install: 'operator', typhaMetrics: true });
    const live = { ...s, source: { ...s.source, kind: 'live' as const } };
    const answer = metricsNotRead('answered by the reader', 9093);
    let asked: Parameters<TyphaMetricsReader>[0] | undefined;
    const r = await typhaClusterReport(live, 3000, async (target) => {
      asked = target;
      return answer;
    });
    assert.equal(asked?.port, 9093);
    assert.deepEqual(
      asked?.pods.map((p) => p.name),
      analyseTypha(live).actual!.pods.map((p) => p.name),
    );
    assert.ok(asked!.pods.length > 0);
    assert.equal(r.liveMetrics, answer);
  });

  it('a live cluster with --metrics-timeout 0 or metrics off: not read, with why', async () => {
    const on = snap({ nodes: 150, zones: 3, install: 'operator', typhaMetrics: true });
    const off = snap({ nodes: 150, zones: 3, install: 'operator' });
    const never: TyphaMetricsReader = () => assert.fail('metrics read');
    const skipped = await typhaClusterReport({ ...on, source: { ...on.source, kind: 'live' } }, 0, never);
    assert.match(skipped.liveMetrics.reason ?? '', /--metrics-timeout 0/);
    const disabled = await typhaClusterReport(
      { ...off, source: { ...off.source, kind: 'live' } },
      3000,
      never,
    );
    assert.match(disabled.liveMetrics.reason ?? '', /disabled/);
  });
});
