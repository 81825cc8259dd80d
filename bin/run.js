#!/usr/bin/env node
// kubectl-calico_tune: the kubectl plugin entry point (`kubectl calico-tune ...`) when run by Node (npm or a
// checkout; the single binary of `npm run package` has its own entry, src/cli/standalone.ts).
// Help, completion (`__complete`) and "did you mean" are served from oclif.manifest.json by src/cli/main.ts
// without loading oclif or the Kubernetes client (docs/benchmarks.md); a known command goes through oclif.
//
// `npm run build` bundles the CLI (scripts/bundle.js, dist/bundle/node/run.mjs: the explicit command index
// of src/cli/standalone.ts, as in the single binary), which starts a command in about half the time of
// loading oclif's index and discovering commands on disk. It is used only while it is at least as new as the
// compiled sources and the manifest: after an incremental `tsc` alone, the unbundled path below runs.
import { readFileSync, statSync } from 'node:fs';

const at = (p) => new URL(p, import.meta.url);
const mtime = (p) => {
  try {
    return statSync(at(p)).mtimeMs;
  } catch {
    return undefined;
  }
};
const bundled = mtime('../dist/bundle/node/run.mjs');
if (
  process.env.CALICO_TUNE_BUNDLE !== '0' && // the unbundled path on request (bench/live.ts compares the two)
  bundled !== undefined &&
  bundled >= (mtime('../dist/.tsbuildinfo') ?? 0) &&
  bundled >= (mtime('../oclif.manifest.json') ?? Infinity)
) {
  await import('../dist/bundle/node/run.mjs');
} else {
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
  if (manifest) {
    const { main } = await import('../dist/src/cli/main.js');
    const code = await main(process.argv.slice(2), {
      manifest,
      version: manifest.version,
      run: (id, rest) => oclif([...id.split(':'), ...rest]),
    });
    if (code !== undefined) process.exitCode = code;
  } else {
    await oclif(process.argv.slice(2));
  }
}
