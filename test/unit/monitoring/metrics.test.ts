import assert from 'node:assert/strict';
import { CliError } from '../../../src/errors.js';
import { detectMonitoring } from '../../../src/monitoring/detect.js';
import {
  buildMetricsReport,
  FELIX_TABLE4,
  metricsSources,
  parseMetricsComponents,
  type RawPodMetrics,
} from '../../../src/monitoring/metrics.js';
import { snap } from '../helpers.js';
import { TYPHA_METRICS_V331 } from '../typha/fixtures.js';
import { FELIX_METRICS_V331 } from './felix-fixtures.js';

/**
 * Felix's Table 4 counters in Prometheus text, with labelled series to check the sums over labels (a real
 * Felix v3.31 exports them unlabelled: FELIX_METRICS_V331, checked at the end).
 */
const felix = (o: {
  ipset?: number;
  restore: number;
  restoreErr?: number;
  save: number;
  logErr?: number;
}): string => `# HELP felix_ipset_errors Number of ipset-restore failures.
# TYPE felix_ipset_errors counter
felix_ipset_errors ${o.ipset ?? 0}
# HELP felix_iptables_restore_calls Number of iptables-restore calls.
# TYPE felix_iptables_restore_calls counter
felix_iptables_restore_calls{ip_version="4"} ${o.restore}
felix_iptables_restore_calls{ip_version="6"} 3
# HELP felix_iptables_restore_errors Number of iptables-restore errors.
# TYPE felix_iptables_restore_errors counter
felix_iptables_restore_errors{ip_version="4"} ${o.restoreErr ?? 0}
# HELP felix_iptables_save_calls Number of iptables-save calls.
# TYPE felix_iptables_save_calls counter
felix_iptables_save_calls ${o.save}
# HELP felix_iptables_save_errors Number of iptables-save errors.
# TYPE felix_iptables_save_errors counter
felix_iptables_save_errors 0
# HELP felix_log_errors Number of errors encountered while logging.
# TYPE felix_log_errors counter
felix_log_errors ${o.logErr ?? 0}
`;

const KC = `# HELP ipam_allocations_per_node Number of IPs allocated
# TYPE ipam_allocations_per_node gauge
ipam_allocations_per_node{node="n1"} 12
ipam_allocations_per_node{node="n2"} 40
ipam_allocations_per_node{node="n3"} 7
# HELP ipam_blocks_per_node Number of blocks in IPAM
# TYPE ipam_blocks_per_node gauge
ipam_blocks_per_node{node="n1"} 1
ipam_blocks_per_node{node="n2"} 2
ipam_blocks_per_node{node="n3"} 1
`;

const pod = (
  component: RawPodMetrics['component'],
  name: string,
  node: string | null,
  r: { text: string } | { error: string },
): RawPodMetrics => ({
  component,
  namespace: 'calico-system',
  pod: name,
  node,
  port: 9091,
  ...r,
});

describe('monitoring/metrics: the Table 4 report', () => {
  const raw: RawPodMetrics[] = [
    pod('felix', 'calico-node-a', 'n1', { text: felix({ restore: 500, save: 20 }) }),
    pod('felix', 'calico-node-b', 'n2', { text: felix({ restore: 90, save: 4, restoreErr: 2, logErr: 1 }) }),
    pod('felix', 'calico-node-c', 'n3', { error: 'no answer within 5s (--timeout)' }),
    pod('kube-controllers', 'calico-kube-controllers-x', 'n1', { text: KC }),
    pod('typha', 'calico-typha-1', 'n1', { text: TYPHA_METRICS_V331 }),
    pod('typha', 'calico-typha-2', 'n2', {
      text: TYPHA_METRICS_V331.replace(/^typha_connections_active (\d+)/m, 'typha_connections_active 10'),
    }),
  ];
  const r = buildMetricsReport(raw, { capturedAt: 't', timeoutMs: 5000 });

  it('puts the node with errors first, sums counters over their labels, joins IPAM by node', () => {
    assert.deepEqual(
      r.nodes.map((n) => [
        n.node,
        n.errors,
        n.felix?.felix_iptables_restore_calls ?? null,
        n.ipamAllocations,
        n.ipamBlocks,
      ]),
      [
        ['n2', 3, 93, 40, 2],
        ['n1', 0, 503, 12, 1],
        ['n3', 0, null, 7, 1],
      ],
    );
  });

  it('names every pod not read, with why, and counts what was read per component', () => {
    assert.deepEqual(
      r.unread.map((u) => [u.component, u.pod, u.node, u.error]),
      [['felix', 'calico-node-c', 'n3', 'no answer within 5s (--timeout)']],
    );
    assert.deepEqual(r.read, {
      felix: { read: 2, of: 3 },
      typha: { read: 2, of: 2 },
      'kube-controllers': { read: 1, of: 1 },
    });
  });

  it("Typha's balance: per pod, total, and max/mean", () => {
    const t = r.typha!;
    const a = t.pods.map((p) => p.connectionsActive!);
    assert.equal(t.total, a[0]! + a[1]!);
    assert.equal(t.max, Math.max(...a));
    assert.equal(t.min, 10);
    assert.ok(Math.abs(t.imbalance! - Math.max(...a) / (t.total! / 2)) < 1e-9);
    assert.ok(t.pods[0]!.connectionsActive! >= t.pods[1]!.connectionsActive!, 'busiest first');
  });

  it('an answer that is not Felix is a pod not read; --node keeps one row', () => {
    const x = buildMetricsReport([pod('felix', 'p', 'n9', { text: 'go_goroutines 3\n' })], {
      capturedAt: 't',
      timeoutMs: 1,
    });
    assert.match(x.unread[0]!.error, /no felix_\* metrics/);
    assert.deepEqual(
      buildMetricsReport(raw, { capturedAt: 't', timeoutMs: 1, node: 'n1' }).nodes.map((n) => n.node),
      ['n1'],
    );
  });
});

describe('monitoring/metrics on the capture of a real Felix v3.31.0', () => {
  const r = buildMetricsReport(
    [pod('felix', 'calico-node-real-2', 'node-a-002', { text: FELIX_METRICS_V331 })],
    { capturedAt: 't', timeoutMs: 5000 },
  );

  it('reads every Table 4 counter as that Felix wrote it (NaN quantiles and other families ignored)', () => {
    assert.deepEqual(r.unread, []);
    assert.deepEqual(r.read.felix, { read: 1, of: 1 });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.felix, n.errors]),
      [
        [
          'node-a-002',
          {
            felix_ipset_errors: 0,
            felix_iptables_restore_calls: 4,
            felix_iptables_restore_errors: 0,
            felix_iptables_save_calls: 4,
            felix_iptables_save_errors: 0,
            // logs the stdout writer dropped under load (libcalico-go's logutils counts them here too)
            felix_log_errors: 46,
          },
          46,
        ],
      ],
    );
  });

  it('the capture holds each Table 4 counter exactly once, unlabelled', () => {
    for (const m of FELIX_TABLE4)
      assert.equal(FELIX_METRICS_V331.match(new RegExp(`^${m}(\\{| )`, 'gm'))?.length, 1, m);
  });
});

describe('monitoring/metrics: what `metrics` reads', () => {
  it('--component: all three by default; a list, trimmed; an unknown name is a usage error', () => {
    assert.deepEqual(parseMetricsComponents(undefined), ['felix', 'typha', 'kube-controllers']);
    assert.deepEqual(parseMetricsComponents(' typha, felix ,'), ['typha', 'felix']);
    assert.throws(
      () => parseMetricsComponents('felix,calico'),
      (e: unknown) =>
        e instanceof CliError && e.exitCode === 2 && /unknown --component "calico"/.test(e.message),
    );
  });

  it('reads the wanted components that run with metrics on; those off are named apart, absent ones not at all', () => {
    const st = detectMonitoring(snap({ nodes: 12, zones: 1, install: 'manifest', felixMetrics: true }));
    const { sources, off } = metricsSources(st, ['felix', 'typha', 'kube-controllers']);
    assert.deepEqual(sources, [{ component: 'felix', namespace: 'kube-system', port: 9091 }]);
    const expectedOff = st.components.filter((c) => c.present && !c.enabled).map((c) => c.component);
    assert.deepEqual(
      off.map((c) => c.component),
      expectedOff,
    );
    assert.ok(expectedOff.includes('typha'));
    const onlyTypha = metricsSources(st, ['typha']);
    assert.deepEqual(onlyTypha.sources, []);
    assert.deepEqual(
      onlyTypha.off.map((c) => c.component),
      ['typha'],
    );
  });
});
