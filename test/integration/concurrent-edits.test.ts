/**
 * Writes that must not revert someone else's change made while a plan was paused (found by a review, each a
 * failing test first): `monitoring apply --resume` patched the calico-typha Deployment with the container list
 * captured at plan time, undoing an image update made in between.
 */
import assert from 'node:assert/strict';
import { controlPlane, loadFixture, runCli, USERS, type ControlPlane } from '../harness/index.js';

describe('plans paused while someone else edits the objects they write', function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let kc: string;
  before(async () => {
    cp = await controlPlane({ calico: 'v3.31.3' });
    kc = cp.kubeconfig('plugin');
  });

  it('monitoring --resume after the Typha Deployment changed is refused, and the change stays', async () => {
    await loadFixture(cp, { nodes: 6, zones: 1, install: 'manifest', calico: 'v3.31.3' });
    const cli = (args: string[], env?: NodeJS.ProcessEnv) =>
      runCli(['monitoring', ...args], { kubeconfig: kc, ...(env ? { env } : {}) });
    const plan = await cli(['plan', '-o', 'json']);
    assert.equal(plan.code, 0, plan.stderr);
    const steps = plan.json<{ steps: { object?: { kind: string; name: string } }[] }>().steps;
    const typha = steps.findIndex((s) => s.object?.kind === 'Deployment' && s.object.name === 'calico-typha');
    assert.ok(
      typha >= 1,
      `the Typha step comes after another one: ${JSON.stringify(steps.map((s) => s.object))}`,
    );
    // stopped just before the Typha step
    const k = await cli(['apply', '--yes'], { CALICO_TUNE_TEST_CRASH: `after-step:${typha}` });
    assert.equal(k.signal, 'SIGKILL', k.stderr);
    // meanwhile an operator rolls a hotfix image
    const path = '/apis/apps/v1/namespaces/kube-system/deployments/calico-typha';
    const admin = cp.client('admin');
    const dep = await admin.get(path);
    const containers = (dep.spec as { template: { spec: { containers: { name: string; image: string }[] } } })
      .template.spec.containers;
    const hotfix = `${containers[0]!.image}-hotfix2`;
    await admin.request('PATCH', path, {
      body: { spec: { template: { spec: { containers: [{ ...containers[0], image: hotfix }] } } } },
      contentType: 'application/merge-patch+json',
    });
    const mark = cp.audit.mark();
    const r = await cli(['apply', '--resume', '--yes']);
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Deployment calico-typha: containers changed since the plan was made/);
    const after = await admin.get(path);
    assert.equal(
      (after.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!
        .image,
      hotfix,
      'the hotfix image is still there',
    );
    const writes = (
      await cp.audit.writesSince(mark, { user: USERS.plugin.name, onlySucceeded: true })
    ).filter((e) => e.objectRef?.resource === 'deployments');
    assert.deepEqual(writes, [], 'no write to the Deployment');
    // the way out: a rollback of what was done, leaving the Deployment alone
    const rb = await cli(['apply', '--rollback', '--yes']);
    assert.ok([0, 4].includes(rb.code ?? -1), rb.stderr);
    assert.equal(
      ((await admin.get(path)).spec as { template: { spec: { containers: { image: string }[] } } }).template
        .spec.containers[0]!.image,
      hotfix,
    );
  });
});
