/**
 * The last discovery answer (`/apis` and `/version`) of each API server, so that a report's reads go out at
 * once instead of one round trip later: kubectl keeps discovery in `~/.kube/cache` for six hours for the same
 * reason. Here it is only a guess, never trusted: readLiveSnapshot (kube/snapshot.ts) sends its reads with it
 * and reads the server's discovery at the same time; when the two differ in anything the read depends on, it
 * reads again with the server's answer, which replaces the cached one. It also keeps the number and the size of
 * the Nodes the last report read, which pick their encoding (`nodesInProtobuf`): it changes how fast, never
 * what, is read.
 *
 * Files: `$XDG_CACHE_HOME/calico-tune/discovery/<hash of the server URL>.json` (the directory checks of
 * kube/cache-dir.ts), written atomically with mode 0600; `CALICO_TUNE_DISCOVERY_CACHE=0` turns it off.
 * Anything unreadable or malformed is no cache.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { userCacheDir } from './cache-dir.js';

export interface Discovery {
  /** Every `group/version` served, core `v1` included. */
  groupVersions: string[];
  /** `/version`'s gitVersion, when it answered. */
  version: string | undefined;
}

/** What the cache holds for a server. */
export interface CachedDiscovery extends Discovery {
  savedAt: number;
  /** How many Nodes the last report read (absent: none read yet). */
  nodes?: number | undefined;
  /** The size of that read's Node list (decoded bytes; absent in a cache written before it was kept). */
  nodeBytes?: number | undefined;
  /** Whether that list came in protobuf (else JSON). */
  nodesProtobuf?: boolean | undefined;
  /** Whether the server refused that list in protobuf (406, 415: a proxy that passes only JSON). */
  nodesProtobufRefused?: boolean | undefined;
}

/**
 * Above this many Nodes a report reads them in protobuf, whatever their size. The API server encodes
 * protobuf faster and sends fewer bytes, but our decoder is JavaScript that runs once, cold, where JSON.parse
 * is native: at 5,000 generated Nodes protobuf was 60-70 ms faster (docs/benchmarks.md).
 */
export const PROTOBUF_ABOVE_NODES = 2000;
/**
 * Below that count, the size decides: what costs in JSON is its bytes, and a kubelet's Node carries its 50
 * largest images (10 KB of JSON, which the protobuf reader skips unread). With 50 images per Node, protobuf was
 * 13.6 ms faster at 400 Nodes (5.0 MB of JSON) and 22-29 ms at 1,000 (12.4 MB); JSON 2.6 ms faster at 150 (1.9
 * MB); at 1,000 generated Nodes without images (2.6 MB) the two were level (docs/benchmarks.md). A list read
 * in JSON above 3 MB is read in protobuf the next time; one read in protobuf stays so above 1.8 MB. A list
 * in protobuf is 66% (generated Nodes) to 82% (with images) of its JSON: only one under 60% would switch
 * encoding (and rewrite the cache) at every run.
 */
export const PROTOBUF_ABOVE_BYTES = 3 << 20;
export const PROTOBUF_STAYS_ABOVE_BYTES = 1.8 * (1 << 20);

/**
 * Whether a report reads the Nodes in protobuf, given the last read (unknown: protobuf, the safe bet at
 * scale; a count without a size, from an older cache: the count alone).
 */
export function nodesInProtobuf(cached: CachedDiscovery | undefined): boolean {
  if (cached?.nodesProtobufRefused) return false;
  if (cached?.nodes === undefined || cached.nodes > PROTOBUF_ABOVE_NODES) return true;
  if (cached.nodeBytes === undefined) return false;
  return cached.nodeBytes > (cached.nodesProtobuf ? PROTOBUF_STAYS_ABOVE_BYTES : PROTOBUF_ABOVE_BYTES);
}

/** A cached answer older than this is not used (kubectl's discovery cache lives as long). */
export const DISCOVERY_TTL_MS = 6 * 3600_000;
/** The file is rewritten when the server's answer is the same but the file is older than this. */
const REFRESH_MS = 3600_000;

export function discoveryCacheFile(server: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['CALICO_TUNE_DISCOVERY_CACHE'] === '0') return undefined;
  const dir = userCacheDir('discovery', env);
  if (!dir) return undefined;
  return path.join(dir, `${createHash('sha256').update(server).digest('hex').slice(0, 16)}.json`);
}

/** The cached answer for `server` and when it was saved, if there is a usable one. */
export function readCachedDiscovery(
  server: string,
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): CachedDiscovery | undefined {
  const file = discoveryCacheFile(server, env);
  if (!file) return undefined;
  try {
    const d = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const gv = d['groupVersions'];
    const savedAt = d['savedAt'];
    const version = d['version'];
    if (d['server'] !== server || !Array.isArray(gv) || !gv.every((g) => typeof g === 'string'))
      return undefined;
    if (typeof savedAt !== 'number' || savedAt > now || now - savedAt > DISCOVERY_TTL_MS) return undefined;
    if (version !== undefined && typeof version !== 'string') return undefined;
    const count = (v: unknown): number | undefined =>
      typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
    const n = count(d['nodes']);
    const bytes = n === undefined ? undefined : count(d['nodeBytes']);
    return {
      groupVersions: gv as string[],
      version,
      savedAt,
      ...(n === undefined ? {} : { nodes: n }),
      ...(bytes === undefined ? {} : { nodeBytes: bytes, nodesProtobuf: d['nodesProtobuf'] === true }),
      ...(d['nodesProtobufRefused'] === true ? { nodesProtobufRefused: true } : {}),
    };
  } catch {
    return undefined;
  }
}

/** What a report read of the Nodes: how many, and the size and encoding of their list. */
export type NodeRead = Pick<
  CachedDiscovery,
  'nodes' | 'nodeBytes' | 'nodesProtobuf' | 'nodesProtobufRefused'
>;

/**
 * Saves the server's answer (and what a report read of the Nodes, else the cached record of it) unless the
 * cache already holds them, recently saved: the Nodes' record is rewritten only when it changes the encoding
 * the next report reads them in (`nodesInProtobuf`). Never throws.
 */
export function saveDiscovery(
  server: string,
  d: Discovery & NodeRead,
  cached: CachedDiscovery | undefined,
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): void {
  const from: NodeRead = d.nodes !== undefined ? d : (cached ?? {});
  const read: NodeRead = {
    nodes: from.nodes,
    nodeBytes: from.nodeBytes,
    nodesProtobuf: from.nodesProtobuf,
    ...(from.nodesProtobufRefused ? { nodesProtobufRefused: true } : {}),
  };
  const sameSide =
    (read.nodes === undefined) === (cached?.nodes === undefined) &&
    nodesInProtobuf({ ...d, savedAt: now, ...read }) === nodesInProtobuf(cached);
  if (cached && now - cached.savedAt < REFRESH_MS && sameSide && sameDiscovery(cached, d, () => true)) return;
  const file = discoveryCacheFile(server, env);
  if (!file) return;
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(
      tmp,
      JSON.stringify({ server, groupVersions: d.groupVersions, version: d.version, savedAt: now, ...read }),
      { mode: 0o600 },
    );
    fs.renameSync(tmp, file);
  } catch {
    /* an optimisation only */
  }
}

/** Whether two answers agree on the server's version and on every group version that `matters`. */
export function sameDiscovery(
  a: Discovery,
  b: Discovery,
  matters: (groupVersion: string) => boolean,
): boolean {
  if (a.version !== b.version) return false;
  const pick = (d: Discovery): string => [...new Set(d.groupVersions.filter(matters))].sort().join('\n');
  return pick(a) === pick(b);
}
