/**
 * The one executor every mutating command uses.
 *
 * Before the first write it trusts nothing it is handed: the plan's integrity (digest, step shapes), the
 * cluster it was made for, staleness, and then the steps themselves run on the state just read (plan/
 * reverify.ts): every precondition, and the BGP model at every intermediate state. The same happens on
 * --resume (after confirming that what the journal calls done is live) and --rollback (the undo sequence).
 * Then: the Lease lock and journal, writes with optimistic concurrency, gates that wait for fresh reports
 * matching the model's sessions (address and type), checkpoints and rollback confirmed by the person at the
 * terminal, and on a gate timeout: wait longer / pause / roll back. After a rollback it claims "as before"
 * only when the live state matches the plan's starting fingerprint and the model finds every pair reachable.
 */
import { CliError, NotWrittenError, ExitCode, InterruptedError, usageError } from '../errors.js';
import { checkPermissions, resourceOf } from '../kube/access.js';
import type { KubeApi } from '../kube/api.js';
import { birdclObserve, NodeStatusObserver, reportPeriodSeconds } from '../kube/bgp-status.js';
import { drainBlockers, drainNode, drainRefusal } from '../kube/drain.js';
import { ApiError } from '../kube/http.js';
import { Journal, type JournalState } from '../kube/journal.js';
import { nodeIPv4 } from '../bgp/state.js';
import { formatDuration, parseDurationMs } from '../model/duration.js';
import type { ObservedNode } from '../model/observed.js';
import { Node, Pod } from '../model/resources.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import { staleness } from '../plan/fingerprint.js';
import { stepCommands } from '../plan/script.js';
import { encapRefusals } from '../encap/plan.js';
import { preflight, verifyRest } from './checks.js';
import { evaluateGate, gateCoverage, gateProgressLine } from '../plan/gates.js';
import { checkIdentity, describeFailure } from '../plan/preflight.js';
import {
  alreadyDone,
  findObject,
  firstNotLive,
  preconditionProblem,
  reverify,
  type LiveGate,
  type Reverification,
} from '../plan/reverify.js';
import { fieldsChangedSince } from '../plan/merge-patch.js';
import { applyStepToObjects, cordonedByOthers, cordonPatch, verdictOf } from '../plan/simulate.js';
import type { Gate, Plan, Step } from '../plan/types.js';

/** A gate's condition must hold this long (over several reports) before it passes. */
export const GATE_SETTLE_MS = 2000;

export type TimeoutChoice = 'wait' | 'pause' | 'rollback';

export interface ExecuteOptions {
  mode: 'fresh' | 'resume' | 'rollback';
  dryRun: 'none' | 'server';
  yes: boolean;
  /** A person is at the terminal (stdin and stderr are terminals). */
  interactive: boolean;
  /** Asks a yes/no question; only called when interactive. */
  confirm: (question: string) => Promise<boolean>;
  /** Asks what to do about a gate that timed out; only called when interactive and not --yes. */
  chooseOnTimeout?: ((question: string) => Promise<TimeoutChoice>) | undefined;
  /** --on-timeout: what a gate timeout does without a person (default: each step's own, rollback). */
  onTimeout?: 'rollback' | 'pause' | undefined;
  /** A progress line (stderr). */
  log: (line: string) => void;
  /** A transient status line (gate progress), replaced by the next one on a terminal. */
  status: (line: string) => void;
  holder: string;
  /** Where to create the Lease (calico-system for operator installs, else kube-system); existing ones are found in either. */
  journalNamespace?: string | undefined;
  /** The command that resumes or rolls back, for messages. */
  resumeHint: string;
  /** Overrides every gate's timeout (--timeout given explicitly). */
  timeoutMs?: number | undefined;
  /** The live state, read just before (for every mode). */
  live: ClusterSnapshot;
  /** Reads the live state again (after a rollback, to compare with the plan's start). */
  readLive: () => Promise<ClusterSnapshot>;
  pollMs?: number | undefined;
  /** How long a gate's condition must hold before it passes (default GATE_SETTLE_MS). */
  settleMs?: number | undefined;
  /** Subscribes to interrupts (Ctrl-C); returns the unsubscribe function. Default: none. */
  onInterrupt?: ((handler: () => void) => () => void) | undefined;
  /** Fault injection for tests (called after each write and after it is recorded). */
  crashHook?: ((when: 'mid-step' | 'after-step', step: number) => void) | undefined;
}

export type Outcome =
  | 'done'
  | 'rolled-back'
  | 'rollback-incomplete'
  | 'paused'
  | 'stopped'
  | 'interrupted'
  | 'dry-run'
  | 'declined';

export interface ExecuteResult {
  outcome: Outcome;
  plan: string;
  steps: number;
  done: number;
  message: string;
  /** After a rollback: what differs from the state before the plan (empty when it matches). */
  differences?: string[] | null | undefined;
  /** Wall-clock time of this run (docs/json-output.md); absent when nothing ran. */
  timings?: RunTimings | undefined;
}

/** Where a run's time went: `waitingMs` is the time gates spent waiting for reports, the rest is the tool's own. */
export interface RunTimings {
  /** From the start of the executor's run to its result, in milliseconds. */
  ms: number;
  /** Inside gates, from their CalicoNodeStatus objects being in place to the verdict. */
  waitingMs: number;
  /** Each step this run performed or waited on (or undid, in a rollback), in order. */
  steps: { id: string; ms: number; waitingMs?: number }[];
}

/** The exit code of each outcome (docs/json-output.md). */
export function exitCodeOf(r: ExecuteResult, mode: ExecuteOptions['mode']): number {
  switch (r.outcome) {
    case 'done':
    case 'dry-run':
      return ExitCode.OK;
    case 'rolled-back':
      // a rollback that was asked for and finished is a success; one forced by a gate is not
      return mode === 'rollback' ? ExitCode.OK : ExitCode.GATE;
    case 'rollback-incomplete':
    case 'paused':
      return ExitCode.GATE;
    case 'declined':
      return ExitCode.OK; // nothing was changed and nothing is left paused
    case 'stopped':
      return ExitCode.STOPPED;
    case 'interrupted':
      return ExitCode.INTERRUPTED;
  }
}

/** A rollback that could not finish: its message already says what was undone and what to run next. */
class RollbackError extends CliError {}

/** The check after an answered prompt refused the rest (refusedAfterPrompt): it explains itself. */
class PromptRefusal extends CliError {}

/** A gate's time limit when neither the plan nor --timeout gives one. */
const DEFAULT_GATE_MS = 600_000;

export class Executor {
  private interrupted = false;
  private journal?: Journal;
  private observer?: NodeStatusObserver;
  /** The plan this run applies, resumes or rolls back (once the journal is acquired). */
  private activePlan?: Plan | undefined;
  /** finishRecord() ran: the plan's CalicoNodeStatus objects and its Lease are gone. */
  private recordFinished = false;
  /** Gate expectations computed from the live state, per wait step id. */
  private expectations = new Map<string, LiveGate>();
  private readonly startedAt = performance.now();
  private readonly timings: RunTimings = { ms: 0, waitingMs: 0, steps: [] };
  private currentStep: { entry: RunTimings['steps'][number]; t0: number } | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly opts: ExecuteOptions,
  ) {}

  private get dry(): boolean {
    return this.opts.dryRun === 'server';
  }

  private get calicoGroup(): string {
    const m = this.opts.live.calico.apiMode;
    return m === 'crd.projectcalico.org/v1' || m === 'none' ? 'crd.projectcalico.org' : 'projectcalico.org';
  }

  private checkInterrupt(): void {
    if (this.interrupted) throw new InterruptedError();
    this.journal?.check();
  }

  async run(plan: Plan | undefined): Promise<ExecuteResult> {
    const { opts } = this;
    if (opts.mode === 'fresh') {
      if (!plan) throw usageError('no plan to apply');
      // the lock first: another run holding it, or a plan recorded unfinished, explains a stale plan
      if (opts.dryRun !== 'server')
        await (await Journal.open(this.api, opts.holder, opts.journalNamespace)).precheck('fresh');
      // what a step creates, where the cluster read did not look (a dashboards ConfigMap in a namespace given
      // with --namespace): read now, so that one already there fails the checks before the first write (a
      // review: two of four steps written, then "already exists")
      opts.live = await this.withCreatedObjects(plan, opts.live);
      // (the BGP model's verdicts and the encapsulation switches, on the live cluster: executor/checks.ts)
      this.keepGates(preflight(plan, opts.live));
    }
    if (!this.dry && !opts.yes && !opts.interactive) {
      throw usageError(
        'this changes the cluster and no one is at a terminal to confirm',
        'pass --yes to apply without prompts, or --dry-run to only show the plan',
      );
    }
    if (this.dry) {
      if (!plan) throw usageError('--dry-run needs a plan');
      await checkPermissions(this.api, plan, this.calicoGroup, undefined);
      return this.serverDryRun(plan);
    }

    this.journal = await Journal.open(this.api, opts.holder, opts.journalNamespace);
    this.journal.onNotice = (m) => opts.log(`warning: ${m}`);
    if (plan) await checkPermissions(this.api, plan, this.calicoGroup, this.journal.namespace);
    const { plan: active, state, previous } = await this.journal.acquire(opts.mode, plan, opts.onTimeout);
    this.activePlan = active;
    // a resume keeps the --on-timeout the plan was started with (a review: `--on-timeout pause` was lost)
    this.onTimeout = opts.onTimeout ?? state?.onTimeout;
    // a resume or rollback that stops before changing anything leaves the record as it found it
    // (a run that died while running counts as paused: its holder is gone)
    const asFound = {
      phase: !previous || previous.phase === 'running' ? 'paused' : previous.phase,
      message: previous?.message,
    } as const;
    this.observer = new NodeStatusObserver(this.api, opts.live.calico.apiMode);
    const unsubscribe = opts.onInterrupt?.(() => {
      if (this.interrupted) return; // a second Ctrl-C: the caller's handler exits at once
      this.interrupted = true;
      opts.log('interrupt: pausing after the current operation (press Ctrl-C again to quit at once)');
    });
    try {
      if (opts.mode !== 'fresh') {
        try {
          checkIdentity(active!, opts.live, true);
          await checkPermissions(this.api, active!, this.calicoGroup, this.journal.namespace);
          // what the plan created where the cluster read does not look, as a fresh apply reads it (a review: a
          // rollback found a ConfigMap in --namespace "not applied" and left it)
          opts.live = await this.withCreatedObjects(active!, opts.live);
        } catch (e) {
          await this.journal.release(false, asFound.phase, asFound.message);
          throw e;
        }
      }
      if (opts.mode === 'rollback') {
        if (opts.interactive && !opts.yes) {
          const n = this.stepsToUndo(active!, state!).length;
          let ok: boolean;
          try {
            ok = await opts.confirm(
              `Roll back ${n} step(s) of ${active!.metadata.name} (${asFound.phase}, ${state!.done.length}/${active!.steps.length} done)?`,
            );
          } catch (e) {
            if (!(e instanceof InterruptedError)) throw e;
            await this.journal.release(false, asFound.phase, asFound.message);
            return this.result(
              active!,
              'interrupted',
              state!.done.length,
              'interrupted; nothing was changed',
            );
          }
          if (!ok) {
            await this.journal.release(false, asFound.phase, asFound.message);
            return this.result(
              active!,
              'declined',
              state!.done.length,
              'nothing was changed; the plan stays recorded',
            );
          }
        }
        return await this.rollback(active!, state!, 'requested');
      }
      return await this.forward(active!, state!);
    } finally {
      unsubscribe?.();
      // objects of ours still around (a run that stopped or failed, or died earlier): nothing is lost by
      // removing them, the gates of a later run make their own; a finished record has removed them already
      // (only while the lock is ours: a run that lost it would delete the gate objects of the run holding it)
      if (!this.recordFinished)
        await this.observer.cleanup({ leftovers: !this.journal.lockLost }).catch(() => undefined);
    }
  }

  /**
   * Ends the plan's record: its CalicoNodeStatus objects go first, then the Lease, so a run killed in between
   * leaves the plan recorded (resume or rollback removes them) rather than objects nothing accounts for.
   */
  private async finishRecord(): Promise<void> {
    await this.observer?.cleanup({ leftovers: true }).catch(() => undefined);
    await this.journal!.release(true);
    this.recordFinished = true;
  }

  /** Starts timing a step (forward, or its undo); the next timeStep() or result() ends it. */
  private timeStep(id: string): { end: () => void } {
    this.endStep();
    const entry: RunTimings['steps'][number] = { id, ms: 0 };
    this.timings.steps.push(entry);
    this.currentStep = { entry, t0: performance.now() };
    return { end: () => this.endStep() };
  }

  private endStep(): void {
    if (!this.currentStep) return;
    this.currentStep.entry.ms = Math.round(performance.now() - this.currentStep.t0);
    this.currentStep = undefined;
  }

  private keepGates(r: Reverification): void {
    for (const [id, g] of r.gates) this.expectations.set(id, g);
  }

  private result(
    plan: Plan,
    outcome: Outcome,
    done: number,
    message: string,
    differences?: string[],
  ): ExecuteResult {
    this.endStep();
    const timings =
      this.timings.steps.length > 0
        ? { ...this.timings, ms: Math.round(performance.now() - this.startedAt) }
        : undefined;
    return {
      outcome,
      plan: plan.metadata.name,
      steps: plan.steps.length,
      done,
      message,
      // (null, not missing, when no rollback compared the state: docs/json-output.md)
      differences: differences ?? null,
      timings,
    };
  }

  private async serverDryRun(plan: Plan): Promise<ExecuteResult> {
    let n = 0;
    for (const step of plan.steps) {
      if (step.action === 'wait') {
        this.opts.log(`[${++n}/${plan.steps.length}] ${step.title}: gate not evaluated in a dry run`);
        continue;
      }
      await this.perform(step);
      this.opts.log(`[${++n}/${plan.steps.length}] ${step.title}: accepted by the API server (dryRun=All)`);
    }
    return this.result(
      plan,
      'dry-run',
      0,
      `server dry run: all ${plan.steps.length} steps accepted; nothing was written`,
    );
  }

  /** Where a resumed run starts: the first step not done, or the first done step whose effect is not live. */
  private async resumePoint(plan: Plan, state: JournalState): Promise<number> {
    const done = new Set(state.done.map((d) => d.id));
    let start = plan.steps.findIndex((s) => !done.has(s.id));
    if (start < 0) start = plan.steps.length;
    const gone = firstNotLive(plan, done, this.opts.live);
    if (gone && gone.index < start) {
      this.opts.log(
        `step ${gone.index + 1} (${gone.step.title}) is recorded done but its effect is not live (${gone.reason}); continuing from there`,
      );
      start = gone.index;
      await this.journal!.setDone(plan.steps.slice(0, start).map((s) => s.id));
    } else if (state.undoing || state.undone.length) {
      await this.journal!.setDone(plan.steps.slice(0, start).map((s) => s.id));
    }
    // a gate's verdict is an observation of the run that made it: the write after it (the mesh turned off
    // after the reflectors' gate) must not rely on one made before the process died, so the gates just
    // before the resume point are observed again
    const gates = gatesBefore(plan, start);
    if (start < plan.steps.length && gates < start)
      start = await this.rewindToGates(plan, gates, start, 'passed before the last run ended');
    return start;
  }

  /**
   * Goes back to the gates `gates`..`before - 1` to observe them again (the journal forgets them, saying
   * why); returns where the run goes on from: the first of them.
   */
  private async rewindToGates(plan: Plan, gates: number, before: number, why: string): Promise<number> {
    const n = before - gates;
    this.opts.log(
      `observing ${n > 1 ? `steps ${gates + 1}-${before} (gates)` : `step ${before} (${plan.steps[gates]!.title})`} again before step ${before + 1}: ${n > 1 ? 'they' : 'it'} ${why}`,
    );
    await this.journal!.setDone(plan.steps.slice(0, gates).map((s) => s.id));
    return gates;
  }

  private async forward(plan: Plan, state: JournalState): Promise<ExecuteResult> {
    const total = plan.steps.length;
    let start = 0;
    if (this.opts.mode === 'resume') {
      start = await this.resumePoint(plan, state);
      this.opts.log(
        `resuming ${plan.metadata.name} at step ${start + 1}/${total}: checking the rest on the live state`,
      );
      try {
        // the steps still to come, encapsulation switches included, as a fresh apply checks them (a review)
        this.keepGates(verifyRest(plan, start, this.opts.live, 'refusing to resume'));
      } catch (e) {
        await this.journal!.release(false, 'paused', (e as Error).message);
        throw new CliError((e as Error).message, ExitCode.USAGE, {
          changed: 'nothing was written by this run',
          hints: [`undo what the plan did: ${this.opts.resumeHint} --rollback`],
        });
      }
    }
    // kubectl drain's refusals before the first write: a pod no controller recreates, or with emptyDir data,
    // on a node the plan drains would stop the run half-way at that drain (a review: they were evicted)
    for (const step of plan.steps.slice(start)) {
      if (step.action !== 'drain') continue;
      const node = step.object!.name;
      const pods = (await this.api.list(Pod, { fieldSelector: `spec.nodeName=${node}` })).items;
      const blockers = drainBlockers(pods);
      // a Typha pod there while calico-typha's PodDisruptionBudget allows no disruption: the eviction would be
      // refused until the drain's time runs out, with the node cordoned (an operator trial: 5 minutes, then a
      // failure half-way)
      const pdb = this.opts.live.typha.pdb;
      const typha = pods.find(
        (p) =>
          p.metadata.labels?.['k8s-app'] === 'calico-typha' &&
          (p.metadata.namespace ?? '') === pdb?.namespace,
      );
      const refusal =
        typha && pdb?.disruptionsAllowed === 0
          ? new CliError(
              `drain ${node}: it runs ${typha.metadata.namespace}/${typha.metadata.name}, and PodDisruptionBudget ${pdb.namespace}/${pdb.name} allows no disruption now: the eviction would wait until the drain gives up`,
              ExitCode.CLUSTER,
              {
                hints: [
                  `kubectl get pdb -n ${pdb.namespace} ${pdb.name}; kubectl calico-tune typha report   # wait until every Typha is Ready`,
                  'or plan without --drain, or choose a node without Typha (kubectl calico-tune rr recommend)',
                ],
              },
            )
          : blockers.length
            ? drainRefusal(node, blockers)
            : undefined;
      if (!refusal) continue;
      if (this.opts.mode === 'fresh') await this.journal!.release(true);
      else await this.journal!.release(false, 'paused', refusal.message);
      throw new CliError(refusal.message, ExitCode.CLUSTER, {
        changed: this.opts.mode === 'fresh' ? 'nothing was changed' : 'nothing was written by this run',
        hints: refusal.hints,
      });
    }
    let doneCount = start;
    /** Whether this run has started a step (before that, a refusal leaves the record as it found it). */
    let wrote = false;
    /** Steps whose prompt was answered and whose premises were checked again (not asked twice). */
    const rechecked = new Set<number>();
    for (let i = start; i < total; i++) {
      const step = plan.steps[i]!;
      try {
        this.checkInterrupt();
        if (
          this.opts.interactive &&
          !this.opts.yes &&
          (step.checkpoint || i === start) &&
          !rechecked.has(i)
        ) {
          const asked = Date.now();
          const go = await this.opts.confirm(`Step ${i + 1}/${total}: ${step.title}. Continue?`);
          if (!go) {
            // (a resume keeps its record: the last run may have a step in flight; a review)
            if (doneCount === 0 && this.opts.mode === 'fresh') {
              await this.journal!.release(true);
              return this.result(plan, 'declined', 0, 'nothing was changed');
            }
            const why = `stopped at your request before step ${i + 1} (${step.title})`;
            await this.journal!.release(false, 'paused', why);
            return this.paused(plan, doneCount, why, 'stopped');
          }
          // the person may have taken minutes: what the rest of the plan relies on is read and checked again
          // (the BGPPeer the mesh-off step needs may be gone, a FelixConfiguration may turn a tunnel off), after
          // every prompt, the first step's and a gate's too (reviews: an encap switch went through; the steps
          // after a gate ran unchecked), and after a long answer the gates just before are observed again
          // (sessions may have dropped meanwhile)
          rechecked.add(i);
          const gates =
            step.action !== 'wait' && Date.now() - asked > PROMPT_STALE_MS ? gatesBefore(plan, i) : i;
          try {
            const live = await this.readLive();
            this.keepGates(verifyRest(plan, gates, live, 'refusing to continue'));
          } catch (e) {
            return await this.refusedAfterPrompt(plan, doneCount, wrote, e);
          }
          if (gates < i) {
            const why = `passed ${formatDuration(Date.now() - asked)} ago, before you answered`;
            for (let k = gates; k < i; k++) rechecked.add(k); // (not asked about again)
            doneCount -= i - gates;
            i = (await this.rewindToGates(plan, gates, i, why)) - 1;
            continue;
          }
        }
        const t0 = Date.now();
        const timing = this.timeStep(step.id);
        wrote = true; // (from here on this run may have written: its record is the cluster's only account)
        await this.journal!.stepStarted(step.id);
        if (step.action === 'wait') {
          let ok = await this.waitGate(step);
          let choice: Awaited<ReturnType<Executor['onGateTimeout']>> = 'wait';
          const why = `gate "${step.title}" timed out after ${formatDuration(this.gateTimeout(step.gate!))}`;
          while (!ok && (choice = await this.onGateTimeout(step, why)) === 'wait')
            ok = await this.waitGate(step);
          if (!ok) {
            if (choice === 'rollback') {
              this.opts.log(`${why}: rolling back`);
              let rb: ExecuteResult;
              try {
                rb = await this.rollback(plan, this.journal!.state!, why);
              } catch (re) {
                // the error names what started the rollback too (a review: -o json named only the rollback's gate)
                if (!(re instanceof RollbackError)) throw re;
                throw new RollbackError(`${why}, and the rollback stopped: ${re.message}`, re.exitCode, {
                  hints: re.hints,
                  ...(re.changed !== undefined ? { changed: re.changed } : {}),
                });
              }
              return { ...rb, message: `${why}; ${rb.message}` };
            }
            await this.journal!.release(false, 'paused', why);
            return this.paused(
              plan,
              doneCount,
              why,
              choice === 'pause-by-person' ? 'stopped' : 'paused',
              this.longerTimeout(step.gate!),
            );
          }
        } else {
          await this.perform(step);
        }
        this.opts.crashHook?.('mid-step', i + 1);
        doneCount++;
        await this.journal!.stepDone(step.id);
        this.opts.crashHook?.('after-step', i + 1);
        timing.end();
        this.opts.log(`[${i + 1}/${total}] ${step.title} ✔ ${formatDuration(Date.now() - t0)}`);
      } catch (e) {
        if (e instanceof InterruptedError) {
          const why = `interrupted before step ${i + 1} (${step.title})`;
          // a fresh run that started no step leaves no record, as a declined first prompt (an operator trial:
          // Ctrl-C at the first question left a critical PLAN_UNFINISHED that blocked every other plan)
          if (!wrote && this.opts.mode === 'fresh') {
            await this.journal!.release(true);
            return this.result(plan, 'interrupted', 0, `${why}; nothing was changed`);
          }
          await this.journal!.release(false, 'paused', why);
          return this.paused(plan, doneCount, why, 'interrupted');
        }
        // the rollback after a gate timeout explains itself (what was undone, what to run next)
        if (e instanceof RollbackError || e instanceof PromptRefusal) throw e;
        const msg = (e as Error).message;
        const failed = `step ${i + 1}/${total} (${step.title}) failed: ${msg}`;
        // nothing of this step reached the cluster: it is not in flight, and a rollback has nothing of it
        // to undo (a review: "changed by someone else since the plan set it", then "undone", for a step
        // refused by its precondition)
        const notWritten = e instanceof NotWrittenError;
        if (notWritten && doneCount === 0 && this.opts.mode === 'fresh') {
          await this.journal!.release(true).catch(() => undefined);
          throw new CliError(failed, e.exitCode, { changed: 'nothing was changed' });
        }
        // (one write of the record: the step not in flight, the phase and why)
        await this.journal!.release(
          false,
          'failed',
          `step ${step.id} failed: ${msg}`,
          notWritten && this.journal!.state?.current === step.id ? { current: undefined } : {},
        ).catch(() => undefined);
        const record = this.journal!.recorded
          ? `recorded in Lease ${this.journal!.namespace}/calico-tune`
          : `NOT recorded: ${this.journal!.lostRecord}`;
        // (what the record holds says whether the step was started: a lost lock found before it, or a failed
        // write of "started", is not a step "that may have been written"; a review)
        const inFlight = this.journal!.state?.current === step.id;
        const thisStep = notWritten
          ? `; step ${i + 1} was not written`
          : step.action === 'wait' || !inFlight
            ? ''
            : step.action === 'drain'
              ? `; the drain of ${step.object!.name} may have evicted some of its pods before it stopped`
              : `; step ${i + 1} may have been written (it is recorded as in flight: --resume checks it, --rollback undoes it)`;
        // some steps are applied: never exit 2, which says that nothing was changed (a review)
        const code = e instanceof CliError ? e.exitCode : ExitCode.CLUSTER;
        throw new CliError(failed, code === ExitCode.USAGE ? ExitCode.CLUSTER : code, {
          changed: `${doneCount} of ${total} steps were applied${thisStep}; ${record}`,
          hints: this.journal!.recorded
            ? [
                `continue with: ${this.opts.resumeHint} --resume`,
                `or undo with: ${this.opts.resumeHint} --rollback`,
              ]
            : this.byHandHints(plan, i, notWritten),
        });
      }
    }
    try {
      await this.finishRecord();
    } catch (e) {
      throw new CliError(
        `all ${total} steps are done, but the journal Lease could not be removed: ${(e as Error).message}`,
        ExitCode.CLUSTER,
        {
          changed: `the plan is complete; only Lease ${this.journal!.namespace}/calico-tune is left`,
          hints: [
            `finish it with: ${this.opts.resumeHint} --resume (nothing is left to apply; it removes the Lease)`,
            `or remove it by hand: kubectl delete lease -n ${this.journal!.namespace} calico-tune`,
          ],
        },
      );
    }
    return this.result(plan, 'done', total, total === 1 ? 'the step is done' : `all ${total} steps done`);
  }

  /**
   * The check after an answered prompt refused the rest of the plan (or could not read the cluster): nothing of
   * the step is written. A fresh run that wrote nothing removes its record ("nothing was changed"); otherwise
   * the record stays as it was, paused (the last run's step in flight too), for --resume or --rollback, and a
   * run that applied steps never exits 2.
   */
  private async refusedAfterPrompt(plan: Plan, done: number, wrote: boolean, e: unknown): Promise<never> {
    const refusal = e instanceof CliError && e.exitCode === ExitCode.USAGE;
    const msg = refusal
      ? `${(e as Error).message} (the cluster changed while it waited for you)`
      : `could not read the cluster again after your answer: ${(e as Error).message}`;
    const code = refusal ? ExitCode.USAGE : ExitCode.CLUSTER;
    const total = plan.steps.length;
    if (!wrote && this.opts.mode === 'fresh') {
      await this.journal!.release(true).catch(() => undefined);
      throw new PromptRefusal(msg, code, { changed: 'nothing was changed' });
    }
    await this.journal!.release(false, 'paused', msg).catch(() => undefined);
    const record = this.journal!.recorded
      ? `recorded in Lease ${this.journal!.namespace}/calico-tune`
      : `NOT recorded: ${this.journal!.lostRecord}`;
    const hints = this.journal!.recorded
      ? [
          `continue with: ${this.opts.resumeHint} --resume`,
          `or undo with: ${this.opts.resumeHint} --rollback`,
        ]
      : this.byHandHints(plan, done, true);
    if (!wrote)
      throw new PromptRefusal(msg, code, {
        changed: `nothing was written by this run; the plan stays ${record}`,
        hints,
      });
    throw new PromptRefusal(msg, ExitCode.CLUSTER, {
      changed: `${done} of ${total} steps were applied; ${record}`,
      hints,
    });
  }

  /**
   * When the cluster lost the plan's record (the Lease deleted and not writable again, or taken by another
   * run), --resume and --rollback cannot find it: the undo of what this run did, as commands, last first.
   */
  private byHandHints(plan: Plan, failedAt: number, failedNotWritten: boolean): string[] {
    const state = this.journal?.state;
    const done = new Set(state?.done.map((d) => d.id) ?? []);
    if (state?.current) done.add(state.current);
    if (failedNotWritten) done.delete(plan.steps[failedAt]!.id);
    const cmds = plan.steps
      .slice(0, failedAt + 1)
      .filter((st) => done.has(st.id))
      .reverse()
      .flatMap((st) => st.undo.filter((u) => u.action !== 'wait').flatMap(kubectlCommands));
    return [
      '--resume and --rollback cannot find this plan: its record is not in the cluster',
      ...(cmds.length
        ? ['to undo what it did, run these, last step first (check each object first):', ...cmds]
        : []),
      'kubectl calico-tune status shows where the cluster stands',
    ];
  }

  /** What to do after a gate timed out: ask the person, else --on-timeout, else the step's own choice. */
  private async onGateTimeout(
    step: Step,
    why: string,
  ): Promise<'wait' | 'rollback' | 'pause' | 'pause-by-person'> {
    const o = this.opts;
    if (o.interactive && !o.yes && o.chooseOnTimeout) {
      const c = await o.chooseOnTimeout(`${why}. What now?`);
      return c === 'pause' ? 'pause-by-person' : c;
    }
    return this.onTimeout ?? step.onTimeout ?? 'rollback';
  }

  private paused(plan: Plan, done: number, why: string, outcome: Outcome, extra = ''): ExecuteResult {
    return this.result(
      plan,
      outcome,
      done,
      `${why}; ${done}/${plan.steps.length} steps applied. Resume: ${this.opts.resumeHint} --resume${extra}   Roll back: ${this.opts.resumeHint} --rollback${extra}`,
    );
  }

  /**
   * ` --timeout D` for the hints after a gate timed out on a short limit: the plan's gates keep the limit they
   * were planned with, so a resume or rollback without --timeout meets the same one (a review: 1s, twice).
   */
  private longerTimeout(gate: Gate): string {
    const ms = this.gateTimeout(gate);
    return ms >= DEFAULT_GATE_MS ? '' : ` --timeout ${formatDuration(Math.max(ms * 4, DEFAULT_GATE_MS / 2))}`;
  }

  /** The steps a rollback undoes, last first: done (and the one in flight or being undone) minus undone. */
  private stepsToUndo(plan: Plan, state: JournalState): Step[] {
    const undone = new Set(state.undone?.map((u) => u.id) ?? []);
    const ids = new Set([
      ...state.done.map((d) => d.id),
      ...(state.current ? [state.current] : []),
      ...(state.undoing ? [state.undoing] : []),
    ]);
    return plan.steps.filter((s) => ids.has(s.id) && !undone.has(s.id)).reverse();
  }

  private async rollback(plan: Plan, state: JournalState, why: string): Promise<ExecuteResult> {
    // the undo sequence is verified on the live state like any other: a rollback must not cut routes either
    let live = this.opts.live;
    if (this.opts.mode !== 'rollback') {
      live = await this.readLive();
    }
    // a node deleted since (a reflector replaced, a machine gone): nothing of it is left to undo, and no
    // gate can wait for it; without this the undo of its patch made the whole rollback refused, and resume
    // too, leaving no way out but hand edits
    const exists = new Set(live.nodes.map((n) => n.name));
    const gone = new Set<string>();
    const onLiveNodes = (u: Step): Step[] => {
      if (u.action === 'wait' && u.gate) {
        const keep = u.gate.nodes.filter((n) => exists.has(n));
        for (const n of u.gate.nodes) if (!exists.has(n)) gone.add(n);
        if (!keep.length) return [];
        return keep.length === u.gate.nodes.length ? [u] : [{ ...u, gate: { ...u.gate, nodes: keep } }];
      }
      if (u.object?.kind === 'Node' && !exists.has(u.object.name)) {
        gone.add(u.object.name);
        return [];
      }
      return [u];
    };
    const writes = (s: Step): Step[] => s.undo.filter((u) => u.action !== 'wait');
    // steps with nothing left to undo: their writes are not on the cluster (refused by the server, or in
    // flight when the run stopped and never landed), or were on a node that is gone. They are not "undone",
    // and no gate waits for them (a review found "undone: Make X a route reflector" for a refused patch)
    // Judged in the order the undos run, each on the cluster as the undos before it leave it: a cordon whose
    // uncordon came later in the plan is cordoned again by that uncordon's undo, so its own undo is needed
    const nothingLeft: { step: Step; why: string }[] = [];
    let objects = live.objects;
    const toUndo = this.stepsToUndo(plan, state).flatMap((s) => {
      const kept = { ...s, undo: s.undo.flatMap(onLiveNodes) };
      if (!writes(s).length) return [kept];
      if (!writes(kept).length) {
        nothingLeft.push({ step: s, why: 'its node no longer exists' });
        return [];
      }
      if (writes(kept).every((u) => alreadyDone(u, findObject(objects, u)))) {
        // the step whose undo an earlier rollback wrote and did not confirm (its gate timed out, or the run
        // died): its writes are undone, but what they change is not yet seen; the step stays, its writes are
        // no-ops (perform finds them done) and its gates observe the sessions again
        if (s.id === state.undoing) return [kept];
        nothingLeft.push({ step: s, why: 'not applied (the cluster does not hold its change)' });
        return [];
      }
      for (const u of writes(kept)) objects = applyStepToObjects(objects, u);
      return [kept];
    });
    if (gone.size)
      this.opts.log(
        `node${gone.size > 1 ? 's' : ''} ${[...gone].join(', ')} no longer exist${gone.size > 1 ? '' : 's'}: nothing to undo on ${gone.size > 1 ? 'them' : 'it'}`,
      );
    const undoSteps = toUndo.flatMap((s) => s.undo);
    const r = reverify(undoSteps, live, { acceptN1: true, acceptZoneLoss: true });
    // a pool switched back to a mode the live state refuses (IPIP after BGP was turned off): refused too
    const encap = encapRefusals(undoSteps, live);
    if (!r.ok || encap.length) {
      const msg = `rollback refused: on the live state, undo ${r.ok ? encap.join('; ') : describeFailure(r, undoSteps.length)}`;
      await this.journal!.release(false, 'paused', msg);
      throw new RollbackError(msg, ExitCode.GATE, {
        changed: 'nothing was undone; the plan stays recorded',
        hints: [
          `inspect with: kubectl calico-tune status`,
          `continue the plan instead: ${this.opts.resumeHint} --resume`,
        ],
      });
    }
    this.keepGates(r);
    await this.journal!.setPhase('rolling-back', why);
    for (const { step, why: reason } of nothingLeft) {
      await this.journal!.stepUndone(step.id); // (a later --rollback does not look at it again)
      this.opts.log(`  nothing to undo: ${step.title}: ${reason}`);
    }
    // counts are of writing steps: a wait undoes nothing (a review found "rolling back 2 step(s)" for one)
    // (a drain is not undone: the pods it evicted are gone, their controllers made new ones; a review found
    // "undone: Drain X" and "as before" with a pod missing)
    const toWrite = toUndo.filter((st) => st.action !== 'wait' && st.action !== 'drain').length;
    this.opts.log(`rolling back ${toWrite} step(s) of ${plan.metadata.name}`);
    let undoneCount: number;
    try {
      undoneCount = await this.undoAll(toUndo);
    } catch (e) {
      if (!(e instanceof InterruptedError)) throw e;
      const msg = `rollback interrupted after undoing ${this.undoneWrites} of ${toWrite} step(s)`;
      await this.journal!.release(false, 'paused', msg);
      // applied: what the rollback had to undo, less what it undid (not "the steps it had not yet reached")
      return this.paused(plan, toUndo.length - this.undoneSoFar, msg, 'interrupted');
    }
    return this.afterRollback(plan, undoneCount, this.keptForOthers);
  }

  /** Steps (waits included) and writing steps undone so far by undoAll. */
  /** --on-timeout of this run, else the one the journal recorded. */
  private onTimeout: 'rollback' | 'pause' | undefined;
  private undoneSoFar = 0;
  private undoneWrites = 0;
  /** Undos not written because someone else changed the object since the plan did (changedByOthers). */
  private keptForOthers: string[] = [];

  /**
   * Why the undo `u` of `step` must not be written: the object no longer holds what the step wrote, nor what
   * the undo would write, so someone else changed it since (a password added to the BGPPeer the plan created,
   * a cluster ID set by hand). The undo would overwrite or delete their change; it is left, and said so.
   */
  private async changedByOthers(step: Step, u: Step): Promise<string | undefined> {
    if (this.dry || (step.action !== 'patch' && step.action !== 'create')) return undefined;
    const t = resourceOf(u);
    const name = u.object?.name ?? u.manifest?.metadata.name;
    if (!t || !name) return undefined;
    const live = await this.api.get(t, name, u.object?.namespace ?? u.manifest?.metadata.namespace);
    if (!live) return undefined;
    if (step.action === 'patch' && u.action === 'patch') {
      // field by field: a field someone already put back, or still as the step left it, is no conflict
      const fields = fieldsChangedSince(live, step.patch, u.patch);
      if (!fields.length) return undefined;
      return `${t.kind} ${name}: ${fields.slice(0, 3).join(', ')}${fields.length > 3 ? ` and ${fields.length - 3} more` : ''} changed by someone else since the plan set ${fields.length > 1 ? 'them' : 'it'}; undoing "${step.title}" would overwrite that`;
    }
    if (alreadyDone(step, live) || alreadyDone(u, live)) return undefined;
    return `${t.kind} ${name} was changed by someone else since the plan ${step.action === 'create' ? 'created' : 'changed'} it; undoing "${step.title}" would ${u.action === 'delete' ? 'delete it with their change' : 'overwrite their change'}`;
  }

  private async undoAll(toUndo: Step[]): Promise<number> {
    let undoneCount = 0;
    this.undoneSoFar = 0;
    this.undoneWrites = 0;
    const toWrite = toUndo.filter((st) => st.action !== 'wait' && st.action !== 'drain').length;
    this.drained = [];
    for (const [index, step] of toUndo.entries()) {
      this.checkInterrupt();
      this.timeStep(step.id);
      if (step.action === 'drain') {
        await this.journal!.stepUndone(step.id); // (nothing to write: a later --rollback does not look at it again)
        this.undoneSoFar++;
        this.drained.push(step.object!.name);
        this.opts.log(
          `  not undone: ${step.title}: the pods it evicted are not put back (their controllers made new ones)`,
        );
        continue;
      }
      // recorded before the first undo write, not before a check that may leave the step as it is (a review:
      // a rollback stopped on someone else's change left the step "being undone", and a later rollback
      // counted it undone)
      let started = false;
      let skipped = false;
      for (const u of step.undo) {
        if (u.action === 'wait') {
          if (skipped) continue; // (its write was left: nothing changed to wait for)
          const ok = await this.waitGate(u);
          if (!ok) {
            const msg = `rollback gate "${u.title}" timed out after ${formatDuration(this.gateTimeout(u.gate!))}`;
            await this.journal!.release(false, 'paused', msg);
            throw new RollbackError(msg, ExitCode.GATE, {
              changed: `${undoneCount} of ${toWrite} step(s) were undone; the undo of "${step.title}" was written but not confirmed`,
              hints: [
                `retry the rollback: ${this.opts.resumeHint} --rollback${this.longerTimeout(u.gate!)}`,
                `or go forward again: ${this.opts.resumeHint} --resume${this.longerTimeout(u.gate!)}`,
              ],
            });
          }
        } else {
          const clash = await this.changedByOthers(step, u);
          if (clash) {
            // (the "as before" check after the rollback reports it too)
            this.opts.log(`  left as it is: ${clash}`);
            // (the plan is finished after this rollback: say how to undo it by hand, once the change is looked at)
            const byHand = kubectlCommands(u);
            this.keptForOthers.push(
              byHand.length ? `${clash} (to undo it anyway: ${byHand.join(' && ')})` : clash,
            );
            skipped = true;
            // the undo sequence was verified with this undo in it: the rest is verified again without it,
            // on the cluster as it is now (a cluster ID kept, then the BGPPeer deleted, isolates the node)
            const rest = toUndo.slice(index + 1).flatMap((s) => s.undo);
            const r = reverify(rest, await this.readLive(), { acceptN1: true, acceptZoneLoss: true });
            if (!r.ok) {
              const msg = `the rollback stops: ${clash}, and without that undo, undo ${describeFailure(r, rest.length)}`;
              await this.journal!.release(false, 'paused', msg);
              throw new RollbackError(msg, ExitCode.GATE, {
                changed: `${undoneCount} of ${toWrite} step(s) were undone`,
                hints: [
                  `put the object back as the plan left it, or as it was before, then: ${this.opts.resumeHint} --rollback`,
                  `or go forward again: ${this.opts.resumeHint} --resume`,
                ],
              });
            }
            this.keepGates(r);
            continue;
          }
          try {
            if (!started) {
              await this.journal!.undoStarted(step.id);
              started = true;
            }
            await this.perform(u);
          } catch (e) {
            await this.journal!.release(
              false,
              'failed',
              `undo of ${step.id} failed: ${(e as Error).message}`,
            ).catch(() => undefined);
            throw new RollbackError(
              `rolling back "${step.title}" failed: ${(e as Error).message}`,
              e instanceof CliError ? e.exitCode : ExitCode.CLUSTER,
              {
                changed: `${undoneCount} of ${toWrite} step(s) were undone`,
                hints: [
                  `retry the rollback: ${this.opts.resumeHint} --rollback`,
                  `or go forward again: ${this.opts.resumeHint} --resume`,
                ],
              },
            );
          }
        }
      }
      // a step whose undo was left (someone else's change) is not undone; the result says how to undo it by
      // hand (the plan is finished: another --rollback would find the same change)
      if (skipped) continue;
      await this.journal!.stepUndone(step.id);
      this.undoneSoFar++;
      if (step.action !== 'wait') {
        undoneCount++;
        this.undoneWrites = undoneCount;
        this.opts.log(`  undone: ${step.title}`);
      }
    }
    return undoneCount;
  }

  /** Nodes whose drain the rollback met (evicted pods are not put back): said with the outcome. */
  private drained: string[] = [];

  private async afterRollback(plan: Plan, undoneCount: number, kept: string[] = []): Promise<ExecuteResult> {
    const pods = this.drained.length
      ? `; the drain of ${this.drained.join(', ')} is not undone (pods it evicted are not put back; their controllers made new ones)`
      : '';
    // the claim "as before" is checked against the cluster, not taken from the loop above
    const after = await this.readLive();
    const differences = [...kept, ...staleness(plan, after)];
    const v = verdictOf(after, false);
    if (v.unreachablePairs > 0)
      differences.push(
        `the BGP model finds ${v.unreachablePairs} node pairs without routes${v.example ? ` (${v.example})` : ''}`,
      );
    await this.finishRecord();
    if (differences.length)
      return this.result(
        plan,
        'rollback-incomplete',
        0,
        `rolled back ${undoneCount} step(s), but the cluster is not as before the plan: ${differences.slice(0, 5).join('; ')}${differences.length > 5 ? `; and ${differences.length - 5} more` : ''}${pods}. Check: kubectl calico-tune status`,
        differences,
      );
    return this.result(
      plan,
      'rolled-back',
      0,
      `rolled back ${undoneCount} step(s); the cluster matches the state before the plan (${plan.metadata.cluster.fingerprint.length} objects compared) and the BGP model finds every node pair reachable${pods}`,
      [],
    );
  }

  /** A fresh read of the cluster, with what the running plan's create steps name (withCreatedObjects). */
  private async readLive(): Promise<ClusterSnapshot> {
    const live = await this.opts.readLive();
    return this.activePlan ? this.withCreatedObjects(this.activePlan, live) : live;
  }

  /** The snapshot with the objects the plan's create steps name that it lacks and the cluster has. */
  private async withCreatedObjects(plan: Plan, live: ClusterSnapshot): Promise<ClusterSnapshot> {
    const missing = plan.steps.filter((st) => st.action === 'create' && !findObject(live.objects, st));
    const found = await Promise.all(
      missing.map(async (st) => {
        const t = resourceOf(st);
        if (!t) return undefined;
        try {
          return await this.api.get(t, st.manifest!.metadata.name, st.manifest!.metadata.namespace);
        } catch (e) {
          // not allowed to read it, or no such API: the write itself will say
          if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return undefined;
          throw e;
        }
      }),
    );
    const add = found.filter((o): o is KubeObject => !!o);
    return add.length ? { ...live, objects: [...live.objects, ...add] } : live;
  }

  /** Performs one write step: re-read, precondition, write (with dryRun where asked), retry on conflict. */
  async perform(step: Step): Promise<void> {
    if (step.action === 'drain') {
      return drainNode(this.api, step.object!.name, {
        dryRun: this.dry,
        deadline: Date.now() + (this.opts.timeoutMs ?? 5 * 60_000),
        log: this.opts.log,
        status: this.opts.status,
        checkInterrupt: () => this.checkInterrupt(),
      });
    }
    if (step.action === 'wait') return;
    const t = resourceOf(step)!;
    const name = step.object?.name ?? step.manifest!.metadata.name;
    const ns = step.object?.namespace ?? step.manifest?.metadata.namespace;
    /** An attempt whose answer was lost before a conflict: it may have landed. */
    let maybeLanded = false;
    for (let attempt = 1; ; attempt++) {
      const live = await this.api.get(t, name, ns);
      if (!this.dry && alreadyDone(step, live)) return;
      // a cordon that is not ours (kubectl cordon: maintenance) is never taken over nor lifted: taken over,
      // the plan's uncordon (or a rollback's) would have lifted it at the end
      if ((step.action === 'cordon' || step.action === 'uncordon') && cordonedByOthers(live)) {
        this.opts.log(
          step.action === 'cordon'
            ? `  ${name} is already cordoned by someone else (not by calico-tune): left as it is, and this plan will not uncordon it`
            : `  ${name} stays cordoned: its cordon is not calico-tune's (someone cordoned it during the plan)`,
        );
        return;
      }
      const problem = preconditionProblem(live, step.precondition);
      // (after a conflict on an earlier attempt, that attempt may have landed behind a lost answer: then the
      // step stays in flight; a review)
      if (problem && maybeLanded)
        throw new CliError(
          `${t.kind} ${name}: ${problem} (it changed since the plan was checked)`,
          ExitCode.CLUSTER,
        );
      if (problem)
        throw new NotWrittenError(
          `${t.kind} ${name}: ${problem} (it changed since the plan was checked)`,
          ExitCode.USAGE,
        );
      const w = { namespace: ns, dryRun: this.dry };
      try {
        switch (step.action) {
          case 'patch':
            await this.api.mergePatch(t, name, withVersion(step.patch!, live), w);
            break;
          case 'cordon':
          case 'uncordon':
            await this.api.mergePatch(
              Node,
              name,
              withVersion(cordonPatch(step.action === 'cordon'), live),
              w,
            );
            break;
          case 'create':
            await this.api.create(t, step.manifest!, w);
            break;
          case 'delete':
            await this.api.delete(t, name, {
              ...w,
              preconditions: live?.metadata.resourceVersion
                ? { resourceVersion: live.metadata.resourceVersion }
                : undefined,
            });
            break;
          default:
            break;
        }
        return;
      } catch (e) {
        if (e instanceof ApiError && e.afterAmbiguousAttempt) maybeLanded = true;
        if (e instanceof ApiError && e.status === 409 && attempt < 4) continue; // re-read, re-check, retry
        // refused outright (forbidden, invalid, an admission policy, a conflict that persists): not written.
        // A 5xx or a lost answer may have landed: the step stays in flight for --resume and --rollback
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && !maybeLanded)
          throw new NotWrittenError(e.message, ExitCode.CLUSTER, { cause: e });
        throw e;
      }
    }
  }

  private gateTimeout(gate: Gate): number {
    return this.opts.timeoutMs ?? parseDurationMs(gate.timeout) ?? DEFAULT_GATE_MS;
  }

  /** Waits for a gate; true when it passed, false on timeout. */
  private async waitGate(step: Step): Promise<boolean> {
    const gate = step.gate!;
    const deadline = Date.now() + this.gateTimeout(gate);
    const lg = this.expectations.get(step.id);
    if (!lg) throw new Error(`internal: no live expectations for gate ${step.id}`);
    const expected = lg.sessions;
    const coverage = gateCoverage(gate, lg.nodes, lg.reflectors);
    this.opts.status(`checking ${coverage}`);
    const ipToName = new Map(this.opts.live.nodes.map((n) => [nodeIPv4(n) ?? '', n.name]));
    // A gate passes when the expected sessions hold over REPORTS spanning `settleMs` on every observed node
    // (report times from the node's own clock, compared only with each other): a report made just after the
    // write may predate confd's re-render and BIRD's reconfigure (0.15-0.45 s), in which a session whose
    // `rr client` flag changed still shows Established before BIRD restarts it; and a node that stops
    // reporting never passes on its last report.
    const settleMs = this.opts.settleMs ?? GATE_SETTLE_MS;
    // a reflector of thousands of clients reports once per settle window (its status is hundreds of KB)
    const useStatus = await this.observer!.fresh(gate.nodes, (n) =>
      reportPeriodSeconds(expected.get(n)?.length ?? 0, settleMs),
    );
    const firstOk = new Map<string, number>();
    let passed = false;
    const settled = (obs: Map<string, ObservedNode>): boolean => {
      if (!evaluateGate(gate, expected, obs, lg.excused).ok) {
        firstOk.clear();
        return false;
      }
      passed = gate.nodes.every((n) => {
        const at = obs.get(n)?.reportedAt ?? Date.now();
        if (!firstOk.has(n)) firstOk.set(n, at);
        return at - firstOk.get(n)! >= settleMs;
      });
      return passed;
    };
    let lastLog = 0;
    const progress = (obs: Map<string, ObservedNode>): string[] =>
      evaluateGate(gate, expected, obs, lg.excused).nodes.map((n) => gateProgressLine(n, ipToName));
    let observed: Map<string, ObservedNode>;
    const waitStart = performance.now();
    if (useStatus) {
      let fellBack = false;
      const firstAt = Date.now();
      observed = await this.observer!.until(gate.nodes, {
        deadline,
        pollMs: this.opts.pollMs,
        checkInterrupt: () => this.checkInterrupt(),
        done: (obs) => {
          if (settled(obs)) return true;
          // no report at all after 30 s: calico-node does not serve CalicoNodeStatus (older Calico?)
          fellBack = [...obs.values()].every((o) => !o.peers) && Date.now() - firstAt > 30_000;
          return fellBack;
        },
        onPoll: (obs) => {
          const lines = progress(obs);
          this.opts.status(
            `waiting (${formatDuration(Math.max(0, deadline - Date.now()))} left): ${lines.join(' | ')}`,
          );
          if (Date.now() - lastLog > 15_000) {
            lastLog = Date.now();
            for (const l of lines) this.opts.log(`  ${l}`);
          }
        },
      });
      if (fellBack) {
        this.opts.log('  no CalicoNodeStatus report after 30s; reading BGP state with birdcl instead');
        observed = await this.birdUntil(gate, deadline, settled);
      }
    } else observed = await this.birdUntil(gate, deadline, settled);
    // the verdict is in: the gate's objects go while the next steps run (the next gate makes its own)
    if (useStatus) this.observer!.release(gate.nodes);
    const waited = Math.round(performance.now() - waitStart);
    this.timings.waitingMs += waited;
    if (this.currentStep) this.currentStep.entry.waitingMs = (this.currentStep.entry.waitingMs ?? 0) + waited;
    this.opts.status('');
    for (const l of progress(observed)) this.opts.log(`  ${l}`);
    if (passed) this.opts.log(`  checked ${coverage}, stable for ${formatDuration(settleMs)}`);
    return passed;
  }

  private async birdUntil(
    gate: Gate,
    deadline: number,
    settled: (obs: Map<string, ObservedNode>) => boolean,
  ): Promise<Map<string, ObservedNode>> {
    for (;;) {
      this.checkInterrupt();
      const obs = await birdclObserve(this.api, gate.nodes, {
        namespace: this.opts.live.calico.nodeNamespace,
        timeoutMs: Math.min(30_000, Math.max(1000, deadline - Date.now())),
      });
      if (settled(obs) || Date.now() >= deadline) return obs;
      await new Promise((r) =>
        setTimeout(r, Math.min(this.opts.pollMs ?? 1000, Math.max(50, deadline - Date.now()))),
      );
    }
  }
}

/** Adds the live resourceVersion to a merge patch: the write fails with 409 if the object changed meanwhile. */
function withVersion(patch: Record<string, unknown>, live: KubeObject | undefined): Record<string, unknown> {
  const rv = live?.metadata.resourceVersion;
  if (!rv) return patch;
  const meta = (patch['metadata'] as Record<string, unknown> | undefined) ?? {};
  return { ...patch, metadata: { ...meta, resourceVersion: rv } };
}

/** An answer to a checkpoint prompt slower than this: the gates just before it are observed again. */
const PROMPT_STALE_MS = 10_000;

/** Where the run of gates (wait steps) that ends just before step `index` starts (`index`: none). */
function gatesBefore(plan: Plan, index: number): number {
  let g = index;
  while (g > 0 && plan.steps[g - 1]!.action === 'wait') g--;
  return g;
}

/** A step as the kubectl commands a person runs by hand (the -o script form, with kubectl for $KUBECTL). */
function kubectlCommands(step: Step): string[] {
  return stepCommands(step, '').map((c) => c.replace(/\$KUBECTL /g, 'kubectl '));
}
