/** Human rendering of `monitoring status`. */
import type { MonitoringReport } from '../monitoring/report.js';
import { c, ok } from './color.js';
import { renderFinding } from './status.js';
import { table } from './table.js';

export function renderMonitoring(r: MonitoringReport, wide: boolean): string {
  const out: string[] = [];
  const po =
    r.prometheusOperator === null
      ? c.gray('unknown')
      : r.prometheusOperator
        ? c.green('served')
        : c.yellow('not served');
  out.push(`${c.bold('Install')}    ${r.installMode}    ${c.bold('monitoring.coreos.com')} ${po}`);
  out.push('');
  out.push(
    table(
      ['COMPONENT', 'NAMESPACE', 'METRICS', 'SWITCH', 'SERVICE', 'SCRAPED BY', 'PROMETHEUS', 'SERVING'],
      r.components
        .filter((x) => x.present)
        .map((x) => [
          x.component,
          x.namespace,
          x.enabled ? c.green(`on :${x.port}`) : c.yellow('off'),
          x.switch,
          // the operator creates its Service once the component's metrics are on; one the cluster does not have
          // is said so, not listed as if it were there (a review: "(operator)" for a Service that did not exist)
          x.service && (x.enabled || x.service.source !== 'operator')
            ? x.service.source === 'operator'
              ? c.yellow(`${x.service.name} (the operator has not created it yet)`)
              : `${x.service.name}:${x.service.portName}`
            : x.service
              ? c.yellow(`none (the operator creates ${x.service.name} with the metrics)`)
              : c.yellow('none'),
          x.scrapedBy.join(', ') || (r.prometheusOperator ? c.yellow('none') : c.gray('-')),
          x.selectedBy.join(', ') || (x.scrapedBy.length ? c.yellow('none') : c.gray('-')),
          serving(x.serving, r.probe.ran, wide),
        ]),
    ),
  );
  if (!r.probe.ran) out.push(c.gray(`serving: ${r.probe.reason ?? 'not probed'}`));
  const notes = r.components.filter(
    (x) => x.present && (x.serving.state === 'not-serving' || x.serving.state === 'forbidden'),
  );
  for (const x of notes)
    out.push(
      `${x.component} serving: ${x.serving.state === 'forbidden' ? c.gray(x.serving.reason ?? '') : c.yellow(`no: ${x.serving.reason}`)}`,
    );
  if (r.prometheuses.length) {
    out.push('');
    out.push(c.bold('Prometheus objects'));
    for (const p of r.prometheuses)
      out.push(
        `  ${p.namespace}/${p.name}  serviceMonitorSelector ${JSON.stringify(p.serviceMonitorSelector)}  namespaceSelector ${JSON.stringify(p.serviceMonitorNamespaceSelector)}`,
      );
  }
  if (r.serviceMonitorTarget) {
    const t = r.serviceMonitorTarget;
    out.push('');
    out.push(
      `${c.bold('ServiceMonitors go to')} ${t.namespace}${
        Object.keys(t.labels).length
          ? ` with ${Object.entries(t.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')}`
          : ''
      }: ${t.reason}`,
    );
  }
  out.push('');
  out.push(
    r.findings.length
      ? r.findings.map((f) => renderFinding(f, wide)).join('\n')
      : ok('monitoring is set up: every component is enabled, exposed and scraped'),
  );
  return out.join('\n');
}

function serving(p: MonitoringReport['components'][number]['serving'], ran: boolean, wide: boolean): string {
  switch (p.state) {
    case 'serving':
      return c.green(`yes (pod ${p.pod}, ${p.families} families)`);
    case 'not-serving': {
      const why = p.reason ?? '';
      return c.yellow(`no: ${wide || why.length <= 48 ? why : `${why.slice(0, 45)}...`}`);
    }
    case 'forbidden':
      return c.gray('not checked (forbidden)');
    default:
      return c.gray(ran ? '-' : 'not checked');
  }
}
