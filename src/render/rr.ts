/** Human rendering of `rr list` and `rr recommend`. */
import type { RrList } from '../rr/list.js';
import type { Recommendation } from '../rr/recommend.js';
import { c, severityColor, symbolFor } from './color.js';
import { table } from './table.js';
import { num } from '../model/format.js';

export function renderRrList(l: RrList, wide: boolean): string {
  const out: string[] = [];
  if (!l.routeReflectors.length)
    out.push(c.gray(`no route reflectors; the full mesh is ${l.meshEnabled ? 'on' : c.red('OFF')}`));
  else {
    const head = ['NODE', 'CLUSTER ID', 'ZONE', 'READY', 'SCHEDULABLE', 'CLIENTS', 'SESSIONS'];
    if (wide) head.push('LABELS', 'SELECTED BY');
    out.push(
      table(
        head,
        l.routeReflectors.map((r) => {
          const row: (string | number)[] = [
            r.node,
            r.clusterId,
            r.zone ?? '-',
            r.ready ? 'yes' : c.red('no'),
            r.schedulable ? 'yes' : 'cordoned',
            r.clients,
            // the BGP model's count: what Calico's objects configure (bgp peers observes them); a NotReady
            // node's calico-node is most likely down (an operator trial read 149 as established)
            r.ready ? r.sessions : `${r.sessions} ${c.yellow('(configured; node NotReady)')}`,
          ];
          if (wide)
            row.push(
              Object.entries(r.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(',') || '-',
              r.selectedBy.join(',') || c.red('none'),
            );
          return row;
        }),
      ),
    );
    out.push(c.gray(`full mesh ${l.meshEnabled ? 'on' : 'off'} · cluster IDs: ${l.clusterIds.join(', ')}`));
  }
  // each with its severity's mark and colour, as status shows the same finding (a review: ▲ here, CRIT there)
  for (const p of l.problems)
    out.push(`${symbolFor(p.severity)} ${severityColor(p.severity)(c.bold(p.code))}  ${p.message}`);
  if (l.unreachablePairs > 0)
    out.push(
      c.red(
        `${num(l.unreachablePairs)} node pair(s) do not learn each other's routes (kubectl calico-tune status explains)`,
      ),
    );
  return out.join('\n');
}

export function renderRecommendation(r: Recommendation, wide: boolean): string {
  const out: string[] = [];
  out.push(`${c.bold(`${r.count} route reflectors`)} ${c.gray(`(${r.countReason})`)}`);
  out.push(
    table(
      ['NODE', 'ZONE', 'STATUS', 'WHY'],
      r.chosen.map((x) => [x.node, x.zone ?? '-', x.existing ? 'existing' : c.green('new'), x.reason]),
    ),
  );
  out.push(
    c.gray(
      `zones (${r.zoneLabel}): ${r.zones.map((z) => `${z.zone} ${num(z.nodes)} nodes/${z.reflectors} RR`).join(' · ')}`,
    ),
  );
  const rejected = r.candidates.filter((x) => !x.eligible);
  if (wide && rejected.length) {
    out.push(c.bold('not eligible'));
    out.push(
      table(
        ['NODE', 'ZONE', 'CPU', 'MEMORY', 'WHY NOT'],
        rejected.map((x) => [x.node, x.zone ?? '-', x.cpu, x.memory, x.notes.join('; ')]),
        { indent: 2 },
      ),
    );
  } else if (rejected.length) out.push(c.gray(`${rejected.length} node(s) not eligible (-o wide shows why)`));
  for (const w of r.warnings) out.push(`${c.yellow('warning:')} ${w}`);
  const fresh = r.chosen.filter((x) => !x.existing).map((x) => x.node);
  if (fresh.length) out.push(`\nnext: kubectl calico-tune rr promote ${fresh.join(' ')} --dry-run`);
  return out.join('\n');
}
