/**
 * The start-up prefetch's pre-parse of argv (src/cli/preparse.ts): whenever it accepts an argv, oclif's own
 * parser, on the real command classes, gives the same connection flags (so a prefetched client is made for
 * exactly the cluster and user the command then uses); the offline forms never prefetch.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, type Command } from '@oclif/core';
import fc from 'fast-check';
import { prefetchesReport, prefetchFlags, preparse } from '../../../src/cli/preparse.js';
import { connectionKey, type ConnectionFlags } from '../../../src/kube/connect.js';
import type { ManifestLike } from '../../../src/render/help-text.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as ManifestLike;

async function oclifParse(id: string, argv: string[]): Promise<Record<string, unknown>> {
  const file = path.join(ROOT, 'dist', 'src', 'commands', ...id.split(':')) + '.js';
  const C = (await import(file)).default as Command.Class;
  const { flags } = await Parser.parse(argv, {
    flags: { ...C.baseFlags, ...C.flags },
    args: C.args ?? {},
    strict: C.strict,
  });
  return flags;
}

describe('cli: pre-parse of argv for the start-up prefetch', () => {
  const status = manifest.commands['status']!;

  it('reads the forms whose meaning is certain', () => {
    assert.deepEqual(
      preparse(status, ['--context', 'prod', '-o', 'json', '--kubeconfig=/k', '--insecure-skip-tls-verify']),
      { context: 'prod', output: 'json', kubeconfig: '/k', 'insecure-skip-tls-verify': true },
    );
    assert.deepEqual(preparse(manifest.commands['rr:promote']!, ['node-1', '-n', 'x']), { namespace: 'x' });
  });

  it('gives up on anything else', () => {
    for (const argv of [
      ['--contxt', 'prod'], // unknown
      ['--context'], // no value
      ['--context', '--verbose'], // a value that looks like a flag
      ['-oyaml'], // joined short form
      ['-o', 'xml'], // outside the options
      ['--verbose=true'],
      ['--context', 'a', '--context', 'b'], // repeated
      ['--as-group', 'a', 'b'], // oclif's greedy multiple flag
      ['--', '--context', 'x'],
      ['extra'], // status takes no argument
      ['--no-color=1'],
    ])
      assert.equal(preparse(status, argv), undefined, argv.join(' '));
  });

  it("gives up on a word oclif hands to an earlier multiple flag, even past a boolean flag (the property's counterexample)", () => {
    // oclif's parser gives every later positional word to the last option flag read when it is multiple; a
    // boolean flag in between does not end it (parse.js currentFlag): --as-group gets [a, node-1]
    const promote = manifest.commands['rr:promote']!;
    assert.equal(preparse(promote, ['--as-group', 'a', '--verbose', 'node-1']), undefined);
    // a later option flag that is not multiple ends it: node-1 is the node
    assert.deepEqual(preparse(promote, ['--as-group', 'a', '-o', 'json', 'node-1']), {
      'as-group': ['a'],
      output: 'json',
    });
    assert.deepEqual(preparse(promote, ['node-1', '--as-group', 'a', '--verbose']), {
      'as-group': ['a'],
      verbose: true,
    });
  });

  it('never prefetches offline: --snapshot, a snapshot -f, typha report --nodes, version --client, no kubectl flags', () => {
    const pf = (id: string, argv: string[]) => prefetchFlags(manifest.commands[id]!, argv);
    assert.equal(pf('status', ['--snapshot', 'x.yaml']), undefined);
    assert.equal(pf('migrate:plan', ['--to', 'route-reflectors', '-f', 'x.yaml']), undefined);
    assert.equal(pf('typha:report', ['--nodes', '500']), undefined);
    assert.equal(pf('version', ['--client']), undefined);
    assert.equal(pf('completion', ['bash']), undefined);
    assert.deepEqual(pf('apply', ['-f', 'plan.yaml', '--context', 'c']), {
      filename: 'plan.yaml',
      context: 'c',
    });
    assert.deepEqual(pf('status', []), {});
  });

  it('begins the whole read only for the reports that start with it (not status --watch, not plans)', () => {
    assert.equal(prefetchesReport('status', {}), true);
    assert.equal(prefetchesReport('status', { watch: true }), false);
    assert.equal(prefetchesReport('rr:list', { context: 'c' }), true);
    assert.equal(prefetchesReport('migrate:plan', {}), false);
    assert.equal(prefetchesReport('snapshot:save', {}), false);
  });

  it('property: when it accepts argv, oclif parses the same connection flags', async () => {
    const values = ['a', 'prod', '/tmp/k', '30s', 'json', 'yaml', 'x=y', ''];
    const word = (id: string): fc.Arbitrary<string[]> => {
      const flags = Object.values(manifest.commands[id]!.flags ?? {});
      return fc.oneof(
        fc
          .constantFrom(...flags)
          .chain((f): fc.Arbitrary<string[]> =>
            f.type === 'boolean'
              ? fc.constant([`--${f.name}`])
              : fc
                  .constantFrom(...(f.options ?? values))
                  .chain((v) =>
                    fc.constantFrom<string[]>(
                      [`--${f.name}`, v],
                      [`--${f.name}=${v}`],
                      ...(f.char ? [[`-${f.char}`, v]] : []),
                    ),
                  ),
          ),
        fc.constantFrom<string[]>(['node-1'], ['--'], ['-x'], ['--as-group', 'g', 'h']),
      );
    };
    for (const id of ['status', 'migrate:plan', 'rr:promote', 'bgp:peers']) {
      await fc.assert(
        fc.asyncProperty(fc.array(word(id), { maxLength: 6 }), async (words) => {
          const argv = words.flat();
          const pre = preparse(manifest.commands[id]!, argv);
          if (!pre) return;
          // a value oclif refuses (a number flag given `a`): the command exits 2 and the client is closed unused
          const parsed = await oclifParse(id, argv).catch(() => undefined);
          if (!parsed) return;
          assert.equal(connectionKey(pre as ConnectionFlags), connectionKey(parsed as ConnectionFlags));
        }),
        { numRuns: 150 },
      );
    }
  });
});
