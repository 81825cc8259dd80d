import assert from 'node:assert/strict';
import { ExitCode } from '../../../src/errors.js';
import { CORDON_ANNOTATION } from '../../../src/plan/simulate.js';
import { nodeIPv4 } from '../../../src/bgp/state.js';
import type { KubeObject } from '../../../src/model/types.js';
import { PlanBuilder } from '../../../src/plan/builder.js';
import { policyOf, reverify } from '../../../src/plan/reverify.js';
import type { Plan, Step } from '../../../src/plan/types.js';
import {
  DEFAULT_CLUSTER_ID,
  DEFAULT_RR_LABEL,
  conventionLabel,
  assignClusterIds,
  describeClusterIds,
  ensurePeering,
  parseLabel,
  PEER_NAME,
  PEER_NAME_FALLBACK,
  planDemote,
  planPromote,
  planReplace,
  requireNodes,
  validateClusterId,
} from '../../../src/rr/plan.js';
import type { ClusterSpec } from '../../fixtures/generate.js';
import { snap } from '../helpers.js';
import {
  actions,
  candidates,
  CORDON_ANN,
  edited,
  node,
  OPTS,
  refuses,
  RR_ANN,
  rrNames,
  stateAfter,
} from '../plan/helpers.js';
import { cautions } from '../../../src/rr/recommend.js';

const CALICO = 'crd.projectcalico.org/v1';
const RR_PATCH = (id = DEFAULT_CLUSTER_ID, key = 'route-reflector', value = 'true') => ({
  metadata: { labels: { [key]: value }, annotations: { [RR_ANN]: id } },
});

function nodeEdit(
  s: ReturnType<typeof snap>,
  name: string,
  f: (n: KubeObject) => void,
): ReturnType<typeof snap> {
  return edited(s, (objs) => {
    f(objs.find((o) => o.kind === 'Node' && o.metadata.name === name)!);
  });
}
function participating(s: ReturnType<typeof snap>): number {
  return s.nodes.filter((n) => nodeIPv4(n)).length;
}
function verified(p: Plan, s: ReturnType<typeof snap>): void {
  assert.equal(p.summary.verification.ok, true, p.summary.verification.reason);
  assert.ok(
    p.steps.every((st) => st.action === 'wait' || st.verdict?.unreachablePairs === 0),
    'every state keeps every pair reachable',
  );
  const r = reverify(p.steps, s, policyOf(p));
  assert.equal(r.ok, true, r.failure?.reason);
}
const wait = (p: Plan): Step[] => p.steps.filter((s) => s.action === 'wait');

/** The planners' own warnings, without the transition warnings (tested on their own). */
const plain = (ws: string[]): string[] => ws.filter((w) => !/ re-forms and it is not drained first/.test(w));

describe('rr/plan: promote, demote, replace', () => {
  const shapes: { name: string; spec: ClusterSpec }[] = [];
  for (const calico of ['v3.27.3', 'v3.31.3'] as const)
    for (const zones of [1, 2, 3]) {
      shapes.push({
        name: `${calico}, ${zones} zone(s), mesh on, no reflector`,
        spec: { nodes: 12, zones, calico },
      });
      shapes.push({
        name: `${calico}, ${zones} zone(s), mesh off, 3 reflectors`,
        spec: { nodes: 12, zones, calico, rrs: 3 },
      });
    }

  describe('planPromote', () => {
    for (const { name, spec } of shapes) {
      it(`cordon → label + cluster ID → wait → uncordon (${name})`, () => {
        const s = snap(spec);
        const target = candidates(s)[0]!.name;
        const p = planPromote(s, [target], OPTS);
        const meshOn = spec.rrs === undefined;
        // a cluster ID of its own: the fixture's reflectors share 244.0.0.1
        const id = meshOn ? '244.0.0.1' : '244.0.0.2';
        assert.deepEqual(actions(p), [
          ...(meshOn ? [`create ${PEER_NAME}`] : []),
          `cordon ${target}`,
          `patch ${target}`,
          `wait`,
          `uncordon ${target}`,
        ]);
        const patch = p.steps.find((x) => x.action === 'patch')!;
        assert.deepEqual(patch.patch, RR_PATCH(id));
        assert.equal(patch.checkpoint, true);
        assert.deepEqual(patch.precondition, {
          exists: true,
          fields: [{ path: ['metadata', 'annotations', RR_ANN], equals: null }],
        });
        assert.deepEqual(
          patch.undo.map((u) => u.action),
          ['patch', 'wait'],
        );
        assert.deepEqual(patch.undo[0]!.patch, {
          metadata: { labels: { 'route-reflector': null }, annotations: { [RR_ANN]: null } },
        });
        // the new reflector peers with every other node
        const g = wait(p)[0]!.gate!;
        assert.deepEqual(g.nodes, [target]);
        assert.equal(g.exact, true);
        assert.equal(g.timeout, '10m');
        assert.equal(g.expect[target]!.count, participating(s) - 1);
        assert.ok(g.expect[target]!.peerTypes!.every((t) => t === 'NodePeer'));
        if (meshOn) {
          const create = p.steps[0]!;
          assert.deepEqual(create.manifest, {
            apiVersion: CALICO,
            kind: 'BGPPeer',
            metadata: { name: PEER_NAME, labels: { 'app.kubernetes.io/managed-by': 'kubectl-calico-tune' } },
            spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" },
          });
          assert.deepEqual(create.precondition, { exists: false });
          // before: a mesh member, after the undo: back to NodeMesh sessions
          assert.ok(patch.undo[1]!.gate!.expect[target]!.peerTypes!.every((t) => t === 'NodeMesh'));
        }
        assert.equal(p.metadata.name, 'test-plan');
        assert.equal(p.metadata.command, `kubectl calico-tune rr promote ${target}`);
        assert.equal(
          p.summary.description,
          `Promote ${target} to route reflector (cluster ID ${id}, label route-reflector=true)`,
        );
        assert.deepEqual(p.summary.changes, [
          `${target}: label route-reflector=true, annotation ${RR_ANN}=${id}`,
          // (the BGPPeer only where the plan creates it: the first reflector)
          ...(p.steps.some((st) => st.action === 'create')
            ? [
                "BGPPeer peer-with-route-reflectors: created (nodeSelector all(), peerSelector route-reflector == 'true')",
              ]
            : []),
        ]);
        assert.ok(p.summary.routeReflectors!.some((r) => r.name === target));
        verified(p, s);
      });
    }

    it('a reflector no BGPPeer selects (RR_NOT_PEERED): promote re-creates the peering and waits for it, nothing else', () => {
      // (an operator trial: status's fix for RR_NOT_PEERED was `rr promote <it>`, which said "already a route
      // reflector", exit 2; the only way back was to promote some other node)
      const s = edited(snap({ nodes: 12, zones: 3, rrs: 3, mesh: false }), (objs) => {
        objs.splice(
          objs.findIndex((o) => o.kind === 'BGPPeer'),
          1,
        );
      });
      const rr = rrNames(s)[0]!;
      const p = planPromote(s, [rr], OPTS);
      assert.equal(p.summary.verification.ok, true, p.summary.verification.reason);
      assert.deepEqual(
        p.steps.map((x) => x.action),
        ['create', 'wait'],
      );
      assert.equal(p.steps[0]!.manifest!.kind, 'BGPPeer');
      assert.deepEqual(p.steps[1]!.gate!.nodes, [rr]);
      assert.deepEqual(stateAfter(s, p.steps).bgpPeers.length, 1);
      // every reflector unpeered: all of them, at once
      const all = planPromote(s, rrNames(s), OPTS);
      assert.equal(all.summary.verification.ok, true, all.summary.verification.reason);
      assert.deepEqual([...all.steps.at(-1)!.gate!.nodes].sort(), rrNames(s).sort());
    });

    it('two nodes, --drain, a custom label and cluster ID; a default name from the nodes', () => {
      const s = snap({ nodes: 12, zones: 3 });
      const p = planPromote(s, ['node-a-003', 'node-b-004'], {
        timeout: '5m',
        drain: true,
        label: 'my-rr=yes',
        clusterId: '10.0.0.9',
      });
      assert.deepEqual(actions(p), [
        `create ${PEER_NAME}`,
        'cordon node-a-003',
        'drain node-a-003',
        'patch node-a-003',
        'wait',
        'uncordon node-a-003',
        'cordon node-b-004',
        'drain node-b-004',
        'patch node-b-004',
        'wait',
        'uncordon node-b-004',
      ]);
      assert.equal(p.steps[0]!.manifest!.spec!['peerSelector'], "my-rr == 'yes'");
      assert.deepEqual(p.steps[3]!.patch, RR_PATCH('10.0.0.9', 'my-rr', 'yes'));
      assert.match(p.metadata.name, /^rr-promote-node-a-003-node-b-004-\d{8}-\d{6}$/);
      assert.equal(
        p.summary.description,
        'Promote node-a-003, node-b-004 to route reflectors (cluster ID 10.0.0.9, label my-rr=yes)',
      );
      assert.equal(wait(p)[0]!.gate!.timeout, '5m');
      verified(p, s);
    });

    it('a node the tool already cordoned stays cordoned (no cordon, no uncordon)', () => {
      const s = nodeEdit(snap({ nodes: 12, zones: 3, rrs: 3 }), 'node-a-003', (n) => {
        n.spec!['unschedulable'] = true;
        n.metadata.annotations![CORDON_ANN] = 'kubectl-calico-tune';
      });
      assert.deepEqual(actions(planPromote(s, ['node-a-003'], OPTS)), ['patch node-a-003', 'wait']);
    });

    it('gives the new reflector a cluster ID of its own, even when the existing ones share one; --cluster-id shares', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3, rrClusterId: '10.1.2.3' });
      const p = planPromote(s, ['node-a-003'], OPTS);
      assert.deepEqual(p.steps.find((x) => x.action === 'patch')!.patch, RR_PATCH('244.0.0.1'));
      assert.equal(p.summary.verification.ok, true);
      const shared = planPromote(s, ['node-a-003'], { ...OPTS, clusterId: '10.1.2.3' });
      assert.deepEqual(shared.steps.find((x) => x.action === 'patch')!.patch, RR_PATCH('10.1.2.3'));
    });

    it('cautions are warnings: a control-plane node, a node running Typha, a small node', () => {
      const s = snap({ nodes: 12, zones: 3 });
      const typha = s.typha.pods.find((x) => x.node === 'node-b-002')!;
      assert.deepEqual(plain(planPromote(s, ['node-cp-b1'], OPTS).summary.warnings), [
        'node-cp-b1: a control-plane node (the API server and etcd share its CPU and network)',
      ]);
      assert.deepEqual(plain(planPromote(s, ['node-b-002'], OPTS).summary.warnings), [
        `node-b-002: runs Typha (${typha.name}): a reflector and Typha compete for it`,
      ]);
      assert.deepEqual(plain(planPromote(s, ['node-b-003'], OPTS).summary.warnings), [
        'node-b-003: small: 4 CPU < 8',
        'node-b-003: small: 16Gi < 32Gi',
      ]);
      assert.deepEqual(plain(planPromote(s, ['node-a-003'], OPTS).summary.warnings), []);
      // the transition: without a drain the plan warns that node-a-003's pods lose traffic; drained, it does not
      const undrained = planPromote(s, ['node-a-003'], OPTS);
      assert.deepEqual(
        undrained.summary.verification.transient?.map((t) => [t.nodes, t.drained]),
        [[['node-a-003'], false]],
      );
      assert.equal(
        undrained.summary.warnings.filter((w) => /node-a-003 re-forms and it is not drained first/.test(w))
          .length,
        1,
      );
      const drained = planPromote(s, ['node-a-003'], { ...OPTS, drain: true });
      assert.deepEqual(
        drained.summary.verification.transient?.map((t) => [t.nodes, t.drained]),
        [[['node-a-003'], true]],
      );
      assert.deepEqual(drained.summary.warnings, []);
    });

    it('refuses: already a reflector, ineligible nodes, unknown or repeated names, bad label or cluster ID', () => {
      const rr = snap({ nodes: 12, zones: 3, rrs: 3 });
      // run again after it succeeded: nothing to do (exit 0); asked with another cluster ID or label: refused
      refuses(
        () => planPromote(rr, ['node-a-002'], OPTS),
        /^node-a-002 \(cluster ID 244\.0\.0\.1\) is a route reflector already, labelled route-reflector=true and peered$/,
        ExitCode.OK,
      );
      refuses(
        () => planPromote(rr, ['node-a-002'], { ...OPTS, clusterId: '244.0.0.9' }),
        /^node node-a-002 is already a route reflector \(cluster ID 244\.0\.0\.1\)$/,
      );
      refuses(
        () => planPromote(rr, ['node-a-002', 'node-a-003'], OPTS),
        /^node node-a-002 is already a route reflector/,
      );
      const odd = snap({ nodes: 12, zones: 3, windows: 1, notReady: 1, unschedulable: 1 });
      const win = odd.nodes.find((n) => n.os === 'windows')!.name;
      const notReady = odd.nodes.find((n) => !n.ready)!.name;
      const cordoned = odd.nodes.find((n) => n.unschedulable && n.ready)!.name;
      const e = refuses(
        () => planPromote(odd, [win], OPTS),
        new RegExp(
          `^node ${win} cannot be a route reflector: not Linux \\(windows\\); no projectcalico.org/IPv4Address`,
        ),
      );
      assert.deepEqual(e.hints, ['choose another node: kubectl calico-tune rr recommend']);
      refuses(
        () => planPromote(odd, [notReady], OPTS),
        /cannot be a route reflector: not Ready; tainted node\.kubernetes\.io\/not-ready, node\.kubernetes\.io\/unreachable/,
      );
      refuses(
        () => planPromote(odd, [cordoned], OPTS),
        /cannot be a route reflector: cordoned \(not by calico-tune\)/,
      );
      const missing = refuses(
        () => planPromote(rr, ['node-a-00'], OPTS),
        /^node "node-a-00" does not exist$/,
      );
      assert.deepEqual(missing.hints, ['did you mean: node-a-002, node-a-003, node-a-004']);
      assert.deepEqual(refuses(() => planPromote(rr, ['zzz'], OPTS), /does not exist/).hints, [
        'list nodes with: kubectl get nodes',
      ]);
      refuses(() => planPromote(rr, ['node-a-003', 'node-a-003'], OPTS), /^node node-a-003 is named twice$/);
      refuses(() => planPromote(rr, [], OPTS), /^name at least one node$/);
      refuses(
        () => planPromote(rr, ['node-a-003'], { ...OPTS, label: 'no value' }),
        /^invalid --label "no value": expected key=value, e\.g\. route-reflector=true$/,
      );
      refuses(
        () => planPromote(rr, ['node-a-003'], { ...OPTS, clusterId: '288.0.4.5' }),
        /^invalid cluster ID "288\.0\.4\.5": .*Calico would silently ignore it$/,
      );
      const mixed = nodeEdit(rr, 'node-b-002', (n) => (n.metadata.annotations![RR_ANN] = '10.0.0.2'));
      // reflectors with different cluster IDs are no reason to refuse: the new one gets a free ID
      assert.equal(planPromote(mixed, ['node-a-003'], OPTS).summary.verification.ok, true);
      assert.equal(
        planPromote(mixed, ['node-a-003'], { ...OPTS, clusterId: '244.0.0.1' }).summary.verification.ok,
        true,
      );
    });
  });

  describe('the BGPPeer: created only when needed', () => {
    const meshSnap = snap({ nodes: 12, zones: 3 });
    it('not when an existing BGPPeer already peers every node with the new reflector', () => {
      const s = edited(meshSnap, (objs) => [
        ...objs,
        {
          apiVersion: CALICO,
          kind: 'BGPPeer',
          metadata: { name: 'mine' },
          spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" },
        },
      ]);
      assert.equal(planPromote(s, ['node-a-003'], OPTS).steps.filter((x) => x.action === 'create').length, 0);
    });
    it('under the fallback name when peer-with-route-reflectors exists and does something else; refused when both exist', () => {
      const other = {
        apiVersion: CALICO,
        kind: 'BGPPeer',
        metadata: { name: PEER_NAME },
        spec: { peerIP: '192.0.2.1', asNumber: 65001 },
      };
      const s = edited(meshSnap, (objs) => [...objs, other]);
      const p = planPromote(s, ['node-a-003'], OPTS);
      assert.equal(p.steps[0]!.manifest!.metadata.name, PEER_NAME_FALLBACK);
      const both = edited(s, (objs) => [...objs, { ...other, metadata: { name: PEER_NAME_FALLBACK } }]);
      const e = refuses(
        () => planPromote(both, ['node-a-003'], OPTS),
        /^BGPPeers peer-with-route-reflectors and calico-tune-route-reflectors exist but do not peer every node with the reflectors$/,
      );
      assert.deepEqual(e.hints, ['fix or delete them, then plan again']);
    });
    it('in the API group the cluster serves', () => {
      const s = snap({ nodes: 6, zones: 1 });
      s.calico.apiMode = 'projectcalico.org/v3';
      const b = new PlanBuilder(s, { timeout: '1m' });
      ensurePeering(
        b,
        ['node-a-003'],
        { key: 'route-reflector', value: 'true' },
        new Map([['node-a-003', DEFAULT_CLUSTER_ID]]),
      );
      assert.equal(b.steps[0]!.manifest!.apiVersion, 'projectcalico.org/v3');
    });
  });

  describe('planDemote', () => {
    it('demoting every reflector with the mesh off points at the way back to the mesh', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3 });
      const err = refuses(() => planDemote(s, rrNames(s), OPTS), /leaves 0 route reflector\(s\)/);
      assert.deepEqual(err.hints, [
        'to go back to the full mesh (turned on before any reflector goes): kubectl calico-tune migrate apply --to mesh',
      ]);
      const one = refuses(() => planDemote(s, rrNames(s).slice(0, 2), OPTS), /leaves 1 route reflector/);
      assert.match(one.hints[0]!, /^promote a replacement first/);
    });

    it('a NotReady reflector is not drained, and the warning says so instead of blaming a --no-drain nobody passed (a review)', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 4 }, (objs) => {
        const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === 'node-b-002')!;
        const st = n.status as { conditions: { type: string; status: string }[] };
        st.conditions = st.conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c));
      });
      assert.equal(s.nodes.find((n) => n.name === 'node-b-002')!.ready, false);
      const p = planDemote(s, ['node-b-002'], { ...OPTS, drain: true });
      assert.ok(!p.steps.some((st) => st.action === 'drain' && st.object?.name === 'node-b-002'));
      // (its sessions are not counted as re-forming at all since the verdicts leave out a reflector that is not
      // Ready: it carries no routes; a warning that does name it never blames --no-drain)
      for (const x of p.summary.warnings.filter((y) => /node-b-002/.test(y)))
        assert.doesNotMatch(x, /--no-drain/);
    });

    it('a reflector cordoned when planned: no cordon step, and every patch of it needs it still cordoned', () => {
      // (else a cordon lifted before apply would let pods be scheduled on it while its sessions change)
      const s = snap({ nodes: 12, zones: 3, rrs: 3 }, (objs) => {
        const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === 'node-a-002')!;
        (n.spec as Record<string, unknown>)['unschedulable'] = true;
        n.metadata.annotations = { ...n.metadata.annotations, [CORDON_ANNOTATION]: 'kubectl-calico-tune' };
      });
      const p = planDemote(s, ['node-a-002'], OPTS);
      const patches = p.steps.filter((st) => st.action === 'patch' && st.object?.kind === 'Node');
      assert.ok(!p.steps.some((st) => st.action === 'cordon' || st.action === 'uncordon'));
      assert.ok(patches.length >= 1);
      for (const st of patches)
        assert.deepEqual(
          st.precondition?.fields,
          [{ path: ['spec', 'unschedulable'], equals: true }],
          st.title,
        );
    });

    it('mesh off, 3 reflectors: cordon → label off → wait → cluster ID off → wait → uncordon', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3 });
      const p = planDemote(s, ['node-a-002'], OPTS);
      assert.deepEqual(actions(p), [
        'cordon node-a-002',
        'patch node-a-002',
        'wait',
        'patch node-a-002',
        'wait',
        'uncordon node-a-002',
      ]);
      assert.deepEqual(p.steps[1]!.patch, { metadata: { labels: { 'route-reflector': null } } });
      assert.equal(p.steps[1]!.checkpoint, true);
      assert.deepEqual(p.steps[3]!.patch, { metadata: { annotations: { [RR_ANN]: null } } });
      assert.equal(p.steps[3]!.checkpoint, false);
      assert.equal(p.steps[3]!.title, 'Remove the cluster ID of node-a-002');
      assert.match(p.steps[3]!.why, /ordinary client of the remaining reflectors/);
      // after the label: only its sessions with the other 2 reflectors; after the cluster ID: a client of the 2
      const others = ['node-b-002', 'node-c-002'].map((n) => nodeIPv4(node(s, n))!).sort();
      for (const w of wait(p)) {
        assert.equal(w.gate!.exact, true);
        assert.deepEqual([...w.gate!.expect['node-a-002']!.peerIPs!].sort(), others);
      }
      assert.equal(wait(p)[1]!.title, 'Wait until node-a-002 is back as a client');
      assert.deepEqual(p.steps[1]!.undo[0]!.patch, { metadata: { labels: { 'route-reflector': 'true' } } });
      assert.deepEqual(p.steps[3]!.undo[0]!.patch, { metadata: { annotations: { [RR_ANN]: '244.0.0.1' } } });
      assert.equal(p.summary.description, 'Demote route reflector node-a-002');
      assert.deepEqual(
        p.summary.routeReflectors!.map((r) => r.name),
        ['node-b-002', 'node-c-002'],
      );
      verified(p, s);
    });

    it('mesh on: the node rejoins the mesh', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3, mesh: true });
      const p = planDemote(s, ['node-b-002'], { ...OPTS, drain: true });
      assert.deepEqual(actions(p), [
        'cordon node-b-002',
        'drain node-b-002',
        'patch node-b-002',
        'wait',
        'patch node-b-002',
        'wait',
        'uncordon node-b-002',
      ]);
      const last = wait(p)[1]!;
      assert.equal(last.title, 'Wait until node-b-002 is back as a mesh member');
      assert.equal(last.gate!.expect['node-b-002']!.count, 11);
      assert.equal(last.gate!.expect['node-b-002']!.peerTypes!.filter((t) => t === 'NodeMesh').length, 9);
      verified(p, s);
    });

    it('the last reflector with the mesh on: label and cluster ID in one patch (the label alone would isolate it)', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 1, mesh: true });
      const [rr] = rrNames(s);
      const p = planDemote(s, [rr!], OPTS);
      assert.deepEqual(actions(p), [`cordon ${rr}`, `patch ${rr}`, 'wait', `uncordon ${rr}`]);
      assert.deepEqual(p.steps[1]!.patch, {
        metadata: { labels: { 'route-reflector': null }, annotations: { [RR_ANN]: null } },
      });
      assert.equal(
        p.steps[1]!.title,
        `Remove the reflector label (route-reflector) and the cluster ID of ${rr}`,
      );
      assert.equal(p.steps[1]!.checkpoint, true);
      verified(p, s);
    });

    it('a reflector without a label: only the cluster ID; every conventional label is removed', () => {
      const s = nodeEdit(
        snap({ nodes: 12, zones: 3, rrs: 3 }),
        'node-a-002',
        (n) => delete n.metadata.labels!['route-reflector'],
      );
      const p = planDemote(s, ['node-a-002'], OPTS);
      assert.deepEqual(actions(p), ['cordon node-a-002', 'patch node-a-002', 'wait', 'uncordon node-a-002']);
      assert.equal(p.steps[1]!.checkpoint, true);
      const labelled = nodeEdit(
        snap({ nodes: 12, zones: 3, rrs: 3 }),
        'node-a-002',
        (n) => (n.metadata.labels!['calico-route-reflector'] = ''),
      );
      assert.deepEqual(planDemote(labelled, ['node-a-002'], OPTS).steps[1]!.patch, {
        metadata: { labels: { 'route-reflector': null, 'calico-route-reflector': null } },
      });
    });

    it('a reflector cordoned by its operator stays cordoned; an invalid cluster ID can still be removed', () => {
      const s = nodeEdit(
        snap({ nodes: 12, zones: 3, rrs: 3 }),
        'node-a-002',
        (n) => (n.spec!['unschedulable'] = true),
      );
      assert.deepEqual(actions(planDemote(s, ['node-a-002'], OPTS)), [
        'patch node-a-002',
        'wait',
        'patch node-a-002',
        'wait',
      ]);
      const bad = nodeEdit(
        snap({ nodes: 12, zones: 3, rrs: 3, mesh: true }),
        'node-a-002',
        (n) => (n.metadata.annotations![RR_ANN] = '288.0.4.5'),
      );
      const p = planDemote(bad, ['node-a-002'], OPTS);
      assert.deepEqual(p.steps.filter((x) => x.action === 'patch').at(-1)!.patch, {
        metadata: { annotations: { [RR_ANN]: null } },
      });
    });

    it('refuses below 2 reflectors with the mesh off, unless --force and the model agrees', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3 });
      const e = refuses(
        () => planDemote(s, ['node-a-002', 'node-b-002'], OPTS),
        /^refusing: with the mesh off, demoting node-a-002, node-b-002 leaves 1 route reflector\(s\); at least 2/,
      );
      assert.match(e.hints[0]!, /rr replace OLD NEW/);
      // with --force the model decides: one reflector still reaches every node, but it is a single point of
      // failure, and the plan says so (found by trying the tool: it claimed "any single reflector can fail at
      // every step; so can any one zone's reflectors"): N-1 fails, and so does zone loss, which needs its flag
      const forced = planDemote(s, ['node-a-002', 'node-b-002'], { ...OPTS, force: true });
      assert.equal(forced.summary.verification.ok, false);
      assert.equal(forced.summary.verification.n1Ok, false);
      assert.match(
        forced.summary.verification.reason ?? '',
        /an outage of one zone \(all its route reflectors\) would cut nodes off.*--allow-zone-loss/,
      );
      const accepted = planDemote(s, ['node-a-002', 'node-b-002'], {
        ...OPTS,
        force: true,
        allowZoneLoss: true,
      });
      assert.equal(accepted.summary.verification.ok, true, accepted.summary.verification.reason);
      assert.equal(accepted.summary.verification.n1Ok, false);
      assert.match(
        accepted.summary.verification.reason ?? '',
        /the loss of one route reflector would cut nodes off/,
      );
      assert.equal(accepted.summary.verification.zoneLoss!.ok, false);
      assert.equal(accepted.summary.verification.zoneLoss!.allowed, true);
      assert.equal(accepted.summary.description, 'Demote route reflectors node-a-002, node-b-002');
      assert.deepEqual(
        accepted.summary.routeReflectors!.map((r) => r.name),
        ['node-c-002'],
      );
      verified(accepted, s);
      // in one zone there is no zone to lose
      const one = snap({ nodes: 12, zones: 1, rrs: 3 });
      const [a, b] = rrNames(one);
      verified(planDemote(one, [a!, b!], { ...OPTS, force: true }), one);
    });

    it('refuses a demotion that cuts nodes off, even with --force', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 1 });
      refuses(
        () => planDemote(s, rrNames(s), { ...OPTS, force: true }),
        /^refusing: demoting node-a-002 would leave 66 node pairs without routes \(e\.g\. .* would not learn .*\) \(--force never allows this\)$/,
      );
      refuses(() => planDemote(s, rrNames(s), OPTS), /leaves 0 route reflector/);
    });

    it('deletes the BGPPeer a --label promotion created once no node carries that label (found by a review: left behind)', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3, mesh: true });
      const promoted = planPromote(s, ['node-a-004'], { ...OPTS, label: 'rr=yes' });
      const created = promoted.steps.find((x) => x.action === 'create' && x.manifest?.kind === 'BGPPeer')!;
      const after = stateAfter(s, promoted.steps);
      const p = planDemote(after, ['node-a-004'], { ...OPTS, label: 'rr=yes' });
      const del = p.steps.find((x) => x.action === 'delete');
      assert.equal(del?.object?.name, created.manifest!.metadata.name);
      assert.equal(p.summary.verification.ok, true);
      // a BGPPeer of the operator's own (not the tool's) is left alone
      assert.ok(
        !planDemote(s, [rrNames(s)[0]!], { ...OPTS, force: true }).steps.some((x) => x.action === 'delete'),
      );
      // and so is one whose managed-by is only the value 0.1's monitoring objects carried: this tool never
      // labelled a BGPPeer so (a review: someone else's chart may)
      const theirs = edited(after, (objs) => {
        const peer = objs.find(
          (o) => o.kind === 'BGPPeer' && o.metadata.name === created.manifest!.metadata.name,
        )!;
        peer.metadata.labels = { 'app.kubernetes.io/managed-by': 'calico-tune' };
      });
      assert.ok(
        !planDemote(theirs, ['node-a-004'], { ...OPTS, label: 'rr=yes' }).steps.some(
          (x) => x.action === 'delete',
        ),
      );
    });

    it('warns when a zone is left without a reflector (found by a review: silently)', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3 });
      const rr = rrNames(s)[0]!;
      const zone = s.nodes.find((n) => n.name === rr)!.zone;
      const p = planDemote(s, [rr], OPTS);
      assert.ok(
        p.summary.warnings.some((w) => w.startsWith(`zone ${zone} is left without a reflector`)),
        p.summary.warnings.join('\n'),
      );
    });

    it('a node that is not a reflector: nothing to do alone (a retry), refused next to a reflector', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3 });
      refuses(
        () => planDemote(s, ['node-a-003'], OPTS),
        /^node-a-003 is not a route reflector \(no cluster ID, no reflector label\)$/,
        ExitCode.OK,
      );
      refuses(
        () => planDemote(s, ['node-a-002', 'node-a-003'], OPTS),
        /^node node-a-003 is not a route reflector$/,
      );
    });
  });

  it('a first reflector on a cluster already cut off (mesh off, no peers): the repair is not refused for zone redundancy, but said', () => {
    const broken = snap({ nodes: 6, zones: 3, mesh: false });
    const p = planPromote(broken, ['node-a-002'], OPTS);
    assert.equal(p.summary.verification.ok, true, p.summary.verification.reason);
    assert.equal(p.summary.verification.zoneLoss?.ok, false);
    assert.ok(
      p.summary.warnings.some((w) =>
        /would cut nodes off; not refused, because the cluster is already partly cut off/.test(w),
      ),
      p.summary.warnings.join('\n'),
    );
  });

  it("without --label, promote follows the cluster's convention (hand-made reflectors: calico-route-reflector), no second BGPPeer", () => {
    const s = edited(snap({ nodes: 12, zones: 3, mesh: false }), (objs) => {
      for (const o of objs)
        if (o.kind === 'Node' && ['node-a-002', 'node-b-002'].includes(o.metadata.name)) {
          o.metadata.labels = { ...o.metadata.labels, 'calico-route-reflector': '' };
          o.metadata.annotations = { ...o.metadata.annotations, [RR_ANN]: '224.0.0.1' };
        }
      objs.push({
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'BGPPeer',
        metadata: { name: 'peer-with-route-reflectors' },
        spec: { nodeSelector: 'all()', peerSelector: 'has(calico-route-reflector)' },
      });
    });
    assert.equal(conventionLabel(s), 'calico-route-reflector=');
    const p = planPromote(s, ['node-c-002'], OPTS);
    const patch = p.steps.find((x) => x.action === 'patch' && x.object?.name === 'node-c-002')!.patch as {
      metadata: { labels: Record<string, string> };
    };
    assert.deepEqual(patch.metadata.labels, { 'calico-route-reflector': '' });
    assert.ok(!p.steps.some((x) => x.action === 'create'), 'the existing BGPPeer already selects it');
    assert.equal(p.summary.verification.ok, true, p.summary.verification.reason);
    // no reflector yet, or none that a BGPPeer selects by a known label: the default
    assert.equal(conventionLabel(snap({ nodes: 12, zones: 3, mesh: true })), DEFAULT_RR_LABEL);
    assert.equal(conventionLabel(snap({ nodes: 12, zones: 3, rrs: 3 })), 'route-reflector=true');
  });

  it("without --label, a has(key) convention with a different value on each reflector (Calico's e2e style) is followed, not replaced by a second BGPPeer", () => {
    const key = 'projectcalico.org/RouteReflectorClusterID';
    const s = edited(snap({ nodes: 12, zones: 3, mesh: false }), (objs) => {
      const ids: Record<string, string> = { 'node-a-002': '224.0.0.1', 'node-b-002': '224.0.0.2' };
      for (const o of objs)
        if (o.kind === 'Node' && ids[o.metadata.name]) {
          o.metadata.labels = { ...o.metadata.labels, [key]: ids[o.metadata.name]! };
          o.metadata.annotations = { ...o.metadata.annotations, [RR_ANN]: ids[o.metadata.name]! };
        }
      objs.push({
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'BGPPeer',
        metadata: { name: 'peer-with-route-reflectors' },
        spec: { nodeSelector: 'all()', peerSelector: `has(${key})` },
      });
    });
    const label = conventionLabel(s);
    assert.ok(label.startsWith(`${key}=`), label);
    const p = planPromote(s, ['node-c-002'], OPTS);
    assert.ok(!p.steps.some((x) => x.action === 'create'), 'the existing BGPPeer already selects it');
    assert.equal(p.summary.verification.ok, true, p.summary.verification.reason);
    // where the value matters to a selector, distinct values are no convention: the default
    const byValue = edited(s, (objs) => {
      const peer = objs.find(
        (o) => o.kind === 'BGPPeer' && o.metadata.name === 'peer-with-route-reflectors',
      )!;
      (peer.spec as Record<string, unknown>)['peerSelector'] = `${key} in {'224.0.0.1', '224.0.0.2'}`;
    });
    assert.equal(conventionLabel(byValue), DEFAULT_RR_LABEL);
  });

  it('from a single reflector with the mesh off, no plan claims N-1 or zone-loss safety (a review: "[ OK ] any single reflector can fail")', () => {
    const one = snap({ nodes: 30, zones: 3, rrs: 1, mesh: false });
    const p = planReplace(one, rrNames(one)[0]!, 'node-a-005', OPTS);
    assert.equal(p.summary.verification.n1Ok, false);
    assert.notEqual(p.summary.verification.zoneLoss?.ok, true);
  });

  it('zone loss still refuses a plan on a cluster with one unrelated node cut off (the exception is only for a cluster without reflectors)', () => {
    const s = edited(snap({ nodes: 30, zones: 3, rrs: 2, mesh: false }), (objs) => {
      // one node outside every BGPPeer: isolated before the plan
      const p = objs.find((o) => o.kind === 'BGPPeer')!;
      (p.spec as Record<string, unknown>)['nodeSelector'] = '!has(isolated)';
      const n = objs.find((o) => o.kind === 'Node' && o.metadata.name === 'node-c-005')!;
      n.metadata.labels = { ...n.metadata.labels, isolated: 'true' };
    });
    const [a, b] = rrNames(s) as [string, string];
    const zoneOfA = s.nodes.find((n) => n.name === a)!.zone;
    const sameZone = s.nodes.find(
      (n) => n.zone === zoneOfA && !rrNames(s).includes(n.name) && !n.name.includes('-cp-'),
    )!;
    const p = planReplace(s, b, sameZone.name, OPTS);
    assert.equal(p.summary.verification.ok, false, 'both reflectors in one zone: refused');
    assert.match(p.summary.verification.reason ?? '', /--allow-zone-loss/);
  });

  describe('planReplace', () => {
    it("warns when the replacement leaves OLD's zone without a reflector (a review: no warning at all)", () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3 });
      const moved = planReplace(s, 'node-a-002', 'node-b-003', OPTS);
      assert.ok(
        moved.summary.warnings.some((w) => /^zone eu-west-1a is left without a reflector/.test(w)),
        moved.summary.warnings.join('\n'),
      );
      const same = planReplace(s, 'node-a-002', 'node-a-003', OPTS);
      assert.ok(
        !same.summary.warnings.some((w) => /left without a reflector/.test(w)),
        same.summary.warnings.join('\n'),
      );
    });

    it('promote NEW (with a cluster ID of its own), then demote OLD', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3, rrClusterId: '10.1.2.3' });
      const p = planReplace(s, 'node-a-002', 'node-a-003', OPTS);
      assert.deepEqual(actions(p), [
        'cordon node-a-003',
        'patch node-a-003',
        'wait',
        'uncordon node-a-003',
        'cordon node-a-002',
        'patch node-a-002',
        'wait',
        'patch node-a-002',
        'wait',
        'uncordon node-a-002',
      ]);
      assert.deepEqual(p.steps[1]!.patch, RR_PATCH('244.0.0.1'));
      assert.equal(p.metadata.command, 'kubectl calico-tune rr replace node-a-002 node-a-003');
      assert.deepEqual(p.summary.changes, [
        'node-a-003: becomes a route reflector',
        'node-a-002: becomes an ordinary node once every client has node-a-003',
      ]);
      assert.deepEqual(p.summary.routeReflectors!.map((r) => r.name).sort(), [
        'node-a-003',
        'node-b-002',
        'node-c-002',
      ]);
      // NEW is a 4-CPU node in this fixture: allowed, with its cautions as warnings
      assert.deepEqual(plain(p.summary.warnings), [
        'node-a-003: small: 4 CPU < 8',
        'node-a-003: small: 16Gi < 32Gi',
      ]);
      verified(p, s);
    });

    it('with 2 reflectors and the mesh off (never fewer than 2 at any step); cautions about NEW as warnings', () => {
      const s = snap({ nodes: 12, zones: 2, rrs: 2 });
      const old = rrNames(s)[0]!;
      const fresh = candidates(s).find((n) => n.zone === node(s, old).zone && cautions(s, n).length > 0)!;
      const p = planReplace(s, old, fresh.name, OPTS);
      assert.deepEqual(
        plain(p.summary.warnings),
        cautions(s, fresh).map((c) => `${fresh.name}: ${c}`),
      );
      assert.ok(p.summary.warnings.length > 0);
      for (const st of p.steps) if (st.verdict) assert.notEqual(st.verdict.n1Ok, false, st.title);
      verified(p, s);
    });

    it('refuses the same node, an OLD that is not a reflector, a NEW that already is', () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3 });
      refuses(() => planReplace(s, 'node-a-002', 'node-a-002', OPTS), /^OLD and NEW are the same node$/);
      refuses(
        () => planReplace(s, 'node-a-003', 'node-a-004', OPTS),
        /^node node-a-003 is not a route reflector$/,
      );
      refuses(
        () => planReplace(s, 'node-a-002', 'node-b-002', OPTS),
        /^node node-b-002 is already a route reflector/,
      );
      refuses(() => planReplace(s, 'nope', 'node-a-004', OPTS), /^node "nope" does not exist$/);
      // run again after it succeeded: OLD no reflector, NEW one as asked: nothing to do (a review)
      refuses(
        () => planReplace(s, 'node-a-003', 'node-b-002', OPTS),
        /^node-a-003 is not a route reflector .*; node-b-002 \(cluster ID 244\.0\.0\.1\) is a route reflector already/,
        ExitCode.OK,
      );
    });
  });

  describe('helpers', () => {
    it('assignClusterIds: one of its own per promoted node, the lowest free from 244.0.0.1; --cluster-id shares one', () => {
      const fresh = snap({ nodes: 6, zones: 1 });
      assert.deepEqual(
        [...assignClusterIds(fresh, ['node-a-002', 'node-a-003', 'node-a-004'])],
        [
          ['node-a-002', '244.0.0.1'],
          ['node-a-003', '244.0.0.2'],
          ['node-a-004', '244.0.0.3'],
        ],
      );
      // IDs any node carries are skipped (the fixture's reflectors share 244.0.0.1)
      const withRrs = snap({ nodes: 12, zones: 3, rrs: 2, rrClusterId: '244.0.0.2' });
      assert.deepEqual([...assignClusterIds(withRrs, ['x', 'y']).values()], ['244.0.0.1', '244.0.0.3']);
      assert.deepEqual(
        [...assignClusterIds(fresh, ['x', 'y'], '10.0.0.9').values()],
        ['10.0.0.9', '10.0.0.9'],
      );
      refuses(() => assignClusterIds(fresh, ['x'], '288.0.0.1'), /^invalid cluster ID/);
      assert.equal(describeClusterIds(new Map([['a', '244.0.0.1']])), 'cluster ID 244.0.0.1');
      assert.equal(
        describeClusterIds(
          new Map([
            ['a', '244.0.0.1'],
            ['b', '244.0.0.2'],
          ]),
        ),
        'one cluster ID each: 244.0.0.1, 244.0.0.2',
      );
    });
    it("a promotion never reuses a cluster ID, so only the promoted node's side of its sessions changes", () => {
      const s = snap({ nodes: 12, zones: 3, rrs: 3 });
      const p = planPromote(s, ['node-a-004'], OPTS);
      const patch = p.steps.find((x) => x.action === 'patch')!.patch as {
        metadata: { annotations: Record<string, string> };
      };
      const used = new Set(s.nodes.map((n) => n.bgp.rrClusterId).filter(Boolean));
      const id = patch.metadata.annotations['projectcalico.org/RouteReflectorClusterID']!;
      assert.ok(!used.has(id), `${id} is not in use`);
    });
    it('parseLabel, validateClusterId, requireNodes', () => {
      assert.deepEqual(parseLabel('a.b/c=d'), { key: 'a.b/c', value: 'd' });
      assert.deepEqual(parseLabel('k='), { key: 'k', value: '' });
      refuses(() => parseLabel('=v'), /invalid --label/);
      // keys and values the API server refuses are refused here, before anything is written (an operator trial:
      // `--label x/y/z=1` created the BGPPeer, cordoned and drained the node, then got a 422)
      for (const bad of [
        'x/y/z=1',
        'Upper.Case/k=v',
        `k=${'v'.repeat(64)}`,
        `${'k'.repeat(64)}=v`,
        'k=-v',
        'k.=v',
      ])
        refuses(() => parseLabel(bad), /^invalid --label /);
      assert.deepEqual(parseLabel('example.com/rr=yes'), { key: 'example.com/rr', value: 'yes' });
      assert.equal(validateClusterId('10.0.0.1'), '10.0.0.1');
      for (const bad of ['fd00::1', '10.0.0.0/24', '1.2.3', ''])
        refuses(() => validateClusterId(bad), /^invalid cluster ID/);
      assert.deepEqual(
        requireNodes(snap({ nodes: 6, zones: 1 }), ['node-a-003']).map((n) => n.name),
        ['node-a-003'],
      );
    });
  });
});

describe('plan change lists name the BGPPeers a plan creates or deletes', () => {
  it('rr promote on a cluster peered per zone: the global BGPPeer it creates is in the change list (a review: only the label was)', () => {
    const s = snap({ nodes: 12, zones: 3, rrs: 3, peering: 'per-zone' });
    const fresh = s.nodes.find((n) => !n.controlPlane && !rrNames(s).includes(n.name))!.name;
    const p = planPromote(s, [fresh], OPTS);
    const created = p.steps.filter((st) => st.action === 'create' && st.manifest?.kind === 'BGPPeer');
    assert.ok(created.length, p.steps.map((st) => st.title).join('; '));
    for (const st of created)
      assert.ok(
        p.summary.changes.some((c) =>
          c.startsWith(`BGPPeer ${st.manifest!.metadata.name}: created (nodeSelector all()`),
        ),
        p.summary.changes.join('\n'),
      );
  });
});
