/**
 * Command resolution ("did you mean") and shell completion, on the real oclif.manifest.json and on a manifest
 * with a command added, to show that nothing is tied to today's command list.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { complete, Directive, formatCompletion } from '../../../src/cli/complete.js';
import { bashScript } from '../../../src/cli/shell.js';
import { editDistance, resolveArgv, suggest } from '../../../src/cli/resolve.js';
import { CliError } from '../../../src/errors.js';
import { nodeNamed } from '../../../src/model/names.js';
import { snap } from '../helpers.js';
import type { ManifestLike } from '../../../src/render/help-text.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as ManifestLike;
const values = (words: string[], cur: string, m: ManifestLike = manifest): string[] =>
  complete(m, words, cur)
    .candidates.map((c) => c.value)
    .filter((v) => v.startsWith(cur.includes('=') ? cur.slice(cur.indexOf('=') + 1) : cur));

describe('cli: command resolution and did-you-mean', () => {
  it('edit distance: 0 only for equal strings, symmetric, a transposition costs 1', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (a, b) => {
        const d = editDistance(a, b);
        assert.equal(d === 0, a === b);
        assert.equal(d, editDistance(b, a));
        assert.ok(d <= Math.max(a.length, b.length));
      }),
    );
    assert.equal(editDistance('stauts', 'status'), 1);
  });

  it('stauts -> status; rr promot -> rr promote (never oclif\'s "rr:promot")', () => {
    assert.deepEqual(resolveArgv(manifest, ['stauts']), {
      kind: 'unknown',
      typed: 'stauts',
      suggestions: ['status'],
    });
    const r = resolveArgv(manifest, ['rr', 'promot', 'node-a-001']);
    assert.equal(r.kind, 'unknown');
    assert.ok(
      r.kind === 'unknown' && r.typed === 'rr promot' && r.suggestions[0] === 'rr promote',
      JSON.stringify(r),
    );
  });

  it("an argument where a subcommand belongs lists the topic's commands", () => {
    const r = resolveArgv(manifest, ['rr', 'node-a-001']);
    assert.ok(r.kind === 'unknown');
    assert.ok(
      r.suggestions.includes('rr promote') && r.suggestions.includes('rr list'),
      r.suggestions.join(),
    );
  });

  it('resolves the longest command id and leaves the rest', () => {
    assert.deepEqual(resolveArgv(manifest, ['rr', 'promote', 'a', '-o', 'json']), {
      kind: 'command',
      id: 'rr:promote',
      rest: ['a', '-o', 'json'],
    });
    assert.deepEqual(resolveArgv(manifest, ['rr']), { kind: 'topic', topic: 'rr', rest: [] });
    assert.deepEqual(resolveArgv(manifest, ['--verbose']), { kind: 'none' });
  });

  it('suggests the closest names (unknown node names use the same function)', () => {
    const nodes = ['node-a-001', 'node-a-002', 'node-b-001', 'node-cp-a1'];
    assert.deepEqual(suggest('node-a-06', nodes), ['node-a-001', 'node-a-002']);
    assert.deepEqual(suggest('zzz', nodes), []);
  });

  it('an unknown node is a usage error with the closest names (bgp peers, rr promote|demote|replace)', () => {
    const s = snap({ nodes: 6, zones: 2 });
    const known = s.nodes[0]!.name;
    assert.equal(nodeNamed(s, known).name, known);
    const typo = `${known.slice(0, -1)}x`;
    assert.throws(
      () => nodeNamed(s, typo),
      (e: unknown) =>
        e instanceof CliError &&
        e.exitCode === 2 &&
        e.message === `node "${typo}" does not exist` &&
        e.hints[0]!.startsWith('did you mean: ') &&
        e.hints[0]!.includes(known),
    );
    assert.throws(
      () => nodeNamed(s, 'zzz'),
      (e: unknown) => e instanceof CliError && e.hints[0] === 'list nodes with: kubectl get nodes',
    );
  });
});

describe('cli: completion (cobra __complete protocol)', () => {
  it('offers every command and topic of the manifest at the top level', () => {
    const tops = new Set(Object.keys(manifest.commands).map((id) => id.split(':')[0]!));
    assert.deepEqual(values([], '').sort(), [...tops].sort());
    assert.deepEqual(values(['rr'], 'pro'), ['promote']);
  });

  it('a command added to the manifest completes with no change to the code (generic)', () => {
    const m: ManifestLike = {
      commands: {
        ...manifest.commands,
        'future-topic:set': {
          id: 'future-topic:set',
          summary: 'Set the encapsulation',
          args: { node: { name: 'node' } },
          flags: { mode: { name: 'mode', type: 'option', options: ['ipip', 'vxlan', 'none'] } },
        },
      },
    };
    assert.ok(values([], 'fu', m).includes('future-topic'));
    assert.deepEqual(values(['future-topic'], '', m), ['set']);
    assert.deepEqual(values(['future-topic', 'set', '--mode'], '', m), ['ipip', 'vxlan', 'none']);
    assert.equal(complete(m, ['future-topic', 'set'], '').dynamic, 'nodes'); // an argument called `node`
  });

  it("flags: the command's own first, then kubectl's; -o values; --output=VALUE", () => {
    const flags = values(['rr', 'list'], '--');
    assert.ok(flags.indexOf('--output') < flags.indexOf('--kubeconfig'), flags.join(' '));
    assert.deepEqual(values(['status', '-o'], ''), ['table', 'wide', 'json', 'yaml']);
    const eq = complete(manifest, ['status'], '--output=j');
    assert.equal(formatCompletion(eq, [], true), '--output=json\n:4\n');
  });

  it('node, reflector and file arguments: from the hints in the manifest', () => {
    assert.equal(complete(manifest, ['rr', 'demote'], '').dynamic, 'reflectors');
    assert.equal(complete(manifest, ['rr', 'promote'], 'node-a').dynamic, 'non-reflectors');
    assert.equal(complete(manifest, ['rr', 'replace'], '').dynamic, 'reflectors');
    assert.equal(complete(manifest, ['rr', 'replace', 'node-a-001'], '').dynamic, 'non-reflectors');
    assert.equal(complete(manifest, ['rr', 'replace', 'a', 'b'], '').dynamic, undefined);
    assert.equal(complete(manifest, ['migrate', 'plan', '--rr'], '').dynamic, 'nodes');
    assert.equal(complete(manifest, ['status', '--context'], '').dynamic, 'contexts');
    const plan = complete(manifest, ['apply', '-f'], '');
    assert.equal(plan.directive, Directive.FilterFileExt);
    assert.deepEqual(
      plan.candidates.map((c) => c.value),
      ['yaml', 'yml', 'json'],
    );
    assert.equal(complete(manifest, ['status', '--kubeconfig'], '').directive, Directive.Default);
  });

  it('remembers the kubeconfig flags on the line for the cluster lookup; skips names already typed', () => {
    const c = complete(manifest, ['--kubeconfig', '/k', 'rr', 'demote', '--context=c1', 'n1'], 'n');
    // flags come after the command (as kubectl hands them to a plugin): before it, nothing is offered
    assert.equal(c.dynamic, undefined);
    const d = complete(manifest, ['rr', 'demote', '--kubeconfig', '/k', '--context=c1', 'n1'], 'n');
    assert.deepEqual(d.kube, { kubeconfig: '/k', context: 'c1' });
    assert.deepEqual(d.exclude, ['n1']);
    assert.equal(
      formatCompletion(d, [{ value: 'n1' }, { value: 'n2', description: 'zone a' }], false),
      'n2\tzone a\n:4\n',
    );
  });

  it('the bash script completes through __complete (real bash, a stub binary)', function () {
    if (!fs.existsSync('/bin/bash')) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-bash-'));
    try {
      const stub = path.join(dir, 'kubectl-calico_tune');
      // the stub answers like `kubectl-calico_tune __completeNoDesc rr pro`
      fs.writeFileSync(
        stub,
        '#!/bin/sh\n[ "$1 $2 $3" = "__completeNoDesc rr pro" ] && printf "promote\\n:4\\n"\n',
        {
          mode: 0o755,
        },
      );
      const script = path.join(dir, 'c.bash');
      fs.writeFileSync(script, bashScript());
      const out = execFileSync(
        '/bin/bash',
        [
          '-c',
          `source ${script}; COMP_WORDS=(${stub} rr pro); COMP_CWORD=2; _kubectl_calico_tune; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(out.trim(), 'promote');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
