import assert from 'node:assert/strict';
import { setColor } from '../../../src/render/color.js';
import { renderClusterVersions, renderPluginVersion } from '../../../src/render/version.js';
import { clusterVersions, versionDoc } from '../../../src/status/version.js';
import { snap } from '../helpers.js';

describe('status/version: the Version document', () => {
  before(() => setColor(false));

  it('the plugin alone (--client): no cluster part', () => {
    const doc = versionDoc({ version: 'v1.2.3', runtime: 'Node.js v22.0.0' });
    assert.deepEqual(doc, {
      apiVersion: 'calico-tune/v1',
      kind: 'Version',
      plugin: { version: 'v1.2.3', runtime: 'Node.js v22.0.0' },
    });
    assert.equal(renderPluginVersion(doc.plugin), 'Plugin:      v1.2.3 (Node.js v22.0.0)');
  });

  it("the cluster's versions come from the snapshot; the human form has a line each for Kubernetes and Calico", () => {
    const s = snap({ nodes: 3, zones: 1, install: 'operator' });
    const c = clusterVersions(s);
    assert.equal(c.calico.version, s.calico.version?.raw);
    assert.equal(c.calico.installMode, 'operator');
    assert.equal(c.calico.apiMode, s.calico.apiMode);
    assert.equal(c.kubernetesVersion, s.source.kubernetesVersion);
    const lines = renderClusterVersions({
      ...c,
      server: 'https://k8s:6443',
      kubernetesVersion: 'v1.34.4',
    }).split('\n');
    assert.deepEqual(lines[0], 'Kubernetes:  v1.34.4 (https://k8s:6443)');
    assert.match(lines[1]!, /^Calico: {6}\S+.* · operator install · API /);
    assert.equal(
      renderClusterVersions({ calico: { installMode: 'none', apiMode: 'crd.projectcalico.org/v1' } }),
      'Kubernetes:  unknown\nCalico:      not found · none install · API crd.projectcalico.org/v1',
    );
  });
});
