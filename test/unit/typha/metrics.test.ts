import assert from 'node:assert/strict';
import {
  combineTyphaMetrics,
  metricsNotRead,
  podResult,
  typhaFiguresFromText,
} from '../../../src/typha/metrics.js';
import { FELIX_METRICS, TYPHA_METRICS_OLD, TYPHA_METRICS_V331 } from './fixtures.js';

describe('typha/metrics: figures from Typha metrics', () => {
  it('reads a v3.31 Typha: active, streaming per syncer, dropped, latency quantiles (worst syncer)', () => {
    const f = typhaFiguresFromText(TYPHA_METRICS_V331);
    assert.equal(f.connectionsActive, 200);
    assert.equal(f.connectionsStreaming, 199);
    assert.deepEqual(f.streamingBySyncer, {
      bgp: 50,
      felix: 50,
      'node-status': 50,
      'tunnel-ip-allocation': 49,
    });
    assert.equal(f.connectionsDropped, 3);
    assert.deepEqual(f.clientLatency, { p50: 0.0012, p90: 0.004, p99: 0.021, mean: 2 / 1500, count: 1500 });
  });

  it('reads an older Typha: no streaming gauge, latency mean from _sum/_count', () => {
    const f = typhaFiguresFromText(TYPHA_METRICS_OLD);
    assert.equal(f.connectionsActive, 37);
    assert.equal(f.connectionsStreaming, null);
    assert.deepEqual(f.streamingBySyncer, {});
    assert.equal(f.connectionsDropped, 0);
    assert.deepEqual(f.clientLatency, { p50: null, p90: null, p99: null, mean: 0.0025, count: 1000 });
  });

  it('says so when the port answers with something that is not Typha', () => {
    const r = podResult('p', 'n', { text: FELIX_METRICS });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /no typha_connections_\* metrics/);
  });

  it('combines pods: totals over those that answered, min/max per pod, a reason when some failed', () => {
    const pods = [
      podResult('typha-a', 'n1', { text: TYPHA_METRICS_V331 }),
      podResult('typha-b', 'n2', { text: TYPHA_METRICS_OLD }),
      podResult('typha-c', 'n3', { error: 'no answer within 3s (--metrics-timeout)' }),
    ];
    const m = combineTyphaMetrics(pods, { port: 9093, timeoutMs: 3000 });
    assert.equal(m.read, true);
    assert.equal(m.reason, 'read 2 of 3 Typha pods; the others: no answer within 3s (--metrics-timeout)');
    assert.deepEqual(m.totals, {
      connectionsActive: 237,
      connectionsStreaming: 199,
      connectionsDropped: 3,
      worstClientLatencySecs: 0.021,
      minPerPod: 37,
      maxPerPod: 200,
    });
  });

  it('when no pod answers: not read, with the most common error', () => {
    const pods = [
      podResult('a', 'n1', { error: 'forbidden' }),
      podResult('b', 'n2', { error: 'forbidden' }),
      podResult('c', null, { error: 'not scheduled on a node' }),
    ];
    const m = combineTyphaMetrics(pods, { port: 9093, timeoutMs: 3000 });
    assert.equal(m.read, false);
    assert.equal(m.totals, null);
    assert.equal(
      m.reason,
      'could not read metrics from any of 3 Typha pod(s): forbidden (and 1 other error(s))',
    );
    assert.equal(combineTyphaMetrics([], { port: 1, timeoutMs: 1 }).reason, 'no running Typha pod to read');
    assert.deepEqual(metricsNotRead('why'), {
      read: false,
      reason: 'why',
      port: null,
      timeoutMs: null,
      pods: [],
      totals: null,
    });
  });
});
