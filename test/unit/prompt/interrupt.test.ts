/**
 * A SIGINT that comes while a prompt is being opened (inquirer still loading) ends it as soon as it opens:
 * interruptPrompt is sticky (found by a review of the SIGINT fix). Runs in a child process, since the flag
 * is the process's (no other test may see it).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROMPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/prompt/index.js');

describe('prompt: interruptPrompt', () => {
  it('before the prompt opens: the prompt ends at once with InterruptedError', () => {
    const script = `
      const m = await import(${JSON.stringify(PROMPT)});
      m.interruptPrompt();
      const t = setTimeout(() => { console.log('waited'); process.exit(3); }, 5000);
      try { await m.confirm('Continue?'); console.log('answered'); }
      catch (e) { console.log(e.name + ': ' + e.message); }
      clearTimeout(t);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    assert.match(out, /InterruptedError: interrupted at a prompt/);
  });
});
