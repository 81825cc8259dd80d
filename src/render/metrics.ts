/** Human rendering of `metrics`: Table 4 per node (worst first), Typha's balance, the pods not read. */
import type { MetricsReport } from '../monitoring/metrics.js';
import { num } from '../model/format.js';
import { c } from './color.js';
import { table } from './table.js';

const n = (v: number | null | undefined): string => (v === null || v === undefined ? c.gray('-') : num(v));
const err = (v: number | null | undefined): string => (v ? c.red(n(v)) : n(v));

export function renderMetrics(r: MetricsReport, opts: { wide: boolean; limit?: number }): string {
  const out: string[] = [];
  const limit = opts.wide ? Infinity : (opts.limit ?? 20);
  const rows = r.nodes.slice(0, limit);
  out.push(
    `${c.bold('Table 4, per node, worst first')}  ${c.gray(`(${r.capturedAt}; Felix read on ${r.read.felix.read}/${r.read.felix.of} pods, kube-controllers ${r.read['kube-controllers'].read}/${r.read['kube-controllers'].of})`)}`,
  );
  out.push(
    rows.length
      ? table(
          [
            'NODE',
            'IPSET ERR',
            'RESTORE CALLS',
            'RESTORE ERR',
            'SAVE CALLS',
            'SAVE ERR',
            'LOG ERR',
            'IPAM ALLOCS',
            'IPAM BLOCKS',
          ],
          rows.map((x) => [
            x.node,
            err(x.felix?.felix_ipset_errors),
            n(x.felix?.felix_iptables_restore_calls),
            err(x.felix?.felix_iptables_restore_errors),
            n(x.felix?.felix_iptables_save_calls),
            err(x.felix?.felix_iptables_save_errors),
            err(x.felix?.felix_log_errors),
            n(x.ipamAllocations),
            n(x.ipamBlocks),
          ]),
        )
      : c.gray('  no per-node figures were read'),
  );
  if (r.nodes.length > rows.length)
    out.push(c.gray(`  and ${r.nodes.length - rows.length} more nodes (-o wide shows all)`));
  if (r.typha) {
    const t = r.typha;
    out.push('');
    out.push(
      `${c.bold('Typha connections')}  total ${n(t.total)}, per pod ${n(t.min)}..${n(t.max)}${t.imbalance !== null ? `, max/mean ${t.imbalance.toFixed(2)}${t.imbalance > 1.5 ? c.yellow(' (unbalanced)') : ''}` : ''}`,
    );
    if (t.pods.length)
      out.push(
        table(
          ['TYPHA', 'NODE', 'ACTIVE', 'DROPPED'],
          t.pods.map((p) => [p.pod, p.node ?? '-', n(p.connectionsActive), err(p.connectionsDropped)]),
        ),
      );
  }
  if (r.unread.length) {
    out.push('');
    out.push(c.yellow(`${r.unread.length} pod(s) not read (partial results):`));
    for (const u of r.unread.slice(0, opts.wide ? Infinity : 10))
      out.push(`  ${u.component} ${u.namespace}/${u.pod}${u.node ? ` on ${u.node}` : ''}: ${u.error}`);
    if (!opts.wide && r.unread.length > 10) out.push(c.gray(`  and ${r.unread.length - 10} more (-o wide)`));
  }
  return out.join('\n');
}
