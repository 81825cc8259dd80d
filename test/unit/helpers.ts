/** Shared unit-test helpers: snapshots from the example generator, with edits; source files of the tree. */
import fs from 'node:fs';
import path from 'node:path';
import { parseSnapshot } from '../../src/model/parse.js';
import type { ClusterSnapshot, KubeObject } from '../../src/model/types.js';
import { generateCluster, type ClusterSpec } from '../fixtures/generate.js';

export function objects(spec: ClusterSpec): KubeObject[] {
  return generateCluster(spec);
}

export function snapshotOf(items: KubeObject[]): ClusterSnapshot {
  return parseSnapshot(items, { kind: 'file', path: 'test', capturedAt: '2026-11-24T00:00:00Z' });
}

export function snap(spec: ClusterSpec, edit?: (objs: KubeObject[]) => KubeObject[] | void): ClusterSnapshot {
  let items = generateCluster(spec);
  if (edit) items = edit(items) ?? items;
  return snapshotOf(items);
}

export function find(items: KubeObject[], kind: string, name?: string): KubeObject {
  const o = items.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} in fixture`);
  return o;
}

/** Adds a variable to calico-node's environment (the DaemonSet's first container). */
export function setCalicoNodeEnv(items: KubeObject[], name: string, value: string): void {
  const ds = items.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'calico-node')!;
  const c = (ds.spec as { template: { spec: { containers: { env?: unknown[] }[] } } }).template.spec
    .containers[0]!;
  c.env = [...(c.env ?? []), { name, value }];
}

export function nodes(items: KubeObject[]): KubeObject[] {
  return items.filter((o) => o.kind === 'Node');
}

/** The .ts files below `dir`, recursively. */
export function tsFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? tsFiles(path.join(dir, e.name))
        : e.name.endsWith('.ts')
          ? [path.join(dir, e.name)]
          : [],
    );
}
