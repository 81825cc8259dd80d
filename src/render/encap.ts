/** Human output of `encap report`. */
import type { EncapReport } from '../encap/plan.js';
import { c } from './color.js';
import { table } from './table.js';
import { num as n, plural } from '../model/format.js';

export function renderEncapReport(r: EncapReport, wide: boolean): string {
  const u = r.underlay;
  const out: string[] = [];
  out.push(c.bold('Underlay'));
  out.push(
    `  ${plural(u.nodes.length, 'node')}, ${plural(u.pairs.total, 'node pair')}: ${n(u.pairs.sameSubnet)} within a subnet, ${n(u.pairs.crossSubnet)} across subnets${u.pairs.unknown ? `, ${n(u.pairs.unknown)} with a node of unknown subnet` : ''}`,
  );
  out.push(
    `  subnets: ${u.subnets.map((g) => `${g.subnet} (${g.nodes.length})`).join(', ') || 'none known'}${u.unknown.length ? `; no subnet known: ${u.unknown.slice(0, 5).join(', ')}${u.unknown.length > 5 ? ` and ${u.unknown.length - 5} more` : ''}` : ''}`,
  );
  out.push(`  cloud: ${u.clouds.join(', ') || 'none seen (spec.providerID)'}`);
  out.push(
    `  calico-node backend: ${r.backend}; external BGP peers (peerIP): ${r.externalPeers}; a pool needs BGP: ${r.bgpNeeded ? 'yes' : 'no'}`,
  );
  for (const p of r.pools) {
    out.push('');
    out.push(
      `${c.bold(`IPPool ${p.name}`)} ${p.cidr}: ${p.mode === 'invalid' ? c.red('invalid (IPIP and VXLAN both on)') : p.mode}${p.disabled ? ' (disabled)' : ''}`,
    );
    out.push(`  change it in: ${p.owner.object} (${p.owner.reason})`);
    // (a review: only status said that the Installation asks for another mode)
    if (p.pending)
      out.push(
        `  ${c.yellow(`pending: the Installation asks for ${p.pending}; the operator has not applied it to the pool yet (kubectl get tigerastatus)`)}`,
      );
    out.push(
      table(
        ['MODE', 'NATIVE', 'IPIP', 'VXLAN', 'BGP', 'VERDICT'],
        p.modes.map((m) => [
          `${m.current ? '* ' : '  '}${m.mode}`,
          n(m.pairs.native),
          n(m.pairs.ipip),
          n(m.pairs.vxlan),
          m.needsBgp ? 'needed' : 'no',
          m.refused
            ? c.red(
                `refused: ${m.problems
                  .filter((x) => x.level === 'refuse')
                  .map((x) => x.rule)
                  .join(', ')}`,
              )
            : m.problems.length
              ? c.yellow(`warn: ${m.problems.map((x) => x.rule).join(', ')}`)
              : c.green('ok'),
        ]),
        { indent: 2 },
      ),
    );
    if (wide)
      for (const m of p.modes) {
        out.push(`  ${m.mode}: ${m.cost}`);
        for (const x of m.problems) out.push(`    ${x.level}: ${x.reason}`);
      }
  }
  out.push('');
  out.push(
    `Cost (the guide, node to remote pod): native 0.2680 ms / 4.67 Gbit/s, IPIP 0.2973 ms / 4.43 Gbit/s.${wide ? '' : ' -o wide: per-mode reasons.'}`,
  );
  out.push('Change a pool: kubectl calico-tune encap plan --pool NAME --mode MODE');
  return out.join('\n');
}
