/**
 * Transitions, not only states: which nodes' BGP connectivity re-forms in a step. The verifier reasons about
 * the state before and after a step; BIRD needs seconds between them. A node whose every established session
 * is removed or re-configured in the step (a cluster ID or `rr client` change restarts the protocol; leaving
 * the mesh drops every Mesh_ session while the new Node_/Global_ ones wait out BIRD's connect delay) has no
 * path for its pods' routes meanwhile: it **flaps**, and the emulated fabric measured 2-15 s of loss (BIRD's 2 s connect delay, longer on collisions) for
 * such a node's pods (docs/fabric.md). A node that keeps at least one unchanged session (e.g. a client that
 * loses its mesh sessions but keeps its reflector sessions) keeps its routes flowing.
 *
 * Nodes with the same class before and the same class after the step have the same transition, so one
 * representative per (class before, class after) group is compared. Pure.
 */
import { expectedPeers, type Topology } from './topology.js';

export interface Flapping {
  /** Names of the flapping nodes (at most `max`). */
  nodes: string[];
  count: number;
}

function sessionsOf(t: Topology, node: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of expectedPeers(t, node))
    if (p.established)
      out.set(p.peerIP, `${p.kind}|${p.remoteAS}|${p.peerIsClient ? 1 : 0}|${p.weAreClient ? 1 : 0}`);
  return out;
}

export function flappingNodes(before: Topology, after: Topology, max = 20): Flapping {
  const groups = new Map<string, string[]>();
  for (const node of before.state.nodes) {
    const i = before.nodeIndex.get(node.name);
    const j = after.nodeIndex.get(node.name);
    if (i === undefined || j === undefined || before.participates[i] !== 1 || after.participates[j] !== 1)
      continue;
    const key = `${before.classOf[i]}/${after.classOf[j]}`;
    const g = groups.get(key);
    if (g) g.push(node.name);
    else groups.set(key, [node.name]);
  }
  const nodes: string[] = [];
  let count = 0;
  for (const members of groups.values()) {
    const rep = members[0]!;
    const was = sessionsOf(before, rep);
    if (!was.size) continue; // it had no session: nothing to lose
    const now = sessionsOf(after, rep);
    let kept = false;
    for (const [ip, sig] of was)
      if (now.get(ip) === sig) {
        kept = true;
        break;
      }
    if (kept) continue;
    count += members.length;
    for (const m of members) if (nodes.length < max) nodes.push(m);
  }
  return { nodes: nodes.sort(), count };
}
