/**
 * Human output on an 80-column terminal, through the real CLI in a pseudo-terminal (util-linux `script`): no
 * line is wider than the terminal, and no cell or word is cut (a review found selectors printed as
 * `topology.kubernetes.io/z…`, finding codes as `NATIVE_ACROSS_SUB…` and long lines broken mid-word by the
 * terminal).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'run.js');

/** The command's raw terminal output at `columns`. */
function rawOnTerminal(args: string, columns: number, env: Record<string, string> = {}): string {
  const r = spawnSync('script', ['-qefc', `${process.execPath} ${BIN} ${args}`, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, COLUMNS: String(columns), TERM: 'xterm', NO_COLOR: '', FORCE_COLOR: '', ...env },
    encoding: 'utf8',
  });
  return r.stdout;
}

/** The command's terminal output at `columns`, escapes and carriage returns removed. */
function onTerminal(args: string, columns: number): string {
  return (
    rawOnTerminal(args, columns)
      // eslint-disable-next-line no-control-regex -- the escapes of the terminal output
      .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/\r/g, '')
  );
}

describe('cli: human output on an 80-column terminal', function () {
  this.timeout(120_000);
  const commands = [
    'status --snapshot examples/cluster-rr-broken.yaml',
    'rr list --snapshot examples/cluster-rr-broken.yaml',
    'rr recommend --snapshot examples/cluster-150.yaml',
    'encap report --snapshot examples/cluster-150.yaml',
    'monitoring status --snapshot examples/cluster-150.yaml',
    'typha report --snapshot examples/cluster-150.yaml',
    'bgp topology --snapshot examples/cluster-150.yaml',
    'migrate plan --to route-reflectors --snapshot examples/cluster-150.yaml',
  ];
  for (const cmd of commands)
    it(`${cmd}: every line within 80 columns, nothing cut`, () => {
      const out = onTerminal(cmd, 80);
      const lines = out.split('\n');
      assert.ok(lines.length > 3, out);
      for (const l of lines) {
        assert.ok([...l].length <= 80, `${[...l].length} columns: ${l}`);
        assert.doesNotMatch(l, /\S…/, `a cut cell: ${l}`);
      }
    });

  it('every finding code and name of cluster-rr-broken is a whole word at 80 columns, as at 200', () => {
    const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);
    const narrow = words(onTerminal('status --snapshot examples/cluster-rr-broken.yaml', 80));
    const wide = words(onTerminal('status --snapshot examples/cluster-rr-broken.yaml', 200));
    const names = wide.filter((x) => /^[A-Z][A-Z_]{8,}$/.test(x) || /^node-[a-z]-\d+$/.test(x));
    assert.ok(names.length > 5, wide.join(' '));
    for (const w of names) assert.ok(narrow.includes(w), w);
  });

  it('NO_COLOR turns colour off only when it is set and not empty (no-color.org; a review: NO_COLOR= turned it off)', () => {
    const cmd = 'status --snapshot examples/cluster-12.yaml';
    const sgr = new RegExp(`${String.fromCharCode(27)}\\[3\\dm`);
    assert.match(rawOnTerminal(cmd, 120, { NO_COLOR: '' }), sgr, 'empty: colour');
    assert.doesNotMatch(rawOnTerminal(cmd, 120, { NO_COLOR: '1' }), sgr, 'set: none');
  });
});
