/**
 * The rig's parsers on recorded output (no rig needed): fping's loop output, the plugin's progress lines,
 * `birdc show protocols`, and the per-step attribution.
 */
import assert from 'node:assert/strict';
import { analysePair, parseFping } from './probes.js';
import { pairsCutDuring, phasesOfRun, stablePairLoss, tabulate, unattributedLoss } from './report.js';
import { bgpState, hostnameHash, parseShowProtocols, peerOfProtocol } from './rig.js';
import { peerOf } from './status-bridge.js';

const T0 = 1796133038000;
const ts = (ms: number): string => `[${((T0 + ms) / 1000).toFixed(5)}]`;

describe('fabric parsers', () => {
  it('fping: replies, timeouts and probes whose sendto failed (no line at all) are all counted', () => {
    const out = [
      `${ts(10)} 198.19.2.1 : [0], 64 bytes, 0.8 ms (0.8 avg, 0% loss)`,
      `${ts(110)} 198.19.2.1 : [1], 64 bytes, 0.1 ms (0.4 avg, 0% loss)`,
      // seq 2 timed out (reported 1000 ms after it was sent), 3 and 4 never reported (no route: sendto failed)
      `${ts(1210)} 198.19.2.1 : [2], timed out (0.4 avg, 33% loss)`,
      `${ts(510)} 198.19.2.1 : [5], 64 bytes, 0.1 ms (0.3 avg, 50% loss)`,
      `${ts(610)} 198.19.2.1 : [6], 64 bytes, 0.1 ms (0.3 avg, 43% loss)`,
    ].join('\n');
    const err =
      '\n198.19.2.1 : xmt/rcv/%loss = 9/4/55%, min/avg/max = 0.1/0.3/0.8\n198.19.3.1 : xmt/rcv/%loss = 9/0/100%\n';
    // fping pads target names to the longest one: 198.19.2.1 next to 198.19.10.1
    const padded = `${ts(20)} 198.19.2.1  : [0], 64 bytes, 0.1 ms (0.1 avg, 0% loss)\n${ts(21)} 198.19.10.1 : [0], timed out (NaN avg, 100% loss)`;
    const p = parseFping(
      padded,
      '198.19.2.1  : xmt/rcv/%loss = 1/1/0%\n198.19.10.1 : xmt/rcv/%loss = 1/0/100%',
      1000,
    );
    assert.deepEqual([...p.keys()], ['198.19.2.1', '198.19.10.1']);
    assert.equal(p.get('198.19.2.1')!.known.size, 1);
    const raw = parseFping(out, err, 1000);
    assert.equal(raw.get('198.19.2.1')!.xmt, 9);
    assert.equal(raw.get('198.19.3.1')!.xmt, 9);
    // stopped at +1700 ms with a 1000 ms timeout: seqs 7 and 8 (sent at ~+710 and ~+810) may still have been in
    // flight, they are not counted
    const o = { periodMs: 100, timeoutMs: 1000, startedAt: T0, stoppedAt: T0 + 1700 };
    const { pair, outages } = analysePair('a', 'b', raw.get('198.19.2.1'), o);
    assert.deepEqual(
      pair.lost.map((l) => l.seq),
      [2, 3, 4],
    );
    assert.equal(pair.sent, 7);
    assert.equal(pair.received, 4);
    assert.ok(Math.abs(pair.lost[1]!.at - (T0 + 310)) < 1, `interpolated send time ${pair.lost[1]!.at - T0}`);
    assert.equal(outages.length, 1);
    assert.equal(outages[0]!.lost, 3);
    assert.ok(Math.abs(outages[0]!.gapMs - 400) < 1, `gap ${outages[0]!.gapMs}`);
    assert.ok(Math.abs(pair.longestGapMs - 400) < 1);
    const none = analysePair('a', 'c', raw.get('198.19.3.1'), o);
    assert.equal(none.pair.received, 0);
    assert.equal(none.pair.lost.length, 8, 'never answered: every probe sent before the last second is lost');
  });

  it('phases: one per progress line, rollbacks and unfinished steps named', () => {
    const lines = [
      { at: T0 + 1000, text: 'some plan table' },
      { at: T0 + 1200, text: '[1/3] Cordon node-b-001 ✔ 9ms' },
      {
        at: T0 + 1300,
        text: '[2/3] Make node-b-001 a route reflector (label route-reflector=true, cluster ID 244.0.0.1) ✔ 36ms',
      },
      {
        at: T0 + 21300,
        text: 'gate "Wait until node-b-001 has all its BGP sessions Established" timed out after 20s: rolling back',
      },
      { at: T0 + 21301, text: 'rolling back 2 step(s) of rr-promote-node-b-001' },
      {
        at: T0 + 21350,
        text: '  undone: Make node-b-001 a route reflector (label route-reflector=true, cluster ID 244.0.0.1)',
      },
      { at: T0 + 21400, text: '  undone: Cordon node-b-001' },
    ];
    const ps = phasesOfRun('promote', lines, T0, T0 + 21500, ['node-b-001', 'node-b-0010', 'node-c-001']);
    assert.deepEqual(
      ps.map((p) => [p.kind, p.label.slice(0, 40), p.nodes, p.end - p.start]),
      [
        ['step', '[1/3] Cordon node-b-001', ['node-b-001'], 1200],
        ['step', '[2/3] Make node-b-001 a route reflector ', ['node-b-001'], 100],
        ['gate-timeout', '[3/3] Wait until node-b-001 has all its ', ['node-b-001'], 20000],
        // the rollback starts 1 ms after the timeout line: no phase of its own
        ['undo', 'undo: Make node-b-001 a route reflector ', ['node-b-001'], 49],
        ['undo', 'undo: Cordon node-b-001', ['node-b-001'], 50],
        ['idle', '(promote: end of run)', [], 100],
      ],
    );
    const cut = phasesOfRun('x', [{ at: T0 + 5, text: '[1/2] Cordon node-c-001 ✔ 1ms' }], T0, T0 + 50, [
      'node-c-001',
    ]);
    assert.equal(cut.at(-1)!.kind, 'unfinished');
  });

  it('attribution: per-step loss, gaps, and loss outside the steps naming the node', () => {
    const phases = [
      { label: 'A', kind: 'step' as const, group: '', start: T0, end: T0 + 1000, nodes: ['x'] },
      { label: 'B', kind: 'step' as const, group: '', start: T0 + 1000, end: T0 + 2000, nodes: [] },
    ];
    const data = {
      periodMs: 100,
      timeoutMs: 1000,
      startedAt: T0,
      stoppedAt: T0 + 2000,
      pairs: [
        {
          src: 'x',
          dst: 'y',
          sent: 20,
          received: 17,
          lost: [T0 + 800, T0 + 900, T0 + 1000].map((at, i) => ({ seq: 8 + i, at })),
          replies: [...Array(8).keys(), ...[11, 12, 13, 14, 15, 16, 17, 18, 19]].map((k) => T0 + k * 100 + 1),
          longestGapMs: 400,
        },
      ],
      outages: [{ src: 'x', dst: 'y', from: T0 + 800, to: T0 + 1000, lost: 3, gapMs: 400 }],
    };
    const rows = tabulate(phases, data);
    assert.deepEqual(
      rows.map((r) => [r.label, r.lost, r.pairsAffected, r.longestGapMs, r.probes]),
      [
        ['A', 2, 1, 400, 10],
        ['B', 1, 1, 400, 10],
      ],
    );
    const stray = unattributedLoss(phases, data.outages, new Set(['x']));
    assert.equal(stray.length, 1);
    assert.match(stray[0]!, /overlaps "B", naming neither node/);
    assert.deepEqual(unattributedLoss(phases, data.outages, new Set(['x']), new Set(['y'])), []);
    assert.deepEqual(pairsCutDuring({ start: T0 + 800, end: T0 + 1100 }, data.outages, 100), {
      cut: ['x>y'],
      partial: [],
    });
    assert.deepEqual(pairsCutDuring(phases[0]!, data.outages, 100), { cut: [], partial: ['x>y'] });
    // stable pairs: probes lost at kernel route replaces of the pair's route are explained, others not
    const one = { ...data.outages[0]!, lost: 1, to: T0 + 800 };
    const blockOf = (n: string): string => `198.19.${n === 'x' ? 1 : 2}.0/24`;
    const at = (dt: number) => [{ node: 'x', block: '198.19.2.0/24', at: T0 + 800 + dt }];
    const explained = stablePairLoss({ ...data, outages: [one] }, new Set(), at(30), blockOf);
    assert.equal(explained.krtReplace, 1);
    assert.deepEqual(explained.unexplained, []);
    // anywhere between the answered probes around it (fping and `ip monitor` stamp times in user space: CI run
    // 20 lost a probe at a replace more than 50 ms from its estimated send time), never at or beyond them
    for (const dt of [-90, 75])
      assert.deepEqual(
        stablePairLoss({ ...data, outages: [one] }, new Set(), at(dt), blockOf).unexplained,
        [],
      );
    for (const dt of [-100, 100, 150])
      assert.deepEqual(stablePairLoss({ ...data, outages: [one] }, new Set(), at(dt), blockOf).unexplained, [
        `x -> y: 1 lost from 2026-12-01T13:50:38.800Z to 2026-12-01T13:50:38.800Z (gap 400 ms; nearest replace of its route ${dt} ms)`,
      ]);
    assert.match(
      stablePairLoss({ ...data, outages: [one] }, new Set(), [], blockOf).unexplained[0]!,
      /no replace of its route\)$/,
    );
    assert.equal(
      stablePairLoss(data, new Set(), at(-20), blockOf).unexplained.length,
      1,
      'three in a row, a replace near the first only',
    );
    // a storm of replaces (a reflector's sessions coming up): each of the three probes lost at a replace of the
    // pair's route, on either side (x's route to y, or y's route back to x)
    const storm = [
      { node: 'x', block: '198.19.2.0/24', at: T0 + 786 },
      { node: 'y', block: '198.19.1.0/24', at: T0 + 905 },
      { node: 'x', block: '198.19.2.0/24', at: T0 + 1014 },
    ];
    const s = stablePairLoss(data, new Set(), storm, blockOf);
    assert.deepEqual([s.krtReplace, s.unexplained], [3, []]);
    // a replace of another block, or the middle probe without one, leaves the outage unexplained
    const other = [storm[0]!, { ...storm[1]!, block: '198.19.9.0/24' }, storm[2]!];
    assert.equal(stablePairLoss(data, new Set(), other, blockOf).unexplained.length, 1);
  });

  it('birdc show protocols -> CalicoNodeStatus peers', () => {
    const text = [
      'BIRD 1.6.8 ready.',
      'name     proto    table    state  since       info',
      'static1  Static   master   up     13:50:00',
      'kernel1  Kernel   master   up     13:50:00',
      'Mesh_198_18_0_12 BGP      master   up     13:50:05    Established',
      'Node_198_18_0_13 BGP      master   start  13:50:05    Active        Socket: Connection refused',
      'Global_198_18_0_14 BGP      master   start  13:50:05    Connect',
      'Node_198_18_0_15 BGP      master   down   13:50:05',
    ].join('\n');
    const ps = parseShowProtocols(text);
    assert.equal(ps.length, 6);
    assert.deepEqual(
      ps.flatMap((p) => peerOf(p) ?? []),
      [
        { peerIP: '198.18.0.12', type: 'NodeMesh', state: 'Established', since: '13:50:05' },
        { peerIP: '198.18.0.13', type: 'NodePeer', state: 'Active', since: '13:50:05' },
        { peerIP: '198.18.0.14', type: 'GlobalPeer', state: 'Connect', since: '13:50:05' },
        { peerIP: '198.18.0.15', type: 'NodePeer', state: 'Idle', since: '13:50:05' },
      ],
    );
    assert.equal(bgpState(ps[0]!), 'Idle', 'not a BGP state: Idle');
    assert.equal(peerOfProtocol('Node_198_18_0_13_port_1179'), '198.18.0.13');
  });

  it('the BlockAffinity hostname hash is base32 (no padding) of SHA3-256', () => {
    // expected value from Python: base64.b32encode(hashlib.sha3_256(b'node-a-001').digest()).rstrip(b'=')
    assert.equal(hostnameHash('node-a-001'), 'UA7BMTO7XXMK3LTAJYHYCWC2HVRMEQ66BZULDAMKF7BNPA3GFNZA');
  });
});
