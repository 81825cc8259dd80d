/**
 * bin/run.js's light path (help, --version, completion, "did you mean") runs src/cli/main.ts from
 * dist/bundle/node/main.cjs, without Node's ES module loader (scripts/bundle.js; docs/benchmarks.md,
 * "Start-up"). It must answer exactly as main.js through the ES module path (CALICO_TUNE_BUNDLE=0), and
 * completion, which stays outside that file, must still work from it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'run.js');

describe('cli: the light path (help, --version, completion) from main.cjs', function () {
  this.timeout(60_000);
  let tmp: string;
  let probe: string;
  before(() => {
    // every test script runs npm run build first; a `tsc` alone leaves the bundle behind (bin/run.js then
    // takes the ES module path, as it should, and this test would compare that path with itself)
    const main = path.join(ROOT, 'dist', 'bundle', 'node', 'main.cjs');
    assert.ok(fs.existsSync(main), 'dist/bundle/node/main.cjs: run npm run build');
    assert.ok(
      fs.statSync(main).mtimeMs >= fs.statSync(path.join(ROOT, 'dist', '.tsbuildinfo')).mtimeMs,
      'the bundle is older than the compiled sources: run npm run build',
    );
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-light-'));
    // reports, at exit, which of the two main modules this process loaded
    probe = path.join(tmp, 'probe.cjs');
    fs.writeFileSync(
      probe,
      `process.on('exit', () => process.stderr.write('\\nloaded: ' + JSON.stringify({
  cjs: Object.keys(require.cache).some((k) => k.endsWith('main.cjs')),
})));\n`,
    );
  });
  // (no directory when the check above failed: its message is the one to read)
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, ['-r', probe, BIN, ...argv], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', HOME: tmp, KUBECONFIG: path.join(tmp, 'none'), ...env },
    });
    const m = /\nloaded: (.*)$/.exec(r.stderr);
    return {
      code: r.status,
      stdout: r.stdout,
      stderr: m ? r.stderr.slice(0, m.index) : r.stderr,
      cjs: m ? (JSON.parse(m[1]!) as { cjs: boolean }).cjs : undefined,
    };
  };

  for (const argv of [
    ['--help'],
    ['status', '--help'],
    ['rr', '-h'],
    ['help', 'migrate', 'plan'],
    ['--version'],
    ['__complete', 'rr', ''],
    ['__complete', 'status', '--output', ''],
    ['__completeNoDesc', 'mig'],
    ['statsu', '--help'],
  ])
    it(`${argv.join(' ')}: the same answer as main.js through the ES module loader`, () => {
      const light = run(argv);
      assert.equal(light.cjs, true, `main.cjs loaded for ${argv.join(' ')}`);
      const esm = run(argv, { CALICO_TUNE_BUNDLE: '0' });
      assert.equal(esm.cjs, false);
      assert.equal(light.code, esm.code, light.stderr);
      assert.equal(light.stdout, esm.stdout);
      assert.equal(light.stderr, esm.stderr);
      assert.ok(light.stdout.length > 0 || light.stderr.length > 0, 'an answer');
    });
});
