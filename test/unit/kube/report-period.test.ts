/**
 * How a gate observes nodes through CalicoNodeStatus (src/kube/bgp-status.ts): the report period it asks
 * for (every second, except on nodes with thousands of sessions, whose every report rewrites hundreds of KB)
 * and the order of its writes (the new observation first, the previous one deleted off the critical path).
 */
import assert from 'node:assert/strict';
import type { KubeApi } from '../../../src/kube/api.js';
import { NodeStatusObserver, reportPeriodSeconds } from '../../../src/kube/bgp-status.js';
import type { KubeObject } from '../../../src/model/types.js';

/** A KubeApi that records creates and deletes; deletes finish only when `release()` is called. */
function recordingApi(): {
  api: KubeApi;
  events: string[];
  created: KubeObject[];
  release: () => void;
} {
  const events: string[] = [];
  const created: KubeObject[] = [];
  let gate: () => void = () => undefined;
  let held = new Promise<void>((r) => (gate = r));
  const api = {
    create: async (_t: unknown, o: KubeObject) => {
      events.push(`create ${String(o.spec!['node'])}`);
      created.push(o);
      return o;
    },
    delete: async (_t: unknown, name: string) => {
      events.push(`delete-start ${name}`);
      await held;
      events.push(`delete-done ${name}`);
      return true;
    },
    get: async () => undefined,
    list: async () => ({ items: [] }),
  } as unknown as KubeApi;
  return {
    api,
    events,
    created,
    release: () => {
      gate();
      held = new Promise<void>((r) => (gate = r));
    },
  };
}

describe('CalicoNodeStatus observations', () => {
  it('report every second up to 500 sessions; beyond, once per settle window', () => {
    assert.deepEqual(
      [0, 1, 499, 500, 501, 2000, 2001, 5000, 20_000].map((n) => reportPeriodSeconds(n)),
      [1, 1, 1, 1, 2, 2, 2, 2, 2],
    );
    assert.deepEqual(
      [500, 501, 5000].map((n) => reportPeriodSeconds(n, 5000)),
      [1, 5, 5],
    );
    assert.equal(reportPeriodSeconds(5000, 300), 1, 'never below a second');
  });

  it("a gate's observation asks each node for the period it is given; 1 s without one", async () => {
    const { api, created } = recordingApi();
    const obs = new NodeStatusObserver(api, 'crd.projectcalico.org/v1');
    const peers: Record<string, number> = { rr: 4999, client: 2, mid: 1500 };
    assert.equal(await obs.fresh(['rr', 'client', 'mid'], (n) => reportPeriodSeconds(peers[n]!)), true);
    const period = Object.fromEntries(created.map((o) => [o.spec!['node'], o.spec!['updatePeriodSeconds']]));
    assert.deepEqual(period, { rr: 2, client: 1, mid: 2 });
    created.length = 0;
    await obs.fresh(['client']);
    assert.equal(created[0]!.spec!['updatePeriodSeconds'], 1);
  });

  it('a new observation does not wait for the previous one to be deleted; cleanup does', async () => {
    const { api, events, created, release } = recordingApi();
    const obs = new NodeStatusObserver(api, 'crd.projectcalico.org/v1');
    await obs.fresh(['a', 'b']);
    const first = created.map((o) => o.metadata.name);
    // the second observation returns while the deletes of the first are still in flight
    await obs.fresh(['a', 'b']);
    assert.deepEqual(
      events.filter((e) => e.startsWith('create')),
      ['create a', 'create b', 'create a', 'create b'],
    );
    assert.deepEqual(
      events.filter((e) => e.startsWith('delete-start')).sort(),
      first.map((n) => `delete-start ${n}`).sort(),
      "each node's previous object is deleted",
    );
    assert.ok(!events.some((e) => e.startsWith('delete-done')), 'fresh() did not wait for a delete');
    // a delete happens only after the node's new object exists
    for (const node of ['a', 'b']) {
      const name = first[['a', 'b'].indexOf(node)]!;
      assert.ok(
        events.indexOf(`delete-start ${name}`) > events.lastIndexOf(`create ${node}`),
        `${name} deleted after the new observation of ${node}`,
      );
    }
    let cleaned = false;
    const done = obs.cleanup().then(() => (cleaned = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(cleaned, false, 'cleanup waits for the background deletes');
    release();
    await new Promise((r) => setTimeout(r, 0));
    release(); // the cleanup's own deletes of the second observation
    await done;
    const deleted = events.filter((e) => e.startsWith('delete-done')).map((e) => e.slice(12));
    assert.deepEqual(
      deleted.sort(),
      [...first, ...created.slice(2).map((o) => o.metadata.name)].sort(),
      'every object this observer made is deleted exactly once',
    );
  });

  it("release() deletes a gate's objects in the background; the next observation makes new ones", async () => {
    const { api, events, created, release } = recordingApi();
    const obs = new NodeStatusObserver(api, 'crd.projectcalico.org/v1');
    await obs.fresh(['a', 'b']);
    const first = created.map((o) => o.metadata.name);
    obs.release(['a', 'b']);
    assert.deepEqual(
      events.filter((e) => e.startsWith('delete-start')).sort(),
      first.map((n) => `delete-start ${n}`).sort(),
    );
    // nothing left to read for a released node
    assert.deepEqual([...(await obs.read(['a'])).values()][0]!.peers, undefined);
    await obs.fresh(['a']);
    assert.equal(created.length, 3);
    assert.equal(
      events.filter((e) => e.startsWith('delete-start')).length,
      2,
      'a released object is not deleted twice',
    );
    release();
    const done = obs.cleanup();
    await new Promise((r) => setTimeout(r, 0));
    release();
    await done;
    assert.deepEqual(
      events
        .filter((e) => e.startsWith('delete-done'))
        .map((e) => e.slice(12))
        .sort(),
      created.map((o) => o.metadata.name).sort(),
    );
  });

  it('a failed create stops the observation; fresh() returns after the creates in flight, and cleanup deletes all', async () => {
    const created: string[] = [];
    const deleted: string[] = [];
    let n = 0;
    const api = {
      create: async (_t: unknown, o: KubeObject) => {
        const k = n++;
        await new Promise((r) => setTimeout(r, k === 1 ? 5 : 30)); // the second fails first
        if (k === 1) throw new Error('500 from the API server');
        created.push(o.metadata.name);
        return o;
      },
      delete: async (_t: unknown, name: string) => {
        deleted.push(name);
        return true;
      },
      get: async () => undefined,
      list: async () => ({ items: [] }),
    } as unknown as KubeApi;
    const obs = new NodeStatusObserver(api, 'crd.projectcalico.org/v1');
    const nodes = Array.from({ length: 40 }, (_, i) => `node-${i}`);
    await assert.rejects(obs.fresh(nodes), /500 from the API server/);
    const atReturn = [...created];
    assert.ok(atReturn.length >= 1 && atReturn.length < 39, `the others stopped (${atReturn.length} made)`);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(created, atReturn, 'nothing is created after fresh() returned');
    await obs.cleanup();
    assert.deepEqual(
      created.filter((c) => !deleted.includes(c)),
      [],
      'cleanup deletes every object that was made',
    );
  });
});
