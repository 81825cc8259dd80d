#!/usr/bin/env node
// `oclif manifest` lists commands in the order it finds their files, which varies between a clean and an
// incremental build; sorting by id keeps the committed oclif.manifest.json unchanged by `npm run build`.
import fs from 'node:fs';

const file = new URL('../oclif.manifest.json', import.meta.url);
const m = JSON.parse(fs.readFileSync(file, 'utf8'));
m.commands = Object.fromEntries(Object.entries(m.commands).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
fs.writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
