import assert from 'node:assert/strict';
import { readTyphaMetrics } from '../../../src/kube/typha-metrics.js';
import { ApiError } from '../../../src/kube/http.js';
import { TYPHA_METRICS_V331 } from './fixtures.js';

type Get = (ns: string, pod: string, port: number, path: string, timeoutMs: number) => Promise<string>;
const api = (get: Get) => ({ podProxyGet: get });
const pods = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `typha-${i}`, node: `node-${i}` }));

describe('kube/typha-metrics: reading every Typha through the pod proxy', () => {
  it('reads each pod at /metrics on the metrics port, at most `concurrency` at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const calls: string[] = [];
    const r = await readTyphaMetrics(
      api(async (ns, pod, port, path) => {
        calls.push(`${ns}/${pod}:${port}${path}`);
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((res) => setTimeout(res, 10));
        inFlight--;
        return TYPHA_METRICS_V331;
      }),
      { namespace: 'calico-system', port: 9093, pods: pods(10) },
      { concurrency: 3, timeoutMs: 2000 },
    );
    assert.equal(most, 3);
    assert.equal(calls.length, 10);
    assert.equal(calls[0], 'calico-system/typha-0:9093/metrics');
    assert.equal(r.read, true);
    assert.equal(r.reason, null);
    assert.equal(r.totals?.connectionsActive, 2000);
  });

  it('one overall deadline: a pod that never answers is reported, the others kept', async () => {
    const r = await readTyphaMetrics(
      api((_ns, pod) =>
        pod === 'typha-1' ? new Promise<string>(() => {}) : Promise.resolve(TYPHA_METRICS_V331),
      ),
      { namespace: 'kube-system', port: 9093, pods: pods(3) },
      { timeoutMs: 200 },
    );
    // a pod that never answers: without the deadline this call would never return
    assert.equal(r.read, true);
    assert.deepEqual(
      r.pods.map((p) => p.ok),
      [true, false, true],
    );
    assert.equal(r.pods[1]!.error, 'no answer within 200ms (--metrics-timeout)');
    assert.match(r.reason ?? '', /^read 2 of 3 Typha pods/);
  });

  it('passes the time left to each request', async () => {
    const timeouts: number[] = [];
    await readTyphaMetrics(
      api(async (_n, _p, _port, _path, t) => {
        timeouts.push(t);
        return TYPHA_METRICS_V331;
      }),
      { namespace: 'x', port: 1, pods: pods(2) },
      { timeoutMs: 3000, concurrency: 1 },
    );
    assert.ok(timeouts.every((t) => t > 0 && t <= 3000));
  });

  it('says why: forbidden, unreachable pod (no kubelet), unscheduled pod', async () => {
    const r = await readTyphaMetrics(
      api(async (_ns, pod) => {
        if (pod === 'typha-0') throw new ApiError('GET', '/x', 403, 'Forbidden', 'forbidden: nope', {});
        throw new ApiError(
          'GET',
          '/x',
          503,
          'ServiceUnavailable',
          'error trying to reach service: dial tcp 10.0.0.1:9093: connect: connection refused',
          {},
        );
      }),
      {
        namespace: 'calico-system',
        port: 9093,
        pods: [...pods(2), { name: 'typha-pending', node: undefined }],
      },
    );
    assert.equal(r.read, false);
    assert.equal(
      r.pods[0]!.error,
      'forbidden: the user needs "get" on pods/proxy in calico-system (docs/rbac.yaml)',
    );
    assert.match(
      r.pods[1]!.error!,
      /^the API server could not reach the pod on port 9093 \(HTTP 503: error trying to reach service/,
    );
    assert.equal(r.pods[2]!.error, 'not scheduled on a node');
    assert.match(r.reason!, /^could not read metrics from any of 3 Typha pod\(s\): /);
  });

  it('no pods: not read, with a reason', async () => {
    const r = await readTyphaMetrics(
      api(() => Promise.reject(new Error('unused'))),
      { namespace: 'x', port: 1, pods: [] },
    );
    assert.equal(r.read, false);
    assert.equal(r.reason, 'no running Typha pod to read');
  });
});
