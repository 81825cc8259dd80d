/**
 * A Kubernetes list in JSON, parsed item by item while its body arrives (kube/http.ts streams it, gunzipped on
 * the thread pool): a 1,000-Node list is 2.6 MB of JSON, and JSON.parse of the whole took 6-10 ms after its
 * last byte, plus 3 ms of gunzip and 2 of copying, all on the main thread (docs/benchmarks.md).
 *
 * The API server writes a typed list as `{"kind":...,"apiVersion":...,"metadata":{...},"items":[{"metadata":
 * {...},...},{"metadata":...}]}`: every item's first field is its metadata. So the items are cut where
 * `},{"metadata":{` stands, which never occurs inside a string (a quote there is escaped), and each piece is
 * parsed alone; the list's own fields are parsed as their bytes stand, followed by `"items":[]}`, and the
 * body must end in `]}`. A cut inside an item (an array of objects that begin with a "metadata" field, nested
 * in it) leaves both pieces unbalanced, which JSON.parse refuses; when every piece parses, the body is their
 * concatenation, and JSON's one parse of it is theirs. Anything else (another field first, a piece that does
 * not parse, an item larger than MAX_ITEM) makes the decoder parse the whole body at its end instead: the
 * value is the one JSON.parse gives for the whole text, or its SyntaxError (property tests, with valid and
 * damaged lists).
 */
import type { StreamDecoder } from './protobuf.js';

const ITEMS = Buffer.from('"items":[');
const CUT = Buffer.from('},{"metadata":{');
/**
 * Bytes kept while looking for the items or for the end of one; beyond, the whole body is parsed at its end.
 * Above the largest object the API server stores (etcd takes requests up to 1.5 MB): only a list in another
 * shape gets there, after copying at most this much at each chunk.
 */
const MAX_ITEM = 2 << 20;

export interface JsonList {
  items: unknown[];
  [field: string]: unknown;
}

export class JsonListStream implements StreamDecoder<JsonList> {
  /** Every chunk, for the whole-body parse. */
  private readonly chunks: Buffer[] = [];
  /** What is not parsed yet: the head (mode 'head'), or from the start of the next item on ('items'). */
  private rest: Buffer | undefined;
  /** The list's own fields, before `"items":[` (a trailing comma included). */
  private head: Buffer | undefined;
  private items: unknown[] = [];
  private mode: 'head' | 'items' | 'whole' = 'head';
  /** Items parsed one at a time so far: 0 when the body is (or will be) parsed whole at its end. */
  get itemsParsed(): number {
    return this.mode === 'whole' ? 0 : this.items.length;
  }

  /** Bytes held unparsed, copied again with each chunk until an item ends (at most MAX_ITEM and a chunk). */
  get pending(): number {
    return this.rest?.length ?? 0;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    if (this.mode === 'whole') return;
    let buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    if (this.mode === 'head') {
      const at = buf.indexOf(ITEMS);
      if (at < 0) return this.keep(buf);
      this.head = buf.subarray(0, at);
      buf = buf.subarray(at + ITEMS.length);
      this.mode = 'items';
    }
    let start = 0;
    for (let cut = buf.indexOf(CUT); cut >= 0; cut = buf.indexOf(CUT, start)) {
      const item = this.parse(buf, start, cut + 1);
      if (item === FAILED) return;
      this.items.push(item);
      start = cut + 2; // the next item's `{`
    }
    this.keep(buf.subarray(start));
  }

  end(): JsonList {
    // no body: what an HTTP/1.1 read of the same answer gives (kube/http.ts `complete`)
    if (this.chunks.every((c) => c.length === 0)) return {} as JsonList;
    if (this.mode === 'items') {
      const buf = this.rest ?? Buffer.alloc(0);
      let last = buf.length - 1;
      while (last >= 0 && isSpace(buf[last]!)) last--;
      // the last item, then `]}`
      if (last >= 1 && buf[last] === 0x7d && buf[last - 1] === 0x5d) {
        let end = last - 1;
        while (end > 0 && isSpace(buf[end - 1]!)) end--;
        const item = end > 0 ? this.parse(buf, 0, end) : undefined;
        if (item !== FAILED) {
          if (end > 0) this.items.push(item);
          const list = this.parse(this.head!, 0, this.head!.length, true);
          if (list !== FAILED && list && typeof list === 'object' && !Array.isArray(list)) {
            (list as JsonList).items = this.items;
            return list as JsonList;
          }
        }
      }
    }
    // anything else: the whole body, as JSON.parse reads it (its SyntaxError is the caller's)
    return JSON.parse(Buffer.concat(this.chunks).toString('utf8')) as JsonList;
  }

  /**
   * One item; or, `head`: the list with its items empty, parsed as its bytes stand before them (so that
   * only a head JSON.parse would accept in the whole body passes: its commas, whitespace and key order).
   * A piece that does not parse: FAILED, and the whole body is parsed at the end.
   */
  private parse(buf: Buffer, from: number, to: number, head = false): unknown {
    try {
      const text = buf.toString('utf8', from, to);
      return JSON.parse(head ? `${text}"items":[]}` : text);
    } catch {
      this.whole();
      return FAILED;
    }
  }

  private keep(buf: Buffer): void {
    if (buf.length > MAX_ITEM) return this.whole();
    this.rest = buf;
  }

  private whole(): void {
    this.mode = 'whole';
    this.rest = undefined;
    this.head = undefined;
    this.items = [];
  }
}

const FAILED = Symbol('failed');
const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** A decoder for one JSON list answer (kube/http.ts `jsonList`). */
export function jsonListDecoder(): JsonListStream {
  return new JsonListStream();
}
