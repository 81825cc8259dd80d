import assert from 'node:assert/strict';
import { parseSnapshot } from '../../../src/model/parse.js';
import { snapshotToList } from '../../../src/kube/snapshot.js';
import { buildStatus } from '../../../src/status/report.js';
import { calicoApiFindings } from '../../../src/status/calico-api.js';
import type { KubeObject } from '../../../src/model/types.js';
import { generateCluster } from '../../fixtures/generate.js';

const WHY = 'projectcalico.org/v3 answers HTTP 503 (ServiceUnavailable)';

function snapshot(calicoApiUnavailable?: string) {
  return parseSnapshot(generateCluster({ nodes: 12, zones: 3 }), {
    kind: 'live',
    capturedAt: '2026-12-01T00:00:00Z',
    apiGroups: ['crd.projectcalico.org/v1', 'operator.tigera.io/v1'],
    calicoApiUnavailable,
  });
}

describe('status/calico-api: CALICO_API_UNAVAILABLE', () => {
  it('is a warning, names the APIService and says why, when the v3 API is registered but down', () => {
    const [f, ...rest] = calicoApiFindings(snapshot(WHY));
    assert.equal(rest.length, 0);
    assert.equal(f!.code, 'CALICO_API_UNAVAILABLE');
    assert.equal(f!.severity, 'warning');
    assert.match(f!.message, /HTTP 503/);
    assert.deepEqual(f!.objects, [{ kind: 'APIService', name: 'v3.projectcalico.org' }]);
    assert.ok(buildStatus(snapshot(WHY)).findings.some((x) => x.code === 'CALICO_API_UNAVAILABLE'));
  });

  it('says nothing when the v3 API answers or is not registered', () => {
    assert.deepEqual(calicoApiFindings(snapshot()), []);
    assert.ok(!buildStatus(snapshot()).findings.some((x) => x.code === 'CALICO_API_UNAVAILABLE'));
  });

  it('survives snapshot save and load (the SnapshotInfo item records it)', () => {
    const list = snapshotToList(snapshot(WHY)) as { items: KubeObject[] };
    const back = parseSnapshot(list.items, { kind: 'file', path: 'x', capturedAt: 'now' });
    assert.equal(back.source.calicoApiUnavailable, WHY);
    assert.equal(back.calico.apiMode, 'crd.projectcalico.org/v1');
    assert.equal(calicoApiFindings(back)[0]?.code, 'CALICO_API_UNAVAILABLE');
  });
});
