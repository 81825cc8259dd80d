#!/usr/bin/env node
// kubectl-calico_tune: the kubectl plugin entry point (`kubectl calico-tune ...`) when run by Node (npm or a
// checkout; the single binary of `npm run package` has its own entry, src/cli/standalone.ts).
// Help, completion (`__complete`) and "did you mean" are served from oclif.manifest.json by src/cli/main.ts
// without loading oclif or the Kubernetes client (docs/benchmarks.md); a known command goes through oclif.
//
// `npm run build` bundles the commands (scripts/bundle.js, dist/bundle/node/run.cjs: the explicit command
// index of src/cli/standalone.ts, as in the single binary), which starts a command in about half the time of
// loading oclif's index and discovering commands on disk, and sends its first request while oclif loads. It
// runs through a V8 code cache per command in the user's cache directory (src/cli/code-cache.ts, required as
// dist/bundle/node/loader.cjs; CALICO_TUNE_CODE_CACHE=0 turns it off). In a checkout it is used only while it
// is at least as new as the compiled sources and the manifest: after an incremental `tsc` alone, or with
// CALICO_TUNE_BUNDLE=0, oclif runs the command as before. An installed package always uses it.
//
// This file is CommonJS (bin/package.json): on the bundle's path no ES module is loaded at all.
'use strict';
const { performance } = require('node:perf_hooks');

performance.mark('script'); // (the marks: CALICO_TUNE_HTTP_STATS=trace, bench/live.ts)

const { readFileSync, statSync } = require('node:fs');
const path = require('node:path');

const at = (p) => path.join(__dirname, p);
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
  // the package's directory: oclif takes the first package.json it finds from `dir` up, and bin/ has one
  await execute({ dir: at('..'), args });
};
const BUNDLE = '../dist/bundle/node/run.cjs';
const LOADER = '../dist/bundle/node/loader.cjs';
const bundled = () => {
  const b = mtime(BUNDLE);
  // (the loader is written with the bundle; a bundle of an older build has none)
  if (process.env.CALICO_TUNE_BUNDLE === '0' || b === undefined || mtime(LOADER) === undefined) return false;
  // a checkout: the bundle must be at least as new as what tsc and oclif wrote (an incremental tsc alone leaves
  // it behind). An installed package has no dist/.tsbuildinfo (package.json "files"), and npm writes its files
  // with the time it unpacks them, in any order: there the bundle is the one that was built with the rest.
  const built = mtime('../dist/.tsbuildinfo');
  return built === undefined || (b >= built && b >= (mtime('../oclif.manifest.json') ?? Infinity));
};
const argv = process.argv.slice(2);
// help, completion and --version: main.ts alone (dist/bundle/node/main.cjs) loads faster than the bundle
const light =
  argv.length === 0 ||
  argv.some((a) => ['--help', '-h', 'help', '--version', '-v', '__complete', '__completeNoDesc'].includes(a));
/** The bundle's exports, from V8's cached data for `key` (the command) when there is some. */
const loadBundle = (key) => {
  const b = require(at(LOADER)).loadBundle(at(BUNDLE), key);
  process.once('exit', b.save);
  return b.exports;
};

async function start() {
  if (manifest && !light && bundled()) {
    // the command's id (`rr list` -> rr:list) names its cached data
    const words = [];
    let id = 'cli';
    for (const a of argv) {
      if (a.startsWith('-')) break;
      words.push(a);
      if (manifest.commands[words.join(':')]) id = words.join(':');
    }
    await loadBundle(id).cli(argv, manifest);
  } else if (manifest) {
    // help and completion: src/cli/main.ts as one small CommonJS file (scripts/bundle.js), no ES module loader
    const MAIN = '../dist/bundle/node/main.cjs';
    const { main } =
      bundled() && mtime(MAIN) !== undefined ? require(at(MAIN)) : await import('../dist/src/cli/main.js');
    const code = await main(argv, {
      manifest,
      version: manifest.version,
      run: async (id, rest) => {
        if (bundled()) await loadBundle(id).run(id, rest, manifest);
        else await oclif([...id.split(':'), ...rest]);
      },
    });
    if (code !== undefined) process.exitCode = code;
  } else {
    await oclif(argv);
  }
}

start().catch((err) => {
  // as when an ES module's top-level await failed: the error and its stack on stderr, exit 1 (an uncaught
  // exception, whatever --unhandled-rejections says)
  process.nextTick(() => {
    throw err;
  });
});
