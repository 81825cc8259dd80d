#!/usr/bin/env node
// kubectl-calico_tune: the kubectl plugin entry point (`kubectl calico-tune ...`) when run by Node (npm or a
// checkout; the single binary of `npm run package` has its own entry, src/cli/standalone.ts).
// Help, completion (`__complete`) and "did you mean" are served from oclif.manifest.json by src/cli/main.ts
// without loading oclif or the Kubernetes client (docs/benchmarks.md); a known command goes through oclif.
import { readFileSync } from 'node:fs';

let manifest;
try {
  manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'));
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
