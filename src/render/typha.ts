/** Human rendering of `typha report`: what runs, what is recommended and why, load, growth chart, findings. */
import { manifestTyphaRange, operatorTyphaReplicas } from '../typha/formula.js';
import type { TyphaPodMetrics } from '../typha/metrics.js';
import type { TyphaReport } from '../typha/report.js';
import { stepChart } from './chart.js';
import { c, colorEnabled, ok } from './color.js';
import { renderFinding } from './status.js';
import { table } from './table.js';
import { append } from '../model/arrays.js';
import { num as n } from '../model/format.js';

const label = (s: string): string => c.bold(s.padEnd(10));
const sub = (s: string): string => `  ${c.gray(s.padEnd(12))} `;

/** How the operator's formula arrives at its number for `nodes`. */
export function operatorFormulaText(nodes: number): string {
  if (nodes <= 2) return '1 for up to 2 nodes';
  if (nodes <= 4) return '2 for up to 4 nodes';
  const raw = Math.floor(nodes / 200) + 2;
  return raw < 3 ? `⌊${n(nodes)}/200⌋ + 2 = ${raw}, at least 3` : `⌊${n(nodes)}/200⌋ + 2 = ${raw}`;
}

function range(r: { min: number; max: number }): string {
  return r.min === r.max ? String(r.min) : `${r.min}-${r.max}`;
}

function secs(v: number | null): string {
  if (v === null) return '-';
  if (v < 0.001) return `${(v * 1e6).toFixed(0)}µs`.replace('µ', colorEnabled() ? 'µ' : 'u');
  if (v < 1) return `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)}ms`;
  return `${v.toFixed(2)}s`;
}

export function renderTyphaReport(r: TyphaReport, wide: boolean): string {
  const out: string[] = [];
  const nodes = r.nodes;

  // Where the figures come from
  if (r.whatIf)
    out.push(
      `${label('WHAT-IF')}${n(nodes.counted)} nodes ${c.gray('(no cluster read; actual and live figures do not apply)')}`,
    );
  else {
    const s = r.source;
    const src =
      s.kind === 'file'
        ? `snapshot ${s.path ?? ''}${s.server ? ` (of ${s.server}, ${s.capturedAt})` : ''}`
        : `${s.server ?? ''}${s.context ? ` (context ${s.context})` : ''}`;
    out.push(`${label('CLUSTER')}${src}`);
  }

  // What runs
  const a = r.actual;
  if (!r.whatIf) {
    if (a) {
      const healthy = a.ready === a.desired;
      const readyText = `${a.ready}/${a.desired} ready`;
      out.push(
        `${label('TYPHA')}${r.installMode} install · ${a.namespace}/${a.name} · ${healthy ? c.green(readyText) : c.yellow(readyText)} · ${a.available} available` +
          (r.autoscaler ? ` · ${c.yellow(`scaled by ${r.autoscaler.namespace}/${r.autoscaler.name}`)}` : ''),
      );
    } else {
      out.push(
        `${label('TYPHA')}${c.gray('not installed')}${r.calicoInstallMode !== 'unknown' ? c.gray(` (${r.calicoInstallMode} install of Calico)`) : ''}`,
      );
    }
    const excl = nodes.excluded;
    out.push(
      `${label('NODES')}${n(nodes.total)} total · ${c.bold(n(nodes.counted))} counted ${c.gray('(schedulable, not an AKS virtual node)')} · ${nodes.linux < Math.max(a?.desired ?? 0, r.recommended.replicas) ? c.yellow(`${n(nodes.linux)} Linux`) : `${n(nodes.linux)} Linux`}`,
    );
    const notes: string[] = [];
    if (excl.unschedulable) notes.push(`${n(excl.unschedulable)} unschedulable`);
    if (excl.virtualKubelet)
      notes.push(`${n(excl.virtualKubelet)} AKS virtual node${excl.virtualKubelet === 1 ? '' : 's'}`);
    if (notes.length || nodes.zones.length || nodes.withoutZone) {
      out.push(
        `${' '.repeat(10)}${c.gray([notes.length ? `not counted: ${notes.join(', ')}` : '', nodes.zones.length ? `zones: ${nodes.zones.join(' ')}` : '', nodes.withoutZone ? `${nodes.withoutZone} without a zone label` : ''].filter(Boolean).join(' · '))}`,
      );
    }
  }

  // Recommended
  out.push('');
  const applies = r.recommended.applies;
  const m = r.recommended.manifest;
  const want = applies === 'operator' ? String(r.recommended.operator) : range(m);
  let verdict = '';
  if (a) {
    const lo = applies === 'operator' ? r.recommended.operator : m.min;
    const hi = applies === 'operator' ? r.recommended.operator : m.max;
    verdict =
      a.desired < lo
        ? c.yellow(`running ${a.desired}: too few`)
        : a.desired > hi
          ? c.yellow(`running ${a.desired}: too many`)
          : c.green(`running ${a.desired}: ok`);
    if (r.autoscaler) verdict += c.gray(' (set by the autoscaler)');
  }
  out.push(
    `${c.bold('RECOMMENDED')}  ${c.bold(`${want} replica${want === '1' ? '' : 's'}`)} ${c.gray(`(${applies === 'operator' ? 'operator formula' : 'manifest guidance'})`)}${verdict ? ` · ${verdict}` : ''}`,
  );
  const opRow = ['operator formula', String(r.recommended.operator), operatorFormulaText(nodes.counted)];
  const manRow = ['manifest guidance', range(m), m.note ?? '>= 1 per 200 nodes, >= 3, <= 20, < nodes'];
  const mark = (row: string[], on: boolean): string[] =>
    on ? row.map((x) => c.bold(x)) : row.map((x) => c.gray(x));
  out.push(
    table(
      ['RULE', 'REPLICAS', 'HOW'],
      applies === 'operator'
        ? [mark(opRow, true), mark(manRow, false)]
        : [mark(manRow, true), mark(opRow, false)],
      { indent: 2 },
    ),
  );
  if (wide) {
    out.push(`${sub('sources')}${c.gray(`operator: ${r.recommended.sources.operator}`)}`);
    out.push(`${sub('')}${c.gray(`manifest: ${r.recommended.sources.manifest}`)}`);
  }
  if (r.autoscaler)
    out.push(`  ${c.yellow('an autoscaler sets the count: tune the autoscaler, do not scale by hand')}`);

  // Running pods and their protection
  if (a) {
    out.push('');
    out.push(
      `${c.bold('RUNNING')}  ${c.gray(`${a.pods.length} pod(s) · ${a.hostNetwork ? 'host network' : 'pod network'} · port ${a.port}, so one Typha per node at most`)}`,
    );
    const limit = wide ? a.pods.length : 8;
    const several = new Set(a.nodesWithSeveralPods);
    if (a.pods.length) {
      out.push(
        table(
          ['POD', 'NODE', 'ZONE', 'READY'],
          a.pods
            .slice(0, limit)
            .map((p) => [
              p.name,
              p.node
                ? several.has(p.node)
                  ? c.red(`${p.node} (shared)`)
                  : p.node
                : c.yellow(p.phase ?? 'Pending'),
              p.zone ?? '-',
              p.ready ? 'yes' : c.yellow('no'),
            ]),
          { indent: 2 },
        ),
      );
      if (a.pods.length > limit)
        out.push(c.gray(`  … and ${a.pods.length - limit} more (-o wide shows all)`));
    } else out.push(`  ${c.yellow('no Typha pods found')}`);
    out.push(
      `${sub('zones')}${a.zones.map((z) => `${z.zone}=${z.pods}`).join(' ') || '-'}${a.zones.length === 1 && nodes.zones.length > 1 ? c.yellow(`  (nodes span ${nodes.zones.length})`) : ''}`,
    );
    const pdb = a.pdb;
    out.push(
      `${sub('PDB')}${
        pdb
          ? `${pdb.name}: ${pdb.maxUnavailable !== null ? `maxUnavailable ${pdb.maxUnavailable}` : pdb.minAvailable !== null ? `minAvailable ${pdb.minAvailable}` : 'no limit'}${pdb.disruptionsAllowed !== null ? ` · ${pdb.disruptionsAllowed} disruption(s) allowed now` : ''}`
          : c.yellow('none')
      }`,
    );
    const aff =
      a.antiAffinity === 'none'
        ? 'no anti-affinity'
        : `anti-affinity ${a.antiAffinity} (${a.antiAffinityTopologyKeys.join(', ') || '-'})`;
    const spread = a.topologySpreadKeys.length
      ? `topology spread (${a.topologySpreadKeys.join(', ')})`
      : 'no topology spread';
    out.push(`${sub('spreading')}${aff} · ${spread}`);
    out.push(
      `${sub('requests')}${
        a.requests && Object.keys(a.requests).length
          ? Object.entries(a.requests)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')
          : c.gray('none set')
      }`,
    );
    out.push(
      `${sub('metrics')}${a.metrics.enabled ? c.green(`on${a.metrics.port !== null ? `, port ${a.metrics.port}` : ''}`) : c.yellow('off')}`,
    );
  }

  // Load
  out.push('');
  const l = r.load;
  out.push(c.bold('LOAD'));
  const over = l.perReplica > l.perReplicaCap;
  out.push(
    `${sub('estimated')}${n(l.connections)} connections ${c.gray(`(up to ${l.connectionsPerNode} from each of ${n(l.nodes)} calico-nodes)`)}`,
  );
  out.push(
    `${sub('')}${over ? c.yellow(`~${n(l.perReplica)}`) : `~${n(l.perReplica)}`} per Typha with ${l.replicas} ${c.gray(`(Typha caps itself at ${n(l.perReplicaCap)} when rebalancing)`)}`,
  );
  append(out, renderLive(r, wide));

  // Growth
  out.push('');
  const g = r.growth;
  out.push(
    `${c.bold('GROWTH')}  ${c.gray(`(${g.basis === 'operator' ? 'operator formula' : 'manifest guidance'} applies)`)}`,
  );
  out.push(
    table(
      ['NODES', '', 'OPERATOR', 'MANIFEST'],
      g.rows.map((row) => [n(row.nodes), row.label ?? '', row.operator, range(row.manifest)]),
      { indent: 2 },
    ),
  );
  if (g.nextChanges.length) {
    const val = (x: (typeof g.nextChanges)[number]): string =>
      g.basis === 'operator' ? String(x.operator) : range(x.manifest);
    out.push(
      `${sub('next changes')}${g.nextChanges
        .map((x) => `${n(x.nodes)} nodes → ${val(x)}`)
        .join(' · ')
        .replace(/→/g, colorEnabled() ? '→' : '->')}`,
    );
  } else out.push(`${sub('next changes')}${c.gray('none: the manifest guidance stays at 20 from here')}`);
  out.push(growthChart(r));

  // Findings
  out.push('');
  const s = r.summary;
  out.push(c.bold('FINDINGS') + c.gray(` (${s.critical} critical, ${s.warning} warning, ${s.info} info)`));
  out.push(
    r.findings.length
      ? r.findings.map((f) => renderFinding(f, wide)).join('\n')
      : ok(
          r.whatIf
            ? 'no findings (what-if: nothing runs to check)'
            : 'no findings: Typha matches best practice',
        ),
  );
  for (const w of r.source.warnings) out.push(c.yellow(`warning: ${w}`));
  return out.join('\n');
}

function renderLive(r: TyphaReport, wide: boolean): string[] {
  const lm = r.liveMetrics;
  const out: string[] = [];
  if (!lm.read) {
    out.push(`${sub('live')}${c.gray('not read: ')}${lm.reason ?? 'unknown reason'}`);
    return out;
  }
  const t = lm.totals!;
  const parts = [
    `${t.connectionsActive !== null ? n(t.connectionsActive) : '-'} active`,
    t.connectionsStreaming !== null ? `${n(t.connectionsStreaming)} streaming` : '',
    t.minPerPod !== null && t.maxPerPod !== null ? `${n(t.minPerPod)}-${n(t.maxPerPod)} per pod` : '',
    t.connectionsDropped !== null ? `${n(t.connectionsDropped)} dropped (rebalancing)` : '',
    t.worstClientLatencySecs !== null ? `worst client latency ${secs(t.worstClientLatencySecs)}` : '',
  ].filter(Boolean);
  out.push(`${sub('live')}${parts.join(' · ')}`);
  if (lm.reason) out.push(`${sub('')}${c.yellow(lm.reason)}`);
  const rows = wide ? lm.pods : lm.pods.slice(0, 8);
  const cell = (p: TyphaPodMetrics, v: number | null): string => (p.ok ? (v === null ? '-' : n(v)) : '');
  out.push(
    table(
      ['POD', 'ACTIVE', 'STREAMING', 'DROPPED', 'LATENCY', ''],
      rows.map((p) => [
        p.pod,
        cell(p, p.connectionsActive),
        cell(p, p.connectionsStreaming),
        cell(p, p.connectionsDropped),
        p.ok ? secs(p.clientLatency?.p99 ?? p.clientLatency?.mean ?? null) : '',
        p.ok ? '' : c.yellow(p.error ?? 'not read'),
      ]),
      { indent: 2 },
    ),
  );
  if (lm.pods.length > rows.length)
    out.push(c.gray(`  … and ${lm.pods.length - rows.length} more (-o wide shows all)`));
  return out;
}

/** Replicas vs nodes for the applying rule (manifest: its minimum), from 0 to 10x today, today marked. */
export function growthChart(r: TyphaReport): string {
  const nodes = r.nodes.counted;
  const basis = r.growth.basis;
  const f = basis === 'operator' ? operatorTyphaReplicas : (x: number): number => manifestTyphaRange(x).min;
  const last = r.growth.rows[r.growth.rows.length - 1]?.nodes ?? 1000;
  const xMax = Math.max(last, nodes, 10);
  const title = `  ${c.gray(`replicas (${basis === 'operator' ? 'operator formula' : 'manifest minimum'}) vs nodes`)}`;
  return [
    title,
    stepChart({
      f,
      xMax,
      width: 60,
      height: 8,
      unicode: colorEnabled(),
      mark: {
        x: nodes,
        label: `${r.whatIf ? 'what-if' : 'now'}: ${n(nodes)} node${nodes === 1 ? '' : 's'}, ${f(nodes)} replica${f(nodes) === 1 ? '' : 's'}`,
      },
      ticks: r.growth.nextChanges.slice(0, 1).map((x) => x.nodes),
      formatX: n,
    }),
  ].join('\n');
}
