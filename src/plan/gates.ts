/** Gate evaluation: does the observed BGP state satisfy what the plan expects? Pure. */
import type { ObservedNode } from '../model/observed.js';
import type { Gate } from './types.js';

export interface NodeGateResult {
  node: string;
  expected: number;
  established: number;
  /** Expected peers that are not Established (with their state, or `missing`). */
  pending: { peerIP: string; state: string }[];
  /** Sessions present that the model does not expect (only checked for exact gates). */
  unexpected: { peerIP: string; state: string }[];
  reported: boolean;
  ok: boolean;
}

export interface GateResult {
  ok: boolean;
  nodes: NodeGateResult[];
}

/** `expected` gives the expected peer IPs per observed node (from the plan, or from the model on the live state). */
export function evaluateGate(
  gate: Gate,
  expected: Map<string, string[]>,
  observed: Map<string, ObservedNode>,
): GateResult {
  const nodes: NodeGateResult[] = gate.nodes.map((node) => {
    const want = expected.get(node) ?? [];
    const obs = observed.get(node);
    if (!obs?.peers) {
      return {
        node,
        expected: want.length,
        established: 0,
        pending: want.map((ip) => ({ peerIP: ip, state: 'not reported' })),
        unexpected: [],
        reported: false,
        ok: want.length === 0 && !!obs?.peers,
      };
    }
    const byIP = new Map(obs.peers.map((p) => [p.peerIP, p.state]));
    const pending = want
      .filter((ip) => byIP.get(ip) !== 'Established')
      .map((ip) => ({ peerIP: ip, state: byIP.get(ip) ?? 'missing' }));
    const wantSet = new Set(want);
    const unexpected = gate.exact
      ? obs.peers.filter((p) => !wantSet.has(p.peerIP)).map((p) => ({ peerIP: p.peerIP, state: p.state }))
      : [];
    const established = want.length - pending.length;
    return {
      node,
      expected: want.length,
      established,
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
  if (!r.reported) return `${r.node}: waiting for a BGP status report`;
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
