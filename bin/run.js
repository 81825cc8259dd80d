#!/usr/bin/env node
// kubectl-calico_tune: the kubectl plugin entry point (`kubectl calico-tune ...`) when run by Node (npm or a
// checkout; the single binary of `npm run package` has its own entry, src/cli/standalone.ts).
// Help, completion (`__complete`) and "did you mean" are served from oclif.manifest.json by src/cli/main.ts
// without loading oclif or the Kubernetes client (docs/benchmarks.md); a known command goes through oclif.
//
// `npm run build` bundles the commands (scripts/bundle.js, dist/bundle/node/run.cjs: the explicit command
// index of src/cli/standalone.ts, as in the single binary), which starts a command in about half the time of
// loading oclif's index and discovering commands on disk, and sends its first request while oclif loads. It
// runs through a V8 code cache per command in the user's cache directory (src/cli/code-cache.ts;
// CALICO_TUNE_CODE_CACHE=0 turns it off). It is used only while it is at least as new as the compiled
// sources and the manifest: after an incremental `tsc` alone, or with CALICO_TUNE_BUNDLE=0, oclif runs the
// command as before.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

performance.mark('script'); // (the marks: CALICO_TUNE_HTTP_STATS=trace, bench/live.ts)

const at = (p) => new URL(p, import.meta.url);
const mtime = (p) => {
  try {
    return statSync(at(p)).mtimeMs;
  } catch {
    return undefined;
  }
};
let manifest;
try {
  manifest = JSON.parse(readFileSync(at('../oclif.manifest.json'), 'utf8'));
} catch {
  // no manifest (a development checkout before npm run build): oclif finds the commands itself
}
const oclif = async (args) => {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url, args });
};
const BUNDLE = '../dist/bundle/node/run.cjs';
const bundled = () => {
  const b = mtime(BUNDLE);
  return (
    process.env.CALICO_TUNE_BUNDLE !== '0' &&
    b !== undefined &&
    b >= (mtime('../dist/.tsbuildinfo') ?? 0) &&
    b >= (mtime('../oclif.manifest.json') ?? Infinity)
  );
};
const argv = process.argv.slice(2);
// help, completion and --version: main.ts's few modules load faster than the bundle's entry chunks
const light =
  argv.length === 0 ||
  argv.some((a) => ['--help', '-h', 'help', '--version', '-v', '__complete', '__completeNoDesc'].includes(a));
/** The bundle's exports, from V8's cached data for `key` (the command) when there is some. */
const loadBundle = async (key) => {
  const { loadBundle: load } = await import('../dist/src/cli/code-cache.js');
  const b = load(fileURLToPath(at(BUNDLE)), key);
  process.once('exit', b.save);
  return b.exports;
};
if (manifest && !light && bundled()) {
  // the command's id (`rr list` -> rr:list) names its cached data
  const words = [];
  let id = 'cli';
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
    if (manifest.commands[words.join(':')]) id = words.join(':');
  }
  await (await loadBundle(id)).cli(argv, manifest);
} else if (manifest) {
  const { main } = await import('../dist/src/cli/main.js');
  const code = await main(argv, {
    manifest,
    version: manifest.version,
    run: async (id, rest) => {
      if (bundled()) await (await loadBundle(id)).run(id, rest, manifest);
      else await oclif([...id.split(':'), ...rest]);
    },
  });
  if (code !== undefined) process.exitCode = code;
} else {
  await oclif(argv);
}
