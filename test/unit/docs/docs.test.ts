/** The docs describe what the code does: every finding code is documented, every command is in the README. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsFiles } from '../helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

describe('docs', () => {
  it('documents every finding code the code can emit (docs/findings.md)', () => {
    const codes = new Set<string>();
    for (const f of tsFiles(path.join(ROOT, 'src'))) {
      const text = fs.readFileSync(f, 'utf8');
      for (const m of text.matchAll(/'((?:BGP|RR|TYPHA|MESH|FULL|ENCAP|FELIX|POD|NODE)_[A-Z0-9_]+)'/g))
        codes.add(m[1]!);
    }
    assert.ok(codes.size >= 20, `found only ${codes.size} codes`);
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'findings.md'), 'utf8');
    const missing = [...codes].filter((c) => !doc.includes(c));
    assert.deepEqual(missing, [], 'finding codes missing from docs/findings.md');
  });

  it('lists every command in the README and in oclif.manifest.json', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, unknown>;
    };
    const commands = tsFiles(path.join(ROOT, 'src', 'commands')).map((f) =>
      path
        .relative(path.join(ROOT, 'src', 'commands'), f)
        .replace(/\.ts$/, '')
        .split(path.sep)
        .join(':'),
    );
    assert.deepEqual(
      Object.keys(manifest.commands).sort(),
      commands.sort(),
      'oclif.manifest.json is current (npm run build)',
    );
    for (const c of commands)
      assert.ok(
        readme.includes(`kubectl calico-tune ${c.replace(/:/g, ' ')}`),
        `README shows kubectl calico-tune ${c.replace(/:/g, ' ')}`,
      );
  });
});
