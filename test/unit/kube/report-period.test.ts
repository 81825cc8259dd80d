/**
 * How often a gate asks calico-node to report (CalicoNodeStatus updatePeriodSeconds): every second, except on
 * nodes with thousands of sessions, whose every report rewrites hundreds of KB (src/kube/bgp-status.ts).
 */
import assert from 'node:assert/strict';
import type { KubeApi } from '../../../src/kube/api.js';
import { NodeStatusObserver, reportPeriodSeconds } from '../../../src/kube/bgp-status.js';
import type { KubeObject } from '../../../src/model/types.js';

describe('CalicoNodeStatus report period', () => {
  it('1 s up to 500 sessions, 2 s up to 2,000, 5 s beyond', () => {
    assert.deepEqual(
      [0, 1, 499, 500, 501, 2000, 2001, 5000, 20_000].map(reportPeriodSeconds),
      [1, 1, 1, 1, 2, 2, 5, 5, 5],
    );
  });

  it("a gate's observation asks each node for the period of its own session count", async () => {
    const created: KubeObject[] = [];
    const api = {
      create: async (_t: unknown, o: KubeObject) => {
        created.push(o);
        return o;
      },
      delete: async () => true,
      get: async () => undefined,
    } as unknown as KubeApi;
    const obs = new NodeStatusObserver(api, 'crd.projectcalico.org/v1');
    const peers: Record<string, number> = { rr: 4999, client: 2, mid: 1500 };
    assert.equal(await obs.fresh(['rr', 'client', 'mid'], (n) => peers[n]!), true);
    const period = Object.fromEntries(created.map((o) => [o.spec!['node'], o.spec!['updatePeriodSeconds']]));
    assert.deepEqual(period, { rr: 5, client: 1, mid: 2 });
    // without session counts (bgp peers), every second as before
    created.length = 0;
    await obs.fresh(['rr']);
    assert.equal(created[0]!.spec!['updatePeriodSeconds'], 1);
  });
});
