import assert from 'node:assert/strict';
import { parseBirdProtocols } from '../../../src/model/birdcl.js';

const SAMPLE = `BIRD v0.3.3+birdv1.6.8 ready.
name     proto    table    state  since       info
static1  Static   master   up     2026-11-20
kernel1  Kernel   master   up     2026-11-20
device1  Device   master   up     2026-11-20
direct1  Direct   master   up     2026-11-20
Mesh_10_20_0_5 BGP      master   up     09:14:01    Established
Node_10_20_16_7 BGP      master   start  09:14:01    Active        Socket: Connection refused
Node_10_20_32_9_port_1790 BGP      master   start  2026-11-20 09:14:01    Connect
Global_192_0_2_1 BGP      master   up     09:13:58    Established
Node_fd00_0_0_0_0_0_0_5 BGP      master   up     09:13:58    Established
`;

describe('model/birdcl', () => {
  it('parses calico BGP protocols like calicoctl node status', () => {
    const peers = parseBirdProtocols(SAMPLE);
    assert.deepEqual(
      peers.map((p) => [p.peerIP, p.type, p.state, p.port ?? null]),
      [
        ['10.20.0.5', 'NodeMesh', 'Established', null],
        ['10.20.16.7', 'NodePeer', 'Active', null],
        ['10.20.32.9', 'NodePeer', 'Connect', 1790],
        ['192.0.2.1', 'GlobalPeer', 'Established', null],
        ['fd00:0:0:0:0:0:0:5', 'NodePeer', 'Established', null],
      ],
    );
    assert.match(peers[1]!.info, /^Active\s+Socket: Connection refused$/);
    assert.equal(peers[2]!.since, '2026-11-20 09:14:01');
  });
  it('ignores non-BGP protocols and junk', () => {
    assert.deepEqual(parseBirdProtocols('garbage\nkernel1 Kernel master up 2026\n'), []);
  });
});
