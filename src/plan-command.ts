/**
 * What every mutating command shares: the plan flags, building (or resuming) a plan, printing it for a dry
 * run, and handing it to the one executor. Commands only say how to build their plan.
 */
import { Flags } from '@oclif/core';
import { BaseCommand, outputFlag, snapshotFlag } from './base-command.js';
import { CliError, ExitCode, usageError, type ExitCodeValue } from './errors.js';
import type { ClusterSnapshot } from './model/types.js';
import type { ExecuteResult } from './executor/executor.js';
import type { Plan } from './plan/types.js';
import { c } from './render/color.js';

/** What a mutating command returns (and prints with -o json|yaml) after execution. */
export type ApplyResult = ExecuteResult & { apiVersion: 'calico-tune/v1'; kind: 'ApplyResult' };

/** What a mutating command's run() returns: the plan it printed, or the result of applying it. */
export type PlanResult = Plan | ApplyResult;

/** How a command builds its plan from the snapshot and the gate timeout (a planner with its options bound). */
export type Planner = (s: ClusterSnapshot, gateTimeout: string) => Plan;

/** Gate timeout when --timeout is not given. */
export const DEFAULT_GATE_TIMEOUT = '10m';

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
    description: `How long each gate waits for BGP sessions (e.g. 90s, 10m; default ${DEFAULT_GATE_TIMEOUT}, or the saved plan's)`,
  }),
  'on-timeout': Flags.string({
    description:
      'When a gate times out and no one is at the terminal: roll back what was done, or pause for --resume (default: rollback, as each step says)',
    options: ['rollback', 'pause'],
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

const { yes: _yes, 'on-timeout': _onTimeout, resume: _resume, rollback: _rollback, ...planOnly } = planFlags;
/** The plan flags of a command that only plans: the apply-time ones (--yes, --on-timeout, --resume, --rollback) belong to its apply. */
export const planOnlyFlags = planOnly;

/**
 * `--save FILE` of a command that only plans (`migrate plan`, `encap plan`, `monitoring plan`), for its apply's
 * `-f FILE`; `-f` is kept, hidden, as its old name (-f reads a file everywhere else, as in kubectl apply -f).
 */
export function saveFlags(command: string, apply: string) {
  return {
    save: Flags.string({
      description: `Also write the plan (YAML, or JSON for .json) to this file, for ${apply} -f FILE`,
      helpValue: 'FILE',
      exclusive: ['filename'],
    }),
    filename: Flags.string({
      char: 'f',
      hidden: true,
      deprecated: {
        to: 'save',
        message: `${command} -f is now --save FILE (-f reads a plan, as in apply -f)`,
      },
    }),
  };
}

/** Flags of every planner that changes nodes' roles (rr promote|demote|replace, migrate plan|apply). */
export const roleFlags = {
  drain: Flags.boolean({
    default: true,
    allowNo: true,
    description:
      "Evict the node's pods (Eviction API, PodDisruptionBudgets respected) before it changes role: every BGP session of a node that changes role re-forms, and its pods would lose traffic for a few seconds (default; --no-drain keeps them there)",
  }),
  'allow-zone-loss': Flags.boolean({
    description: 'Accept a result where one zone outage (all its reflectors down) would cut nodes off',
  }),
};

/** The planner options those flags give, with the gate timeout. */
export function roleOptions(
  flags: { drain: boolean; 'allow-zone-loss': boolean },
  timeout: string,
): { drain: boolean; allowZoneLoss: boolean; timeout: string } {
  return { drain: flags.drain, allowZoneLoss: flags['allow-zone-loss'], timeout };
}

export interface PlanFlags {
  output: string;
  'dry-run': string;
  yes: boolean;
  timeout?: string | undefined;
  'on-timeout'?: string | undefined;
  resume: boolean;
  rollback: boolean;
  snapshot?: string | undefined;
}

export { planName } from './plan/name.js';

export abstract class PlanCommand extends BaseCommand {
  /** The command that resumes or rolls back this command's plans, for messages (`migrate apply` says itself). */
  protected applyCommand = 'kubectl calico-tune apply';

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
    return `${this.applyCommand}${ctx}${kc}`;
  }

  /**
   * `X plan`: builds the plan and shows it (a client dry run, or with --dry-run=server also sends every write
   * with dryRun=All); `file` also saves it, for `X apply -f FILE`. `planner` checks the command's own flags
   * and loads the planner; it runs after the plan flags are checked and before the cluster is read.
   */
  protected async showPlan(
    flags: Omit<PlanFlags, 'yes' | 'resume' | 'rollback'> & Partial<PlanFlags>,
    file: string | undefined,
    planner: () => Promise<Planner>,
  ): Promise<PlanResult> {
    if (flags.resume || flags.rollback) {
      const topic = this.id?.split(':')[0];
      throw usageError(
        `${topic} plan only plans; use kubectl calico-tune ${topic} apply --resume|--rollback`,
      );
    }
    const [build, { writePlanFile }] = await Promise.all([planner(), import('./kube/files.js')]);
    return this.runPlan(
      {
        ...flags,
        yes: flags.yes ?? false,
        resume: false,
        rollback: false,
        'dry-run': flags['dry-run'] === 'server' ? 'server' : 'client',
      },
      (s, timeout) => {
        const plan = build(s, timeout);
        if (file) {
          writePlanFile(file, plan);
          process.stderr.write(`plan written to ${file}\n`);
        }
        return plan;
      },
    );
  }

  /**
   * `X apply`: with --resume/--rollback the unfinished plan recorded in the cluster (the flags named in
   * `planning`, which would make a plan, are refused then), with -f a saved plan, else the plan `planner`
   * makes now (it checks the command's own flags and loads the planner).
   */
  protected async applyPlan(
    flags: PlanFlags & { filename?: string | undefined },
    planning: Record<string, unknown>,
    planner: () => Promise<Planner>,
  ): Promise<PlanResult> {
    if (flags.resume || flags.rollback) {
      if (flags.filename || Object.values(planning).some(Boolean))
        throw usageError(
          `--resume/--rollback read the unfinished plan from the cluster; drop ${['-f', ...Object.keys(planning).map((f) => `--${f}`)].join('/')}`,
        );
      return this.runPlan(flags, { file: '' });
    }
    if (flags.filename) return this.runPlan(flags, { file: flags.filename });
    return this.runPlan(flags, await planner());
  }

  /**
   * Builds (or, with --resume/--rollback, recovers) the plan and shows or executes it.
   * `build` gets the snapshot and the gate timeout; `file` is a saved plan to apply instead.
   */
  /**
   * A plan command's node arguments: at least one for a new plan; none with --resume or --rollback, which act
   * on the plan recorded in the cluster (a name given there was silently ignored).
   */
  protected planArgs(flags: PlanFlags, given: string[], what: string): void {
    if ((flags.resume || flags.rollback) && given.length)
      throw usageError(
        `--${flags.resume ? 'resume' : 'rollback'} acts on the plan recorded in the cluster; it takes no node names (${given.join(' ')})`,
      );
    if (!flags.resume && !flags.rollback && !given.length) throw usageError(`name ${what}`);
  }

  protected async runPlan(flags: PlanFlags, build: Planner | { file: string }): Promise<Plan | ApplyResult> {
    const fromFile = 'file' in build;
    // a saved plan checked against a snapshot: the same checks as before a live run, offline
    const dryRun = flags.snapshot ? 'client' : flags['dry-run'];
    if (flags.snapshot && flags['dry-run'] === 'server')
      throw usageError('--dry-run=server needs a cluster; --snapshot plans offline (client dry run)');
    if ((flags.resume || flags.rollback) && flags.snapshot)
      throw usageError('--resume and --rollback act on the cluster; they cannot be used with --snapshot');
    const toScript = flags.output === 'script';

    const timeoutMs =
      flags.timeout === undefined
        ? undefined
        : this.durationFlag('timeout', flags.timeout, { examples: '90s, 10m' });
    const needsTerminal = async (): Promise<void> => {
      if (dryRun !== 'none' || toScript || flags.yes) return;
      const { isInteractive } = await import('./prompt/index.js');
      if (!isInteractive())
        throw usageError(
          'this changes the cluster and no one is at a terminal to confirm',
          'pass --yes to apply without prompts, or --dry-run to only show the plan',
        );
    };
    if (flags.resume || flags.rollback) {
      await needsTerminal();
      if (dryRun !== 'none') throw usageError('--resume/--rollback cannot be combined with --dry-run');
      return this.execute(undefined, flags, timeoutMs, flags.resume ? 'resume' : 'rollback');
    }

    let snapshot: ClusterSnapshot | undefined;
    let plan: Plan;
    if (fromFile) {
      const { readPlanFile } = await import('./kube/files.js');
      plan = readPlanFile(build.file);
      // the state the plan is checked against: the cluster, or with --snapshot a saved copy of it
      if (flags.snapshot || (dryRun !== 'client' && !toScript))
        snapshot = await this.loadSnapshot(flags.snapshot);
      // offline, the checks run here; against the cluster the executor runs them (once) before its first write
      if (flags.snapshot) {
        const { preflight } = await import('./executor/checks.js');
        preflight(plan, snapshot!);
      }
    } else {
      snapshot = await this.loadSnapshot(flags.snapshot);
      plan = build(snapshot, flags.timeout ?? DEFAULT_GATE_TIMEOUT);
    }

    if (dryRun === 'client' || toScript) {
      const machine = flags.output === 'json' || flags.output === 'yaml';
      // a refused plan in -o json|yaml goes in the error document: stdout holds one document
      if (!machine || plan.summary.verification.ok) await this.printPlan(plan, flags.output, snapshot);
      if (!plan.summary.verification.ok) {
        throw new CliError(
          `the plan fails verification at step ${plan.summary.verification.failedStep}: ${plan.summary.verification.reason}`,
          ExitCode.USAGE,
          { changed: 'nothing was changed; it would be refused', ...(machine ? { document: { plan } } : {}) },
        );
      }
      if (fromFile && flags.snapshot)
        process.stderr.write(
          `${c.green('✔')} the plan is intact, made for this cluster, current, and every step verifies on the snapshot (${snapshot!.source.capturedAt})\n`,
        );
      return plan;
    }
    if (!plan.summary.verification.ok) {
      await this.printPlan(plan, 'table', snapshot, true);
      throw new CliError(
        `refusing to apply: step ${plan.summary.verification.failedStep} would cut routes (${plan.summary.verification.reason})`,
        ExitCode.USAGE,
        { changed: 'nothing was changed' },
      );
    }
    // after the plan is built: bad input (a node that is not a reflector, OLD and NEW the same) and "nothing
    // to do" say so first, rather than that no one is at a terminal; a saved plan is checked (edited? this
    // cluster? current? safe on the live state?) by the executor before it asks (a review: an edited file was
    // refused only once --yes was added)
    if (!fromFile) await needsTerminal();
    if (!this.machineOutput)
      await this.printPlan(plan, flags.output === 'wide' ? 'wide' : 'table', snapshot, true);
    if (dryRun === 'server' && snapshot?.calico.apiMode === 'projectcalico.org/v3')
      this.warnLine(
        "the Calico API server does not validate dry-run requests (Calico v3.31, docs/calico-facts.md): a server dry run checks permissions, preconditions and the Kubernetes objects, not Calico's own validation of its objects",
      );
    return this.execute(plan, flags, timeoutMs, 'fresh', dryRun === 'server' ? 'server' : 'none', snapshot);
  }

  /**
   * The cluster as the plan sees it. Refuses (exit 3) when the Calico API server is registered but down:
   * the plan's objects would be read, and then written, through the crd.projectcalico.org/v1 CRDs behind it.
   */
  protected override async loadSnapshot(
    file: string | undefined,
    opts: { nodeStatuses?: boolean } = {},
  ): Promise<ClusterSnapshot> {
    const s = await super.loadSnapshot(file, opts);
    if (!file && s.source.calicoApiUnavailable)
      throw new CliError(
        `the Calico API server is registered but not available (${s.source.calicoApiUnavailable}): refusing to plan or change Calico objects behind it`,
        ExitCode.CLUSTER,
        {
          changed: 'nothing was changed',
          hints: [
            'kubectl get apiservice v3.projectcalico.org -o yaml   (status.conditions says why)',
            'when it is Available again, re-run this command',
          ],
        },
      );
    return s;
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
      const { nodeIPv4 } = await import('./bgp/state.js');
      // nodes not Ready now: the script's gates leave their sessions out, as the executor's do (an operator trial)
      const excusedIps = (snapshot?.nodes ?? [])
        .filter((n) => !n.ready)
        .flatMap((n) => nodeIPv4(n) ?? [])
        .sort();
      text = planToScript(plan, calicoApiVersion(snapshot?.calico.apiMode ?? 'crd.projectcalico.org/v1'), {
        excusedIps,
      });
    } else if (format === 'json' || format === 'yaml') {
      const { toJson, toYaml } = await import('./render/output.js');
      text = format === 'json' ? toJson(plan) : toYaml(plan);
    } else {
      const { renderPlan } = await import('./render/plan.js');
      text = this.fitted(renderPlan(plan, format === 'wide'));
    }
    (toStderr ? process.stderr : process.stdout).write(`${text}\n`);
  }

  private async execute(
    plan: Plan | undefined,
    flags: PlanFlags,
    timeoutMs: number | undefined,
    mode: 'fresh' | 'resume' | 'rollback',
    dryRun: 'none' | 'server' = 'none',
    live?: ClusterSnapshot,
  ): Promise<ApplyResult> {
    const api = await this.kube();
    const [{ Executor, exitCodeOf }, { holderIdentity }, prompt] = await Promise.all([
      import('./executor/executor.js'),
      import('./kube/journal.js'),
      import('./prompt/index.js'),
    ]);
    const snapshot = live ?? (await this.loadSnapshot(undefined));
    const tty = process.stderr.isTTY === true && process.env['TERM'] !== 'dumb';
    let statusShown = false;
    const executor = new Executor(api, {
      mode,
      dryRun,
      yes: flags.yes,
      interactive: prompt.isInteractive(),
      confirm: (q) => prompt.confirm(q),
      chooseOnTimeout: (q) =>
        prompt.choose(
          q,
          [
            { value: 'wait', name: 'Wait longer (the same timeout again)' },
            { value: 'pause', name: 'Pause: leave it as it is, resume or roll back later' },
            { value: 'rollback', name: 'Roll back what was done' },
          ],
          'pause',
        ),
      onTimeout: flags['on-timeout'] as 'rollback' | 'pause' | undefined,
      log: (l) => {
        if (statusShown) process.stderr.write('\r\u001b[K');
        statusShown = false;
        process.stderr.write(`${l}\n`);
      },
      status: (l) => {
        if (!tty) return;
        process.stderr.write(
          `\r\u001b[K${l ? `${c.cyan('⧗')} ${l.slice(0, (process.stderr.columns ?? 120) - 3)}` : ''}`,
        );
        statusShown = l !== '';
      },
      holder: holderIdentity(api.http.cfg.userName),
      journalNamespace:
        snapshot.calico.nodeNamespace ??
        (snapshot.calico.installMode === 'operator' ? 'calico-system' : undefined),
      resumeHint: this.resumeHint(),
      timeoutMs,
      live: snapshot,
      readLive: () => this.loadSnapshot(undefined),
      onInterrupt: onSigint,
      crashHook: testCrashHook,
      settleMs: testSettleMs(),
    });
    const result: ExecuteResult = await executor.run(plan);
    const doc: ApplyResult = { apiVersion: 'calico-tune/v1', kind: 'ApplyResult', ...result };
    this.emit(this.machineOutput ? flags.output : 'table', doc, () =>
      result.outcome === 'done' ||
      result.outcome === 'dry-run' ||
      (result.outcome === 'rolled-back' && mode === 'rollback')
        ? `${c.green('✔')} ${result.plan}: ${result.message}`
        : result.outcome === 'declined'
          ? `${result.plan}: declined; ${result.message}`
          : `${c.yellow('■')} ${result.plan}: ${result.message}`,
    );
    const code = exitCodeOf(result, mode);
    if (code !== ExitCode.OK) this.setExitCode(code as ExitCodeValue);
    return doc;
  }
}

/** Signals that pause a running plan after the operation in flight, as Ctrl-C does. */
const PAUSE_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Ctrl-C while a plan runs: the first one asks the executor to pause after the operation in flight (exit
 * 130); a second, or one with no plan running, exits 130 at once. SIGTERM (a `kill`, a CI job cancelled) and
 * SIGHUP (the terminal closed) do the same: without them the run died with its record saying "running" and
 * its CalicoNodeStatus objects left (a review). After SIGHUP the terminal is gone: what is still written to
 * it is dropped rather than ending the run with EIO.
 */
function onSigint(handler: () => void): () => void {
  let seen = false;
  const h = (signal: NodeJS.Signals): void => {
    // only a person's second Ctrl-C quits at once: a SIGTERM after a SIGINT (CI cancelling a job) or after a
    // SIGHUP (a session leader killed) lets the pause under way finish (a review)
    if (seen) {
      if (signal === 'SIGINT') process.exit(ExitCode.INTERRUPTED);
      return;
    }
    seen = true;
    if (signal === 'SIGHUP')
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    handler();
    // a prompt open now ends as if Ctrl-C was typed at it (the executor then pauses the plan)
    void import('./prompt/index.js').then((m) => m.interruptPrompt());
  };
  for (const sig of PAUSE_SIGNALS) process.on(sig, h);
  return () => {
    for (const sig of PAUSE_SIGNALS) process.off(sig, h);
  };
}

/**
 * Test-only: CALICO_TUNE_TEST_GATE_SETTLE_MS shortens how long a gate's condition must hold over the nodes'
 * reports (default 2 s); the fault-matrix tests use 0 (docs/testing.md). Never set outside tests.
 */
function testSettleMs(): number | undefined {
  const v = process.env['CALICO_TUNE_TEST_GATE_SETTLE_MS'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * Fault injection for the crash tests (docs/testing.md): CALICO_TUNE_TEST_CRASH=mid-step:N kills the process
 * with SIGKILL after step N's write but before it is recorded; after-step:N after it is recorded. The only way
 * to hit those windows deterministically; never set outside tests.
 */
function testCrashHook(when: 'mid-step' | 'after-step', step: number): void {
  const spec = process.env['CALICO_TUNE_TEST_CRASH'];
  if (spec && spec === `${when}:${step}`) process.kill(process.pid, 'SIGKILL');
}
