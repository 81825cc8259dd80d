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
            alert: 'CalicoTyphaConnectionsDropped',
            expr: 'increase(typha_connections_dropped[10m]) > 0',
            for: '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Typha {{ $labels.instance }} dropped client connections',
              description:
                'typha_connections_dropped rose by {{ $value }} in 10 minutes: Typha shed Felix clients (overload or rebalancing); check replicas with kubectl calico-tune typha report.',
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
