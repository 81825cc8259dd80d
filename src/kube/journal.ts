/**
 * The cluster-side lock and journal: one coordination.k8s.io Lease, `calico-tune` in calico-system (else
 * kube-system). `spec.holderIdentity` names who runs a plan, renewed while running; annotations hold the
 * plan (gzip+base64) and its progress (steps done, with times), so `--resume` continues after a crash or
 * Ctrl-C and `--rollback` undoes what was done, from any workstation.
 */
import os from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { clusterError, CliError, ExitCode } from '../errors.js';
import { JOURNAL_LEASE_NAME, JOURNAL_STATE_ANNOTATION } from '../model/parse.js';
import type { KubeObject } from '../model/types.js';
import type { Plan } from '../plan/types.js';
import type { KubeApi } from './api.js';
import { ApiError } from './http.js';
import { Lease } from '../model/resources.js';
import { MANAGED_BY_LABELS } from '../model/managed-by.js';

export const LEASE_NAME = JOURNAL_LEASE_NAME;
const ANN_PLAN = 'calico-tune.io/plan';
const ANN_STATE = JOURNAL_STATE_ANNOTATION;
export const LEASE_SECONDS = 30;

export type Phase = 'running' | 'paused' | 'rolling-back' | 'failed';

export interface JournalState {
  plan: string;
  phase: Phase;
  /** Steps done, in order (ids). */
  done: { id: string; at: string }[];
  /** Steps undone during a rollback (ids). */
  undone: { id: string; at: string }[];
  /**
   * The step being applied: recorded before its write, so a crash between the write and `done` is not lost
   * (resume re-checks it, rollback undoes it; both are idempotent).
   */
  current?: string | undefined;
  /**
   * The step whose undo is being written during a rollback: recorded before the first undo write, so a run
   * that dies meanwhile knows that step's effect may be gone (resume re-checks every done step anyway).
   */
  undoing?: string | undefined;
  /** Steps in the plan and the command that built it (for `status`). */
  steps?: number | undefined;
  command?: string | undefined;
  startedAt: string;
  updatedAt: string;
  message?: string | undefined;
  dryRun?: boolean | undefined;
  /** `--on-timeout` of the run that started the plan (or the last one that gave it): a resume keeps it. */
  onTimeout?: 'rollback' | 'pause' | undefined;
}

export interface LockInfo {
  namespace: string;
  holder?: string | undefined;
  since?: string | undefined;
  renewedAt?: string | undefined;
  held: boolean;
  state?: JournalState | undefined;
  plan?: Plan | undefined;
}

function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function holderIdentity(user?: string): string {
  return `${user ?? os.userInfo().username}@${os.hostname()} (pid ${process.pid})`;
}

export function encodePlan(p: Plan): string {
  return gzipSync(Buffer.from(JSON.stringify(p))).toString('base64');
}
export function decodePlan(s: string): Plan {
  return JSON.parse(gunzipSync(Buffer.from(s, 'base64')).toString('utf8')) as Plan;
}

/**
 * A holder on this machine whose process is gone (killed, crashed) no longer holds the lock, even before the
 * lease expires: `user@host (pid N)` with host = this host and no process N.
 */
export function holderIsDeadHere(holder: string): boolean {
  const m = /^.+@(.+) \(pid (\d+)\)$/.exec(holder);
  if (!m || m[1] !== os.hostname()) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function leaseInfo(o: KubeObject, now = Date.now()): LockInfo {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const holder =
    typeof spec['holderIdentity'] === 'string' && spec['holderIdentity'] !== ''
      ? spec['holderIdentity']
      : undefined;
  const renewed = typeof spec['renewTime'] === 'string' ? spec['renewTime'] : undefined;
  const duration =
    typeof spec['leaseDurationSeconds'] === 'number' ? spec['leaseDurationSeconds'] : LEASE_SECONDS;
  const held =
    holder !== undefined &&
    renewed !== undefined &&
    Date.parse(renewed) + duration * 1000 > now &&
    !holderIsDeadHere(holder);
  const ann = o.metadata.annotations ?? {};
  let state: JournalState | undefined;
  let plan: Plan | undefined;
  try {
    state = ann[ANN_STATE] ? (JSON.parse(ann[ANN_STATE]) as JournalState) : undefined;
    plan = ann[ANN_PLAN] ? decodePlan(ann[ANN_PLAN]) : undefined;
  } catch {
    state = undefined;
  }
  return {
    namespace: o.metadata.namespace ?? '',
    holder,
    since: typeof spec['acquireTime'] === 'string' ? spec['acquireTime'] : undefined,
    renewedAt: renewed,
    held,
    state,
    plan,
  };
}

export const JOURNAL_NAMESPACES = ['calico-system', 'kube-system'];

export class Journal {
  private lease?: KubeObject;
  private timer?: ReturnType<typeof setInterval>;
  private lost?: Error;
  /** When this run last wrote its record (ms). */
  private writtenAt = Date.now();
  state?: JournalState;

  constructor(
    private readonly api: KubeApi,
    public namespace: string,
    readonly holder: string,
  ) {}

  /**
   * `preferred` is where a new Lease goes (calico-system when Calico runs there, else kube-system); an existing
   * Lease is found in either namespace, so every user and install agrees on one lock.
   */
  static async open(api: KubeApi, holder: string, preferred?: string): Promise<Journal> {
    return new Journal(
      api,
      preferred && JOURNAL_NAMESPACES.includes(preferred) ? preferred : 'kube-system',
      holder,
    );
  }

  async read(): Promise<LockInfo | undefined> {
    for (const ns of [this.namespace, ...JOURNAL_NAMESPACES.filter((n) => n !== this.namespace)]) {
      const o = await this.api.get(Lease, LEASE_NAME, ns);
      if (o) {
        this.lease = o;
        this.namespace = ns;
        return leaseInfo(o);
      }
    }
    return undefined;
  }

  /**
   * The lock's refusals (another run holds it; a fresh run while a plan is recorded), read before anything
   * else is checked: a saved plan applied while another run holds the lock was refused as "stale", and the
   * advice to make a new plan led to a plan on the half-way state (a review).
   */
  async precheck(mode: 'fresh' | 'resume' | 'rollback'): Promise<void> {
    this.refusal(mode, await this.read());
  }

  private refusal(mode: 'fresh' | 'resume' | 'rollback', info: LockInfo | undefined): void {
    if (info?.held && info.holder !== this.holder) {
      throw new CliError(
        `another run holds the lock: ${info.holder}, since ${info.since ?? '?'} (Lease ${this.namespace}/${LEASE_NAME}, renewed ${info.renewedAt ?? '?'})`,
        ExitCode.USAGE,
        {
          hints: [
            'wait for it to finish; if that run is dead the lock expires within 30 seconds, then use --resume or --rollback',
          ],
        },
      );
    }
    const unfinished = info?.state && info.plan ? info : undefined;
    if (mode === 'fresh' && unfinished) {
      throw new CliError(
        `an unfinished plan is recorded: ${unfinished.state!.plan} stopped ${unfinished.state!.phase} after ${unfinished.state!.done.length}/${unfinished.plan!.steps.length} steps (Lease ${this.namespace}/${LEASE_NAME})`,
        ExitCode.USAGE,
        {
          hints: [
            'continue it with --resume, or undo it with --rollback (the plan is stored in the cluster)',
          ],
        },
      );
    }
    if (mode !== 'fresh' && !unfinished) {
      throw new CliError(
        `there is no unfinished plan to ${mode} (no Lease ${this.namespace}/${LEASE_NAME} with a recorded plan)`,
        ExitCode.USAGE,
      );
    }
  }

  /**
   * Takes the lock. `mode` fresh: refuses when another run holds it or an unfinished plan is recorded;
   * resume/rollback: requires an unfinished plan and takes over an expired holder. Returns the recorded
   * plan for resume/rollback.
   */
  async acquire(
    mode: 'fresh' | 'resume' | 'rollback',
    plan?: Plan,
    onTimeout?: 'rollback' | 'pause',
  ): Promise<{ plan?: Plan; state?: JournalState; previous?: JournalState | undefined }> {
    const info = await this.read();
    const now = microTime();
    this.refusal(mode, info);
    const unfinished = info?.state && info.plan ? info : undefined;
    const usePlan = mode === 'fresh' ? plan! : unfinished!.plan!;
    const state: JournalState =
      mode === 'fresh'
        ? {
            plan: usePlan.metadata.name,
            phase: 'running',
            done: [],
            undone: [],
            steps: usePlan.steps.length,
            command: usePlan.metadata.command,
            startedAt: now,
            updatedAt: now,
            ...(onTimeout ? { onTimeout } : {}),
          }
        : {
            ...unfinished!.state!,
            phase: mode === 'rollback' ? 'rolling-back' : 'running',
            updatedAt: now,
            message: undefined,
            ...(onTimeout ? { onTimeout } : {}),
          };
    const body: KubeObject = {
      apiVersion: Lease.apiVersion,
      kind: 'Lease',
      metadata: {
        name: LEASE_NAME,
        namespace: this.namespace,
        labels: { ...MANAGED_BY_LABELS },
        annotations: { [ANN_PLAN]: encodePlan(usePlan), [ANN_STATE]: JSON.stringify(state) },
        ...(this.lease ? { resourceVersion: this.lease.metadata.resourceVersion } : {}),
      },
      spec: {
        holderIdentity: this.holder,
        leaseDurationSeconds: LEASE_SECONDS,
        acquireTime: now,
        renewTime: now,
      },
    };
    try {
      this.lease = this.lease ? await this.api.replace(Lease, body) : await this.api.create(Lease, body);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        throw new CliError('another run took the lock at the same moment; try again', ExitCode.USAGE);
      }
      throw e;
    }
    this.state = state;
    this.writtenAt = Date.now();
    this.startRenewal();
    // previous: the record as this run found it (phase and message), for a run that leaves it untouched
    return { plan: usePlan, state, previous: unfinished?.state };
  }

  private startRenewal(): void {
    this.timer = setInterval(
      () => {
        // (a renewal that fails for a 5xx or a timeout is tried again at the next tick: only writeNow decides
        // that the lock is lost; a review found one 503 ending the record for the rest of the run)
        void this.write({}).catch(() => undefined);
      },
      (LEASE_SECONDS * 1000) / 3,
    );
    this.timer.unref();
  }

  /** Whether the lock was lost (another run holds it now, or the record could not be written again). */
  get lockLost(): boolean {
    return this.lost !== undefined;
  }

  /** Whether the cluster holds this run's record (false once it was lost: `lostRecord` says why). */
  get recorded(): boolean {
    return this.lost === undefined && this.lease !== undefined;
  }

  get lostRecord(): string {
    return this.lost?.message ?? (this.lease ? '' : `Lease ${this.namespace}/${LEASE_NAME} is gone`);
  }

  /** Said once when the record had to be written again (someone deleted the Lease during the run). */
  onNotice?: (message: string) => void;

  /** Throws if renewal failed (someone else took the lock). Call between steps. */
  check(): void {
    if (this.lost) throw clusterError(`lost the lock: ${this.lost.message}`);
  }

  private queue: Promise<void> = Promise.resolve();

  /** Writes are serialised (renewals and progress share the Lease's resourceVersion). */
  private write(change: Partial<JournalState>, holder: string | null = this.holder): Promise<void> {
    const next = this.queue.then(() => this.writeNow(change, holder));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async writeNow(change: Partial<JournalState>, holder: string | null): Promise<void> {
    if (!this.lease || !this.state) return;
    if (this.lost) throw this.lost;
    // the record in memory follows what was written, not what was meant to be (a review: a failed write of
    // "step X started" made the failure say X "may have been written")
    const next: JournalState = { ...this.state, ...change, updatedAt: microTime() };
    const bodyOf = (lease: KubeObject): KubeObject => ({
      ...lease,
      metadata: {
        ...lease.metadata,
        annotations: { ...(lease.metadata.annotations ?? {}), [ANN_STATE]: JSON.stringify(next) },
      },
      spec: { ...(lease.spec ?? {}), holderIdentity: holder, renewTime: microTime() },
    });
    const written = (lease: KubeObject): void => {
      this.lease = lease;
      this.state = next;
      this.writtenAt = Date.now();
    };
    for (let attempt = 1; ; attempt++) {
      try {
        written(await this.api.replace(Lease, bodyOf(this.lease)));
        return;
      } catch (e) {
        if (!(e instanceof ApiError) || (e.status !== 409 && e.status !== 404) || attempt >= 4) {
          if (e instanceof ApiError && (e.status === 409 || e.status === 404)) this.lost = e;
          throw e;
        }
      }
      // someone else wrote the Lease (a label, an annotation: a review found a healthy run stopped as "lost
      // the lock"), or deleted it (to "break a stale lock"): it is still ours while it names us as holder
      // (or no one, as our own release leaves it) and records this very run
      const now = await this.api.get(Lease, LEASE_NAME, this.namespace);
      if (now) {
        const theirs = now.spec?.['holderIdentity'];
        let st: Partial<JournalState> = {};
        try {
          st = JSON.parse(now.metadata.annotations?.[ANN_STATE] ?? '{}') as Partial<JournalState>;
        } catch {
          st = {};
        }
        const ours =
          (theirs === this.holder || theirs === null || theirs === undefined || theirs === '') &&
          st.plan === this.state.plan &&
          st.startedAt === this.state.startedAt &&
          JSON.stringify(st.done ?? []) === JSON.stringify(this.state.done) &&
          JSON.stringify(st.undone ?? []) === JSON.stringify(this.state.undone);
        if (!ours) {
          // another run holds it, or took it while this one was away (asleep past the Lease's 30 s) and
          // changed the record: this run must not overwrite it
          this.lost = clusterError(
            theirs && theirs !== this.holder
              ? `another run took the lock: ${String(theirs)}`
              : `the record in Lease ${this.namespace}/${LEASE_NAME} was changed by another run`,
          );
          throw this.lost;
        }
        this.lease = {
          ...now,
          metadata: {
            ...now.metadata,
            annotations: {
              ...now.metadata.annotations,
              [ANN_PLAN]: this.lease.metadata.annotations?.[ANN_PLAN] ?? '',
            },
          },
        };
        continue;
      }
      // deleted while this run held it (its last write within the Lease's duration): the plan is part-way,
      // so its record is written again (nothing else knows what it did). After longer, another run may have
      // finished or rolled the plan back meanwhile: then it is not written again.
      if (Date.now() - this.writtenAt > LEASE_SECONDS * 1000) {
        this.lost = clusterError(
          `Lease ${this.namespace}/${LEASE_NAME} was deleted while this run could not renew it (another run may have finished or rolled the plan back)`,
        );
        throw this.lost;
      }
      const meta = this.lease.metadata as KubeObject['metadata'] & {
        uid?: string;
        creationTimestamp?: string;
      };
      const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...rest } = meta;
      try {
        written(await this.api.create(Lease, bodyOf({ ...this.lease, metadata: rest })));
      } catch (c) {
        this.lost = clusterError(
          `Lease ${this.namespace}/${LEASE_NAME} was deleted during the run and could not be written again: ${(c as Error).message}`,
        );
        throw this.lost;
      }
      this.onNotice?.(
        `Lease ${this.namespace}/${LEASE_NAME} was deleted during the run: this run's record is written again (it holds the plan and its progress; do not delete it while a plan runs)`,
      );
      return;
    }
  }

  async stepStarted(id: string): Promise<void> {
    await this.write({ current: id });
  }
  async stepDone(id: string): Promise<void> {
    await this.write({
      done: [...(this.state?.done ?? []), { id, at: new Date().toISOString() }],
      current: undefined,
    });
  }
  async undoStarted(id: string): Promise<void> {
    await this.write({ undoing: id });
  }
  async stepUndone(id: string): Promise<void> {
    await this.write({
      undone: [...(this.state?.undone ?? []), { id, at: new Date().toISOString() }],
      undoing: undefined,
    });
  }
  /**
   * Records what is really done: on --resume, steps recorded done whose effect is no longer live (an undo
   * that a failed rollback wrote) are done again, so the journal lists only `keep`.
   */
  async setDone(keep: string[]): Promise<void> {
    const k = new Set(keep);
    await this.write({
      done: (this.state?.done ?? []).filter((d) => k.has(d.id)),
      undone: [],
      undoing: undefined,
      current: undefined,
    });
  }
  async setPhase(phase: Phase, message?: string): Promise<void> {
    await this.write({ phase, message });
  }

  /** Stops renewing. `finished`: delete the Lease; otherwise record the phase and release the holder. */
  async release(
    finished: boolean,
    phase?: Phase,
    message?: string,
    /** More of the record to change in the same write (a step not in flight after all: `current` cleared). */
    change: Partial<JournalState> = {},
  ): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.queue;
    if (!this.lease) return;
    if (finished) {
      // with preconditions, so the client may repeat it after a lost answer (and never deletes a lock that
      // another run took meanwhile); a 404 after such a repeat is our own delete
      for (let attempt = 1; ; attempt++) {
        const meta = this.lease.metadata as KubeObject['metadata'] & { uid?: string };
        try {
          await this.api.delete(Lease, LEASE_NAME, {
            namespace: this.namespace,
            preconditions: { uid: meta.uid, resourceVersion: meta.resourceVersion },
          });
          break;
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 409 || attempt >= 4) throw e;
          // written by someone else since (a label): still ours while it names us
          const now = await this.api.get(Lease, LEASE_NAME, this.namespace);
          if (!now) break;
          if (now.spec?.['holderIdentity'] !== this.holder) throw e;
          this.lease = now;
        }
      }
      this.lease = undefined;
    } else {
      await this.write({ ...change, phase: phase ?? 'paused', message }, null);
    }
  }
}
