/**
 * `applyStep` derives the snapshot after a step from the one object it changes (plans on large clusters no
 * longer parse every object at every step): it must give exactly what parsing all the objects again gives,
 * for every kind of step, including those it hands back to the full parse.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ClusterSnapshot, KubeObject } from '../../../src/model/types.js';
import { applyStep, applyStepToObjects, reparse } from '../../../src/plan/simulate.js';
import type { Step } from '../../../src/plan/types.js';
import type { ClusterSpec } from '../../fixtures/generate.js';
import { snap } from '../helpers.js';

const RUNS = Number(process.env['CALICO_TUNE_PROPERTY_RUNS'] ?? 30);
const V1 = 'crd.projectcalico.org/v1';
const V3 = 'projectcalico.org/v3';
const RR = 'projectcalico.org/RouteReflectorClusterID';

const cluster: fc.Arbitrary<ClusterSpec> = fc.record({
  nodes: fc.integer({ min: 2, max: 14 }),
  zones: fc.integer({ min: 1, max: 3 }),
  rrs: fc.integer({ min: 0, max: 2 }),
  seed: fc.integer({ min: 1, max: 10_000 }),
  install: fc.constantFrom('operator' as const, 'manifest' as const),
  peering: fc.constantFrom('global' as const, 'per-zone' as const, 'per-node' as const),
  torPeers: fc.boolean(),
  defaultBgpConfig: fc.boolean(),
});

/** A step of some kind, on an object picked by `pick` among the snapshot's (or a new one). */
type StepMaker = (s: ClusterSnapshot, pick: number) => Step;

const base = { id: 'x', title: '', why: '', undo: [] };
const ref = (o: KubeObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  namespace: o.metadata.namespace,
});
/** A Node of the snapshot (the first one's copy under a name it does not have once every node is deleted). */
const nodeNamed = (s: ClusterSnapshot, pick: number): KubeObject => {
  const nodes = s.objects.filter((o) => o.kind === 'Node');
  return nodes.length
    ? nodes[pick % nodes.length]!
    : { apiVersion: 'v1', kind: 'Node', metadata: { name: `none-${pick}` } };
};
const peerOf = (s: ClusterSnapshot, pick: number): KubeObject | undefined => {
  const peers = s.objects.filter((o) => o.kind === 'BGPPeer');
  return peers.length ? peers[pick % peers.length] : undefined;
};

const makers: StepMaker[] = [
  // promote / demote: label and cluster ID
  (s, p) => ({
    ...base,
    action: 'patch',
    object: ref(nodeNamed(s, p)),
    patch: { metadata: { labels: { 'route-reflector': 'true' }, annotations: { [RR]: '244.0.0.9' } } },
  }),
  (s, p) => ({
    ...base,
    action: 'patch',
    object: ref(nodeNamed(s, p)),
    patch: { metadata: { labels: { 'route-reflector': null }, annotations: { [RR]: null } } },
  }),
  // a new zone (Typha pods carry their node's zone) and a new address
  (s, p) => ({
    ...base,
    action: 'patch',
    object: ref(nodeNamed(s, p)),
    patch: { metadata: { labels: { 'topology.kubernetes.io/zone': `zone-${p % 4}` } } },
  }),
  (s, p) => ({
    ...base,
    action: 'patch',
    object: ref(nodeNamed(s, p)),
    patch: { metadata: { annotations: { 'projectcalico.org/IPv4Address': `10.9.${p % 7}.1/16` } } },
  }),
  (s, p) => ({ ...base, action: p % 2 ? 'cordon' : 'uncordon', object: ref(nodeNamed(s, p)) }),
  // a node that does not exist, a node deleted, a node renamed by its patch
  (_s, p) => ({
    ...base,
    action: 'patch',
    object: { apiVersion: 'v1', kind: 'Node', name: `missing-${p}` },
    patch: { spec: { unschedulable: true } },
  }),
  (s, p) => ({ ...base, action: 'delete', object: ref(nodeNamed(s, p)) }),
  (s, p) => ({
    ...base,
    action: 'patch',
    object: ref(nodeNamed(s, p)),
    patch: { metadata: { name: `renamed-${p}` } },
  }),
  // BGPPeers: created (new, or over an existing name in either API group), deleted (or missing), patched
  (s, p) => {
    const existing = p % 3 === 0 ? peerOf(s, p) : undefined;
    return {
      ...base,
      action: 'create',
      manifest: {
        apiVersion: p % 2 ? V3 : V1,
        kind: 'BGPPeer',
        metadata: { name: existing?.metadata.name ?? `peer-${p % 5}` },
        spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" },
      },
    };
  },
  (s, p) => {
    const o = peerOf(s, p);
    return {
      ...base,
      action: 'delete',
      object: o ? ref(o) : { apiVersion: V1, kind: 'BGPPeer', name: `gone-${p}` },
    };
  },
  (s, p) => {
    const o = peerOf(s, p);
    return {
      ...base,
      action: 'patch',
      object: o ? ref(o) : { apiVersion: V1, kind: 'BGPPeer', name: `gone-${p}` },
      patch: { spec: { peerSelector: 'all()' } },
    };
  },
  // the mesh: BGPConfiguration default patched, created, deleted
  (_s, p) => ({
    ...base,
    action: 'patch',
    object: { apiVersion: V1, kind: 'BGPConfiguration', name: 'default' },
    patch: { spec: { nodeToNodeMeshEnabled: p % 2 === 0 } },
  }),
  (_s, p) => ({
    ...base,
    action: 'create',
    manifest: {
      apiVersion: V1,
      kind: 'BGPConfiguration',
      metadata: { name: p % 2 ? 'default' : `node.x-${p % 3}` },
      spec: { nodeToNodeMeshEnabled: true },
    },
  }),
  (_s) => ({
    ...base,
    action: 'delete',
    object: { apiVersion: V1, kind: 'BGPConfiguration', name: 'default' },
  }),
  // kinds it leaves to the full parse: a Node of a new name, Typha, a Calico IPPool; steps that write nothing
  (s, p) => {
    const n = structuredClone(nodeNamed(s, p));
    n.metadata.name = `${p % 2 ? 'a' : 'zz'}-new-${p}`;
    return { ...base, action: 'create', manifest: n };
  },
  (_s, p) => ({
    ...base,
    action: 'patch',
    object: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'calico-typha', namespace: 'calico-system' },
    patch: { spec: { replicas: p % 5 } },
  }),
  (_s, p) => ({
    ...base,
    action: 'create',
    manifest: {
      apiVersion: V1,
      kind: 'IPPool',
      metadata: { name: `pool-${p}` },
      spec: { cidr: '10.7.0.0/16' },
    },
  }),
  (s, p) => ({ ...base, action: p % 2 ? 'drain' : 'wait', object: ref(nodeNamed(s, p)) }),
];

describe('applyStep: the snapshot after a step, from the object it changes', () => {
  it(`equals parsing every object again, step after step (${RUNS} clusters)`, function () {
    this.timeout(60_000);
    fc.assert(
      fc.property(
        cluster,
        fc.array(fc.tuple(fc.nat(makers.length - 1), fc.nat(1000)), { minLength: 1, maxLength: 8 }),
        (spec, steps) => {
          let quick = snap(spec);
          let full = quick;
          for (const [kind, pick] of steps) {
            const step = makers[kind]!(quick, pick);
            const next = applyStep(quick, step);
            const parsed = reparse(full, applyStepToObjects(full.objects, step));
            assert.deepStrictEqual(next, parsed, `step ${kind} (${pick}) on ${JSON.stringify(spec)}`);
            if (step.action === 'wait' || step.action === 'drain') assert.equal(next, quick);
            quick = next;
            full = parsed;
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
