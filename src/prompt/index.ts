/** Interactive prompts (inquirer, loaded only when a person is at the terminal). */

/** A person is at the terminal: stdin and stdout are TTYs and TERM is not `dumb`. */
export function isInteractive(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true && process.env['TERM'] !== 'dumb';
}

/** Asks a yes/no question on the terminal; Ctrl-C or Esc counts as "no". */
export async function confirm(message: string, def = false): Promise<boolean> {
  const inquirer = (await import('inquirer')).default;
  try {
    // prompts go to stderr, so `-o json` output on stdout stays clean
    const prompt = inquirer.createPromptModule({ output: process.stderr });
    const answer = (await prompt([{ type: 'confirm', name: 'ok', message, default: def }])) as {
      ok: boolean;
    };
    return answer.ok;
  } catch (e) {
    if ((e as Error).name === 'ExitPromptError' || (e as Error).name === 'AbortPromptError') return false;
    throw e;
  }
}
