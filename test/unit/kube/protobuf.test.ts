/**
 * The protobuf reader of a report's Node list (src/kube/protobuf.ts) on hand-encoded bytes: fields it reads,
 * fields it skips (of every wire type), the omitempty rules, and damaged input, which must end in a
 * ProtobufError (never a hang or another exception). The real API server's answers are compared with its
 * JSON in test/integration/protobuf.test.ts.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeNodeList, decodeStatus, nodeListDecoder, ProtobufError } from '../../../src/kube/protobuf.js';
import {
  entry,
  envelope,
  fixed32,
  fixed64,
  fullEnvelope,
  len,
  qty,
  varint,
  vint,
} from '../../fixtures/protobuf-writer.js';

/** `bytes` fed to a streaming decoder in pieces cut at `cuts` (offsets, any order, duplicates allowed). */
function decodeInPieces(bytes: Buffer, cuts: number[]): ReturnType<typeof decodeNodeList> {
  const d = nodeListDecoder();
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    d.push(bytes.subarray(at, Math.max(at, c)));
    at = Math.max(at, c);
  }
  d.push(bytes.subarray(at));
  return d.end();
}

const NODE = [
  ...len(1, [
    ...len(1, 'node-1'),
    ...len(4, 'selflink-skipped'),
    ...len(5, 'uid-1'),
    ...len(6, '42'),
    ...vint(7, 3), // generation: skipped
    ...len(8, [...vint(1, 1_700_000_000), ...vint(2, 5)]),
    ...entry(11, 'zone', 'a'),
    ...entry(11, 'empty', ''),
    ...entry(12, 'projectcalico.org/IPv4Address', '10.0.0.1/24'),
    ...entry(12, 'note', 'ünïcödé'),
    ...len(14, 'finalizer-skipped'),
    ...len(17, [...len(1, 'kubelet'), ...len(2, 'Update')]), // managedFields: skipped
  ]),
  ...len(2, [
    ...len(1, ''), // podCIDR empty: omitted as in JSON
    ...len(7, '10.244.1.0/24'),
    ...len(7, 'fd00::/64'),
    ...vint(4, 0), // unschedulable false: omitted as in JSON
    ...len(5, [...len(1, 'dedicated'), ...len(2, ''), ...len(3, 'NoSchedule')]),
    ...fixed64(30), // an unknown fixed64 field
  ]),
  ...len(3, [
    ...qty(1, 'cpu', '4'),
    ...qty(1, 'pods', '110'), // not read: skipped
    ...qty(2, 'cpu', '3900m'),
    ...qty(2, 'memory', '15Gi'),
    ...len(4, [
      ...len(1, 'Ready'),
      ...len(2, 'True'),
      ...len(3, [...vint(1, 1_700_000_100)]), // lastHeartbeatTime: not read
      ...len(5, 'KubeletReady'), // reason: not read
    ]),
    ...len(5, [...len(1, 'InternalIP'), ...len(2, '10.0.0.1')]),
    ...len(7, [
      ...len(5, 'Debian 12'),
      ...len(7, 'v1.34.4'), // kubeletVersion: not read
      ...len(9, 'linux'),
      ...len(10, 'amd64'),
      ...len(11, [1, 2]),
    ]),
    ...len(8, [...len(1, 'image:skipped'), ...vint(2, 123456789)]), // images: skipped
    ...fixed32(40),
  ]),
];

describe('kube/protobuf: a NodeList in Kubernetes protobuf', () => {
  it('reads the fields the tool reads and skips the rest', () => {
    const list = decodeNodeList(
      envelope([...len(1, [...len(2, '777'), ...len(3, 'next-page')]), ...len(2, NODE), ...len(2, NODE)]),
    );
    assert.deepEqual(list.metadata, { resourceVersion: '777', continue: 'next-page' });
    assert.equal(list.items.length, 2);
    assert.deepEqual(list.items[0], {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'node-1',
        uid: 'uid-1',
        resourceVersion: '42',
        creationTimestamp: '2023-11-14T22:13:20Z',
        labels: { zone: 'a', empty: '' },
        annotations: { 'projectcalico.org/IPv4Address': '10.0.0.1/24', note: 'ünïcödé' },
      },
      spec: {
        podCIDRs: ['10.244.1.0/24', 'fd00::/64'],
        taints: [{ key: 'dedicated', effect: 'NoSchedule' }],
      },
      status: {
        capacity: { cpu: '4' },
        allocatable: { cpu: '3900m', memory: '15Gi' },
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
        nodeInfo: { osImage: 'Debian 12', operatingSystem: 'linux', architecture: 'amd64' },
      },
    });
    assert.deepEqual(list.items[1], list.items[0]);
    // repeated strings are shared between nodes, not equal copies
    assert.equal(list.items[1]!.metadata.labels!['zone'], list.items[0]!.metadata.labels!['zone']);
  });

  it('reads an error Status', () => {
    const buf = Buffer.from([
      0x6b,
      0x38,
      0x73,
      0x00,
      ...len(2, [
        ...len(2, 'Failure'),
        ...len(3, 'nodes is forbidden'),
        ...len(4, 'Forbidden'),
        ...vint(6, 403),
      ]),
    ]);
    assert.deepEqual(decodeStatus(buf), { message: 'nodes is forbidden', reason: 'Forbidden' });
  });

  it('decodes the same list from any cutting of its bytes, as an API server streams it (property)', () => {
    const other = [...NODE];
    other[other.indexOf(0x31)] = 0x32; // node-1 -> node-2 (the first '1' is the name's)
    const whole = fullEnvelope([
      ...len(1, [...len(2, '777')]),
      ...len(2, NODE),
      ...vint(9, 5), // an unknown varint field between items
      ...len(2, other),
      ...len(2, []), // an empty Node
    ]);
    const expected = decodeNodeList(whole);
    assert.equal(expected.items.length, 3);
    assert.equal(expected.items[1]!.metadata.name, 'node-2');
    assert.deepEqual(decodeInPieces(whole, [...whole.keys()]), expected); // a byte at a time
    fc.assert(
      fc.property(fc.array(fc.nat(whole.length), { maxLength: 30 }), (cuts) => {
        assert.deepEqual(decodeInPieces(whole, cuts), expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('an answer cut short is an error however it arrives, never a shorter list (property)', () => {
    const whole = fullEnvelope([...len(2, NODE), ...len(2, NODE)]);
    const rawEnd = whole.length - 4; // the two empty trailing fields are not part of the list
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: rawEnd - 1 }),
        fc.array(fc.nat(whole.length), { maxLength: 8 }),
        (n, cuts) => {
          assert.throws(() => decodeInPieces(whole.subarray(0, n), cuts), ProtobufError);
        },
      ),
      { numRuns: 1000 },
    );
    assert.throws(() => nodeListDecoder().end(), ProtobufError);
  });

  it('a varint that runs on past its item, or a time out of range, is a ProtobufError however the bytes are cut', () => {
    // the item ends inside a varint (continuation bit set on its last byte): read on, it takes the next item's tag
    const runsOn = [...len(1, len(1, 'node-x')), ...varint((99 << 3) | 0), 0x80];
    const list = fullEnvelope([...len(2, runsOn), ...len(2, NODE)]);
    const itemEnd = list.indexOf(0x80, 20) + 1;
    for (const cuts of [[], [itemEnd], [itemEnd - 1], [...list.keys()]])
      assert.throws(() => decodeInPieces(list, cuts), ProtobufError, `cut at ${cuts.length} places`);
    // creationTimestamp seconds beyond what a Date holds
    const far = fullEnvelope([...len(2, len(1, [...len(1, 'node-y'), ...len(8, vint(1, 2 ** 52))]))]);
    assert.throws(() => decodeNodeList(far), ProtobufError);
  });

  it('refuses what is not a Kubernetes protobuf', () => {
    assert.throws(() => decodeNodeList(Buffer.from('{"items":[]}')), ProtobufError);
    assert.throws(() => decodeNodeList(Buffer.from([0x6b, 0x38, 0x73, 0x00])), ProtobufError);
  });

  it('damaged bytes end in a ProtobufError or a list, never a hang or another error (property)', () => {
    const good = [...envelope([...len(2, NODE), ...len(2, NODE)])];
    fc.assert(
      fc.property(
        fc.oneof(
          // the good message cut short
          fc.integer({ min: 4, max: good.length - 1 }).map((n) => good.slice(0, n)),
          // bytes of it overwritten
          fc
            .array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 8,
            })
            .map((edits) => {
              const b = [...good];
              for (const [i, v] of edits) b[i] = v;
              return b;
            }),
          // noise after the magic
          fc.uint8Array({ maxLength: 200 }).map((a) => [0x6b, 0x38, 0x73, 0x00, ...a]),
        ),
        (bytes) => {
          try {
            const r = decodeNodeList(Buffer.from(bytes));
            assert.ok(Array.isArray(r.items));
          } catch (e) {
            if (!(e instanceof ProtobufError)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
