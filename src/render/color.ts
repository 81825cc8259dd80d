/**
 * ANSI colour, on only when stdout is a terminal, TERM is not `dumb`, NO_COLOR is unset or empty and --no-color was
 * not given (FORCE_COLOR=1 forces it on, for tests of the human output).
 */
/** Whether a terminal on `stream` may get colour: TERM is not `dumb`, NO_COLOR is unset or empty (no-color.org). */
export function terminalColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true && process.env['TERM'] !== 'dumb' && (process.env['NO_COLOR'] ?? '') === '';
}

let enabled =
  (process.env['FORCE_COLOR'] ?? '0') !== '0' && process.env['FORCE_COLOR'] !== '' ? true : terminalColor();

export function setColor(on: boolean): void {
  enabled = on;
}
export function colorEnabled(): boolean {
  return enabled;
}

const wrap =
  (open: number, close: number) =>
  (s: string): string =>
    enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s;

export const c = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  blue: wrap(34, 39),
  magenta: wrap(35, 39),
  cyan: wrap(36, 39),
  gray: wrap(90, 39),
};

/** Removes ANSI escapes (for width computations and tests). */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}

export function severityColor(sev: string): (s: string) => string {
  return sev === 'critical' ? c.red : sev === 'warning' ? c.yellow : c.cyan;
}

export function symbolFor(sev: string): string {
  if (!enabled) return sev === 'critical' ? '[CRIT]' : sev === 'warning' ? '[WARN]' : '[INFO]';
  return sev === 'critical' ? c.red('✖') : sev === 'warning' ? c.yellow('▲') : c.cyan('ℹ');
}

export function ok(s: string): string {
  return enabled ? `${c.green('✔')} ${s}` : `[ OK ] ${s}`;
}
