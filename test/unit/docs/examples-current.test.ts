/**
 * The example clusters in examples/ are what `npm run examples` writes from the generator (the README's demo
 * and the offline tests run on them). A review found the files behind the generator: scripts/examples.js and
 * test/fixtures/examples.ts said a unit test checked them, and none did.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExamples } from '../../fixtures/examples.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('examples/: the committed example clusters are current', () => {
  for (const ex of buildExamples())
    it(`examples/${ex.file} is what npm run examples writes`, () => {
      const committed = fs.readFileSync(path.join(repo, 'examples', ex.file), 'utf8');
      assert.ok(committed === ex.text, `examples/${ex.file} is out of date: run npm run examples`);
    });
});
