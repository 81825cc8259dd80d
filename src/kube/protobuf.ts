/**
 * Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf), read for one purpose: a report's list
 * of Nodes. The API server serves built-in kinds in protobuf (CRDs only in JSON); a list is 66% of the bytes
 * of its JSON (generated Nodes, 1.72 / 2.61 MB at 1,000) to 82% (Nodes with a kubelet's 50 images), and
 * reading it here skips what the tool never reads (managedFields, images,
 * volumes) without building objects for it, where JSON.parse builds everything and then copies it.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/. Envelope: the 4 bytes "k8s\0", then a
 * runtime.Unknown (1: typeMeta, 2: raw, 3: contentEncoding, 4: contentType) whose `raw` is the object
 * (k8s.io/apimachinery/pkg/runtime/serializer/protobuf). Field numbers are those of k8s.io/api core/v1 and
 * apimachinery meta/v1 generated.proto (stable: protobuf field numbers are never reused).
 *
 * The decoded Node holds the fields src/model/parse.ts reads, nothing else: metadata (name, uid,
 * resourceVersion, creationTimestamp, deletionTimestamp, labels, annotations), spec (podCIDR, podCIDRs,
 * providerID, unschedulable, taints) and status (cpu and memory of capacity and allocatable, phase, the type
 * and status of conditions, addresses, and osImage, operatingSystem and architecture of nodeInfo). A reader
 * of another field must add it here. Test: test/integration/protobuf.test.ts compares it with the JSON of the
 * same list, and parse.ts's NodeInfo of both.
 */
import type { KubeObject } from '../model/types.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** A protobuf the reader cannot make sense of (the caller reports it like invalid JSON). */
export class ProtobufError extends Error {}

/** Tags (field << 3 | wire type): `Ln` of field n length-delimited (type 2), `Vn` of field n a varint (type 0). */
const [L1, L2, L3, L4, L5, L6, L7, L8, L9, L11, L12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12].map(
  (f) => (f << 3) | 2,
);
const [V1, V2, V4] = [1, 2, 4].map((f) => f << 3);

/**
 * One cursor over the whole buffer; each message decoder reads its fields up to the `end` it is given. No
 * object per field or sub-message: a 5,000-node list has about a million fields.
 */
class Reader {
  pos = 0;
  buf: Buffer & { utf8Slice(start: number, end: number): string };
  constructor(buf: Buffer) {
    // Buffer's own UTF-8 slice, without toString's argument handling: half a million strings in a big list
    this.buf = buf as Reader['buf'];
  }

  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    if (b < 0x80) return b; // most tags and lengths
    let result = b & 0x7f;
    let mul = 0x80;
    for (;;) {
      if (this.pos >= buf.length) throw new ProtobufError('truncated varint');
      b = buf[this.pos++]!;
      // exact up to 2^53; larger values (negative int64s) are not read by this tool
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
      if (mul > 2 ** 63) throw new ProtobufError('varint too long');
    }
  }

  /** A length-delimited field's end; `pos` is at its first byte. */
  end(limit: number): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > limit) throw new ProtobufError('length beyond the message');
    return end;
  }

  string(limit: number): string {
    const end = this.end(limit);
    const s = this.buf.utf8Slice(this.pos, end);
    this.pos = end;
    return s;
  }

  /** Strings seen before: each distinct value once. */
  private readonly seen = new Map<string, string>();

  /**
   * A string that repeats from node to node (label and annotation keys, label values, quantities, condition
   * types, OS images): the copy already made when it is the same, as JSON.parse shares its keys. The new
   * string is short-lived; the kept ones are fewer for the garbage collector to move. Native work only (a
   * hash of the bytes in JavaScript cost more than it saved on a cold start).
   */
  shared(limit: number): string {
    const s = this.string(limit);
    const hit = this.seen.get(s);
    if (hit !== undefined) return hit;
    this.seen.set(s, s);
    return s;
  }

  /** RFC 3339 of Time values seen before (nodes created together share their second). */
  readonly times = new Map<number, string>();

  skip(tag: number, limit: number): void {
    switch (tag & 7) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.end(limit);
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${tag & 7}`);
    }
    if (this.pos > limit) throw new ProtobufError('truncated field');
  }
}

/**
 * Go's protobuf marshalling writes a string field even when it is empty, where the JSON of the same object
 * omits it (`omitempty`): such fields are set only when not empty, so that both read the same.
 */
function setNonEmpty(o: Record<string, unknown>, key: string, v: string): void {
  if (v !== '') o[key] = v;
}

/** A map<string, string> entry (1: key, 2: value) or, with `quantity`, map<string, Quantity{1: string}>. */
function mapEntry(
  r: Reader,
  end: number,
  into: Record<string, string>,
  values: 'shared' | 'own' | 'quantity',
): void {
  let k = '';
  let v = '';
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === L1) {
      k = r.shared(end);
      if (values === 'quantity' && !QUANTITIES.has(k)) {
        r.pos = end; // a quantity parse.ts does not read: the entry is skipped
        return;
      }
    } else if (tag === L2) {
      if (values !== 'quantity') v = values === 'shared' ? r.shared(end) : r.string(end);
      else {
        const qEnd = r.end(end);
        while (r.pos < qEnd) {
          const qt = r.varint();
          if (qt === L1) v = r.shared(qEnd);
          else r.skip(qt, qEnd);
        }
      }
    } else r.skip(tag, end);
  }
  into[k] = v;
}

/** Quantities read by parse.ts (of capacity and allocatable); the others are skipped. */
const QUANTITIES = new Set(['cpu', 'memory']);

/** meta/v1 Time (1: seconds, 2: nanos) as the JSON has it: RFC 3339 in seconds, the zero time null. */
function time(r: Reader, end: number): string | null {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === V1) seconds = r.varint();
    else if (tag === V2) nanos = r.varint();
    else r.skip(tag, end);
  }
  if (seconds === 0 && nanos === 0) return null;
  let s = r.times.get(seconds);
  if (s === undefined) {
    const d = new Date(seconds * 1000);
    if (Number.isNaN(d.getTime())) throw new ProtobufError('a time out of range');
    s = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    r.times.set(seconds, s);
  }
  return s;
}

/** NodeSystemInfo fields read by parse.ts, by field number (the others are skipped). */
const NODE_INFO: Record<number, string> = { 5: 'osImage', 9: 'operatingSystem', 10: 'architecture' };

function objectMeta(r: Reader, end: number): KubeObject['metadata'] {
  const meta: Record<string, unknown> = { name: '' };
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case L1:
        meta['name'] = r.string(end);
        break;
      case L3:
        setNonEmpty(meta, 'namespace', r.string(end));
        break;
      case L5:
        setNonEmpty(meta, 'uid', r.string(end));
        break;
      case L6:
        setNonEmpty(meta, 'resourceVersion', r.string(end));
        break;
      case L8:
        meta['creationTimestamp'] = time(r, r.end(end));
        break;
      case L9:
        meta['deletionTimestamp'] = time(r, r.end(end));
        break;
      case L11:
        mapEntry(r, r.end(end), (meta['labels'] ??= {}) as Record<string, string>, 'shared');
        break;
      case L12:
        mapEntry(r, r.end(end), (meta['annotations'] ??= {}) as Record<string, string>, 'own');
        break;
      default:
        r.skip(tag, end); // generateName, selfLink, ownerReferences, finalizers, managedFields
    }
  }
  return meta as KubeObject['metadata'];
}

function taint(r: Reader, end: number): Record<string, string | null> {
  const t: Record<string, string | null> = {};
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === L1) t['key'] = r.shared(end);
    else if (tag === L2) setNonEmpty(t, 'value', r.shared(end));
    else if (tag === L3) t['effect'] = r.shared(end);
    else if (tag === L4) t['timeAdded'] = time(r, r.end(end));
    else r.skip(tag, end);
  }
  return t;
}

function nodeSpec(r: Reader, end: number): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === L1) setNonEmpty(spec, 'podCIDR', r.string(end));
    else if (tag === L7) ((spec['podCIDRs'] ??= []) as string[]).push(r.string(end));
    else if (tag === L3) setNonEmpty(spec, 'providerID', r.string(end));
    else if (tag === V4) {
      if (r.varint() !== 0) spec['unschedulable'] = true; // false is written, and omitted from the JSON
    } else if (tag === L5) ((spec['taints'] ??= []) as unknown[]).push(taint(r, r.end(end)));
    else r.skip(tag, end);
  }
  return spec;
}

/** A NodeCondition: type and status (its reason, message and times are not read by the tool: skipped). */
function condition(r: Reader, end: number): Record<string, string> {
  const c: Record<string, string> = {};
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === L1) c['type'] = r.shared(end);
    else if (tag === L2) c['status'] = r.shared(end);
    else r.skip(tag, end);
  }
  return c;
}

function address(r: Reader, end: number): Record<string, string> {
  const a: Record<string, string> = {};
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === L1) a['type'] = r.shared(end);
    else if (tag === L2) a['address'] = r.string(end);
    else r.skip(tag, end);
  }
  return a;
}

function nodeInfo(r: Reader, end: number): Record<string, string> {
  const info: Record<string, string> = {};
  while (r.pos < end) {
    const tag = r.varint();
    const name = (tag & 7) === 2 ? NODE_INFO[tag >> 3] : undefined;
    if (name) info[name] = r.shared(end);
    else r.skip(tag, end);
  }
  return info;
}

function nodeStatus(r: Reader, end: number): Record<string, unknown> {
  const status: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case L1:
        mapEntry(r, r.end(end), (status['capacity'] ??= {}) as Record<string, string>, 'quantity');
        break;
      case L2:
        mapEntry(r, r.end(end), (status['allocatable'] ??= {}) as Record<string, string>, 'quantity');
        break;
      case L3:
        setNonEmpty(status, 'phase', r.string(end));
        break;
      case L4:
        ((status['conditions'] ??= []) as unknown[]).push(condition(r, r.end(end)));
        break;
      case L5:
        ((status['addresses'] ??= []) as unknown[]).push(address(r, r.end(end)));
        break;
      case L7:
        status['nodeInfo'] = nodeInfo(r, r.end(end));
        break;
      default:
        r.skip(tag, end); // daemonEndpoints, images, volumes, config, runtimeHandlers, features
    }
  }
  return status;
}

function node(r: Reader, end: number): KubeObject {
  const n: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: '' } };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === L1) n.metadata = objectMeta(r, r.end(end));
    else if (tag === L2) n.spec = nodeSpec(r, r.end(end));
    else if (tag === L3) n.status = nodeStatus(r, r.end(end));
    else r.skip(tag, end);
  }
  return n;
}

/** A decoder fed an answer's body as it arrives, in chunks of any size; `end` gives the value. */
export interface StreamDecoder<T = unknown> {
  push(chunk: Buffer): void;
  end(): T;
}

export interface NodeListResult {
  items: KubeObject[];
  metadata: { resourceVersion?: string; continue?: string };
}

/** The varint at `pos` of `b` into `out.v`, and the position after it; -1 when `b` ends inside it. */
function tryVarint(b: Buffer, pos: number, limit: number, out: { v: number }): number {
  let result = 0;
  let mul = 1;
  for (let i = pos; i < limit; i++) {
    const byte = b[i]!;
    result += (byte & 0x7f) * mul;
    if (byte < 0x80) {
      out.v = result;
      return i + 1;
    }
    mul *= 0x80;
    if (mul > 2 ** 63) throw new ProtobufError('varint too long');
  }
  return -1;
}

/**
 * A NodeList decoded as it arrives: each Node is built as soon as its bytes are in, so that decoding a
 * 5,000-node list overlaps the API server's encoding and compressing it (about 100 ms) instead of following
 * it. Chunks are joined only when an item spans them (the part of one item left over, plus what came after).
 *
 * States: the magic, the envelope's fields up to `raw` (field 2), the list's fields (1: ListMeta, 2: items)
 * up to the end of `raw`, then the rest of the envelope (contentEncoding, contentType: ignored).
 */
class NodeListStream implements StreamDecoder<NodeListResult> {
  private readonly out: NodeListResult = { items: [], metadata: {} };
  private readonly r = new Reader(Buffer.alloc(0));
  /** Chunks not consumed yet (the first may be the rest of an earlier one), their total, and the bytes needed to go on. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need = 4;
  /** Offset in the whole body of the first pending byte. */
  private offset = 0;
  private state: 'magic' | 'envelope' | 'list' | 'after' = 'magic';
  /** In the envelope or the list: bytes of a skipped field still to come. */
  private skipping = 0;
  /** Offset in the whole body where `raw` (the list) ends. */
  private listEnd = -1;
  private readonly hv = { v: 0 };

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.state === 'after') return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.need) return;
    const b = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const pos = this.consume(b);
    this.offset += pos;
    const rest = pos < b.length ? b.subarray(pos) : undefined;
    this.pending = rest ? [rest] : [];
    this.pendingBytes = rest ? rest.length : 0;
  }

  /** Decodes what `b` holds in full; the position of the first byte not consumed (`need` set for the next). */
  private consume(b: Buffer): number {
    let pos = 0;
    const hv = this.hv;
    for (;;) {
      if (this.state === 'after') return b.length;
      if (this.skipping > 0) {
        const take = Math.min(this.skipping, b.length - pos);
        pos += take;
        this.skipping -= take;
        if (this.skipping > 0) {
          this.need = 1;
          return pos;
        }
      }
      if (this.state === 'magic') {
        if (b.length - pos < 4) return this.wait(pos, 4);
        if (MAGIC.some((m, i) => b[pos + i] !== m))
          throw new ProtobufError('not a Kubernetes protobuf (no k8s magic)');
        pos += 4;
        this.state = 'envelope';
        continue;
      }
      if (this.state === 'list' && this.offset + pos === this.listEnd) {
        this.state = 'after';
        continue;
      }
      // a field's tag, and its length when length-delimited (up to 20 bytes)
      const limit = this.state === 'list' ? Math.min(b.length, this.listEnd - this.offset) : b.length;
      const afterTag = tryVarint(b, pos, limit, hv);
      if (afterTag < 0) return this.incomplete(b, pos, limit);
      const tag = hv.v;
      let body = afterTag;
      let len = 0;
      switch (tag & 7) {
        case 0: {
          body = tryVarint(b, afterTag, limit, hv);
          if (body < 0) return this.incomplete(b, pos, limit);
          break;
        }
        case 1:
          len = 8;
          break;
        case 2: {
          body = tryVarint(b, afterTag, limit, hv);
          if (body < 0) return this.incomplete(b, pos, limit);
          len = hv.v;
          break;
        }
        case 5:
          len = 4;
          break;
        default:
          throw new ProtobufError(`unsupported wire type ${tag & 7}`);
      }
      if (this.state === 'envelope') {
        if (tag === L2) {
          this.listEnd = this.offset + body + len;
          this.state = 'list';
          pos = body;
        } else {
          pos = body;
          this.skipping = len;
        }
        continue;
      }
      // the list
      if (this.offset + body + len > this.listEnd) throw new ProtobufError('length beyond the message');
      if (tag !== L1 && tag !== L2) {
        pos = body;
        this.skipping = len;
        continue;
      }
      if (b.length - body < len) return this.wait(pos, body - pos + len);
      const r = this.r;
      r.buf = b as Reader['buf'];
      r.pos = body;
      const end = body + len;
      if (tag === L2) this.out.items.push(node(r, end));
      else listMeta(r, end, this.out.metadata);
      // a varint that ran on past its item (read from the next one, wherever the chunk ended)
      if (r.pos !== end) throw new ProtobufError('a field beyond its message');
      pos = end;
    }
  }

  /** A field header cut by the end of what is in (wait for more) or by the end of the list (damaged). */
  private incomplete(b: Buffer, pos: number, limit: number): number {
    if (limit < b.length) throw new ProtobufError('truncated field');
    return this.wait(pos, b.length - pos + 1);
  }

  /** Stops at `pos` until `need` bytes from there are in. */
  private wait(pos: number, need: number): number {
    this.need = need;
    return pos;
  }

  end(): NodeListResult {
    if (this.state === 'magic') throw new ProtobufError('not a Kubernetes protobuf (no k8s magic)');
    if (this.state === 'envelope') throw new ProtobufError('no object in the protobuf envelope');
    if (this.state === 'list') throw new ProtobufError('truncated list');
    return this.out;
  }
}

function listMeta(r: Reader, end: number, metadata: NodeListResult['metadata']): void {
  while (r.pos < end) {
    const mt = r.varint();
    if (mt === L2) metadata.resourceVersion = r.string(end);
    else if (mt === L3) setNonEmpty(metadata, 'continue', r.string(end));
    else r.skip(mt, end);
  }
}

/** A NodeList decoder to feed chunk by chunk (see `decodeNodeList` for the whole body at once). */
export function nodeListDecoder(): StreamDecoder<NodeListResult> {
  return new NodeListStream();
}

/** A NodeList: its Nodes (apiVersion v1, kind Node) and list metadata. */
export function decodeNodeList(buf: Buffer): NodeListResult {
  const d = new NodeListStream();
  d.push(buf);
  return d.end();
}

/** The reader at the `raw` object inside the envelope (after checking the magic), and that object's end. */
function unwrap(buf: Buffer): [Reader, number] {
  if (buf.length < 4 || MAGIC.some((b, i) => buf[i] !== b))
    throw new ProtobufError('not a Kubernetes protobuf (no k8s magic)');
  const r = new Reader(buf);
  r.pos = 4;
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === L2) return [r, r.end(buf.length)];
    r.skip(tag, buf.length);
  }
  throw new ProtobufError('no object in the protobuf envelope');
}

/** A meta/v1 Status (an error answer): its reason and message. */
export function decodeStatus(buf: Buffer): { reason?: string; message?: string } {
  const out: { reason?: string; message?: string } = {};
  const [r, end] = unwrap(buf);
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === L3) out.message = r.string(end);
    else if (tag === L4) out.reason = r.string(end);
    else r.skip(tag, end);
  }
  return out;
}
