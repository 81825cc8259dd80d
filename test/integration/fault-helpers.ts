/**
 * What the fault and kill tests share (faults.test.ts, faults-rr.test.ts, kill.test.ts): the cluster they run
 * on, the `migrate apply` they interrupt, the requests the fault matrix targets, and the checks every run ends
 * with (the model's verdict on the live state, the target or start state, no write applied twice).
 */
import assert from 'node:assert/strict';
import { describeEvent, type AuditEvent, type CliResult, type FaultRule } from '../harness/index.js';
import { rrs, type BgpWorld } from './plan-helpers.js';

export const SPEC = { nodes: 12, zones: 3 } as const;
export const SIM = { establishDelayMs: 150 };
/** The exit codes of src/errors.ts a run with --yes may end with (0 ok, 1 findings, 2 usage, 3 cluster, 4 gate; 5 and 130 need a person). */
export const DOCUMENTED = [0, 1, 2, 3, 4];
export const CAL = '/apis/crd.projectcalico.org/v1';
/** Per-request budget for the plugin: a held response costs half of it, then the retry has the rest. */
export const REQUEST_TIMEOUT = '6s';
/** Gates give up after this (instead of 10 min) so a run that cannot pass ends quickly. */
export const GATE_TIMEOUT = '30s';
export const APPLY = [
  'migrate',
  'apply',
  '--to',
  'route-reflectors',
  '--rr-count',
  '3',
  '--yes',
  '--verbose',
  '--timeout',
  GATE_TIMEOUT,
];

/**
 * The target of `migrate apply --to route-reflectors --rr-count 3`: three reflectors, one per zone (the plan's
 * exact choice when known: it is recorded in the Lease; the recommender may pick either of two equivalent
 * nodes on identical fixtures), mesh off, nothing left over.
 */
export function assertTarget(w: BgpWorld, planned: string[] | undefined, what: string): void {
  const got = rrs(w);
  if (planned)
    assert.deepEqual(got, planned, `${what}: the planned reflectors; nodes: ${JSON.stringify(w.nodes)}`);
  assert.equal(got.length, 3, `${what}: three reflectors: ${got.join(', ')}`);
  assert.equal(
    new Set(got.map((n) => n.split('-')[1])).size,
    3,
    `${what}: one reflector per zone: ${got.join(', ')}`,
  );
  assert.equal(w.meshEnabled, false, `${what}: mesh off`);
  assert.ok(
    w.nodes.every((n) => !n.unschedulable && !n.cordonedBy),
    `${what}: every node uncordoned`,
  );
  assert.deepEqual(
    w.peers.map((p) => p.name),
    ['peer-with-route-reflectors'],
    `${what}: the peering`,
  );
  assert.deepEqual(w.nodeStatuses, [], `${what}: no CalicoNodeStatus left`);
  assert.equal(w.lease, undefined, `${what}: the Lease is gone`);
}

export function hasPrecondition(e: AuditEvent): boolean {
  const o = e.requestObject as
    | { metadata?: { resourceVersion?: string }; preconditions?: { resourceVersion?: string; uid?: string } }
    | undefined;
  return Boolean(o?.metadata?.resourceVersion || o?.preconditions?.resourceVersion || o?.preconditions?.uid);
}

/**
 * No write applied twice: of identical write requests (same verb, object and body) by the plugin at most one
 * may have succeeded, and repeated updates, patches and deletes must carry a precondition (so the server
 * refuses the repeat); creates need none (the repeat gets AlreadyExists).
 */
export function doubleWrites(events: AuditEvent[]): string[] {
  const groups = new Map<string, AuditEvent[]>();
  for (const e of events) {
    const r = e.objectRef ?? {};
    const key = `${e.verb} ${r.resource}/${r.subresource ?? ''} ${r.namespace ?? ''}/${r.name ?? ''} ${JSON.stringify(e.requestObject ?? null)}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const bad: string[] = [];
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    const ok = g.filter((e) => (e.responseStatus?.code ?? 0) < 300);
    if (ok.length > 1) bad.push(`applied ${ok.length}x: ${describeEvent(g[0]!)}`);
    // a repeated create is harmless (the repeat gets AlreadyExists); anything else needs a precondition
    else if (g[0]!.verb !== 'create' && !g.every(hasPrecondition))
      bad.push(`repeated without a precondition: ${describeEvent(g[0]!)}`);
  }
  return bad;
}

export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''} in ${r.durationMs} ms\n--- stderr ---\n${r.stderr.slice(-3000)}`;
}

/** The request kinds of the matrix: which requests a rule matches, and which occurrence it hits. */
export const TARGETS: Record<string, Omit<FaultRule, 'fault'>> = {
  // the second node write: a reflector's cordon, label/cluster-ID or uncordon patch
  'node patch': { method: 'PATCH', path: /^\/api\/v1\/nodes\/[^/]+$/, nth: 2 },
  // the mesh-off update of `default`
  BGPConfiguration: { method: ['PATCH', 'PUT', 'POST'], path: new RegExp(`^${CAL}/bgpconfigurations`) },
  // the create of peer-with-route-reflectors
  BGPPeer: { method: ['POST', 'PATCH', 'PUT', 'DELETE'], path: new RegExp(`^${CAL}/bgppeers`) },
  // the journal's second write (progress: a step started)
  'Lease progress': {
    method: ['PUT', 'POST'],
    path: /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases/,
    nth: 2,
  },
  // the journal's first write (taking the lock)
  'Lease create': {
    method: ['POST', 'PUT'],
    path: /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases/,
  },
  // the final release of the lock
  'Lease delete': { method: 'DELETE', path: /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases/ },
  // the gate's CalicoNodeStatus create
  'CalicoNodeStatus create': { method: 'POST', path: new RegExp(`^${CAL}/caliconodestatuses$`) },
  // a gate's read of a CalicoNodeStatus
  'CalicoNodeStatus read': { method: 'GET', path: new RegExp(`^${CAL}/caliconodestatuses/[^/]+$`), nth: 3 },
  // the node list of the first live read
  'node list': { method: 'GET', path: /^\/api\/v1\/nodes$/ },
};

/** A small seeded PRNG: the same seed gives the same kill moments. */
export { rng as prng } from '../fixtures/generate.js';
