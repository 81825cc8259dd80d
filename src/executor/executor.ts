/**
 * The one executor every mutating command uses. It checks the plan against the live cluster (stale plan,
 * model verdict, permissions) before the first write, takes the Lease lock, runs the steps with their
 * preconditions and gates, records progress so a run can be resumed or rolled back, asks at checkpoints
 * when a person is at the terminal, and on a gate timeout rolls back or pauses as the step says.
 */
import { CliError, ExitCode, usageError } from '../errors.js';
import type { KubeApi } from '../kube/api.js';
import { ApiError } from '../kube/http.js';
import { birdclObserve, NodeStatusObserver } from '../kube/bgp-status.js';
import { Journal, type JournalState } from '../kube/journal.js';
import { Node, Pod, typeFor, type ResourceType } from '../model/resources.js';
import { parseDurationMs, formatDuration } from '../model/duration.js';
import type { ClusterSnapshot, KubeObject } from '../model/types.js';
import { staleness } from '../plan/fingerprint.js';
import type { ObservedNode } from '../model/observed.js';
import { evaluateGate, gateProgressLine } from '../plan/gates.js';
import { patchIsNoop } from '../plan/merge-patch.js';
import { cordonPatch } from '../plan/simulate.js';
import type { Gate, Plan, Precondition, Step } from '../plan/types.js';

export interface ExecuteOptions {
  mode: 'fresh' | 'resume' | 'rollback';
  dryRun: 'none' | 'server';
  yes: boolean;
  interactive: boolean;
  /** Asks a yes/no question (inquirer); only called when interactive. */
  confirm: (question: string) => Promise<boolean>;
  /** A progress line (stderr). */
  log: (line: string) => void;
  /** A transient status line (gate progress), replaced by the next one on a terminal. */
  status: (line: string) => void;
  holder: string;
  /** Where to create the Lease (calico-system for operator installs, else kube-system); existing ones are found in either. */
  journalNamespace?: string | undefined;
  /** The command that resumes or rolls back, for messages. */
  resumeHint: string;
  /** Overrides every gate's timeout. */
  timeoutMs?: number | undefined;
  /** Live snapshot, for fresh runs (stale-plan check). */
  live?: ClusterSnapshot | undefined;
  /** Computes expected peers per node when a gate does not carry them (the model on the live state). */
  expectedPeers?: ((nodes: string[]) => Promise<Map<string, string[]>>) | undefined;
  pollMs?: number | undefined;
  /** IP -> node name, for readable progress. */
  ipToName?: Map<string, string> | undefined;
}

export interface ExecuteResult {
  outcome: 'done' | 'rolled-back' | 'paused' | 'dry-run' | 'declined';
  plan: string;
  steps: number;
  done: number;
  message: string;
}

class Interrupted extends Error {}

function resourceOf(step: Step): ResourceType | undefined {
  const ref =
    step.object ??
    (step.manifest ? { apiVersion: step.manifest.apiVersion, kind: step.manifest.kind } : undefined);
  if (!ref) return undefined;
  const t = typeFor(ref.apiVersion, ref.kind);
  if (!t)
    throw usageError(
      `the plan names an object kind the executor does not handle: ${ref.apiVersion} ${ref.kind}`,
    );
  return t;
}

function getPath(o: unknown, path: string[]): unknown {
  let cur: unknown = o;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Why the object does not meet the precondition, or undefined when it does. */
export function preconditionProblem(
  obj: KubeObject | undefined,
  pre: Precondition | undefined,
): string | undefined {
  if (!pre) return undefined;
  if (pre.exists === true && !obj) return 'the object does not exist';
  if (pre.exists === false && obj) return 'the object already exists';
  for (const f of pre.fields ?? []) {
    const v = getPath(obj, f.path);
    const want = f.equals;
    if (want === null ? v !== undefined && v !== null : v !== want) {
      return `${f.path.slice(-1)[0]} is ${v === undefined ? 'unset' : JSON.stringify(v)}, expected ${want === null ? 'unset' : JSON.stringify(want)}`;
    }
  }
  return undefined;
}

/** Whether the step's effect already holds on the live object (so a resumed run can skip it). */
export function alreadyDone(step: Step, obj: KubeObject | undefined): boolean {
  switch (step.action) {
    case 'patch':
      return !!obj && patchIsNoop(obj, step.patch);
    case 'cordon':
      return !!obj && patchIsNoop(obj, cordonPatch(true));
    case 'uncordon':
      return !!obj && patchIsNoop(obj, cordonPatch(false));
    case 'create':
      return !!obj && JSON.stringify(obj.spec ?? {}) === JSON.stringify(step.manifest?.spec ?? {});
    case 'delete':
      return !obj;
    default:
      return false;
  }
}

interface Access {
  verb: string;
  group: string;
  resource: string;
  namespace?: string | undefined;
  subresource?: string | undefined;
}

function accessFor(steps: Step[], calicoGroup: string, leaseNs: string | undefined): Access[] {
  const out: Access[] = [];
  const add = (a: Access): void => {
    if (!out.some((x) => JSON.stringify(x) === JSON.stringify(a))) out.push(a);
  };
  for (const s of steps) {
    for (const st of [s, ...s.undo]) {
      const t = st.action === 'wait' || st.action === 'drain' ? undefined : resourceOf(st);
      const group = t ? (t.apiVersion.includes('/') ? t.apiVersion.split('/')[0]! : '') : '';
      if (t) {
        const verb = st.action === 'create' ? 'create' : st.action === 'delete' ? 'delete' : 'patch';
        add({ verb, group, resource: t.plural, namespace: st.object?.namespace });
      }
      if (st.action === 'drain') {
        add({ verb: 'list', group: '', resource: 'pods' });
        add({ verb: 'create', group: '', resource: 'pods', subresource: 'eviction' });
      }
      if (st.gate) {
        add({ verb: 'create', group: calicoGroup, resource: 'caliconodestatuses' });
        add({ verb: 'get', group: calicoGroup, resource: 'caliconodestatuses' });
        add({ verb: 'delete', group: calicoGroup, resource: 'caliconodestatuses' });
      }
    }
  }
  if (leaseNs) {
    for (const verb of ['get', 'create', 'update', 'delete'])
      add({ verb, group: 'coordination.k8s.io', resource: 'leases', namespace: leaseNs });
  }
  return out;
}

/** Checks every permission the plan needs before the first write (SelfSubjectAccessReview). */
export async function checkPermissions(
  api: KubeApi,
  plan: Plan,
  calicoGroup: string,
  leaseNs: string | undefined,
): Promise<void> {
  const needs = accessFor(plan.steps, calicoGroup, leaseNs);
  const results = await Promise.all(needs.map(async (a) => ({ a, r: await api.can(a.verb, a) })));
  const denied = results
    .filter((x) => !x.r.allowed)
    .map(
      ({ a }) =>
        `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}${a.namespace ? ` in ${a.namespace}` : ''}`,
    );
  if (denied.length) {
    throw new CliError(
      `user "${api.http.cfg.impersonateUser ?? api.http.cfg.userName ?? '?'}" may not ${denied.join(', ')}`,
      ExitCode.CLUSTER,
      {
        changed: 'nothing was changed (permissions are checked before the first write)',
        hints: [
          'bind the ClusterRole in docs/rbac.yaml (calico-tune) to this user, or run as a cluster admin',
        ],
      },
    );
  }
}

export class Executor {
  private interrupted = false;
  private journal?: Journal;
  private observer?: NodeStatusObserver;

  constructor(
    private readonly api: KubeApi,
    private readonly calicoMode: ClusterSnapshot['calico']['apiMode'],
    private readonly opts: ExecuteOptions,
  ) {}

  private get dry(): boolean {
    return this.opts.dryRun === 'server';
  }

  private checkInterrupt(): void {
    if (this.interrupted) throw new Interrupted('interrupted');
    this.journal?.check();
  }

  async run(plan: Plan | undefined): Promise<ExecuteResult> {
    const { opts } = this;
    const calicoGroup =
      this.calicoMode === 'crd.projectcalico.org/v1' || this.calicoMode === 'none'
        ? 'crd.projectcalico.org'
        : 'projectcalico.org';

    if (opts.mode === 'fresh') {
      if (!plan) throw usageError('no plan to apply');
      if (!plan.summary.verification.ok) {
        throw usageError(
          `refusing to apply: the BGP model shows step ${plan.summary.verification.failedStep} cuts routes (${plan.summary.verification.reason})`,
        );
      }
      if (opts.live) {
        const changes = staleness(plan, opts.live);
        if (changes.length) {
          throw new CliError(
            `the plan is stale: the cluster changed since it was built (${changes.slice(0, 5).join('; ')}${changes.length > 5 ? `; and ${changes.length - 5} more` : ''})`,
            ExitCode.USAGE,
            {
              changed: 'nothing was changed',
              hints: ['build a new plan and review it'],
            },
          );
        }
      }
    }
    if (!this.dry && !opts.yes && !opts.interactive) {
      throw usageError(
        'this changes the cluster and no one is at a terminal to confirm',
        'pass --yes to apply without prompts, or --dry-run to only show the plan',
      );
    }

    if (this.dry) {
      if (!plan) throw usageError('--dry-run needs a plan');
      await checkPermissions(this.api, plan, calicoGroup, undefined);
      return this.serverDryRun(plan);
    }

    this.journal = await Journal.open(this.api, opts.holder, opts.journalNamespace);
    if (plan) await checkPermissions(this.api, plan, calicoGroup, this.journal.namespace);
    const { plan: active, state } = await this.journal.acquire(opts.mode, plan);
    if (opts.mode !== 'fresh' && active)
      await checkPermissions(this.api, active, calicoGroup, this.journal.namespace);
    this.observer = new NodeStatusObserver(this.api, this.calicoMode);
    const onSigint = (): void => {
      if (this.interrupted) process.exit(130);
      this.interrupted = true;
      opts.log('interrupt: stopping after the current operation (press Ctrl-C again to quit at once)');
    };
    process.on('SIGINT', onSigint);
    try {
      if (opts.mode === 'rollback') return await this.rollback(active!, state!, 'requested');
      return await this.forward(active!, state!);
    } finally {
      process.off('SIGINT', onSigint);
      // we hold the lock: CalicoNodeStatus objects of ours still around are from a run that died
      await this.observer.cleanup({ leftovers: true }).catch(() => undefined);
    }
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
    return {
      outcome: 'dry-run',
      plan: plan.metadata.name,
      steps: plan.steps.length,
      done: 0,
      message: `server dry run: all ${plan.steps.length} steps accepted; nothing was written`,
    };
  }

  private async forward(plan: Plan, state: JournalState): Promise<ExecuteResult> {
    const done = new Set(state.done.map((d) => d.id));
    const total = plan.steps.length;
    if (done.size) this.opts.log(`resuming ${plan.metadata.name}: ${done.size}/${total} steps already done`);
    for (let i = 0; i < total; i++) {
      const step = plan.steps[i]!;
      if (done.has(step.id)) continue;
      try {
        this.checkInterrupt();
        if (this.opts.interactive && !this.opts.yes && (step.checkpoint || (i === 0 && done.size === 0))) {
          const go = await this.opts.confirm(`Step ${i + 1}/${total}: ${step.title}. Continue?`);
          if (!go) {
            if (done.size === 0) {
              await this.journal!.release(true);
              return {
                outcome: 'declined',
                plan: plan.metadata.name,
                steps: total,
                done: 0,
                message: 'nothing was changed',
              };
            }
            await this.journal!.release(false, 'paused', `stopped at your request before step ${step.id}`);
            return this.paused(
              plan,
              done.size,
              `stopped at your request before step ${i + 1} (${step.title})`,
            );
          }
        }
        const t0 = Date.now();
        if (step.action !== 'wait') await this.journal!.stepStarted(step.id);
        if (step.action === 'wait') {
          const ok = await this.waitGate(step.gate!);
          if (!ok) {
            const why = `gate "${step.title}" timed out after ${step.gate!.timeout}`;
            if ((step.onTimeout ?? 'rollback') === 'rollback') {
              this.opts.log(`${why}: rolling back`);
              const rb = await this.rollback(
                plan,
                {
                  ...this.journal!.state!,
                  done: [...done].map((id) => ({ id, at: '' })),
                  current: undefined,
                },
                why,
              );
              return { ...rb, message: `${why}; ${rb.message}` };
            }
            await this.journal!.release(false, 'paused', why);
            return this.paused(plan, done.size, why);
          }
        } else {
          await this.perform(step);
        }
        crashHook('mid-step', i + 1);
        done.add(step.id);
        await this.journal!.stepDone(step.id);
        crashHook('after-step', i + 1);
        this.opts.log(`[${i + 1}/${total}] ${step.title} ✔ ${formatDuration(Date.now() - t0)}`);
      } catch (e) {
        if (e instanceof Interrupted) {
          await this.journal!.release(false, 'paused', `interrupted before step ${step.id}`);
          return this.paused(plan, done.size, `interrupted before step ${i + 1} (${step.title})`);
        }
        const msg = (e as Error).message;
        await this.journal!.release(false, 'failed', `step ${step.id} failed: ${msg}`).catch(() => undefined);
        throw new CliError(
          `step ${i + 1}/${total} (${step.title}) failed: ${msg}`,
          e instanceof CliError ? e.exitCode : ExitCode.CLUSTER,
          {
            changed: `${done.size} of ${total} steps were applied and recorded in Lease ${this.journal!.namespace}/calico-tune`,
            hints: [
              `continue with: ${this.opts.resumeHint} --resume`,
              `or undo with: ${this.opts.resumeHint} --rollback`,
            ],
          },
        );
      }
    }
    await this.journal!.release(true);
    return {
      outcome: 'done',
      plan: plan.metadata.name,
      steps: total,
      done: total,
      message: `all ${total} steps done`,
    };
  }

  private paused(plan: Plan, done: number, why: string): ExecuteResult {
    return {
      outcome: 'paused',
      plan: plan.metadata.name,
      steps: plan.steps.length,
      done,
      message: `${why}; ${done}/${plan.steps.length} steps applied. Resume: ${this.opts.resumeHint} --resume   Roll back: ${this.opts.resumeHint} --rollback`,
    };
  }

  private async rollback(plan: Plan, state: JournalState, why: string): Promise<ExecuteResult> {
    await this.journal!.setPhase('rolling-back', why);
    const undone = new Set(state.undone?.map((u) => u.id) ?? []);
    // the step in progress when a run died may have been written: undo it too (undo is idempotent)
    const doneIds = [...state.done.map((d) => d.id), ...(state.current ? [state.current] : [])];
    const toUndo = plan.steps.filter((s) => doneIds.includes(s.id) && !undone.has(s.id)).reverse();
    this.opts.log(`rolling back ${toUndo.length} step(s) of ${plan.metadata.name}`);
    for (const step of toUndo) {
      for (const u of step.undo) {
        if (u.action === 'wait') {
          const ok = await this.waitGate(u.gate!);
          if (!ok) {
            const msg = `rollback gate "${u.title}" timed out`;
            await this.journal!.release(false, 'paused', msg);
            throw new CliError(msg, ExitCode.GATE, {
              hints: [`retry with: ${this.opts.resumeHint} --rollback`],
            });
          }
        } else await this.perform(u);
      }
      await this.journal!.stepUndone(step.id);
      this.opts.log(`  undone: ${step.title}`);
    }
    await this.journal!.release(true);
    return {
      outcome: 'rolled-back',
      plan: plan.metadata.name,
      steps: plan.steps.length,
      done: 0,
      message: `rolled back ${toUndo.length} step(s); the cluster is as before the plan`,
    };
  }

  /** Performs one write step: re-read, precondition, write (with dryRun where asked), retry on conflict. */
  async perform(step: Step): Promise<void> {
    if (step.action === 'drain') return this.drain(step.object!.name);
    if (step.action === 'wait') return;
    const t = resourceOf(step)!;
    const name = step.object?.name ?? step.manifest!.metadata.name;
    const ns = step.object?.namespace ?? step.manifest?.metadata.namespace;
    for (let attempt = 1; ; attempt++) {
      const live = await this.api.get(t, name, ns);
      if (!this.dry && alreadyDone(step, live)) return;
      const problem = preconditionProblem(live, step.precondition);
      if (problem) {
        throw new CliError(
          `${t.kind} ${name}: ${problem} (it changed since the plan was made)`,
          ExitCode.USAGE,
        );
      }
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
        if (e instanceof ApiError && e.status === 409 && attempt < 4) continue; // re-read, re-check, retry
        throw e;
      }
    }
  }

  private async drain(node: string): Promise<void> {
    const { items } = await this.api.list(Pod, { fieldSelector: `spec.nodeName=${node}` });
    const evictable = items.filter(
      (p) =>
        !(p.metadata.ownerReferences as { kind?: string }[] | undefined)?.some(
          (o) => o.kind === 'DaemonSet',
        ) &&
        !p.metadata.annotations?.['kubernetes.io/config.mirror'] &&
        !p.metadata['deletionTimestamp'],
    );
    const deadline = Date.now() + (this.opts.timeoutMs ?? 5 * 60_000);
    for (const p of evictable) {
      const who = `${p.metadata.namespace}/${p.metadata.name}`;
      let blockedSince = 0;
      for (;;) {
        try {
          await this.api.evict(p.metadata.name, p.metadata.namespace ?? '', { dryRun: this.dry });
          break;
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) break;
          if (!(e instanceof ApiError && e.status === 429)) throw e;
          if (!blockedSince) {
            blockedSince = Date.now();
            this.opts.log(
              `  drain ${node}: evicting ${who} is blocked by a PodDisruptionBudget; retrying for up to ${formatDuration(Math.max(0, deadline - Date.now()))}`,
            );
          }
          if (Date.now() >= deadline) {
            throw new CliError(
              `drain ${node}: a PodDisruptionBudget still blocks evicting ${who} after ${formatDuration(Date.now() - blockedSince)}`,
              ExitCode.CLUSTER,
              {
                hints: [`check: kubectl get pdb -n ${p.metadata.namespace}; or plan without --drain`],
              },
            );
          }
          this.opts.status(
            `drain ${node}: ${who} blocked by a PodDisruptionBudget (${formatDuration(Date.now() - blockedSince)})`,
          );
          await sleep(Math.min(5000, Math.max(100, deadline - Date.now())));
          this.checkInterrupt();
        }
      }
    }
    if (evictable.length)
      this.opts.log(`  drained ${node}: evicted ${evictable.length} pod(s) (DaemonSet pods stay)`);
  }

  /** Waits for a gate; true when it passed, false on timeout. */
  private async waitGate(gate: Gate): Promise<boolean> {
    const timeout = this.opts.timeoutMs ?? parseDurationMs(gate.timeout) ?? 600_000;
    const deadline = Date.now() + timeout;
    const expected = new Map<string, string[]>();
    const unlisted = gate.nodes.filter((n) => !gate.expect[n]?.peerIPs);
    // gates over 1,000 peers carry only counts: one read of the live state answers for all their nodes
    const fromModel =
      unlisted.length && this.opts.expectedPeers
        ? await this.opts.expectedPeers(unlisted)
        : new Map<string, string[]>();
    for (const node of gate.nodes)
      expected.set(node, gate.expect[node]?.peerIPs ?? fromModel.get(node) ?? []);
    let useBird = !(await this.observer!.ensure(gate.nodes));
    const firstAt = Date.now();
    let lastLog = 0;
    for (;;) {
      this.checkInterrupt();
      let observed: Map<string, ObservedNode>;
      if (useBird)
        observed = await birdclObserve(this.api, gate.nodes, {
          timeoutMs: Math.min(30_000, Math.max(1000, deadline - Date.now())),
        });
      else {
        observed = await this.observer!.read(gate.nodes);
        // no status after 30s: calico-node does not answer CalicoNodeStatus (older Calico?): try birdcl
        if ([...observed.values()].every((o) => !o.peers) && Date.now() - firstAt > 30_000) {
          this.opts.log('  no CalicoNodeStatus report after 30s; reading BGP state with birdcl instead');
          useBird = true;
          continue;
        }
      }
      const r = evaluateGate(gate, expected, observed);
      const lines = r.nodes.map((n) => gateProgressLine(n, this.opts.ipToName ?? new Map()));
      if (r.ok) {
        this.opts.status('');
        for (const l of lines) this.opts.log(`  ${l}`);
        return true;
      }
      const left = deadline - Date.now();
      this.opts.status(`waiting (${formatDuration(Math.max(0, left))} left): ${lines.join(' | ')}`);
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        if (!process.stderr.isTTY) for (const l of lines) this.opts.log(`  ${l}`);
      }
      if (left <= 0) {
        this.opts.status('');
        for (const l of lines) this.opts.log(`  ${l}`);
        return false;
      }
      await sleep(Math.min(this.opts.pollMs ?? 1000, Math.max(50, left)));
    }
  }
}

/**
 * Fault injection for the crash tests (docs/testing.md): CALICO_TUNE_TEST_CRASH=mid-step:N kills the process
 * with SIGKILL after step N's write but before it is recorded; after-step:N after it is recorded. The only way
 * to hit those windows deterministically; never set outside tests.
 */
function crashHook(when: 'mid-step' | 'after-step', step: number): void {
  const spec = process.env['CALICO_TUNE_TEST_CRASH'];
  if (spec && spec === `${when}:${step}`) process.kill(process.pid, 'SIGKILL');
}

/** Adds the live resourceVersion to a merge patch: the write fails with 409 if the object changed meanwhile. */
function withVersion(patch: Record<string, unknown>, live: KubeObject | undefined): Record<string, unknown> {
  const rv = live?.metadata.resourceVersion;
  if (!rv) return patch;
  const meta = (patch['metadata'] as Record<string, unknown> | undefined) ?? {};
  return { ...patch, metadata: { ...meta, resourceVersion: rv } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
