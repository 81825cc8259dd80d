/** Human rendering of `bgp peers`, in the spirit of `calicoctl node status`. */
import type { PeersReport } from '../bgp/peers-report.js';
import { c } from './color.js';
import { table } from './table.js';
import { num } from '../model/format.js';

const TYPE: Record<string, string> = {
  NodeMesh: 'node-to-node mesh',
  NodePeer: 'node specific',
  GlobalPeer: 'global',
};

/**
 * A section per node with a problem; the nodes whose sessions all match the model are summed up in one line
 * (-o wide shows every node's table).
 */
export function renderPeers(r: PeersReport, wide: boolean): string {
  const out: string[] = [];
  const fine = wide ? [] : r.nodes.filter((n) => n.ok && !n.error);
  for (const n of r.nodes) {
    if (fine.includes(n)) continue;
    // (a node not read is not "▲ 0/N": a review)
    const state = n.ok
      ? c.green(`✔ ${n.established} Established`)
      : !n.read
        ? c.red('✖ not read')
        : n.error
          ? c.red('✖ not compared')
          : c.yellow(`▲ ${n.established}/${n.peers.length + n.missing.length}`);
    const head = `${c.bold(n.node)} ${c.gray(`(${n.source})`)} ${state}`;
    out.push(head);
    if (n.error) {
      out.push(`  ${c.red(n.error)}`);
      continue;
    }
    const rows = n.peers
      .filter((p) => wide || !p.expected || p.state !== 'Established' || n.peers.length <= 12)
      .map((p) => [
        p.peerIP,
        p.peerNode ?? '-',
        TYPE[p.type ?? ''] ?? p.type ?? '-',
        p.state === 'Established' ? c.green(p.state) : c.yellow(p.state),
        p.expected ? '' : c.yellow('unexpected'),
      ]);
    for (const m of n.missing) rows.push([m.peerIP, m.peerNode ?? '-', '-', c.red('missing'), 'expected']);
    if (rows.length)
      out.push(table(['PEER ADDRESS', 'PEER NODE', 'PEER TYPE', 'STATE', ''], rows, { indent: 2 }));
    const hidden = n.peers.length - (rows.length - n.missing.length);
    if (hidden > 0)
      out.push(c.gray(`  … ${hidden} more Established sessions as expected (-o wide shows all)`));
  }
  if (fine.length)
    out.push(
      `${c.green('✔')} ${fine.length} node(s) with every session Established as the model expects: ${fine
        .map((n) => `${n.node} (${num(n.established)})`)
        .join(', ')}`,
    );
  out.push(c.gray(`${r.summary.ok}/${r.summary.nodes} node(s) match the model`));
  return out.join('\n');
}
