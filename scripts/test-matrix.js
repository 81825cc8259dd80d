#!/usr/bin/env node
// The test matrix (npm test; docs/testing.md): mocha once with the full suite on Kubernetes 1.34, then the
// @matrix subset (`mocha --grep @matrix`) once per other Kubernetes version, each run with CALICO_TUNE_K8S
// set. Each run prints its own labelled summary; this script ends with the one plain line CI reads:
// "N passed, N failed", the sum over every run. Exit status 0 only when every run passed.
//
//   node scripts/test-matrix.js                  full suite on 1.34 + subset on $CALICO_TUNE_MATRIX
//   node scripts/test-matrix.js --subset-only    the subset only (npm run test:matrix)
//   node scripts/test-matrix.js -- ARGS...       extra mocha arguments for every run
//
// CALICO_TUNE_MATRIX: the versions the subset runs on, comma-separated (default 1.28,1.33).
// A run that ends without writing its counts (a crash, a build error) counts as 1 failed test.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MOCHA = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
const DEFAULT_K8S = '1.34';
const TAG = '@matrix';

const args = process.argv.slice(2);
const dashes = args.indexOf('--');
const mochaArgs = dashes >= 0 ? args.slice(dashes + 1) : [];
const own = dashes >= 0 ? args.slice(0, dashes) : args;
for (const a of own) {
  if (a !== '--subset-only') {
    console.error(`scripts/test-matrix.js: unknown argument ${a}`);
    process.exit(2);
  }
}
const subsetOnly = own.includes('--subset-only');
const matrix = (process.env['CALICO_TUNE_MATRIX'] ?? '1.28,1.33')
  .split(',')
  .map((v) => v.trim())
  .filter(Boolean);

const runs = [
  ...(subsetOnly ? [] : [{ k8s: DEFAULT_K8S, label: `Kubernetes ${DEFAULT_K8S}, full suite`, grep: [] }]),
  ...matrix.map((k8s) => ({ k8s, label: `Kubernetes ${k8s}, ${TAG} subset`, grep: ['--grep', TAG] })),
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-matrix-'));
const results = [];
for (const [i, r] of runs.entries()) {
  const file = path.join(tmp, `summary-${i}.json`);
  process.stdout.write(`\n=== mocha: ${r.label} (CALICO_TUNE_K8S=${r.k8s})\n`);
  const env = {
    ...process.env,
    CALICO_TUNE_K8S: r.k8s,
    CALICO_TUNE_SUMMARY_FILE: file,
    CALICO_TUNE_SUMMARY_LABEL: r.label,
  };
  const t0 = Date.now();
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [MOCHA, ...r.grep, ...mochaArgs], {
      cwd: ROOT,
      env,
      stdio: 'inherit',
    });
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    child.on('error', () => resolve(1));
  });
  let counts = { passed: 0, failed: 1, pending: 0 };
  try {
    counts = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    process.stdout.write(`[${r.label}] mocha exited ${code} without a summary: counted as 1 failed\n`);
  }
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // e.g. a crash after the summary
  if (counts.passed + counts.failed === 0) {
    process.stdout.write(`[${r.label}] ran no test: counted as 1 failed\n`);
    counts.failed = 1;
  }
  results.push({ ...r, ...counts, code, s: Math.round((Date.now() - t0) / 1000) });
}
fs.rmSync(tmp, { recursive: true, force: true });

process.stdout.write('\ntest matrix:\n');
for (const r of results)
  process.stdout.write(
    `  ${r.label}: ${r.passed} passed, ${r.failed} failed, ${r.pending} pending (${r.s} s)\n`,
  );
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed || results.some((r) => r.code !== 0) ? 1 : 0);
