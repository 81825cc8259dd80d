/**
 * Exit codes and the one error type commands throw. One place (BaseCommand.catch) turns errors into a
 * one-line message and an exit code; see docs/architecture.md.
 */
export const ExitCode = {
  OK: 0,
  /** A check found problems (critical findings, or warnings with --strict). */
  FINDINGS: 1,
  /** Bad usage or input; nothing was changed. */
  USAGE: 2,
  /** The cluster refused or failed (API error, RBAC, timeout, unreachable). */
  CLUSTER: 3,
  /** A gate did not pass, or a rollback could not restore the state before the plan; the message says which. */
  GATE: 4,
  /** The person at the terminal stopped the plan (declined a checkpoint, or chose to pause); resume or roll back. */
  STOPPED: 5,
  /** Interrupted (Ctrl-C): the plan was paused after the operation in flight. */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error with an exit code, a one-line message, and optional hints (what to do next). */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hints: string[];
  /** What was and was not changed, when a write was involved. */
  readonly changed?: string | undefined;
  /** More fields of the error document with -o json|yaml (a refused plan: `plan`), beside `error`. */
  readonly document?: Record<string, unknown> | undefined;
  constructor(
    message: string,
    exitCode: ExitCodeValue,
    opts: { hints?: string[]; changed?: string; cause?: unknown; document?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hints = opts.hints ?? [];
    this.changed = opts.changed;
    this.document = opts.document;
  }
}

/** Ctrl-C: at a prompt, or while a plan runs (the executor pauses the plan; exit 130). */
/**
 * A write step that failed before anything of it reached the cluster: its precondition no longer held, or the
 * API server refused its one write outright (a 4xx: forbidden, invalid, conflict after retries, not found).
 * The executor then does not count the step as applied (a rollback has nothing of it to undo).
 */
export class NotWrittenError extends CliError {
  constructor(message: string, exitCode: ExitCodeValue, opts: { cause?: unknown } = {}) {
    super(message, exitCode, opts);
    this.name = 'NotWrittenError';
  }
}

export class InterruptedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** The target state already holds: nothing to change (exit 0). */
export class NothingToDo extends CliError {
  constructor(message: string) {
    super(message, ExitCode.OK);
    this.name = 'NothingToDo';
  }
}

export function usageError(message: string, ...hints: string[]): CliError {
  return new CliError(message, ExitCode.USAGE, { hints });
}

export function clusterError(
  message: string,
  opts: { hints?: string[]; changed?: string; cause?: unknown } = {},
): CliError {
  return new CliError(message, ExitCode.CLUSTER, opts);
}
