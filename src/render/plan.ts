/** Human rendering of a plan (the `--dry-run` default view). */
import type { Plan, Step, StepVerdict } from '../plan/types.js';
import { touchesBgp } from '../plan/simulate.js';
import { c, ok } from './color.js';
import { table } from './table.js';
import { num as n } from '../model/format.js';

export function verdictCell(v: StepVerdict | undefined): string {
  if (!v) return '';
  const base = v.ok ? c.green('✔ all reachable') : c.red(`✖ ${n(v.unreachablePairs)} pairs cut`);
  const n1 = v.n1Ok === null ? '' : v.n1Ok ? c.green(' · N-1 ✔') : c.yellow(' · N-1 ✖');
  const t = v.transient;
  const flap = t
    ? c.yellow(` · ⚡ ${t.nodes.slice(0, 2).join(', ')}${t.count > 2 ? ` +${t.count - 2}` : ''} re-forms`)
    : '';
  return base + n1 + flap;
}

function objectCell(s: Step): string {
  const o = s.object ?? (s.manifest ? { kind: s.manifest.kind, name: s.manifest.metadata.name } : undefined);
  if (s.gate) return `${s.gate.nodes.length} node(s), ${s.gate.timeout}`;
  return o ? `${o.kind}/${o.name}` : '';
}

export function renderPlan(plan: Plan, wide: boolean): string {
  const out: string[] = [];
  const m = plan.metadata;
  const bgpPlan = plan.steps.some(touchesBgp);
  out.push(
    `${c.bold('PLAN')} ${m.name} ${c.gray(`· ${m.createdAt} · ${m.cluster.server ?? 'snapshot'} (${n(m.cluster.nodeCount)} nodes)`)}`,
  );
  out.push(plan.summary.description);
  for (const ch of plan.summary.changes) out.push(`  ${c.gray('•')} ${ch}`);
  out.push('');
  out.push(
    table(
      ['#', 'STEP', 'ACTION', 'OBJECT', ...(bgpPlan ? ['MODEL AFTER STEP'] : [])],
      plan.steps.map((s, i) => [
        String(i + 1),
        (s.checkpoint ? c.bold('⏸ ') : '') + s.title,
        s.action,
        objectCell(s),
        ...(bgpPlan ? [verdictCell(s.verdict)] : []),
      ]),
    ),
  );
  if (wide) {
    out.push('');
    plan.steps.forEach((s, i) => {
      out.push(`${c.bold(`${i + 1}. ${s.title}`)} ${c.gray(`[${s.id}]`)}`);
      out.push(`   ${c.gray('why:')} ${s.why}`);
      if (s.patch) out.push(`   ${c.gray('patch:')} ${JSON.stringify(s.patch)}`);
      if (s.manifest) out.push(`   ${c.gray('create:')} ${JSON.stringify(s.manifest)}`);
      if (s.gate) {
        for (const node of s.gate.nodes) {
          const e = s.gate.expect[node];
          out.push(
            `   ${c.gray('gate:')} ${node}: ${e?.count ?? 0} sessions Established${s.gate.exact ? ' (and no others)' : ''}, within ${s.gate.timeout}; on timeout: ${s.onTimeout ?? 'rollback'}`,
          );
        }
      }
      if (s.undo.length) out.push(`   ${c.gray('undo:')} ${s.undo.map((u) => u.title).join('; ')}`);
      if (s.verdict?.example) out.push(`   ${c.red('model:')} ${s.verdict.example}`);
    });
  }
  out.push('');
  // a plan that changes no BGP object (monitoring, most encap plans): no BGP sections, whose "✔ all reachable"
  // next to a Service read as a claim about it (a review)
  if (!bgpPlan) {
    for (const w of plan.summary.warnings) out.push(`${c.yellow('warning:')} ${w}`);
    return out.join('\n');
  }
  const ss = plan.summary.sessions;
  out.push(
    `${c.bold('SESSIONS')}      ${n(ss.before)} → ${n(ss.after)} ${c.gray(`(full mesh: ${n(ss.fullMesh)})`)}`,
  );
  if (plan.summary.routeReflectors?.length) {
    out.push(c.bold('REFLECTORS'));
    out.push(
      table(
        ['NODE', 'ZONE', 'CLUSTER ID', 'CLIENTS', 'SESSIONS'],
        plan.summary.routeReflectors.map((r) => [
          r.name,
          r.zone ?? '-',
          r.clusterId,
          n(r.clients),
          n(r.sessions),
        ]),
        { indent: 2 },
      ),
    );
  }
  const v = plan.summary.verification;
  out.push(
    `${c.bold('VERIFICATION')}  ${
      v.ok
        ? ok(
            `every step keeps every pair of nodes reachable${v.n1Ok === null ? '' : v.n1Ok ? '; any single reflector can fail at every step' : ''}${v.zoneLoss?.ok === true ? "; so can any one zone's reflectors" : ''}`,
          )
        : c.red(`✖ fails at ${v.failedStep}: ${v.reason}`)
    }`,
  );
  if (v.transient?.length)
    out.push(
      `              ${c.yellow('⚡')} ${v.transient.length} step(s) re-form some node's every BGP session: those nodes' pods lose traffic for a few seconds${v.transient.every((t) => t.drained) ? ' (they are drained first)' : ''}`,
    );
  if (v.zoneLoss?.ok === false && v.zoneLoss.allowed)
    out.push(
      c.yellow(
        `              ▲ accepted with --allow-zone-loss: ${v.zoneLoss.reason ?? 'one zone outage would cut nodes off'}`,
      ),
    );
  // (no reason: no step made it so, the cluster as the plan found it depends on one reflector; an operator
  // trial read "some step depends" beside N-1 ✔ on every step)
  if (v.ok && v.n1Ok === false)
    out.push(
      c.yellow(
        `              ▲ ${v.reason ?? 'the cluster before the plan already depends on a single route reflector; no step makes that worse'}`,
      ),
    );
  for (const w of plan.summary.warnings) out.push(`${c.yellow('warning:')} ${w}`);
  return out.join('\n');
}
