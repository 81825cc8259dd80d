/** Metrics ports that collide in the host network namespace are refused (found by a review: plans with exit 0). */
import assert from 'node:assert/strict';
import { CliError, ExitCode } from '../../../src/errors.js';
import { monitoringOptions } from '../../../src/monitoring-flags.js';

const flags = (felix: number, typha: number) => ({
  'service-monitors': true,
  alerts: false,
  dashboards: false,
  'felix-port': felix,
  'typha-port': typha,
  'kube-controllers-port': 9094,
  timeout: '5m',
});

describe('monitoring port flags', () => {
  it('refuses Felix and Typha on one port, or on a port calico-node or Typha already listens on', () => {
    for (const [felix, typha, re] of [
      [9091, 9091, /both 9091/],
      [9099, 9093, /--felix-port 9099 is Felix's health port/],
      [5473, 9093, /--felix-port 5473 is Typha's port/],
      [9091, 9098, /--typha-port 9098 is Typha's health port/],
      [179, 9093, /BGP/],
    ] as const) {
      assert.throws(
        () => monitoringOptions(flags(felix, typha), 'plan'),
        (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.USAGE && re.test(e.message),
        `${felix}/${typha}`,
      );
    }
    assert.deepEqual(monitoringOptions(flags(9091, 9093), 'plan').ports, {
      felix: 9091,
      typha: 9093,
      'kube-controllers': 9094,
    });
  });

  it('the plan records the flags that shaped it (found by a review: only "monitoring plan")', () => {
    const o = monitoringOptions(
      {
        ...flags(9191, 9093),
        'typha-port': undefined,
        'kube-controllers-port': undefined,
        alerts: true,
        dashboards: true,
      },
      'apply',
    );
    assert.equal(o.command, 'kubectl calico-tune monitoring apply --alerts --dashboards --felix-port 9191');
    // a port not given is not one the plan sets: the configured one is kept (a review: 9095 reset to 9091)
    assert.deepEqual(o.ports, { felix: 9191 });
  });
});
