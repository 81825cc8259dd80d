#!/usr/bin/env node
// Regenerates the example clusters in examples/ (npm run examples). Deterministic: the same generator and
// seed give byte-identical files, and a unit test checks that the committed files are up to date.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildExamples } from '../dist/test/fixtures/examples.js';

const dir = fileURLToPath(new URL('../examples/', import.meta.url));
fs.mkdirSync(dir, { recursive: true });
for (const ex of buildExamples()) {
  fs.writeFileSync(dir + ex.file, ex.text);
  console.log(`examples/${ex.file}: ${ex.description} (${(ex.text.length / 1024).toFixed(0)} KiB)`);
}
