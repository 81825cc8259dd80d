/**
 * Shared by the fabric tests: run a scenario on the rig (K = $CALICO_TUNE_FABRIC_NODES, default 12), print its
 * table with the harness measurements, keep the JSON report when $CALICO_TUNE_FABRIC_OUT names a directory, and
 * the assertions every scenario makes.
 */
import assert from 'node:assert/strict';
import { controlPlane, measure } from '../harness/index.js';
import { describeOutage } from './report.js';
import { formatReport, runScenario, type FabricReport, type Scenario } from './scenario.js';

export const FABRIC_NODES = Number(process.env['CALICO_TUNE_FABRIC_NODES'] ?? 12);

/** Runs the scenario on a fresh rig of FABRIC_NODES nodes (the shared v3.31.3 control plane is reset first). */
export async function runForTest(scenario: Scenario): Promise<FabricReport> {
  const cp = await controlPlane({ calico: 'v3.31.3' });
  const verbose = process.env['CALICO_TUNE_FABRIC_VERBOSE'] === '1';
  const out = process.env['CALICO_TUNE_FABRIC_OUT'];
  const report = await runScenario(cp, scenario, {
    k: FABRIC_NODES,
    log: verbose ? (l) => process.stderr.write(`      ${l}\n`) : undefined,
    ...(out ? { outDir: out } : {}),
  });
  measure(`fabric ${scenario.name}:\n${formatReport(report).replace(/^/gm, '      ')}`);
  return report;
}

/** The probes ran for the whole scenario at about their nominal rate (so "0 lost" means something). */
export function assertProbesRan(r: FabricReport): void {
  const seconds = r.steps.reduce((a, s) => a + s.durationMs, 0) / 1000;
  const nominal = (seconds * 1000 * r.totals.pairs) / r.periodMs;
  assert.ok(
    r.totals.probes >= 0.5 * nominal,
    `only ${r.totals.probes} probes over ${seconds.toFixed(0)} s for ${r.totals.pairs} pairs (nominal ${Math.round(nominal)})`,
  );
  const baseline = r.steps.find((s) => s.kind === 'baseline');
  assert.ok(baseline && baseline.probes > 0, 'probes answered during the baseline');
  assert.equal(baseline.lost, 0, 'no loss during the baseline (the rig converged before the scenario)');
}

/**
 * Issue 12's goal, as it stands: two nodes that keep their role never lose their routes to each other. The only
 * probes they may lose are those sent while BIRD replaced that pair's kernel route by delete + add (same next
 * hop; BIRD 1.6 never uses NLM_F_REPLACE): each lost probe must have such a replace of its route, in one
 * direction or the other, less than one probe period (100 ms) from it in `ip monitor route` (docs/fabric.md).
 * Those are counted in the report;
 * any other loss (a withdrawn route, or no replace at that moment) fails.
 */
export function assertStablePairsKeepRoutes(r: FabricReport): void {
  assert.ok(r.stable.pairs > 0 && r.stable.probes > 0, 'some pairs keep their role');
  assert.deepEqual(
    r.stable.unexplained,
    [],
    `outages between nodes whose role never changed (${r.stable.lost} probes lost, ${r.stable.krtReplace} at kernel route replaces)\n${formatReport(r)}`,
  );
  assert.ok(r.stable.lost === r.stable.krtReplace, `${r.stable.lost} lost, ${r.stable.krtReplace} explained`);
}

/**
 * Every loss of a node that changes role happens while a plugin run that changes it is running (its own steps,
 * or other steps of the same plan): nothing leaks out of the plans, e.g. after a gate passed on a stale report.
 * Losses in steps of the plan that name neither node are in the report (`outsideOwnSteps`) and docs/fabric.md.
 */
export function assertLossWithinOwnRuns(r: FabricReport): void {
  assert.ok(
    r.outsideOwnRuns.length === 0,
    `${r.outsideOwnRuns.length} outages outside the runs that change the node:\n  ${r.outsideOwnRuns.slice(0, 12).join('\n  ')}\n${formatReport(r)}`,
  );
}

/**
 * The known bug of issue 12's rig runs (docs/fabric.md): a plan whose last gate passes before the sessions of a
 * node re-form (a report from before the write, or only the node's side of sessions the peers restart), so the
 * outage the write causes outlives the run (it may even start after the run ended). Returns those outages, and
 * every other outage of a role-changing node outside the runs that change it (which must be none).
 */
export function splitLeaks(r: FabricReport): { trailing: FabricReport['outages']; others: string[] } {
  // caused by a role write: it starts within BIRD's reaction time (confd + reconfigure: 17-57 ms measured; 1 s
  // allowed) after a write of one of the pair's nodes, made by a run that had ended before the outage did
  const trailing = r.outages.filter((o) =>
    r.writes.some((w) => {
      if (!w.role || ![o.src, o.dst].includes(w.what.split(' ').pop()!)) return false;
      const run = r.commands.find((c) => w.at >= c.startedAt && w.at <= c.endedAt);
      return run !== undefined && o.from >= w.at && o.from <= w.at + 1000 && o.to > run.endedAt;
    }),
  );
  const others = r.outsideOwnRuns.filter((l) => !trailing.some((o) => l.startsWith(describeOutage(o))));
  return { trailing, others };
}

/** Exit code of the command recorded under `label`. */
export function exitOf(r: FabricReport, label: string): number | null {
  const c = r.commands.find((x) => x.label === label);
  assert.ok(c, `no command ${label} in the report (${r.commands.map((x) => x.label).join(', ')})`);
  return c.exit;
}

/** The nodes the plugin's plans marked ⚡ (every BGP session re-forms in that step), read from the plans it printed. */
export function plannedTransients(r: FabricReport): string[] {
  const out = new Set<string>();
  for (const c of r.commands)
    for (const m of c.stderr.matchAll(/⚡ ([^\s,]+)(?:, ([^\s,]+))?(?: \+\d+)? re-forms/g)) {
      out.add(m[1]!);
      if (m[2]) out.add(m[2]);
    }
  return [...out].sort();
}

/**
 * The nodes the packets show cut off from every other node at some point (an outage of at least two probes with
 * each of the K-1 others): what a node whose sessions all re-form looks like on the wire. A node that only loses
 * traffic with a flapping peer is not one of them.
 */
export function cutOffNodes(r: FabricReport): string[] {
  const peers = new Map<string, Set<string>>();
  for (const o of r.outages) {
    if (o.lost < 2) continue;
    for (const [a, b] of [
      [o.src, o.dst],
      [o.dst, o.src],
    ] as const) {
      if (!peers.has(a)) peers.set(a, new Set());
      peers.get(a)!.add(b);
    }
  }
  return [...peers]
    .filter(([, p]) => p.size >= r.k - 1)
    .map(([n]) => n)
    .sort();
}

/** The plans' transition claims against the packets: the ⚡ nodes are exactly the nodes the probes saw cut off. */
export function assertTransientsMatchPackets(r: FabricReport): void {
  const planned = plannedTransients(r);
  assert.ok(planned.length > 0, 'the plans marked no transition');
  assert.deepEqual(cutOffNodes(r), planned, 'nodes cut off on the wire vs nodes the plans marked ⚡');
}
