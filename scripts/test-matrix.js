#!/usr/bin/env node
// The test matrix (npm test; docs/testing.md "Running in parallel"): the full suite on Kubernetes 1.34 and the
// @matrix subset (`mocha --grep @matrix`) on every other version, run as independent mocha processes in
// parallel. Most of the suite waits (for the API server, the simulator, BIRD, gates): one mocha process keeps a
// core about a third busy, so several run side by side.
//
// Jobs: the unit tests (one process), every integration, e2e and fabric file of the full suite (one process
// each, on its own control plane: files never share a cluster), and one subset process per other version.
// They start longest first (test/durations.json, written by --record-durations; an unknown file counts as
// 30 s) on --jobs workers; the real-BGP fabric files run one at a time, beside one other job at most (they
// time BIRD sessions and packets). Each job's output is printed whole when it ends, under a header, so the
// log reads like a serial run; the failures are printed again at the end. The script ends with a table of
// the runs and the one plain line CI reads: "N passed, N failed", the sum over every job. Exit status 0 only
// when every job passed.
//
//   node scripts/test-matrix.js                   full suite on 1.34 + subset on $CALICO_TUNE_MATRIX
//   node scripts/test-matrix.js --subset-only     the subset only (npm run test:matrix)
//   node scripts/test-matrix.js --jobs 1          one job at a time (the old serial run, file by file)
//   node scripts/test-matrix.js --record-durations  rewrite test/durations.json from this run's job times
//   node scripts/test-matrix.js -- ARGS...        extra mocha arguments for every job (e.g. -- --grep rr)
//
// CALICO_TUNE_MATRIX: the versions the subset runs on, comma-separated (default 1.28,1.33).
// CALICO_TUNE_TEST_JOBS: default for --jobs (default: 2 per CPU, at least 2, at most 6).
// A job that ends without writing its counts (a crash, a build error) counts as 1 failed test.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MOCHA = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
/** The Bun of the bun devDependency (scripts/package.js compiles the krew binary with it). */
const BUN = path.join(ROOT, 'node_modules', 'bun', 'bin', 'bun.exe');
const DURATIONS = path.join(ROOT, 'test', 'durations.json');
const DEFAULT_K8S = '1.34';
const TAG = '@matrix';
const UNKNOWN_S = 30;

function usage(msg) {
  console.error(`scripts/test-matrix.js: ${msg}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const dashes = args.indexOf('--');
const mochaArgs = dashes >= 0 ? args.slice(dashes + 1) : [];
const own = dashes >= 0 ? args.slice(0, dashes) : args;
let subsetOnly = false;
let record = false;
let jobs = Number(
  process.env['CALICO_TUNE_TEST_JOBS'] || Math.min(6, Math.max(2, 2 * os.availableParallelism())),
);
for (let i = 0; i < own.length; i++) {
  const a = own[i];
  if (a === '--subset-only') subsetOnly = true;
  else if (a === '--record-durations') record = true;
  else if (a === '--jobs' || a.startsWith('--jobs=')) {
    const v = a === '--jobs' ? own[++i] : a.slice('--jobs='.length);
    jobs = Number(v);
    if (!Number.isInteger(jobs) || jobs < 1) usage(`--jobs needs a whole number of at least 1, not ${v}`);
  } else usage(`unknown argument ${a}`);
}
if (!Number.isInteger(jobs) || jobs < 1) usage(`CALICO_TUNE_TEST_JOBS must be a whole number of at least 1`);
const matrix = (process.env['CALICO_TUNE_MATRIX'] ?? '1.28,1.33')
  .split(',')
  .map((v) => v.trim())
  .filter(Boolean);

// .mocharc.json without its spec: each job names its own files.
const rc = JSON.parse(fs.readFileSync(path.join(ROOT, '.mocharc.json'), 'utf8'));
const { spec: specGlobs, ...rcRest } = rc;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-matrix-'));
const rcFile = path.join(tmp, 'mocharc.json');
fs.writeFileSync(rcFile, JSON.stringify(rcRest));
// (Bun maps stack traces itself: mocha's --enable-source-maps is a Node flag)
const bunRcFile = path.join(tmp, 'mocharc-bun.json');
fs.writeFileSync(bunRcFile, JSON.stringify({ ...rcRest, 'enable-source-maps': undefined }));

/** The files of a spec glob of the form DIR/**\/*.SUFFIX (the only form .mocharc.json uses). */
function expand(glob) {
  const m = /^(.*)\/\*\*\/\*(\.[^/*]+)$/.exec(glob);
  if (!m) usage(`cannot expand the spec glob ${glob} (expected DIR/**/*.test.js)`);
  const [, dir, suffix] = m;
  const out = [];
  const walk = (d) => {
    let entries = [];
    try {
      entries = fs.readdirSync(path.join(ROOT, d), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = `${d}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(suffix)) out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

const files = specGlobs.flatMap(expand);
const unitFiles = files.filter((f) => f.startsWith('dist/test/unit/'));
const otherFiles = files.filter((f) => !f.startsWith('dist/test/unit/'));
if (files.length === 0) usage('no test file found: run npm run build first');

let durations = {};
try {
  durations = JSON.parse(fs.readFileSync(DURATIONS, 'utf8'));
} catch {
  /* first run: every job counts as UNKNOWN_S */
}

/** A job: one mocha process. `run` groups jobs in the summary (one run per Kubernetes version). */
const all = [];
if (!subsetOnly) {
  const run = `Kubernetes ${DEFAULT_K8S}, full suite`;
  if (unitFiles.length) all.push({ key: 'unit', run, k8s: DEFAULT_K8S, files: unitFiles, grep: [] });
  // the client's unit tests again under Bun, the runtime of the krew single binary: HTTP/2, TLS and sockets
  // differ in ways only a run shows (a cut stream's end, when a TLS socket says it is connected)
  const kube = unitFiles.filter((f) => f.startsWith('dist/test/unit/kube/'));
  if (kube.length && fs.existsSync(BUN))
    all.push({ key: 'unit/kube under Bun', run, k8s: DEFAULT_K8S, files: kube, grep: [], exe: BUN });
  for (const f of otherFiles)
    all.push({
      key: f.replace(/^dist\/test\//, ''),
      run,
      k8s: DEFAULT_K8S,
      files: [f],
      grep: [],
      // the real-BGP rig's jobs time BIRD sessions and packets: one at a time, beside one other job at most
      // (at load 12, gates timed out; the rig waits on BIRD, not on the CPU, so running it alone only costs time)
      ...(f.startsWith('dist/test/fabric/') ? { lane: 'fabric', alongside: 1 } : {}),
    });
}
for (const k8s of matrix)
  all.push({
    key: `${TAG} on ${k8s}`,
    run: `Kubernetes ${k8s}, ${TAG} subset`,
    k8s,
    files,
    grep: ['--grep', TAG],
    subset: true,
  });
for (const j of all) j.weight = durations[j.key.startsWith(TAG) ? TAG : j.key] ?? UNKNOWN_S;
const queue = [...all].sort((a, b) => b.weight - a.weight);

const t0 = Date.now();
const secs = (ms) => Math.round(ms / 1000);
const results = [];
let seq = 0;

function runJob(job) {
  const i = seq++;
  const file = path.join(tmp, `summary-${i}.json`);
  const label = `Kubernetes ${job.k8s}: ${job.key}`;
  const env = {
    ...process.env,
    CALICO_TUNE_K8S: job.k8s,
    CALICO_TUNE_SUMMARY_FILE: file,
    CALICO_TUNE_SUMMARY_LABEL: label,
    FORCE_COLOR: process.env['FORCE_COLOR'] ?? '0',
  };
  const started = Date.now();
  process.stdout.write(`[${secs(started - t0)} s] start ${label}\n`);
  return new Promise((resolve) => {
    const child = spawn(
      job.exe ?? process.execPath,
      [MOCHA, '--config', job.exe ? bunRcFile : rcFile, ...job.grep, ...mochaArgs, ...job.files],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    const done = (code) => {
      const out = Buffer.concat(chunks).toString('utf8');
      let counts = { passed: 0, failed: 1, pending: 0 };
      let note = '';
      try {
        counts = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        note = `mocha exited ${code} without a summary: counted as 1 failed`;
      }
      if (code !== 0 && counts.failed === 0) {
        counts.failed = 1; // e.g. a crash after the summary
        note = `mocha exited ${code} after its summary: counted as 1 failed`;
      }
      if (!job.subset && counts.passed + counts.failed === 0) {
        counts.failed = 1;
        note = 'ran no test: counted as 1 failed';
      }
      const s = (Date.now() - started) / 1000;
      const r = { ...job, ...counts, code, s, out, note, label };
      process.stdout.write(
        `\n=== ${label}: ${counts.passed} passed, ${counts.failed} failed (${Math.round(s)} s, ended at ${secs(Date.now() - t0)} s)\n`,
      );
      process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
      if (note) process.stdout.write(`[${label}] ${note}\n`);
      results.push(r);
      resolve();
    };
    child.on('close', (c, sig) => done(c ?? (sig ? 128 : 1)));
    child.on('error', () => done(1));
  });
}

/**
 * Lanes (e.g. 'fabric') run one job at a time, and a job with `alongside: N` runs with at most N others. A
 * worker takes the job with the most work behind it: a job's own time, or for a lane's job the time of every
 * job still queued in its lane (a lane is a chain).
 */
const busyLanes = new Set();
const running = new Set();
const laneFreed = [];
function next(lane) {
  const laneLeft = (l) => queue.reduce((n, j) => n + (j.lane === l ? j.weight : 0), 0);
  // a running job with `alongside: N` allows N + 1 jobs in all
  const limit = Math.min(...[...running].map((r) => (r.alongside ?? Infinity) + 1));
  const fits = (j) => running.size + 1 <= limit && running.size <= (j.alongside ?? Infinity);
  // a worker that just ran a lane's job goes on with that lane (a lane is a chain: keep it moving)
  if (lane) {
    let own = -1;
    for (const [i, j] of queue.entries())
      if (j.lane === lane && (own < 0 || j.weight > queue[own].weight)) own = i;
    if (own >= 0 && fits(queue[own])) return own;
  }
  let best = -1;
  let bestWork = -1;
  for (const [i, j] of queue.entries()) {
    if (j.lane && busyLanes.has(j.lane)) continue;
    const work = j.lane ? laneLeft(j.lane) : j.weight;
    if (work > bestWork) [best, bestWork] = [i, work];
  }
  // no overtaking: when the job with the most work behind it cannot start yet (too many jobs running for it),
  // nothing else starts, so the running jobs drain until it can (else a lane would wait for the very end)
  if (best >= 0 && !fits(queue[best])) return -1;
  return best;
}
async function worker() {
  let lane;
  for (;;) {
    const i = next(lane);
    if (i < 0) {
      if (queue.length === 0) return;
      await new Promise((resolve) => laneFreed.push(resolve)); // every waiting job's lane is busy
      continue;
    }
    const [job] = queue.splice(i, 1);
    lane = job.lane;
    if (job.lane) busyLanes.add(job.lane);
    running.add(job);
    try {
      await runJob(job);
    } finally {
      running.delete(job);
      if (job.lane) busyLanes.delete(job.lane);
      for (const wake of laneFreed.splice(0)) wake();
    }
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
const wall = secs(Date.now() - t0);
fs.rmSync(tmp, { recursive: true, force: true });

const failedJobs = results.filter((r) => r.failed > 0 || r.code !== 0);
if (failedJobs.length) {
  process.stdout.write('\nfailures (each job prints them again here):\n');
  for (const r of failedJobs) {
    const at = r.out.search(/^\s+\d+ failing$/m);
    process.stdout.write(`\n--- ${r.label}\n${at >= 0 ? r.out.slice(at) : r.note || r.out.slice(-4000)}\n`);
  }
}

process.stdout.write(`\ntest matrix (${results.length} jobs, ${jobs} at a time, ${wall} s wall):\n`);
const runs = [...new Set(all.map((j) => j.run))];
for (const run of runs) {
  const rs = results.filter((r) => r.run === run);
  const sum = (k) => rs.reduce((n, r) => n + r[k], 0);
  process.stdout.write(
    `  ${run}: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('pending')} pending (${rs.length} jobs, ${Math.round(sum('s'))} s of job time)\n`,
  );
}
process.stdout.write('  longest jobs:\n');
for (const r of [...results].sort((a, b) => b.s - a.s).slice(0, 6))
  process.stdout.write(`    ${Math.round(r.s).toString().padStart(5)} s  ${r.label}\n`);

if (record) {
  const next = { ...durations };
  for (const r of results) next[r.subset ? TAG : r.key] = Math.round(r.s);
  const sorted = Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
  fs.writeFileSync(DURATIONS, `${JSON.stringify(sorted, null, 2)}\n`);
  process.stdout.write(`  job times written to ${path.relative(ROOT, DURATIONS)}\n`);
}

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed || results.some((r) => r.code !== 0) ? 1 : 0);
