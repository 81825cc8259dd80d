/**
 * Parses `birdcl -s /var/run/calico/bird.ctl show protocols` as calicoctl node status does: BGP protocols
 * are named Mesh_<ip>, Node_<ip> or Global_<ip> (IPv4 dots and IPv6 colons written as `_`, an optional
 * `_port_<n>` suffix); the BGP state is the first word of the info column. Pure.
 */
export interface BirdPeer {
  name: string;
  peerIP: string;
  port?: number | undefined;
  /** NodeMesh | NodePeer | GlobalPeer, as CalicoNodeStatus names them. */
  type: 'NodeMesh' | 'NodePeer' | 'GlobalPeer';
  /** up | start | down ... (BIRD's protocol state) */
  protoState: string;
  since: string;
  /** Established, Active, Connect, Idle, OpenSent, OpenConfirm, Passive ... */
  state: string;
  info: string;
}

const TYPES: Record<string, BirdPeer['type']> = { Mesh: 'NodeMesh', Node: 'NodePeer', Global: 'GlobalPeer' };

function ipFromName(rest: string): { ip: string; port?: number } | undefined {
  let port: number | undefined;
  const pm = /^(.*)_port_(\d+)$/.exec(rest);
  if (pm) {
    rest = pm[1]!;
    port = Number(pm[2]);
  }
  const parts = rest.split('_');
  if (parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p))) return { ip: parts.join('.'), port };
  if (/^[0-9a-fA-F_]+$/.test(rest) && parts.length > 2) return { ip: parts.join(':'), port };
  return undefined;
}

export function parseBirdProtocols(text: string): BirdPeer[] {
  const out: BirdPeer[] = [];
  for (const line of text.split('\n')) {
    const m = /^(Mesh|Node|Global)_(\S+)\s+BGP\s+\S+\s+(\S+)\s+(\S+(?: \S+)?)\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const addr = ipFromName(m[2]!);
    if (!addr) continue;
    let since = m[4]!;
    let info = m[5] ?? '';
    // `since` is one token (time) or two (date time); when the second token is the state, move it back
    const sp = since.split(' ');
    if (sp.length === 2 && /^[A-Z]/.test(sp[1]!)) {
      since = sp[0]!;
      info = `${sp[1]} ${info}`.trim();
    }
    out.push({
      name: `${m[1]}_${m[2]}`,
      peerIP: addr.ip,
      port: addr.port,
      type: TYPES[m[1]!]!,
      protoState: m[3]!,
      since,
      state: info.split(/\s+/)[0] || (m[3] === 'up' ? 'Established' : 'Idle'),
      info,
    });
  }
  return out;
}
