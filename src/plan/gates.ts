/**
 * Gate evaluation: does the observed BGP state satisfy what the model expects? A session counts only when
 * its peer address AND its type (NodeMesh, NodePeer, GlobalPeer) match and it is Established, so a plain
 * mesh member never passes a reflector's gate. Reports must be fresh: the executor observes through new
 * CalicoNodeStatus objects made after the write (kube/bgp-status.ts), and a node without a report fails. Pure.
 */
import type { ObservedNode } from '../model/observed.js';
import { plural } from '../model/format.js';
import type { ExpectedSession } from './reverify.js';
import type { Gate } from './types.js';

export interface NodeGateResult {
  node: string;
  expected: number;
  established: number;
  /** Expected sessions that are not Established with the right type (with their state, `missing`, or the type seen). */
  pending: { peerIP: string; state: string }[];
  /** Sessions present that the model does not expect (only checked for exact gates). */
  unexpected: { peerIP: string; state: string }[];
  reported: boolean;
  /** Why the node could not be read (birdcl: no calico-node pod, exec refused), when it could not. */
  error?: string | undefined;
  ok: boolean;
}

export interface GateResult {
  ok: boolean;
  nodes: NodeGateResult[];
}

export function evaluateGate(
  gate: Gate,
  expected: Map<string, ExpectedSession[]>,
  observed: Map<string, ObservedNode>,
  /** Peer addresses of nodes that are not Ready: their sessions are not "unexpected" (LiveGate.excused). */
  excused: ReadonlySet<string> = new Set(),
): GateResult {
  const nodes: NodeGateResult[] = gate.nodes.map((node) => {
    const want = expected.get(node) ?? [];
    const obs = observed.get(node);
    if (!obs?.peers) {
      return {
        node,
        expected: want.length,
        established: 0,
        pending: want.map((w) => ({ peerIP: w.peerIP, state: obs?.error ?? 'not reported' })),
        unexpected: [],
        reported: false,
        ...(obs?.error ? { error: obs.error } : {}),
        ok: false,
      };
    }
    const byIP = new Map(obs.peers.map((p) => [p.peerIP, p]));
    const pending: { peerIP: string; state: string }[] = [];
    for (const w of want) {
      const p = byIP.get(w.peerIP);
      if (!p) pending.push({ peerIP: w.peerIP, state: 'missing' });
      else if (p.type !== w.type)
        pending.push({ peerIP: w.peerIP, state: `${p.type ?? 'untyped'} (expected ${w.type})` });
      else if (p.state !== 'Established') pending.push({ peerIP: w.peerIP, state: p.state });
    }
    const wantIPs = new Set(want.map((w) => w.peerIP));
    const unexpected = gate.exact
      ? obs.peers
          .filter((p) => !wantIPs.has(p.peerIP) && !excused.has(p.peerIP))
          .map((p) => ({ peerIP: p.peerIP, state: p.state }))
      : [];
    return {
      node,
      expected: want.length,
      established: want.length - pending.length,
      pending,
      unexpected,
      reported: true,
      ok: pending.length === 0 && unexpected.length === 0,
    };
  });
  return { ok: nodes.every((n) => n.ok), nodes };
}

/** One progress line: "rr-1 147/149 Established (waiting: 10.0.0.5 Active, …)". */
export function gateProgressLine(r: NodeGateResult, ipToName: Map<string, string>): string {
  // (a review: after the fall-back to birdcl found no calico-node pod, progress still said "waiting for a report")
  if (!r.reported)
    return r.error
      ? `${r.node}: not read (${r.error}); trying again`
      : `${r.node}: waiting for a BGP status report made after the change`;
  const parts = [`${r.node}: ${r.established}/${r.expected} Established`];
  if (r.pending.length) {
    const shown = r.pending.slice(0, 4).map((p) => `${ipToName.get(p.peerIP) ?? p.peerIP} ${p.state}`);
    parts.push(
      `waiting: ${shown.join(', ')}${r.pending.length > 4 ? ` and ${r.pending.length - 4} more` : ''}`,
    );
  }
  if (r.unexpected.length)
    parts.push(
      `unexpected: ${r.unexpected
        .slice(0, 3)
        .map((p) => ipToName.get(p.peerIP) ?? p.peerIP)
        .join(', ')}${r.unexpected.length > 3 ? '…' : ''}`,
    );
  return parts.join(' · ');
}

/** What a gate observes, honestly: "3 reflectors" or "3 reflectors and 3 of 147 other nodes". */
export function gateCoverage(gate: Gate, totalNodes: number, reflectors: Set<string>): string {
  const rrs = gate.nodes.filter((n) => reflectors.has(n)).length;
  const others = gate.nodes.length - rrs;
  const rest = totalNodes - reflectors.size;
  const parts: string[] = [];
  if (rrs)
    parts.push(
      rrs === reflectors.size
        ? rrs === 1
          ? 'the reflector'
          : `all ${plural(rrs, 'reflector')}`
        : `${rrs} of ${plural(reflectors.size, 'reflector')}`,
    );
  if (others)
    parts.push(
      others === rest
        ? rest === 1
          ? 'the other node'
          : `all ${rest} other nodes`
        : `${others} of ${plural(rest, 'other node')}`,
    );
  return parts.join(' and ');
}
