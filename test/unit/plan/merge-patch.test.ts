import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  applyMergePatch,
  fieldsChangedSince,
  inverseMergePatch,
  patchIsNoop,
} from '../../../src/plan/merge-patch.js';
import { composeMergePatch } from '../../../src/plan/reverify.js';

/** JSON documents without nulls (a merge patch cannot express a stored null), arrays of scalars. */
const key = fc.constantFrom('a', 'b', 'c', 'spec', 'labels', 'x.y/z');
const scalar = fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -3, max: 3 }), fc.boolean());
const { doc } = fc.letrec((tie) => ({
  doc: fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  value: fc.oneof({ depthSize: 'small' }, scalar, fc.array(scalar, { maxLength: 3 }), tie('doc')),
}));
/** Merge patches: like documents, with null (remove) allowed as a value. */
const { patch } = fc.letrec((tie) => ({
  patch: fc.dictionary(key, tie('pvalue'), { maxKeys: 4, noNullPrototype: true }),
  pvalue: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    scalar,
    fc.array(scalar, { maxLength: 3 }),
    tie('patch'),
  ),
}));
/** The patches the planners write on nodes: label and annotation maps of strings or null. */
const strMap = fc.dictionary(
  fc.constantFrom(
    'route-reflector',
    'k1',
    'k2',
    'projectcalico.org/RouteReflectorClusterID',
    'calico-tune.io/cordoned-by',
  ),
  fc.oneof(fc.constant(null), fc.constantFrom('true', '244.0.0.1', 'v')),
  { maxKeys: 3, noNullPrototype: true },
);
const metaPatch = fc.record({
  metadata: fc.record({ labels: strMap, annotations: strMap }, { requiredKeys: [] }),
});

describe('plan/merge-patch: RFC 7386 merge patches', () => {
  describe('applyMergePatch', () => {
    it('null removes a key, objects merge, everything else replaces', () => {
      const target = { a: 1, b: { c: 2, d: [1, 2] }, e: 'x' };
      const out = applyMergePatch(target, { a: null, b: { c: null, d: [3], f: { g: true } }, e: { h: 1 } });
      assert.deepEqual(out, { b: { d: [3], f: { g: true } }, e: { h: 1 } });
      assert.deepEqual(target, { a: 1, b: { c: 2, d: [1, 2] }, e: 'x' }, 'the target is not modified');
    });
    it('removing what is absent changes nothing; a non-object patch replaces the whole target', () => {
      assert.deepEqual(applyMergePatch({ a: 1 }, { b: null, c: { d: null } }), { a: 1, c: {} });
      assert.deepEqual(applyMergePatch({ a: 1 }, [1, 2]), [1, 2]);
      assert.equal(applyMergePatch({ a: 1 }, 'x'), 'x');
      assert.deepEqual(applyMergePatch('scalar', { a: 1 }), { a: 1 });
    });
    it('does not share structure with the patch', () => {
      const p = { a: { b: [1] } };
      const out = applyMergePatch({} as { a: { b: number[] } }, p);
      out.a.b.push(2);
      assert.deepEqual(p, { a: { b: [1] } });
    });
  });

  describe('inverseMergePatch', () => {
    it('restores changed values, removes added keys, leaves untouched keys out', () => {
      const before = {
        metadata: { labels: { keep: '1', old: 'v' }, annotations: { x: 'y' } },
        spec: { a: 1 },
      };
      const p = { metadata: { labels: { old: null, added: 'n' } }, spec: { a: 2 } };
      const inv = inverseMergePatch(before, p);
      assert.deepEqual(inv, { metadata: { labels: { old: 'v', added: null } }, spec: { a: 1 } });
      assert.deepEqual(applyMergePatch(applyMergePatch(before, p), inv), before);
    });
    it('a value replaced by an object (or the reverse) comes back whole', () => {
      const before = { a: 'scalar', b: { c: 1, d: 2 } };
      const p = { a: { x: 1 }, b: 7 };
      const inv = inverseMergePatch(before, p);
      assert.deepEqual(inv, { a: 'scalar', b: { c: 1, d: 2 } });
      assert.deepEqual(applyMergePatch(applyMergePatch(before, p), inv), before);
    });
    it('of a missing object: every key the patch sets is removed again', () => {
      assert.deepEqual(inverseMergePatch(undefined, { a: 1, b: { c: 2 } }), { a: null, b: null });
      assert.deepEqual(inverseMergePatch({ a: 1 }, 'not a patch'), {});
    });
    it('property: applying the inverse after the patch restores the document exactly', () => {
      fc.assert(
        fc.property(doc, patch, (before, p) => {
          const after = applyMergePatch(before, p);
          assert.deepEqual(applyMergePatch(after, inverseMergePatch(before, p)), before);
        }),
        { numRuns: 300 },
      );
    });
    it('property: the inverse touches only keys the patch touches (concurrent changes elsewhere survive)', () => {
      fc.assert(
        fc.property(doc, patch, (before, p) => {
          const inv = inverseMergePatch(before, p);
          const walk = (i: Record<string, unknown>, q: Record<string, unknown>): void => {
            for (const [k, v] of Object.entries(i)) {
              assert.ok(k in q, `inverse key ${k} not in the patch`);
              const qv = q[k];
              if (
                v &&
                typeof v === 'object' &&
                !Array.isArray(v) &&
                qv &&
                typeof qv === 'object' &&
                !Array.isArray(qv)
              )
                walk(v as Record<string, unknown>, qv as Record<string, unknown>);
            }
          };
          walk(inv, p);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('patchIsNoop', () => {
    it('true when every set value is there and every removed key is absent', () => {
      const t = { metadata: { labels: { a: 'x' }, annotations: {} }, spec: { n: [1, 2] } };
      assert.equal(patchIsNoop(t, { metadata: { labels: { a: 'x', b: null } } }), true);
      assert.equal(patchIsNoop(t, { spec: { n: [1, 2] } }), true);
      assert.equal(patchIsNoop(t, {}), true);
    });
    it('false when a value differs, a removed key is present, or an array differs', () => {
      const t = { metadata: { labels: { a: 'x' } }, spec: { n: [1, 2], u: true } };
      assert.equal(patchIsNoop(t, { metadata: { labels: { a: 'y' } } }), false);
      assert.equal(patchIsNoop(t, { metadata: { labels: { a: null } } }), false);
      assert.equal(patchIsNoop(t, { spec: { n: [1] } }), false);
      assert.equal(patchIsNoop(t, { spec: { u: null } }), false);
      assert.equal(patchIsNoop(undefined, { a: 1 }), false);
      assert.equal(patchIsNoop('x', 'x'), true);
      assert.equal(patchIsNoop('x', 'y'), false);
    });
    it('property: a patch is a no-op on its own result (applying twice = applying once)', () => {
      fc.assert(
        fc.property(doc, patch, (t, p) => {
          const once = applyMergePatch(t, p);
          assert.equal(patchIsNoop(once, p), true);
          assert.deepEqual(applyMergePatch(once, p), once);
        }),
        { numRuns: 300 },
      );
    });
    it('property: when it says "changes something", applying does change the document', () => {
      fc.assert(
        fc.property(doc, patch, (t, p) => {
          if (!patchIsNoop(t, p)) assert.notDeepEqual(applyMergePatch(t, p), t);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('composeMergePatch', () => {
    it("b's fields win, objects merge, null from b removes", () => {
      assert.deepEqual(composeMergePatch({ a: { x: 1, y: 2 }, b: 1 }, { a: { y: null, z: 3 }, c: 4 }), {
        a: { x: 1, y: null, z: 3 },
        b: 1,
        c: 4,
      });
      assert.deepEqual(composeMergePatch({ a: 1 }, 'x'), 'x');
      assert.deepEqual(composeMergePatch(undefined, { a: 1 }), { a: 1 });
    });
    it('a cordon then an uncordon compose to an uncordon', () => {
      const cordon = {
        spec: { unschedulable: true },
        metadata: { annotations: { 'calico-tune.io/cordoned-by': 'kubectl-calico-tune' } },
      };
      const uncordon = {
        spec: { unschedulable: null },
        metadata: { annotations: { 'calico-tune.io/cordoned-by': null } },
      };
      assert.deepEqual(composeMergePatch(cordon, uncordon), uncordon);
    });
    it('property: the effect of the composition is live after applying a then b', () => {
      fc.assert(
        fc.property(doc, patch, patch, (t, a, b) => {
          const seq = applyMergePatch(applyMergePatch(t, a), b);
          assert.equal(patchIsNoop(seq, composeMergePatch(a, b)), true);
        }),
        { numRuns: 300 },
      );
    });
    it('property: for node label/annotation patches (what planners write) it equals applying a then b', () => {
      fc.assert(
        fc.property(doc, metaPatch, metaPatch, (t, a, b) => {
          assert.deepEqual(
            applyMergePatch(t, composeMergePatch(a, b)),
            applyMergePatch(applyMergePatch(t, a), b),
          );
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('plan/merge-patch: fields someone else changed since a patch (a rollback never overwrites them)', () => {
  const patch = { metadata: { labels: { rr: 'true' }, annotations: { cid: '244.0.0.1' } } };
  const undo = { metadata: { labels: { rr: null }, annotations: { cid: null } } };
  const node = (labels: Record<string, string>, annotations: Record<string, string>): unknown => ({
    metadata: { name: 'n', labels: { other: 'x', ...labels }, annotations },
  });
  it('none when the fields are as the patch left them, or already put back', () => {
    assert.deepEqual(fieldsChangedSince(node({ rr: 'true' }, { cid: '244.0.0.1' }), patch, undo), []);
    assert.deepEqual(fieldsChangedSince(node({}, {}), patch, undo), []);
    // half put back by hand (the label), the rest as the patch left it: the undo only finishes the job
    assert.deepEqual(fieldsChangedSince(node({}, { cid: '244.0.0.1' }), patch, undo), []);
  });
  it('a field that holds a third value is named', () => {
    assert.deepEqual(fieldsChangedSince(node({ rr: 'true' }, { cid: '244.0.0.9' }), patch, undo), [
      'metadata.annotations.cid',
    ]);
    assert.deepEqual(
      fieldsChangedSince({ spec: { mode: 'c' } }, { spec: { mode: 'b' } }, { spec: { mode: 'a' } }),
      ['spec.mode'],
    );
    assert.deepEqual(
      fieldsChangedSince({ spec: { mode: 'a' } }, { spec: { mode: 'b' } }, { spec: { mode: 'a' } }),
      [],
    );
  });
  it('an object the patch added is compared whole', () => {
    const p = { spec: { x: { y: 1 } } };
    const u = { spec: { x: null } };
    assert.deepEqual(fieldsChangedSince({ spec: { x: { y: 1 } } }, p, u), []);
    assert.deepEqual(fieldsChangedSince({ spec: {} }, p, u), []);
    assert.deepEqual(fieldsChangedSince({ spec: { x: { y: 2 } } }, p, u), ['spec.x']);
  });
});
