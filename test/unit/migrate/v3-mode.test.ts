/**
 * v3 mode (projectcalico.org/v3 served by the calico-apiserver) for both supported Calico releases. The real
 * calico-apiserver is exercised for v3.31 only (test/integration/calico-api-v3.test.ts): the one of v3.27 cannot
 * be built here (docs/test-cluster.md §11), so these check that v3.27 objects read in v3 mode give the same plans,
 * written in projectcalico.org/v3.
 */
import assert from 'node:assert/strict';
import { planMigration } from '../../../src/migrate/plan.js';
import { parseSnapshot } from '../../../src/model/parse.js';
import type { KubeObject } from '../../../src/model/types.js';
import { planPromote } from '../../../src/rr/plan.js';
import { generateCluster } from '../../fixtures/generate.js';
import { migrateOpts, OPTS } from '../plan/helpers.js';

const V3 = 'projectcalico.org/v3';

function v3Snapshot(calico: 'v3.27.3' | 'v3.31.3', rrs = 0) {
  const items = generateCluster({ nodes: 30, zones: 3, calico, rrs, encapsulation: 'IPIP' }).map(
    (o): KubeObject => (o.apiVersion === 'crd.projectcalico.org/v1' ? { ...o, apiVersion: V3 } : o),
  );
  return parseSnapshot(items, {
    kind: 'live',
    capturedAt: '2026-12-01T00:00:00Z',
    apiGroups: ['crd.projectcalico.org/v1', V3, 'operator.tigera.io/v1'],
  });
}

describe('v3 mode for both releases: the same plans, written through projectcalico.org/v3', () => {
  for (const calico of ['v3.27.3', 'v3.31.3'] as const) {
    it(`${calico}: mesh -> reflectors writes v3 BGPPeer and BGPConfiguration, and verifies`, () => {
      const s = v3Snapshot(calico);
      assert.equal(s.calico.apiMode, V3);
      const p = planMigration(s, migrateOpts('route-reflectors'));
      assert.equal(p.summary.verification.ok, true, p.summary.verification.reason);
      const calicoSteps = p.steps.filter(
        (x) => x.manifest?.kind === 'BGPPeer' || x.object?.kind === 'BGPConfiguration',
      );
      assert.ok(calicoSteps.length >= 2);
      for (const x of calicoSteps) assert.equal(x.manifest?.apiVersion ?? x.object?.apiVersion, V3, x.title);
    });
    it(`${calico}: promote on a v3 cluster with reflectors`, () => {
      const s = v3Snapshot(calico, 3);
      const p = planPromote(s, ['node-a-004'], OPTS);
      assert.equal(p.summary.verification.ok, true);
      assert.ok(p.steps.every((x) => !x.manifest || x.manifest.apiVersion === V3));
    });
  }
});
