/**
 * Typed-enough operations on the Kubernetes API: paginated lists, get, create, merge patch, delete (with
 * dryRun and preconditions), discovery, SelfSubjectAccessReview and the pod proxy.
 *
 * Writes that KubeHttp retried after an attempt that may have landed (a reset or timeout after sending, a 5xx)
 * can end in a 409 caused by our own first attempt. Those are resolved here by re-reading the object: when
 * it already holds what we wrote, the write succeeded and the live object is returned; otherwise the 409
 * stands (the caller re-reads and decides, as for any conflict).
 */
import type { KubeObject } from '../model/types.js';
import { ApiError, KubeHttp, MERGE_PATCH } from './http.js';
import { jsonListDecoder } from './json-list.js';
import { nodeListDecoder } from './protobuf.js';
import { collectionPath, objectPath, type ResourceType } from '../model/resources.js';

export interface ListOptions {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Page size (`limit`, default 500; 0: one response); every page is fetched with `continue`. */
  pageSize?: number | undefined;
  /**
   * `"0"`: any version the API server has cached will do (a report); unset: the latest from etcd (what a
   * plan's preconditions and the executor's observations need).
   */
  resourceVersion?: '0' | undefined;
  /**
   * Only each object's metadata (PartialObjectMetadataList): for a caller that needs names and labels, not a
   * reflector's CalicoNodeStatus of hundreds of KB. A server that cannot answer so sends whole objects.
   */
  metadataOnly?: boolean | undefined;
  /**
   * Nodes only: read the list in Kubernetes protobuf, decoded to the fields the tool reads (kube/protobuf.ts).
   * For reports; a server that answers in JSON is read as JSON, and one that refuses protobuf (406 or 415:
   * a proxy or gateway that only passes JSON) is asked again in JSON.
   */
  protobuf?: boolean | undefined;
  /**
   * Filled with the size of the list's answers (every page, gunzipped), whether they came in protobuf, and
   * whether the server refused protobuf.
   */
  received?: ListReceived | undefined;
}

/** What a list's answers were: their size once gunzipped, their encoding, and a refusal of protobuf. */
export interface ListReceived {
  bytes: number;
  protobuf: boolean;
  refused?: boolean | undefined;
}

/** Answers of a server that will not send protobuf: 406 Not Acceptable, 415 Unsupported Media Type. */
const REFUSES_PROTOBUF = new Set([406, 415]);

/** Accept headers that ask for metadata only, with plain JSON as the server's fallback (as kubectl asks). */
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export interface WriteOptions {
  namespace?: string | undefined;
  /** Send the write with `dryRun=All`: validated and admitted by the server, not persisted. */
  dryRun?: boolean | undefined;
  fieldManager?: string | undefined;
}

export const FIELD_MANAGER = 'kubectl-calico-tune';

interface ListResponse {
  metadata?: { continue?: string; resourceVersion?: string };
  items?: KubeObject[];
}

/** Drops fields that are large and useless to the tool (managedFields, node image lists). */
export function slim(o: KubeObject): KubeObject {
  const status = o.kind === 'Node' && o.status && 'images' in o.status ? o.status : undefined;
  if (!status && !('managedFields' in o.metadata)) return o; // (a list decoded from protobuf: nothing to drop)
  const { managedFields: _mf, ...meta } = o.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  const out: KubeObject = { ...o, metadata: meta };
  if (status) {
    const { images: _i, ...rest } = status;
    out.status = rest;
  }
  return out;
}

export class KubeApi {
  readonly http: KubeHttp;
  private primed?: Promise<[string[], string | undefined]>;
  constructor(http: KubeHttp) {
    this.http = http;
  }

  /** Starts discovery now (the start-up prefetch, kube/connect.ts); the next discovery() returns it. */
  primeDiscovery(): void {
    this.primed = Promise.all([this.apiGroupVersions(), this.serverVersion()]);
    this.primed.catch(() => {}); // awaited, and reported, by discovery()
  }

  /** The API group versions and the server's version: a primed read once, else read now. */
  discovery(): Promise<[string[], string | undefined]> {
    const p = this.primed ?? Promise.all([this.apiGroupVersions(), this.serverVersion()]);
    this.primed = undefined;
    return p;
  }

  get server(): string {
    return this.http.cfg.server;
  }

  /**
   * Lists every object (all pages; after a continue token expired, the whole list again in one answer). Items
   * get their apiVersion and kind filled in.
   */
  async list(
    t: ResourceType,
    opts: ListOptions = {},
  ): Promise<{ items: KubeObject[]; resourceVersion?: string | undefined }> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    const nodes = t.kind === 'Node' && t.apiVersion === 'v1';
    let protobuf = opts.protobuf === true && nodes;
    if (opts.received) Object.assign(opts.received, { bytes: 0, protobuf: false, refused: undefined });
    /** The list again in one answer, after a continue token expired (once). */
    let whole = false;
    for (;;) {
      const page = opts.received ? { bytes: 0, protobuf: false } : undefined;
      const get = (): Promise<ListResponse> =>
        this.http.request<ListResponse>('GET', collectionPath(t, opts.namespace), {
          accept: opts.metadataOnly ? METADATA_LIST : undefined,
          protobuf: protobuf ? nodeListDecoder : undefined,
          // the one long list in JSON: its items are parsed while it arrives (kube/json-list.ts)
          jsonList: nodes ? jsonListDecoder : undefined,
          received: page,
          query: {
            limit: opts.pageSize === 0 || whole ? undefined : (opts.pageSize ?? 500),
            continue: cont,
            labelSelector: opts.labelSelector,
            fieldSelector: opts.fieldSelector,
            // "0": any cached version is fine (served from the API server's watch cache); first page only
            resourceVersion: cont === undefined ? opts.resourceVersion : undefined,
          },
        });
      let res: ListResponse;
      try {
        res = await get();
      } catch (e) {
        if (protobuf && e instanceof ApiError && REFUSES_PROTOBUF.has(e.status)) {
          // the same page again in JSON, and the rest of the list too
          protobuf = false;
          if (opts.received) opts.received.refused = true;
          res = await get();
        } else if (cont !== undefined && !whole && e instanceof ApiError && e.status === 410) {
          // the continue token expired (etcd compacted the list's revision between two pages): the whole
          // list again, in one answer, as client-go's pager does (FullListIfExpired)
          whole = true;
          cont = undefined;
          items.length = 0;
          resourceVersion = undefined;
          if (opts.received) Object.assign(opts.received, { bytes: 0, protobuf: false });
          continue;
        } else throw e;
      }
      for (const it of res.items ?? [])
        items.push(
          slim(
            it.apiVersion === t.apiVersion && it.kind === t.kind
              ? it
              : { ...it, apiVersion: t.apiVersion, kind: t.kind },
          ),
        );
      if (page && opts.received) {
        opts.received.bytes += page.bytes;
        opts.received.protobuf = page.protobuf;
      }
      cont = res.metadata?.continue || undefined;
      resourceVersion = res.metadata?.resourceVersion ?? resourceVersion;
      if (!cont) return { items, resourceVersion };
    }
  }

  /**
   * Gets one object, or undefined when it does not exist. `resourceVersion: '0'`: any cached version will do
   * (the API server's watch cache answers, not etcd): reports only, as for lists.
   */
  async get(
    t: ResourceType,
    name: string,
    namespace?: string,
    opts: { resourceVersion?: '0' } = {},
  ): Promise<KubeObject | undefined> {
    try {
      const o = await this.http.request<KubeObject>('GET', objectPath(t, name, namespace), {
        query: { resourceVersion: opts.resourceVersion },
      });
      return slim({ ...o, apiVersion: t.apiVersion, kind: t.kind });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * Creates. A 409 AlreadyExists is an `ApiError` with `alreadyExists` true; when it answers a retry of our
   * own create that had landed (the live object holds everything we sent), the live object is returned.
   */
  async create(t: ResourceType, obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const ns = opts.namespace ?? obj.metadata.namespace;
    const named = typeof obj.metadata.name === 'string' && obj.metadata.name !== '';
    try {
      return await this.http.request<KubeObject>('POST', collectionPath(t, ns), {
        body: obj,
        query: { dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager ?? FIELD_MANAGER },
        repeat: named ? 'create' : 'unsafe',
      });
    } catch (e) {
      if (named && !opts.dryRun && e instanceof ApiError && e.alreadyExists && e.afterAmbiguousAttempt) {
        const live = await this.get(t, obj.metadata.name, ns);
        if (live && holds(live, writtenParts(obj))) return live;
      }
      throw e;
    }
  }

  /** RFC 7386 JSON merge patch. Put `metadata.resourceVersion` in the patch for an optimistic-lock precondition. */
  async mergePatch(
    t: ResourceType,
    name: string,
    patch: unknown,
    opts: WriteOptions = {},
  ): Promise<KubeObject> {
    try {
      return await this.http.request<KubeObject>('PATCH', objectPath(t, name, opts.namespace), {
        body: patch,
        contentType: MERGE_PATCH,
        query: { dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager ?? FIELD_MANAGER },
      });
    } catch (e) {
      if (!opts.dryRun && e instanceof ApiError && e.conflict && e.afterAmbiguousAttempt) {
        const live = await this.get(t, name, opts.namespace);
        if (live && holds(live, withoutResourceVersion(patch))) return live;
      }
      throw e;
    }
  }

  /** PUT. With `metadata.resourceVersion` in `obj` it is conditional, and retried like a conditional patch. */
  async replace(t: ResourceType, obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const ns = opts.namespace ?? obj.metadata.namespace;
    try {
      return await this.http.request<KubeObject>('PUT', objectPath(t, obj.metadata.name, ns), {
        body: obj,
        query: { dryRun: opts.dryRun ? 'All' : undefined, fieldManager: opts.fieldManager ?? FIELD_MANAGER },
      });
    } catch (e) {
      if (!opts.dryRun && e instanceof ApiError && e.conflict && e.afterAmbiguousAttempt) {
        const live = await this.get(t, obj.metadata.name, ns);
        if (live && holds(live, writtenParts(obj))) return live;
      }
      throw e;
    }
  }

  /** Deletes; returns false when it did not exist. `preconditions` guard against deleting a changed object. */
  async delete(
    t: ResourceType,
    name: string,
    opts: WriteOptions & { preconditions?: { resourceVersion?: string; uid?: string } } = {},
  ): Promise<boolean> {
    try {
      await this.http.request('DELETE', objectPath(t, name, opts.namespace), {
        // the answer is the deleted object, unread here: its metadata is enough (a reflector's status is
        // hundreds of KB)
        accept: METADATA,
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          ...(opts.dryRun ? { dryRun: ['All'] } : {}),
          ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
        },
      });
      return true;
    } catch (e) {
      // a 404 after a retried delete whose first attempt may have landed: most likely our own delete
      if (e instanceof ApiError && e.status === 404) return e.afterAmbiguousAttempt;
      throw e;
    }
  }

  /** Evicts a pod through the Eviction API (respects PodDisruptionBudgets; 429 when a PDB blocks it). */
  async evict(name: string, namespace: string, opts: { dryRun?: boolean } = {}): Promise<void> {
    await this.http.request(
      'POST',
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`,
      {
        // dry run both ways: the Eviction's deleteOptions (what the eviction applies) and the create's query
        query: { dryRun: opts.dryRun ? 'All' : undefined },
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace },
          ...(opts.dryRun ? { deleteOptions: { dryRun: ['All'] } } : {}),
        },
        // never repeated here: a PDB answers 429 and the executor has its own loop with a deadline
        repeat: 'never',
      },
    );
  }

  /**
   * Whether an API group/version listed by discovery is really served: an aggregated API (APIService) stays
   * listed in `/apis` while its server is down, and every request to it answers 503. Returns why it is not
   * served, or undefined when it answers.
   */
  async groupVersionUnavailable(groupVersion: string): Promise<string | undefined> {
    try {
      await this.http.request('GET', `/apis/${groupVersion}`, { repeat: 'never' });
      return undefined;
    } catch (e) {
      if (e instanceof ApiError && e.status >= 500)
        return `${groupVersion} answers HTTP ${e.status} (${e.reason || 'service unavailable'})`;
      throw e;
    }
  }

  /** Every `group/version` the server serves (core `v1` included). */
  async apiGroupVersions(): Promise<string[]> {
    const res = await this.http.request<{ groups?: { versions?: { groupVersion: string }[] }[] }>(
      'GET',
      '/apis',
    );
    const out = ['v1'];
    for (const g of res.groups ?? []) for (const v of g.versions ?? []) out.push(v.groupVersion);
    return out;
  }

  async serverVersion(): Promise<string | undefined> {
    try {
      const v = await this.http.request<{ gitVersion?: string }>('GET', '/version');
      return v.gitVersion;
    } catch {
      return undefined;
    }
  }

  /** Whether the current user may do `verb` on a resource (SelfSubjectAccessReview). */
  async can(
    verb: string,
    resource: { group: string; resource: string; namespace?: string; name?: string; subresource?: string },
  ): Promise<{ allowed: boolean; reason?: string }> {
    const res = await this.http.request<{ status?: { allowed?: boolean; reason?: string } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb, ...resource } },
        },
      },
    );
    return { allowed: res.status?.allowed === true, reason: res.status?.reason };
  }

  /** GET through the API server's pod proxy (e.g. Prometheus metrics); raw text. */
  async podProxyGet(
    namespace: string,
    pod: string,
    port: number,
    path: string,
    timeoutMs: number,
  ): Promise<string> {
    return this.http.request<string>(
      'GET',
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(`${pod}:${port}`)}/proxy${path}`,
      { raw: true, timeoutMs },
    );
  }
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** What a create or PUT body asks for: labels, annotations, and every top-level field but metadata and status. */
function writtenParts(o: KubeObject): Json {
  const { apiVersion: _a, kind: _k, metadata, status: _s, ...rest } = o as KubeObject & Json;
  const meta: Json = {};
  if (metadata.labels) meta['labels'] = metadata.labels;
  if (metadata.annotations) meta['annotations'] = metadata.annotations;
  return { ...rest, metadata: meta };
}

function withoutResourceVersion(patch: unknown): unknown {
  if (!isObj(patch) || !isObj(patch['metadata'])) return patch;
  const { resourceVersion: _rv, ...meta } = patch['metadata'];
  return { ...patch, metadata: meta };
}

/**
 * Whether `live` already holds `want`, read as a JSON merge patch (RFC 7386): objects are compared key by
 * key, `null` means "absent", anything else must be equal. True means applying `want` would change nothing.
 */
export function holds(live: unknown, want: unknown): boolean {
  if (!isObj(want)) return deepEqual(live, want);
  const l = isObj(live) ? live : {};
  for (const [k, v] of Object.entries(want)) {
    if (v === null) {
      if (l[k] !== undefined && l[k] !== null) return false;
    } else if (isObj(v)) {
      if (!holds(l[k], v)) return false;
    } else if (!deepEqual(l[k], v)) return false;
  }
  return true;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
