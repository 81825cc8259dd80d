/**
 * The item-by-item reader of a JSON list (src/kube/json-list.ts): whatever the bytes and however they are cut
 * into chunks, its value is JSON.parse's of the whole text (or the same SyntaxError), and on the API server's
 * shape of a list it really parses the items one at a time. The real API server's Node list, streamed over
 * HTTP/2, is compared with the same list read over HTTP/1.1 in test/integration/protobuf.test.ts.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonListDecoder } from '../../../src/kube/json-list.js';

/** `text` fed to a decoder in pieces cut at byte offsets `cuts` (any order, duplicates allowed). */
function decodeInPieces(text: string | Buffer, cuts: number[] = []): { value: unknown; itemsParsed: number } {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const d = jsonListDecoder();
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b).map((c) => Math.min(c, bytes.length))) {
    d.push(bytes.subarray(at, Math.max(at, c)));
    at = Math.max(at, c);
  }
  d.push(bytes.subarray(at));
  const value = d.end();
  return { value, itemsParsed: d.itemsParsed };
}

/**
 * Strings that would fool a reader that did not respect JSON's quoting (in the JSON text their quotes are
 * escaped: the cut's pattern with bare quotes cannot occur inside a string, which is what the reader relies on).
 */
const tricky = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    '},{"metadata":{',
    '"items":[',
    '}]}',
    ']}',
    '\\',
    'ünïcödé ✓',
    '😀',
    '{"metadata":{"name":"x"}}',
  ),
);
const labels = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), tricky, { maxKeys: 4 });
/** A Node as the API server writes it in a list: metadata first, no kind or apiVersion. */
const node = fc.record({
  metadata: fc.record({ name: fc.string({ minLength: 1 }), labels, annotations: labels }),
  spec: fc.record({ podCIDR: fc.string() }, { requiredKeys: [] }),
  status: fc.record({
    conditions: fc.array(fc.record({ type: tricky, status: fc.constantFrom('True', 'False') }), {
      maxLength: 3,
    }),
    // nested objects whose first field is "metadata", as a cut inside an item would find them
    nested: fc.array(fc.record({ metadata: fc.record({ name: tricky }) }), { maxLength: 2 }),
  }),
});
const nodeList = fc.record({
  kind: fc.constant('NodeList'),
  apiVersion: fc.constant('v1'),
  metadata: fc.record({ resourceVersion: fc.string(), continue: tricky }, { requiredKeys: [] }),
  items: fc.array(node, { maxLength: 8 }),
});

describe('a JSON list read item by item', () => {
  it('gives what JSON.parse gives for the whole text, however the bytes are cut', () => {
    fc.assert(
      fc.property(nodeList, fc.array(fc.nat(4000)), fc.constantFrom('', '\n', ' \n'), (list, cuts, tail) => {
        const text = JSON.stringify(list) + tail;
        assert.deepEqual(decodeInPieces(text, cuts).value, JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('parses the items of a list in the API server’s shape one at a time', () => {
    fc.assert(
      fc.property(nodeList, fc.array(fc.nat(4000)), (list, cuts) => {
        // a cut inside an item: when a nested "metadata" object follows one of its own, the reader must not
        // take it for the next item (its pieces do not parse: the whole body is parsed instead)
        const text = JSON.stringify(list);
        const nestedCut = list.items.some((n) => n.status.nested.length > 0);
        const r = decodeInPieces(text, cuts);
        if (!nestedCut) assert.equal(r.itemsParsed, list.items.length);
        assert.deepEqual(r.value, JSON.parse(text));
      }),
      { numRuns: 300 },
    );
    const text = JSON.stringify({
      kind: 'NodeList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '7' },
      items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b', labels: { x: '},{"metadata":{' } } }],
    });
    // one byte at a time
    const r = decodeInPieces(text, [...Array(text.length).keys()]);
    assert.equal(r.itemsParsed, 2);
    assert.deepEqual(r.value, JSON.parse(text));
  });

  it('a damaged list (a byte dropped, doubled or inserted) reads as JSON.parse reads it, or throws what it throws', () => {
    // JSON allows only space, tab, CR and LF as whitespace; \v, NBSP, a BOM and U+2028 are not
    const inserts = [
      ',',
      ' ',
      '\n',
      '\u000b',
      '\u00a0',
      '\ufeff',
      '\u2028',
      '"',
      '{',
      '}',
      '[',
      ']',
      ':',
      '\\',
      '1',
    ];
    fc.assert(
      fc.property(
        nodeList,
        fc.nat(),
        fc.constantFrom('drop', 'double', 'insert'),
        fc.constantFrom(...inserts),
        fc.array(fc.nat(4000), { maxLength: 5 }),
        (list, where, how, insert, cuts) => {
          const text = JSON.stringify(list);
          const at = where % text.length;
          const damaged =
            how === 'drop'
              ? text.slice(0, at) + text.slice(at + 1)
              : how === 'double'
                ? text.slice(0, at + 1) + text.slice(at)
                : text.slice(0, at) + insert + text.slice(at);
          let expected: { value: unknown } | { error: string };
          try {
            // the bytes a server would send (a lone surrogate, half of a dropped pair, is U+FFFD in UTF-8)
            expected = { value: JSON.parse(Buffer.from(damaged).toString('utf8')) as unknown };
          } catch (e) {
            expected = { error: (e as Error).message };
          }
          let got: { value: unknown } | { error: string };
          try {
            got = { value: decodeInPieces(damaged, cuts).value };
          } catch (e) {
            assert.ok(e instanceof SyntaxError, String(e));
            got = { error: e.message };
          }
          assert.deepEqual(got, expected, damaged.slice(Math.max(0, at - 30), at + 30));
        },
      ),
      { numRuns: 2000 },
    );
    // the head's own faults, which a reader that checked the head alone accepted
    for (const text of [
      '{"kind":"NodeList""items":[{"metadata":{}},{"metadata":{}}]}',
      '{,"items":[{"metadata":{}},{"metadata":{}}]}',
      '{"kind":"x",\u000b"items":[{"metadata":{}},{"metadata":{}}]}',
      '{"kind":"x",\u00a0"items":[{"metadata":{}},{"metadata":{}}]}',
      '\ufeff{"items":[{"metadata":{}},{"metadata":{}}]}',
    ])
      assert.throws(() => decodeInPieces(text, [3, 30]), SyntaxError, text);
    // no body at all reads as over HTTP/1.1 (kube/http.ts `complete`): an empty object
    assert.deepEqual(decodeInPieces('').value, {});
  });

  it('parses the whole body when the list is not in that shape, to the same value', () => {
    const cases: unknown[] = [
      { items: [] },
      { kind: 'List', items: null },
      {
        items: [
          { apiVersion: 'v1', kind: 'X', metadata: { name: 'a' } },
          { apiVersion: 'v1', metadata: {} },
        ],
      },
      {
        items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }],
        metadata: { resourceVersion: '1' },
      },
      { kind: 'NodeList', metadata: { x: { items: [{ metadata: {} }, { metadata: {} }] } } },
      [{ metadata: {} }, { metadata: {} }],
      'a string',
      42,
      { items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }], more: [1] },
    ];
    for (const c of cases) {
      const text = JSON.stringify(c);
      for (const cuts of [[], [1], [5, 9, 13], [...Array(text.length).keys()]])
        assert.deepEqual(decodeInPieces(text, cuts).value, c, text);
    }
  });

  it('a body that is not JSON throws what JSON.parse throws', () => {
    const bad = [
      ' ',
      '{"kind":"NodeList","items":[{"metadata":{"name":"a"}},{"metadata":{"name":',
      '{"items":[{"metadata":{}},{"metadata":{}}]',
      '{"items":[{"metadata":{}},{"metadata":{}}]}}',
      '{"items":[{"metadata":{}},{"metadata":{} x}]}',
      '{"items":[{"metadata":{}},{"metadata":{}},]}',
      '{"items":[{"metadata":{}},{"metadata":{}}1}',
      '{"kind":"NodeList""items":[{"metadata":{}},{"metadata":{}}]}',
      '[{"items":[{"metadata":{}},{"metadata":{}}]}',
    ];
    for (const text of bad) {
      let expected: unknown;
      try {
        JSON.parse(text);
        assert.fail(`valid JSON: ${text}`);
      } catch (e) {
        expected = e;
      }
      assert.throws(
        () => decodeInPieces(text, [7, 20]),
        (e: unknown) => e instanceof SyntaxError && e.message === (expected as Error).message,
        text,
      );
    }
  });

  it('does not keep more than one item while it looks for the next (the whole body beyond 2 MB)', () => {
    // a list whose items are not cut (another first field) is parsed whole at the end, however long
    const item = JSON.stringify({ apiVersion: 'v1', kind: 'X', metadata: { name: 'x'.repeat(1000) } });
    const text = `{"items":[${Array(3000).fill(item).join(',')}]}`;
    const d = jsonListDecoder();
    const bytes = Buffer.from(text);
    let most = 0;
    for (let at = 0; at < bytes.length; at += 16384) {
      d.push(bytes.subarray(at, at + 16384));
      most = Math.max(most, d.pending);
    }
    assert.ok(most <= (2 << 20) + 16384, `kept ${most} bytes`);
    const v = d.end();
    assert.equal(v.items.length, 3000);
    assert.equal(d.itemsParsed, 0);
  });
});
