/**
 * What every mutating command shares: the plan flags, building (or resuming) a plan, printing it for a dry
 * run, and handing it to the one executor. Commands only say how to build their plan.
 */
import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag, snapshotFlag } from './base-command.js';
import { CliError, ExitCode, usageError } from './errors.js';
import type { ClusterSnapshot } from './model/types.js';
import type { ExecuteResult } from './executor/executor.js';
import type { Plan } from './plan/types.js';
import { c } from './render/color.js';

export const planFlags = {
  output: outputFlag(['table', 'wide', 'json', 'yaml', 'script'] as const),
  'dry-run': Flags.string({
    description:
      'Only show the plan (client), or also send every write with dryRun=All (server). Bare --dry-run means client.',
    options: ['none', 'client', 'server'],
    default: 'none',
  }),
  yes: Flags.boolean({
    char: 'y',
    description: 'Apply without asking at checkpoints (required when not at a terminal)',
  }),
  timeout: Flags.string({
    description: 'How long each gate waits for BGP sessions (e.g. 10m)',
    default: '10m',
  }),
  resume: Flags.boolean({
    description: 'Continue the unfinished plan recorded in the cluster',
    exclusive: ['rollback'],
  }),
  rollback: Flags.boolean({
    description: 'Undo the steps of the unfinished plan recorded in the cluster, in reverse',
    exclusive: ['resume'],
  }),
  ...snapshotFlag,
};

export interface PlanFlags {
  output: string;
  'dry-run': string;
  yes: boolean;
  timeout: string;
  resume: boolean;
  rollback: boolean;
  snapshot?: string | undefined;
}

export { planName } from './plan/name.js';

export abstract class PlanCommand extends BaseCommand {
  /** kubectl accepts a bare `--dry-run` (meaning client); oclif needs a value. */
  override async init(): Promise<void> {
    this.argv = this.argv.map((a, i, all) =>
      a === '--dry-run' && !['none', 'client', 'server'].includes(all[i + 1] ?? '') ? '--dry-run=client' : a,
    );
    await super.init();
  }

  /** The command line that resumes or rolls back, for messages. */
  protected resumeHint(): string {
    const ctx = this.base.context ? ` --context ${this.base.context}` : '';
    const kc = this.base.kubeconfig ? ` --kubeconfig ${this.base.kubeconfig}` : '';
    return `kubectl calico-tune apply${ctx}${kc}`;
  }

  /**
   * Builds (or, with --resume/--rollback, recovers) the plan and shows or executes it.
   * `build` gets the snapshot; `planFile` is a saved plan to apply instead.
   */
  protected async runPlan(
    flags: PlanFlags,
    build: ((s: ClusterSnapshot) => Plan) | { file: string },
  ): Promise<void> {
    const dryRun = flags.snapshot ? 'client' : flags['dry-run'];
    if (flags.snapshot && flags['dry-run'] === 'server')
      throw usageError('--dry-run=server needs a cluster; --snapshot plans offline (client dry run)');
    if ((flags.resume || flags.rollback) && flags.snapshot)
      throw usageError('--resume and --rollback act on the cluster; they cannot be used with --snapshot');
    const toScript = flags.output === 'script';

    const { parseDurationMs } = await import('./model/duration.js');
    const timeoutMs = parseDurationMs(flags.timeout);
    if (timeoutMs === undefined || timeoutMs <= 0)
      throw usageError(`invalid --timeout "${flags.timeout}" (examples: 90s, 10m)`);
    if (dryRun === 'none' && !toScript && !flags.yes) {
      const { isInteractive } = await import('./prompt/index.js');
      if (!isInteractive())
        throw usageError(
          'this changes the cluster and no one is at a terminal to confirm',
          'pass --yes to apply without prompts, or --dry-run to only show the plan',
        );
    }
    if (flags.resume || flags.rollback) {
      if (dryRun !== 'none') throw usageError('--resume/--rollback cannot be combined with --dry-run');
      return this.execute(undefined, flags, timeoutMs, flags.resume ? 'resume' : 'rollback');
    }

    let snapshot: ClusterSnapshot | undefined;
    let plan: Plan;
    if ('file' in build) {
      const { readPlanFile } = await import('./kube/files.js');
      plan = readPlanFile(build.file);
      // the live state: stale-plan check before the first write, and the Calico API mode
      if (dryRun !== 'client' && !toScript) snapshot = await this.loadSnapshot(undefined);
    } else {
      snapshot = await this.loadSnapshot(flags.snapshot);
      plan = build(snapshot);
    }

    if (dryRun === 'client' || toScript) {
      await this.printPlan(plan, flags.output, snapshot);
      if (!plan.summary.verification.ok) {
        throw new CliError(
          `the plan fails verification at step ${plan.summary.verification.failedStep}: ${plan.summary.verification.reason}`,
          ExitCode.USAGE,
          {
            changed: 'nothing was changed; it would be refused',
          },
        );
      }
      return;
    }
    if (!plan.summary.verification.ok) {
      await this.printPlan(plan, 'table', snapshot, true);
      throw new CliError(
        `refusing to apply: step ${plan.summary.verification.failedStep} would cut routes (${plan.summary.verification.reason})`,
        ExitCode.USAGE,
        {
          changed: 'nothing was changed',
        },
      );
    }
    if (!this.machineOutput)
      await this.printPlan(plan, flags.output === 'wide' ? 'wide' : 'table', snapshot, true);
    await this.execute(plan, flags, timeoutMs, 'fresh', dryRun === 'server' ? 'server' : 'none', snapshot);
  }

  private async printPlan(
    plan: Plan,
    format: string,
    snapshot: ClusterSnapshot | undefined,
    toStderr = false,
  ): Promise<void> {
    let text: string;
    if (format === 'script') {
      const { planToScript } = await import('./plan/script.js');
      const { calicoApiVersion } = await import('./model/resources.js');
      text = planToScript(plan, calicoApiVersion(snapshot?.calico.apiMode ?? 'crd.projectcalico.org/v1'));
    } else if (format === 'json' || format === 'yaml') {
      const { toJson, toYaml } = await import('./render/output.js');
      text = format === 'json' ? toJson(plan) : toYaml(plan);
    } else {
      const { renderPlan } = await import('./render/plan.js');
      text = renderPlan(plan, format === 'wide');
    }
    (toStderr ? process.stderr : process.stdout).write(`${text}\n`);
  }

  private async execute(
    plan: Plan | undefined,
    flags: PlanFlags,
    timeoutMs: number,
    mode: 'fresh' | 'resume' | 'rollback',
    dryRun: 'none' | 'server' = 'none',
    live?: ClusterSnapshot,
  ): Promise<void> {
    const api = await this.kube();
    const [{ Executor }, { holderIdentity }, prompt, { nodeIPv4 }] = await Promise.all([
      import('./executor/executor.js'),
      import('./kube/journal.js'),
      import('./prompt/index.js'),
      import('./bgp/state.js'),
    ]);
    const snapshot =
      live ?? (mode !== 'fresh' || dryRun === 'server' ? await this.loadSnapshot(undefined) : undefined);
    const tty = process.stderr.isTTY === true && process.env['TERM'] !== 'dumb';
    let statusShown = false;
    const executor = new Executor(api, (snapshot ?? live)?.calico.apiMode ?? 'crd.projectcalico.org/v1', {
      mode,
      dryRun,
      yes: flags.yes,
      interactive: prompt.isInteractive(),
      confirm: (q) => prompt.confirm(q),
      log: (l) => {
        if (statusShown) process.stderr.write('\r\u001b[K');
        statusShown = false;
        process.stderr.write(`${l}\n`);
      },
      status: (l) => {
        if (!tty) return;
        process.stderr.write(`\r\u001b[K${c.cyan('⧗')} ${l.slice(0, (process.stderr.columns ?? 120) - 3)}`);
        statusShown = l !== '';
      },
      holder: holderIdentity(api.http.cfg.userName),
      journalNamespace:
        snapshot?.calico.nodeNamespace ??
        (snapshot?.calico.installMode === 'operator' ? 'calico-system' : undefined),
      resumeHint: this.resumeHint(),
      timeoutMs: flags.timeout !== '10m' ? timeoutMs : undefined,
      live: mode === 'fresh' && dryRun === 'none' ? live : undefined,
      expectedPeers: async (nodes) => {
        const [{ bgpStateFromSnapshot }, { computeTopology, expectedPeers }] = await Promise.all([
          import('./bgp/state.js'),
          import('./bgp/topology.js'),
        ]);
        const t = computeTopology(bgpStateFromSnapshot(await this.loadSnapshot(undefined)));
        return new Map(
          nodes.map((n) => [
            n,
            expectedPeers(t, n)
              .filter((p) => p.established)
              .map((p) => p.peerIP),
          ]),
        );
      },
      ipToName: snapshot ? new Map(snapshot.nodes.map((n) => [nodeIPv4(n) ?? '', n.name])) : undefined,
    });
    const result: ExecuteResult = await executor.run(plan);
    this.emit(
      this.machineOutput ? flags.output : 'table',
      { apiVersion: 'calico-tune/v1', kind: 'ApplyResult', ...result },
      () =>
        result.outcome === 'done' || result.outcome === 'dry-run'
          ? `${c.green('✔')} ${result.plan}: ${result.message}`
          : result.outcome === 'declined'
            ? `${result.plan}: declined; ${result.message}`
            : `${c.yellow('■')} ${result.plan}: ${result.message}`,
    );
    // a rollback that was asked for and finished is a success; one forced by a gate is not
    if (result.outcome === 'paused' || (result.outcome === 'rolled-back' && mode !== 'rollback'))
      this.setExitCode(ExitCode.GATE);
  }
}
