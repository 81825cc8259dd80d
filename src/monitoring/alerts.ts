/**
 * The PrometheusRule spec `monitoring plan --alerts` creates: the error counters of the guide's Table 4
 * (Felix ipset / iptables-restore / iptables-save / log errors), Typha connection drops, and IP pool
 * exhaustion from kube-controllers' IPAM gauges (ipam_allocations_in_use{ippool,node},
 * ipam_ippool_size{ippool}). Pure.
 */

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

function errorCounter(alert: string, metric: string, what: string): Rule {
  return {
    alert,
    expr: `increase(${metric}[10m]) > 0`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: `Felix ${what} on {{ $labels.instance }}`,
      description: `${metric} rose by {{ $value }} in 10 minutes on {{ $labels.instance }}: the dataplane may not match the policy (calico-tune, Table 4 of the best-practice guide).`,
    },
  };
}

export function alertRules(): { groups: { name: string; rules: Rule[] }[] } {
  return {
    groups: [
      {
        name: 'calico-felix',
        rules: [
          errorCounter('CalicoFelixIpsetErrors', 'felix_ipset_errors', 'ipset-restore failures'),
          errorCounter(
            'CalicoFelixIptablesRestoreErrors',
            'felix_iptables_restore_errors',
            'iptables-restore failures',
          ),
          errorCounter(
            'CalicoFelixIptablesSaveErrors',
            'felix_iptables_save_errors',
            'iptables-save failures',
          ),
          {
            ...errorCounter('CalicoFelixLogErrors', 'felix_log_errors', 'errors in its log'),
            expr: 'increase(felix_log_errors[10m]) > 10',
          },
        ],
      },
      {
        name: 'calico-typha',
        rules: [
          {
            // (not typha_connections_dropped: Typha counts there the connections it drops on purpose to
            // rebalance, after every scale-up or restart; a review found the alert would fire on those)
            alert: 'CalicoTyphaClientsLagging',
            expr: 'max by (instance, syncer) (typha_client_latency_secs{quantile="0.99"}) > 10',
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Typha {{ $labels.instance }} clients are {{ $value | humanizeDuration }} behind',
              description:
                'typha_client_latency_secs (p99) of the {{ $labels.syncer }} syncer has been above 10s for 10 minutes: Felix (or confd) on some nodes programs policy and routes from a state that old. Typha is overloaded or short of replicas: kubectl calico-tune typha report.',
            },
          },
        ],
      },
      {
        name: 'calico-ipam',
        rules: [
          {
            alert: 'CalicoIPPoolNearlyExhausted',
            expr: 'sum by (ippool) (ipam_allocations_in_use) / on (ippool) max by (ippool) (ipam_ippool_size) > 0.9',
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'IP pool {{ $labels.ippool }} is over 90% allocated',
              description:
                'kube-controllers reports {{ $value | humanizePercentage }} of IP pool {{ $labels.ippool }} in use: new pods will fail to get addresses once it is full.',
            },
          },
        ],
      },
    ],
  };
}
