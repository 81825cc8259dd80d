/**
 * kubectl-grade everyday use, on the command metadata: help lists the flags a command uses, and no help text
 * or message speaks the project's internal jargon.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCommandHelp, renderHelp, type ManifestLike } from '../../../src/render/help-text.js';
import { tsFiles } from '../helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as ManifestLike;

describe('cli: everyday use', () => {
  for (const topic of ['migrate', 'encap', 'monitoring'])
    it(`${topic} plan --help lists no apply-time flag (--yes, --on-timeout, --resume, --rollback) and saves with --save; ${topic} apply has them (a review: encap and monitoring plan offered them)`, () => {
      const plan = renderCommandHelp(manifest.commands[`${topic}:plan`]!);
      for (const f of ['--yes', '--on-timeout', '--resume', '--rollback'])
        assert.ok(!plan.includes(f), `${f} in ${topic} plan help`);
      assert.match(plan, /--save FILE/);
      const apply = renderCommandHelp(manifest.commands[`${topic}:apply`]!);
      for (const f of ['--yes', '--on-timeout', '--resume', '--rollback'])
        assert.ok(apply.includes(f), `${f} in ${topic} apply help`);
    });

  it('-f reads a file (apply -f, migrate apply -f); migrate plan saves with --save (its old -f is hidden)', () => {
    const flags = (id: string) => Object.values(manifest.commands[id]!.flags ?? {});
    const f = (id: string) => flags(id).find((x) => x.char === 'f' && !x.hidden);
    for (const id of ['migrate:plan', 'encap:plan', 'monitoring:plan']) {
      assert.equal(f(id), undefined, id);
      assert.ok(
        flags(id).some((x) => x.name === 'save' && !x.hidden),
        id,
      );
    }
    for (const id of ['apply', 'migrate:apply'])
      assert.doesNotMatch(f(id)?.description ?? '', /write/i, `${id} -f: ${f(id)?.description}`);
  });

  it('commands that never reach the cluster list no kubectl connection flags', () => {
    const help = renderCommandHelp(manifest.commands['completion']!);
    assert.doesNotMatch(help, /--kubeconfig|--context|KUBECTL FLAGS/);
  });

  it("no internal jargon: help text and messages say Calico's best-practice guide, not 'the seed'", () => {
    const help = Object.values(manifest.commands)
      .map((c) => renderCommandHelp(c))
      .join('\n');
    assert.doesNotMatch(help, /\bseed'?s?\b/i);
    for (const f of tsFiles(path.join(ROOT, 'src'))) {
      // string literals only: a comment may name the document it follows
      const literals = fs.readFileSync(f, 'utf8').match(/(['"`])(?:\\.|(?!\1).)*\1/g) ?? [];
      const bad = literals.filter((l) => /\bthe seed\b|seed's/i.test(l));
      assert.deepEqual(bad, [], path.relative(ROOT, f));
    }
  });

  it('help texts a review found wrong: list items stay items, every exit code, a monitoring topic line, examples that exist', () => {
    const typha = renderCommandHelp(manifest.commands['typha:report']!);
    assert.match(typha, /\n {2}- how Typha is installed/);
    assert.match(typha, /\n {2}- the recommended replicas/);
    const root = renderHelp(manifest, [], '0.0.0', false)!;
    assert.match(root, /5 stopped by you, 130 interrupted/);
    assert.match(root, /monitoring\s+Felix, Typha and kube-controllers metrics/);
    for (const c of Object.values(manifest.commands))
      for (const e of (c as { examples?: string[] }).examples ?? [])
        for (const f of e.match(/examples\/[\w.-]+/g) ?? [])
          assert.ok(fs.existsSync(path.join(ROOT, f)), `${c.id}: ${e}`);
  });
});
