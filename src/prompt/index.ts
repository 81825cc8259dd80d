/** Interactive prompts (inquirer, loaded only when a person is at the terminal). */

/**
 * A person is at the terminal: stdin (answers) and stderr (where prompts are written) are terminals and
 * TERM is not `dumb`. stdout may be a pipe (`migrate apply | tee log`).
 */
export function isInteractive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true && process.env['TERM'] !== 'dumb';
}

import { InterruptedError } from '../errors.js';

/** The prompt on the terminal now, to end it when the process gets SIGINT (interruptPrompt). */
let open: AbortController | undefined;
const INTERRUPT = Symbol('SIGINT');

/**
 * SIGINT (`kill -INT`, or a Ctrl-C that reaches the process group rather than the prompt's raw terminal)
 * while a prompt is open: the prompt ends as a Ctrl-C typed at it does (InterruptedError). Before, the
 * executor said it would pause after the current operation, and the prompt waited on, renewing the lock.
 */
export function interruptPrompt(): boolean {
  // sticky: a signal that comes while a prompt is being opened (inquirer loading) ends it as soon as it opens;
  // after a SIGINT the plan pauses, so no later prompt is wanted either
  interrupted = true;
  if (!open) return false;
  open.abort(INTERRUPT);
  return true;
}
let interrupted = false;

function signalled<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  if (interrupted) ac.abort(INTERRUPT);
  open = ac;
  return run(ac.signal).finally(() => {
    if (open === ac) open = undefined;
  });
}

/** Esc (or an aborted prompt) counts as "no"; Ctrl-C or SIGINT interrupts (the executor pauses, exit 130). */
function aborted(e: unknown): boolean {
  if ((e as Error).name === 'ExitPromptError') throw new InterruptedError('interrupted at a prompt');
  if ((e as Error).name === 'AbortPromptError' && (e as { cause?: unknown }).cause === INTERRUPT)
    throw new InterruptedError('interrupted at a prompt');
  return (e as Error).name === 'AbortPromptError';
}

/**
 * Throws away what was typed before the question is on the screen: keys pressed while a gate waited sat in
 * the terminal's buffer and answered the next checkpoint before the person saw it (an operator trial: "y⏎"
 * typed during a gate approved demoting the last reflector). The buffered bytes are read in raw mode for a
 * moment (the kernel hands them over at once) and dropped; the terminal's mode is put back.
 */
export async function discardTypeAhead(stdin: NodeJS.ReadStream = process.stdin, ms = 25): Promise<void> {
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return;
  const wasRaw = stdin.isRaw;
  const wasPaused = stdin.isPaused();
  stdin.setRawMode(true);
  const drop = (): void => {};
  stdin.on('data', drop);
  stdin.resume();
  while (stdin.read() !== null); // (what the stream had already buffered)
  await new Promise((resolve) => setTimeout(resolve, ms));
  stdin.off('data', drop);
  if (wasPaused) stdin.pause();
  stdin.setRawMode(wasRaw);
}

/** Asks a yes/no question on the terminal; Esc counts as "no", Ctrl-C throws InterruptedError. */
export async function confirm(message: string, def = false): Promise<boolean> {
  const inquirer = (await import('inquirer')).default;
  await discardTypeAhead();
  try {
    // prompts go to stderr, so `-o json` output on stdout stays clean
    // the answered line gets a neutral mark: inquirer's green ✔ beside a "No" reads as success
    const theme = { prefix: { idle: '?', done: '·' } };
    const answer = (await signalled((signal) =>
      inquirer.createPromptModule({ output: process.stderr, signal })([
        { type: 'confirm', name: 'ok', message, default: def, theme },
      ]),
    )) as { ok: boolean };
    return answer.ok;
  } catch (e) {
    if (aborted(e)) return false;
    throw e;
  }
}

/**
 * Asks which of `choices` to take, with `onAbort` highlighted first: Enter or Esc takes it (the choice that
 * changes nothing), Ctrl-C throws InterruptedError.
 */
export async function choose<T extends string>(
  message: string,
  choices: { value: T; name: string }[],
  onAbort: T,
): Promise<T> {
  const inquirer = (await import('inquirer')).default;
  await discardTypeAhead();
  try {
    const theme = { prefix: { idle: '?', done: '·' } };
    const answer = (await signalled((signal) =>
      inquirer.createPromptModule({ output: process.stderr, signal })([
        { type: 'select', name: 'v', message, choices, default: onAbort, theme },
      ]),
    )) as { v: T };
    return answer.v;
  } catch (e) {
    if (aborted(e)) return onAbort;
    throw e;
  }
}
