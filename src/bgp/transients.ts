/**
 * Transitions, not only states: which nodes' BGP connectivity re-forms in a step. The verifier reasons about
 * the state before and after a step; BIRD needs seconds between them. A node whose every established session
 * is removed or re-configured in the step (a cluster ID or `rr client` change restarts the protocol; leaving
 * the mesh drops every Mesh_ session while the new Node_/Global_ ones wait out BIRD's connect delay) has no
 * path for its pods' routes meanwhile: it **flaps**, and the emulated fabric measured 2-15 s of loss (BIRD's 2 s connect delay, longer on collisions) for
 * such a node's pods (docs/fabric.md). A node that keeps at least one unchanged session (e.g. a client that
 * loses its mesh sessions but keeps its reflector sessions) keeps its routes flowing.
 *
 * Nodes with the same class before and the same class after the step (and the same own external peers)
 * have the same transition, and so do their peers: the comparison runs over (class before, class after) groups, O(groups x class pairs) and not O(nodes) per
 * group (a mesh node has a session to every other node). Pure.
 */
import { externalSignatureKey, externalSignatures, sessionSignature, type Topology } from './topology.js';

export interface Flapping {
  /** Names of the flapping nodes (at most `max`). */
  nodes: string[];
  count: number;
}

interface Group {
  a: number;
  b: number;
  members: string[];
  /** Member indices before / after (the representative is the first). */
  before: number[];
  after: number[];
  /** Members whose IP is the same before and after (a session is matched by the peer's IP). */
  sameIp: number;
}

function newGroup(all: Group[], a: number, b: number): Group {
  const g: Group = { a, b, members: [], before: [], after: [], sameIp: 0 };
  all.push(g);
  return g;
}

export function flappingNodes(before: Topology, after: Topology, max = 20): Flapping {
  // Groups by (class before, class after), then by the node's own external peers before and after (the
  // signature strings are shared, so grouping 10,000 nodes builds no string per node).
  const slots = new Map<number, { plain?: Group; ext?: Map<string, Map<string, Group>> }>();
  const all: Group[] = [];
  const kAfter = after.classes.length;
  for (const node of before.state.nodes) {
    const i = before.nodeIndex.get(node.name);
    // the same index when the two states have the same nodes (they share their indexes)
    const j = after.nodeIndex === before.nodeIndex ? i : after.nodeIndex.get(node.name);
    if (i === undefined || j === undefined || before.participates[i] !== 1 || after.participates[j] !== 1)
      continue;
    const a = before.classOf[i]!;
    const b = after.classOf[j]!;
    let slot = slots.get(a * kAfter + b);
    if (!slot) slots.set(a * kAfter + b, (slot = {}));
    let g: Group | undefined;
    // Nodes of one class may differ in their own external peers (a ToR BGPPeer per node): part of the key.
    if (before.nodeExternals.has(i) || after.nodeExternals.has(j)) {
      const was = externalSignatureKey(before, i);
      const now = externalSignatureKey(after, j);
      slot.ext ??= new Map();
      let byNow = slot.ext.get(was);
      if (!byNow) slot.ext.set(was, (byNow = new Map()));
      g = byNow.get(now);
      if (!g) byNow.set(now, (g = newGroup(all, a, b)));
    } else g = slot.plain ??= newGroup(all, a, b);
    g.members.push(node.name);
    g.before.push(i);
    g.after.push(j);
    if (before.ip[i] === after.ip[j]) g.sameIp++;
  }
  // Peers are looked at per (class before, class after): the groups that differ only in their own external
  // peers (one per ToR) count together, so this stays O(groups x class pairs), not O(groups²).
  const pairs = new Map<string, { a: number; b: number; members: number; sameIp: number }>();
  const pairOf = new Map<Group, { a: number; b: number; members: number; sameIp: number }>();
  for (const g of all) {
    const key = `${g.a}/${g.b}`;
    let p = pairs.get(key);
    if (!p) pairs.set(key, (p = { a: g.a, b: g.b, members: 0, sameIp: 0 }));
    p.members += g.members.length;
    p.sameIp += g.sameIp;
    pairOf.set(g, p);
  }
  const pairList = [...pairs.values()];
  const nodes: string[] = [];
  let count = 0;
  for (const g of all) {
    const i = g.before[0]!;
    const j = g.after[0]!;
    const wasExt = externalSignatures(before, i);
    let had = wasExt.size > 0;
    let kept = false;
    const nowExt = externalSignatures(after, j);
    for (const [ip, sig] of wasExt)
      if (nowExt.get(ip) === sig) {
        kept = true;
        break;
      }
    const own = pairOf.get(g);
    for (const h of pairList) {
      if (kept) break;
      const was = sessionSignature(before, g.a, h.a);
      if (was === undefined) continue;
      // peers in h other than the representative itself
      if (h.members - (h === own ? 1 : 0) > 0) had = true;
      const repSameIp = before.ip[i] === after.ip[j] ? 1 : 0;
      const peersSameIp = h.sameIp - (h === own ? repSameIp : 0);
      if (peersSameIp > 0 && sessionSignature(after, g.b, h.b) === was) kept = true;
    }
    // Sessions to nodes that do not run BIRD in both states: established before, gone after.
    if (!had && !kept) had = hadOtherSessions(before, i, all);
    if (!had || kept) continue; // it had no session: nothing to lose
    count += g.members.length;
    for (const m of g.members) if (nodes.length < max) nodes.push(m);
  }
  return { nodes: nodes.sort(), count };
}

/** Whether node i has an established session to a node outside the groups (participating before only). */
function hadOtherSessions(t: Topology, i: number, groups: Group[]): boolean {
  const grouped = new Set<number>();
  for (const g of groups) for (const x of g.before) grouped.add(x);
  const a = t.classOf[i]!;
  for (const b of t.adj[a]!) {
    for (const m of t.classes[b]!.members)
      if (m !== i && !grouped.has(m) && t.participates[m] === 1) return true;
  }
  return false;
}
