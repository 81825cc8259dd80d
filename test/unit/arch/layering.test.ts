/**
 * The layering of src/ (docs/architecture.md), checked on the import graph: no folder-level two-way
 * dependency, no import cycle between files, and the pure folders import nothing that does I/O.
 * (ESLint's no-restricted-imports enforces the last rule while editing; this test proves it over the tree.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const src = path.join(repo, 'src');

/** Folders that must stay pure (the executor, in executor/, is what drives kube/ for plan/). */
export const PURE = ['model', 'bgp', 'rr', 'typha', 'migrate', 'encap', 'status', 'plan'];
export const PURE_EXCEPTIONS: string[] = [];
const IO = [/^node:fs/, /^fs$/, /^node:child_process/, /^@oclif\/core/, /^@kubernetes\/client-node/];
const IO_FOLDERS = ['kube', 'commands', 'prompt'];

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Imports of a source file: static, `import type`, `export … from` and dynamic `import('…')`. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g))
    out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The unit of layering: a folder of src/, or a file at the top of src/ (base-command.ts, errors.ts, ...). */
function folderOf(rel: string): string {
  return rel.split('/')[0]!;
}

interface Graph {
  edges: Map<string, Set<string>>;
  raw: Map<string, string[]>;
}

function graph(): Graph {
  const edges = new Map<string, Set<string>>();
  const raw = new Map<string, string[]>();
  for (const f of files(src)) {
    const rel = path.relative(src, f).split(path.sep).join('/');
    const imps = importsOf(fs.readFileSync(f, 'utf8'));
    raw.set(rel, imps);
    const set = new Set<string>();
    for (const i of imps) {
      if (!i.startsWith('.')) continue;
      const target = path
        .relative(src, path.resolve(path.dirname(f), i))
        .split(path.sep)
        .join('/')
        .replace(/\.js$/, '.ts');
      set.add(target);
    }
    edges.set(rel, set);
  }
  return { edges, raw };
}

describe('architecture: layering of src/', () => {
  const g = graph();

  it('parses imports of every kind', () => {
    const found = importsOf(
      "import a from './a.js';\nimport type { B } from '../b.js';\nexport { c } from './c.js';\nconst d = await import('./d.js');",
    );
    assert.deepEqual(found.sort(), ['../b.js', './a.js', './c.js', './d.js']);
  });

  it('has no folder-level two-way dependency', () => {
    const fold = new Map<string, Set<string>>();
    for (const [f, ts] of g.edges) {
      for (const t of ts) {
        const a = folderOf(f);
        const b = folderOf(t);
        if (a === b) continue;
        if (!fold.has(a)) fold.set(a, new Set());
        fold.get(a)!.add(b);
      }
    }
    const twoWay: string[] = [];
    for (const [a, bs] of fold)
      for (const b of bs) if (a < b && fold.get(b)?.has(a)) twoWay.push(`${a}↔${b}`);
    assert.deepEqual(twoWay, [], `folder cycles: ${twoWay.join(', ')}`);
  });

  it('has no import cycle between files', () => {
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 1);
      stack.push(f);
      for (const t of g.edges.get(f) ?? []) {
        if (!g.edges.has(t)) continue;
        if (state.get(t) === 1) cycles.push([...stack.slice(stack.indexOf(t)), t].join(' → '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of g.edges.keys()) if (!state.has(f)) visit(f);
    assert.deepEqual(cycles, []);
  });

  it('keeps the pure folders free of I/O imports', () => {
    const bad: string[] = [];
    for (const [f, imps] of g.raw) {
      if (!PURE.includes(folderOf(f)) || PURE_EXCEPTIONS.includes(f)) continue;
      for (const i of imps) {
        const target = i.startsWith('.')
          ? path.relative(src, path.resolve(src, path.dirname(f), i)).split(path.sep)[0]!
          : '';
        if (IO.some((r) => r.test(i)) || IO_FOLDERS.includes(target)) bad.push(`${f} imports ${i}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('is enforced by ESLint: a deliberate violation in each pure folder fails lint', async function () {
    this.timeout(60_000);
    const { ESLint } = await import('eslint');
    const eslint = new ESLint({ cwd: repo });
    for (const folder of PURE) {
      for (const imp of [
        "import fs from 'node:fs';",
        "import { Flags } from '@oclif/core';",
        "import { KubeApi } from '../kube/api.js';",
      ]) {
        const [r] = await eslint.lintText(
          `${imp}\nexport const x = [${imp.match(/import (?:\{ )?(\w+)/)![1]}];\n`,
          {
            filePath: path.join(src, folder, 'zz-deliberate-violation.ts'),
          },
        );
        const rules = r!.messages.map((m) => m.ruleId);
        assert.ok(
          rules.includes('no-restricted-imports'),
          `${folder}: ${imp} was not flagged (${JSON.stringify(r!.messages)})`,
        );
      }
    }
  });
});
