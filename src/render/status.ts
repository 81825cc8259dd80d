/** Human rendering of the status report: one screen, most important first, findings last. */
import type { StatusReport } from '../status/report.js';
import type { Finding } from '../model/finding.js';
import { c, ok, severityColor, symbolFor } from './color.js';
import { table } from './table.js';
import { num as n } from '../model/format.js';

function onOff(b: boolean): string {
  return b ? c.green('on') : c.yellow('off');
}

function more<T>(items: T[], wide: boolean, limit = 8): { shown: T[]; rest: number } {
  return wide || items.length <= limit
    ? { shown: items, rest: 0 }
    : { shown: items.slice(0, limit), rest: items.length - limit };
}

export function renderFinding(f: Finding, wide: boolean): string {
  const lines = [`${symbolFor(f.severity)} ${severityColor(f.severity)(c.bold(f.code))}  ${f.message}`];
  lines.push(`    ${c.gray('fix:')} ${f.fix}`);
  if (f.objects.length) {
    const { shown, rest } = more(f.objects, wide, 6);
    const refs = shown.map((o) => `${o.kind}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`).join(', ');
    lines.push(`    ${c.gray('objects:')} ${refs}${rest ? c.gray(` and ${rest} more`) : ''}`);
  }
  return lines.join('\n');
}

export function renderFindings(findings: Finding[], wide: boolean): string {
  if (findings.length === 0) return ok('no findings: BGP and Typha match best practice');
  return findings.map((f) => renderFinding(f, wide)).join('\n');
}

/**
 * The AS line: the global AS, and where nodes have their own (an AS per zone or rack) how many use which: the
 * global AS alone read as every node's (a review: an operator configuring a ToR from it would use the wrong one).
 */
function asText(r: StatusReport): string {
  const own = r.bgp.nodeAsNumbers;
  if (!own.length) return String(r.bgp.asNumber);
  const total = own.reduce((a, x) => a + x.nodes, 0);
  const shown = own
    .slice(0, 4)
    .map((x) => `${x.asNumber} ×${n(x.nodes)}`)
    .join(', ');
  const rest = r.nodes.total - total;
  return `${r.bgp.asNumber} (default${rest > 0 ? ` for ${n(rest)} node${rest === 1 ? '' : 's'}` : ', used by no node'}); per node: ${shown}${own.length > 4 ? `, and ${own.length - 4} more` : ''}`;
}

export function renderStatus(r: StatusReport, wide: boolean): string {
  const out: string[] = [];
  const label = (s: string): string => c.bold(s.padEnd(9));
  const src =
    r.source.kind === 'file'
      ? `snapshot ${r.source.path}${r.source.server ? ` (of ${r.source.server}, ${r.source.capturedAt})` : ''}`
      : `${r.source.server}${r.source.context ? ` (context ${r.source.context})` : ''}`;
  out.push(`${label('CLUSTER')}${src}${r.kubernetes.version ? ` · Kubernetes ${r.kubernetes.version}` : ''}`);
  out.push(
    `${label('CALICO')}${r.calico.version ?? c.yellow('version unknown')} · ${r.calico.installMode} install · API ${r.calico.apiMode} · backend ${r.calico.networkingBackend}${r.calico.networkingBackendSource ? c.gray(` (${r.calico.networkingBackendSource})`) : ''}`,
  );
  const zones = Object.entries(r.nodes.zones)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([z, k]) => `${z}=${k}`)
    .join(' ');
  out.push(
    `${label('NODES')}${n(r.nodes.total)} total · ${n(r.nodes.schedulable)} schedulable · ${n(r.nodes.linux)} linux · ${r.nodes.notReady ? c.yellow(`${r.nodes.notReady} NotReady`) : '0 NotReady'}${zones ? ` · zones ${zones}` : ''}`,
  );

  if (r.bgp.applies) {
    out.push(
      `${label('BGP')}full mesh ${onOff(r.bgp.meshEnabled)} · AS ${asText(r)} · ${n(r.bgp.sessions.current)} sessions (full mesh would be ${n(r.bgp.sessions.fullMesh)}) · ${r.bgp.defaultConfigExists ? 'BGPConfiguration default present' : c.gray('no default BGPConfiguration (Calico defaults)')}`,
    );
    if (!r.bgp.podRoutes)
      out.push(
        `  ${c.gray('BGP carries no pod routes (every pool VXLAN, no external peer): route reflector advice does not apply')}`,
      );
    if (r.bgp.routeReflectors.length) {
      const { shown, rest } = more(r.bgp.routeReflectors, wide);
      out.push(`  ${c.bold(`Route reflectors (${r.bgp.routeReflectors.length})`)}`);
      out.push(
        table(
          ['NODE', 'CLUSTER ID', 'ZONE', 'READY', 'SCHEDULABLE'],
          shown.map((rr) => [
            rr.node,
            rr.clusterId,
            rr.zone ?? '-',
            rr.ready ? 'yes' : c.red('no'),
            rr.schedulable ? 'yes' : 'cordoned',
          ]),
          { indent: 4 },
        ),
      );
      if (rest) out.push(c.gray(`    … and ${rest} more (-o wide shows all)`));
    } else out.push(`  ${c.gray('no route reflectors')}`);
    if (r.bgp.peers.length) {
      const { shown, rest } = more(r.bgp.peers, wide);
      out.push(`  ${c.bold(`BGP peers (${r.bgp.peers.length})`)}`);
      out.push(
        table(
          ['NAME', 'NODE / NODE SELECTOR', 'PEER IP / PEER SELECTOR', ...(wide ? ['AS'] : [])],
          shown.map((p) => [
            p.name,
            p.node ?? p.nodeSelector ?? c.gray('(all nodes)'),
            p.peerIP ?? p.peerSelector ?? '-',
            ...(wide ? [p.asNumber ?? '-'] : []),
          ]),
          { indent: 4 },
        ),
      );
      if (rest) out.push(c.gray(`    … and ${rest} more (-o wide shows all)`));
    }
  } else {
    out.push(
      `${label('BGP')}${c.gray(`not in use (backend ${r.calico.networkingBackend}): route reflector advice does not apply`)}`,
    );
  }

  if (r.ipPools.length) {
    out.push(c.bold('IP POOLS'));
    out.push(
      table(
        ['NAME', 'CIDR', 'IPIP', 'VXLAN', 'NAT', 'STATE', ...(wide ? ['NODE SELECTOR'] : [])],
        r.ipPools.map((p) => [
          p.name,
          p.cidr,
          p.ipipMode,
          p.vxlanMode,
          p.natOutgoing ? 'yes' : 'no',
          p.disabled ? c.gray('disabled') : 'enabled',
          ...(wide ? [p.nodeSelector] : []),
        ]),
        { indent: 2 },
      ),
    );
  }

  const t = r.typha;
  const rec =
    t.recommendedBy === 'operator'
      ? `operator formula ${t.recommended}`
      : `manifest guidance ${t.recommendedManifest.min}-${t.recommendedManifest.max}`;
  if (t.replicas) {
    const healthy = t.replicas.ready === t.replicas.desired;
    out.push(
      `${label('TYPHA')}${healthy ? c.green(`${t.replicas.ready}/${t.replicas.desired} ready`) : c.yellow(`${t.replicas.ready}/${t.replicas.desired} ready`)} · ${t.installMode} · ${rec}${t.autoscaler ? ` · autoscaled by ${t.autoscaler}` : ''}`,
    );
  } else out.push(`${label('TYPHA')}${c.gray('not installed')} · ${rec}`);
  out.push(
    `${label('METRICS')}felix ${onOff(r.metrics.felix)}${r.metrics.typha === null ? '' : ` · typha ${onOff(r.metrics.typha)}`}`,
  );
  if (wide) {
    const sc = r.scale;
    const kinds = Object.entries(sc.objectsByKind)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    out.push(
      `${label('SCALE')}${n(sc.nodes)} nodes · ${sc.typhaReplicas === null ? 'no Typha' : `${sc.typhaReplicas} ready Typha, ~${sc.nodesPerTypha ?? '-'} calico-node connections each`} · objects read: ${kinds}`,
    );
    out.push(`  ${c.gray(sc.note)}`);
  }
  for (const w of r.source.warnings) out.push(c.yellow(`warning: ${w}`));

  out.push('');
  const s = r.summary;
  out.push(c.bold(`FINDINGS`) + c.gray(` (${s.critical} critical, ${s.warning} warning, ${s.info} info)`));
  out.push(renderFindings(r.findings, wide));
  return out.join('\n');
}
