#!/usr/bin/env node
// kubectl-calico_tune: the kubectl plugin entry point (`kubectl calico-tune ...`).
// Help is served straight from oclif.manifest.json (no oclif, no Kubernetes client loaded): the
// start-up budget is 1.5x `node -e 0` (docs/benchmarks.md). Everything else goes through oclif.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const head = dash === -1 ? argv : argv.slice(0, dash);
const wantsHelp = head.length === 0 || head.includes('--help') || head.includes('-h') || head[0] === 'help';

if (wantsHelp) {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'));
    const { renderHelp } = await import('../dist/src/render/help-text.js');
    const words = head.filter((a) => !a.startsWith('-') && a !== 'help');
    const color =
      process.stdout.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
    const text = renderHelp(manifest, words, manifest.version, color);
    if (text !== undefined) {
      process.stdout.write(text);
      process.exit(0);
    }
  } catch {
    // no manifest (development checkout): fall through to oclif
  }
}
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
