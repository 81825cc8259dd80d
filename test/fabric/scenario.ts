/**
 * Running a scenario on the rig and measuring it: start the rig (Fabric) and the CalicoNodeStatus bridge, start
 * the probes, let a baseline pass, run the scenario's plugin commands (the real CLI, `node bin/run.js`, as the
 * least-privilege `plugin` user) and actions, let the fabric settle, stop the probes, and build the report: a
 * row per plan step (from the plugin's progress lines), loss per node, the loss between nodes whose role never
 * changed (from the audit log: writes of the route-reflector label or the cluster ID), and the writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runCli, sleep, USERS, type ControlPlane, type Obj } from '../harness/index.js';
import type { AuditEvent } from '../harness/audit.js';
import { Probes, type Outage, type ProbeData } from './probes.js';
import {
  formatTable,
  isRouteReplaceBlip,
  lossByNode,
  lossOutsideCommands,
  nodesIn,
  phasesOfRun,
  stablePairLoss,
  tabulate,
  unattributedLoss,
  type Line,
  type NodeLoss,
  type Phase,
  type PhaseRow,
  type StableLoss,
} from './report.js';
import { ANN_CID, Fabric, RR_LABEL, type FabricTimings } from './rig.js';
import { StatusBridge, type BridgeStats } from './status-bridge.js';

export interface CommandRecord {
  label: string;
  args: string[];
  exit: number | null;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  stderr: string;
  stdout: string;
}

export interface WriteRecord {
  at: number;
  user: string;
  verb: string;
  what: string;
  /** For Node writes: the role fields written (label route-reflector, cluster ID). */
  role?: string;
}

export interface FabricReport {
  scenario: string;
  description: string;
  k: number;
  periodMs: number;
  startedAt: string;
  durationMs: number;
  rig: FabricTimings;
  commands: CommandRecord[];
  steps: PhaseRow[];
  totals: { probes: number; lost: number; pairsAffected: number; pairs: number };
  /** Nodes whose route-reflector label or cluster ID was written during the run. */
  roleChanged: string[];
  /** Nodes the scenario disturbed on purpose (e.g. BIRD stopped). */
  disturbed: string[];
  /** Pairs where neither node changed role nor was disturbed. */
  stable: StableLoss;
  nodes: NodeLoss[];
  /**
   * Outages of a role-changing node's pairs that overlap steps naming neither node of the pair (found, for
   * example, when a reflector-to-be's session to a client is down while another node is demoted).
   */
  outsideOwnSteps: string[];
  /**
   * Outages of a role-changing node's pairs outside every plugin run that changed (or names) one of them; single
   * probes lost at a kernel route replace are left out.
   */
  outsideOwnRuns: string[];
  outages: Outage[];
  /** The outages (of any pair) whose every probe was lost at a kernel route replace of the pair's route. */
  replaceBlips: Outage[];
  writes: WriteRecord[];
  bridge: BridgeStats;
  notes: string[];
  /** Scenario-specific results (e.g. the model's prediction). */
  extra: Record<string, unknown>;
}

export interface ScenarioContext {
  fabric: Fabric;
  cp: ControlPlane;
  kubeconfig: string;
  log: (line: string) => void;
  /** Runs the plugin; its progress lines become phases. Throws unless the exit code is `expectExit` (default 0). */
  cli(
    label: string,
    args: string[],
    opts?: { expectExit?: number | null; timeoutMs?: number; env?: NodeJS.ProcessEnv },
  ): Promise<CommandRecord>;
  /** A phase of the scenario's own (e.g. stopping a BIRD), with the nodes it touches. */
  action<T>(label: string, nodes: string[], fn: () => Promise<T>): Promise<T>;
  /** Waits `ms` as a phase of its own (e.g. steady state). */
  hold(label: string, ms: number): Promise<void>;
  disturb(node: string): void;
  note(text: string): void;
  /** Scenario-specific results, copied into the report. */
  extra: Record<string, unknown>;
  /** Live node objects. */
  nodes(): Promise<Obj[]>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Route reflectors the rig starts with (mesh off when > 0). */
  rrs?: number;
  /** Their cluster IDs (default: one each, as the tool makes them). */
  rrClusterIds?: 'shared' | 'distinct';
  run(ctx: ScenarioContext): Promise<void>;
}

export interface RunOptions {
  k: number;
  periodMs?: number;
  log?: (line: string) => void;
  /** Baseline before and settle time after the scenario (ms); default 3000 each. */
  baselineMs?: number;
  settleMs?: number;
  /** Where to write report.json and the table (default: the rig's dir, removed with it). */
  outDir?: string;
}

const ROLE_KEYS = [`"${RR_LABEL}"`, `"${ANN_CID}"`];

function roleChange(e: AuditEvent): string | undefined {
  if (e.objectRef?.resource !== 'nodes' || !['patch', 'update'].includes(e.verb)) return undefined;
  const body = JSON.stringify(e.requestObject ?? {});
  if (!ROLE_KEYS.some((k) => body.includes(k))) return undefined;
  const md = (
    e.requestObject as {
      metadata?: { labels?: Record<string, unknown>; annotations?: Record<string, unknown> };
    }
  )?.metadata;
  const parts: string[] = [];
  if (md?.labels && RR_LABEL in md.labels)
    parts.push(`label ${RR_LABEL}=${JSON.stringify(md.labels[RR_LABEL])}`);
  if (md?.annotations && ANN_CID in md.annotations)
    parts.push(`cluster ID ${JSON.stringify(md.annotations[ANN_CID])}`);
  return parts.join(', ') || 'role fields';
}

/** Runs one scenario on a fresh rig of `opts.k` nodes and returns its report. */
export async function runScenario(
  cp: ControlPlane,
  scenario: Scenario,
  opts: RunOptions,
): Promise<FabricReport> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const fabric = await Fabric.start(cp, opts.k, {
    log,
    rrs: scenario.rrs ?? 0,
    rrClusterIds: scenario.rrClusterIds,
  });
  const bridge = new StatusBridge(fabric, cp.client('simulator'), { log });
  const probes = new Probes(fabric, { periodMs: opts.periodMs ?? 100 });
  const phases: Phase[] = [];
  const commands: CommandRecord[] = [];
  const disturbed = new Set<string>();
  const notes: string[] = [];
  const extra: Record<string, unknown> = {};
  let cursor = 0;
  const idleUntil = (at: number, label = '(between steps)'): void => {
    if (at - cursor > 1) phases.push({ label, kind: 'idle', group: '', start: cursor, end: at, nodes: [] });
    cursor = at;
  };
  try {
    await bridge.start();
    const mark = cp.audit.mark();
    await probes.start();
    cursor = probes.startedAt;
    await sleep(opts.baselineMs ?? 3000);
    phases.push({
      label: '(baseline)',
      kind: 'baseline',
      group: '',
      start: cursor,
      end: Date.now(),
      nodes: [],
    });
    cursor = Date.now();
    const ctx: ScenarioContext = {
      fabric,
      cp,
      kubeconfig: cp.kubeconfig('plugin'),
      log,
      async cli(label, args, o = {}) {
        const lines: Line[] = [];
        const startedAt = Date.now();
        idleUntil(startedAt);
        log(`$ kubectl calico-tune ${args.join(' ')}`);
        const r = await runCli(args, {
          kubeconfig: cp.kubeconfig('plugin'),
          timeoutMs: o.timeoutMs ?? 600_000,
          // the real gate settling (2 s of the node's reports): what the rig is here to check
          env: { CALICO_TUNE_TEST_GATE_SETTLE_MS: '2000', ...(o.env ?? {}) },
          onLine: (stream, text, at) => {
            if (stream !== 'stderr') return;
            lines.push({ at, text });
            if (/^\[\d+\/\d+\] |timed out|rolling back|undone:|resuming/.test(text)) log(`  ${text}`);
          },
        });
        const endedAt = Date.now();
        const ps = phasesOfRun(label, lines, startedAt, endedAt, fabric.names);
        const last = ps.at(-1);
        if (r.code === null && r.signal && last?.kind === 'unfinished')
          last.label = `${last.label.split(' ')[0]} killed by ${r.signal} (after: ${last.label.replace(/^\S+ not completed: /, '')})`;
        phases.push(...ps);
        cursor = endedAt;
        const rec: CommandRecord = {
          label,
          args,
          exit: r.code,
          startedAt,
          endedAt,
          durationMs: endedAt - startedAt,
          stderr: r.stderr,
          stdout: r.stdout,
        };
        commands.push(rec);
        const want = o.expectExit === undefined ? 0 : o.expectExit;
        if (want !== null && r.code !== want)
          throw new Error(
            `\`kubectl calico-tune ${args.join(' ')}\` exited ${r.code ?? r.signal} (expected ${want}) after ${r.durationMs} ms\n` +
              `--- stderr ---\n${r.stderr.slice(-4000)}\n--- stdout ---\n${r.stdout.slice(-2000)}`,
          );
        return rec;
      },
      async action(label, nodes, fn) {
        const start = Date.now();
        idleUntil(start);
        log(`# ${label}`);
        try {
          return await fn();
        } finally {
          phases.push({ label, kind: 'action', group: 'scenario', start, end: Date.now(), nodes });
          cursor = Date.now();
        }
      },
      async hold(label, ms) {
        const start = Date.now();
        idleUntil(start);
        await sleep(ms);
        phases.push({
          label,
          kind: 'idle',
          group: 'scenario',
          start,
          end: Date.now(),
          nodes: nodesIn(label, fabric.names),
        });
        cursor = Date.now();
      },
      disturb(node) {
        disturbed.add(node);
      },
      note(text) {
        notes.push(text);
        log(`note: ${text}`);
      },
      extra,
      async nodes() {
        return (await cp.client('admin').list('/api/v1/nodes')).items;
      },
    };
    await scenario.run(ctx);
    const settleStart = Date.now();
    idleUntil(settleStart);
    await sleep(opts.settleMs ?? 3000);
    await probes.stop();
    phases.push({
      label: '(after)',
      kind: 'after',
      group: '',
      start: settleStart,
      end: probes.stoppedAt + 1,
      nodes: [],
    });
    const writes = await collectWrites(cp, mark);
    const data = probes.analyse();
    const roleChanged = [
      ...new Set(writes.filter((w) => w.role).map((w) => w.what.split(' ').pop()!)),
    ].sort();
    const report = buildReport(scenario, opts.k, fabric, data, phases, {
      t0,
      commands,
      roleChanged,
      disturbed: [...disturbed].sort(),
      writes,
      bridge: bridge.stats,
      notes,
      extra,
    });
    const outDir = opts.outDir ?? fabric.dir;
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `${scenario.name}-k${opts.k}.json`), JSON.stringify(report, null, 2));
    return report;
  } finally {
    await probes.stop().catch(() => undefined);
    await bridge.stop().catch(() => undefined);
    await fabric.stop();
  }
}

async function collectWrites(cp: ControlPlane, mark: number): Promise<WriteRecord[]> {
  const events = await cp.audit.writesSince(mark, {
    user: [USERS.plugin.name, USERS.admin.name],
    onlySucceeded: true,
  });
  return events
    .filter((e) => !['caliconodestatuses', 'leases', 'events'].includes(e.objectRef?.resource ?? ''))
    .map((e) => {
      const role = roleChange(e);
      return {
        at: Date.parse(e.requestReceivedTimestamp ?? ''),
        user: e.user.username,
        verb: e.verb,
        what: `${e.objectRef?.resource ?? '?'}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.objectRef?.name ?? ''}`,
        ...(role ? { role } : {}),
      };
    });
}

function buildReport(
  scenario: Scenario,
  k: number,
  fabric: Fabric,
  data: ProbeData,
  phases: Phase[],
  x: {
    t0: number;
    commands: CommandRecord[];
    roleChanged: string[];
    disturbed: string[];
    writes: WriteRecord[];
    bridge: BridgeStats;
    notes: string[];
    extra: Record<string, unknown>;
  },
): FabricReport {
  const steps = tabulate(phases, data);
  const exclude = new Set([...x.roleChanged, ...x.disturbed]);
  const windows = new Map<string, [number, number][]>();
  // the runs that change a node: those that wrote its role, and those named after it (e.g. `--rollback`); a run
  // killed by a signal leaves its plan in the journal: it lasts until the next run (the --resume or --rollback)
  x.commands.forEach((c, i) => {
    const nodes = new Set(nodesIn(c.args.join(' '), fabric.names));
    for (const w of x.writes)
      if (w.role && w.at >= c.startedAt - 1000 && w.at <= c.endedAt) nodes.add(w.what.split(' ').pop()!);
    const end = c.exit === null ? (x.commands[i + 1]?.endedAt ?? c.endedAt) : c.endedAt;
    for (const n of nodes) (windows.get(n) ?? windows.set(n, []).get(n)!).push([c.startedAt, end]);
  });
  const disturbed = new Set(x.disturbed);
  const replaces = fabric.names.flatMap((n) => fabric.routeReplaces(n));
  const blockOf = (n: string): string => fabric.node(n).block;
  const lost = data.pairs.reduce((a, p) => a + p.lost.length, 0);
  return {
    scenario: scenario.name,
    description: scenario.description,
    k,
    periodMs: data.periodMs,
    startedAt: new Date(x.t0).toISOString(),
    durationMs: Date.now() - x.t0,
    rig: fabric.timings,
    commands: x.commands,
    steps,
    totals: {
      probes: data.pairs.reduce((a, p) => a + p.sent, 0),
      lost,
      pairsAffected: data.pairs.filter((p) => p.lost.length).length,
      pairs: data.pairs.length,
    },
    roleChanged: x.roleChanged,
    disturbed: x.disturbed,
    stable: stablePairLoss(data, exclude, replaces, blockOf),
    nodes: lossByNode(steps, data, fabric.names).filter((n) => n.lost || exclude.has(n.node)),
    outsideOwnSteps: unattributedLoss(steps, data.outages, new Set(x.roleChanged), disturbed),
    outsideOwnRuns: lossOutsideCommands(data.outages, windows, disturbed, (o) =>
      isRouteReplaceBlip(o, replaces, blockOf, data.periodMs),
    ),
    outages: data.outages,
    replaceBlips: data.outages.filter((o) => isRouteReplaceBlip(o, replaces, blockOf, data.periodMs)),
    writes: x.writes,
    bridge: x.bridge,
    notes: x.notes,
    extra: x.extra,
  };
}

/** The report as text: the per-step table and the summary lines. */
export function formatReport(r: FabricReport): string {
  const rel = (t: number): string => `+${((t - Date.parse(r.startedAt)) / 1000).toFixed(1)}s`;
  const lines = [
    `scenario ${r.scenario} on ${r.k} nodes (${r.description})`,
    `rig: fixture ${r.rig.fixtureMs} ms, namespaces ${r.rig.namespacesMs} ms, confd ${r.rig.confdMs} ms, BIRD ${r.rig.birdMs} ms, ` +
      `converged ${r.rig.convergedMs} ms; probes every ${r.periodMs} ms per ordered pair; total ${(r.durationMs / 1000).toFixed(1)} s`,
    ...r.commands.map(
      (c) =>
        `  ${c.label}: kubectl calico-tune ${c.args.join(' ')} -> exit ${c.exit} in ${(c.durationMs / 1000).toFixed(1)} s`,
    ),
    '',
    formatTable(r.steps),
    '',
    `total: ${r.totals.lost} of ${r.totals.probes} probes lost, ${r.totals.pairsAffected} of ${r.totals.pairs} ordered pairs affected`,
    `role changed: ${r.roleChanged.join(' ') || '-'}; disturbed on purpose: ${r.disturbed.join(' ') || '-'}`,
    `pairs where neither node changed role: ${r.stable.lost} of ${r.stable.probes} probes lost over ${r.stable.pairs} pairs` +
      ` (${r.stable.krtReplace} at a kernel route replace by BIRD, ${r.stable.unexplained.length} outages otherwise)` +
      (r.stable.examples.length ? `\n  ${r.stable.examples.join('\n  ')}` : ''),
    ...r.nodes.map(
      (n) =>
        `  ${n.node}: ${n.lost} lost, longest outage ${n.longestGapMs} ms, in ${
          Object.entries(n.phases)
            .map(([p, c]) => `${c} during "${p}"`)
            .join('; ') || '-'
        }`,
    ),
    ...(r.outsideOwnSteps.length
      ? [
          `loss outside the steps of the node concerned (${r.outsideOwnSteps.length}):`,
          ...r.outsideOwnSteps.slice(0, 8).map((l) => `  ${l}`),
        ]
      : []),
    ...(r.outsideOwnRuns.length
      ? [
          `loss outside the runs that change the node (${r.outsideOwnRuns.length}):`,
          ...r.outsideOwnRuns.slice(0, 8).map((l) => `  ${l}`),
        ]
      : []),
    `role writes: ${
      r.writes
        .filter((w) => w.role)
        .map((w) => `${rel(w.at)} ${w.what} (${w.role})`)
        .join('; ') || '-'
    }`,
    `CalicoNodeStatus bridge: ${r.bridge.reads} BIRD reads, ${r.bridge.writes} writes, ${r.bridge.readErrors} failed reads`,
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}
