/**
 * A deliberately naive reference for the BGP model, written straight from the research notes
 * (/work/research/bird-rr-semantics.md) without any of the model's cleverness:
 * - `naiveConfd`: confd's `updatePeersV1` key map (two passes, first wins, global keys block node keys) and
 *   the template's per-node rendering (mesh, Global_, Node_, skip self, rr client), node by node.
 * - `naivePropagate`: BIRD message passing between nodes (add-path: every path is sent), with
 *   `bgp_import_control` / `bgp_update_attrs` / receive loop checks applied literally, repeated until no
 *   table changes. O(lots); for small topologies only.
 */
import { parseSelector } from '../../../src/bgp/selector.js';
import type { BgpNode, BgpState } from '../../../src/bgp/state.js';

export interface NaiveProto {
  ip: string;
  kind: 'mesh' | 'global' | 'node';
  remoteAS: number;
  rr: string | undefined;
  rrClient: boolean;
  /** `allow local as N` (the BGPPeer's numAllowedLocalASNumbers): AS_PATH may hold the local AS N times. */
  allowLocalAs: number;
}

interface KeyVal {
  ip: string;
  as: number;
  rr: string | undefined;
  kind: 'global' | 'node';
  allow: number;
}

function sel(text: string): ((l: Readonly<Record<string, string>>) => boolean) | undefined {
  try {
    const s = parseSelector(text);
    return (l) => s.matches(l);
  } catch {
    return undefined;
  }
}

function ipv4(raw: string): string | undefined {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(raw) ? raw : undefined;
}

/** Nodes keep their IP unless an earlier node has it (same rule as the model). */
function usableNodes(state: BgpState): { node: BgpNode; ip: string | undefined }[] {
  const seen = new Set<string>();
  return state.nodes.map((node) => {
    if (node.ip === undefined || seen.has(node.ip)) return { node, ip: undefined };
    seen.add(node.ip);
    return { node, ip: node.ip };
  });
}

/** Per node name: the protocols its bird.cfg has (IPv4), in template order (mesh, global, node). */
export function naiveConfd(state: BgpState): Map<string, NaiveProto[]> {
  const all = usableNodes(state);
  const withIp = all.filter((x) => x.ip !== undefined);
  const keys = new Map<string, KeyVal>();
  const emit = (key: string, ip: string, v: KeyVal): void => {
    if (keys.has(key)) return;
    if (key.startsWith('N|') && keys.has(`G|${ip}`)) return;
    keys.set(key, v);
  };
  const bad = (p: BgpState['peers'][number]): boolean =>
    (p.nodeSelector !== undefined && sel(p.nodeSelector) === undefined) ||
    (p.peerSelector !== undefined && sel(p.peerSelector) === undefined);
  for (const globalPass of [true, false]) {
    for (const p of state.peers) {
      const isGlobal = p.node === undefined && p.nodeSelector === undefined;
      if (globalPass !== isGlobal || bad(p)) continue;
      let targets: KeyVal[] = [];
      const allow = Number(p.spec['numAllowedLocalASNumbers'] ?? 0);
      if (p.peerSelector !== undefined) {
        const m = sel(p.peerSelector)!;
        targets = withIp
          .filter((x) => m(x.node.labels))
          // (confd sets allow local as for peerIP BGPPeers only: client.go updatePeersV1)
          .map((x) => ({ ip: x.ip!, as: x.node.asNumber, rr: x.node.clusterId, kind: 'node', allow: 0 }));
      } else if (p.peerIP !== undefined && ipv4(p.peerIP)) {
        targets = [{ ip: p.peerIP, as: p.asNumber ?? 0, rr: undefined, kind: 'node', allow }];
      }
      if (isGlobal) {
        for (const t of targets) emit(`G|${t.ip}`, t.ip, { ...t, kind: 'global' });
      } else {
        const locals =
          p.nodeSelector !== undefined
            ? all.filter((x) => sel(p.nodeSelector!)!(x.node.labels))
            : all.filter((x) => x.node.name === p.node);
        for (const l of locals) for (const t of targets) emit(`N|${l.node.name}|${t.ip}`, t.ip, t);
      }
    }
  }
  // Pass 2: automatic reverse peerings.
  for (const p of state.peers) {
    // (confd reads reversePeering from v3.30.3: before v3.30 every BGPPeer has its reverse)
    if ((state.calicoMinor >= 30 && p.reversePeering === 'Manual') || bad(p)) continue;
    const isGlobal = p.node === undefined && p.nodeSelector === undefined;
    let revLocals: typeof all = [];
    if (p.peerSelector !== undefined) revLocals = all.filter((x) => sel(p.peerSelector!)!(x.node.labels));
    else if (p.peerIP !== undefined) {
      const want = p.asNumber ? p.asNumber : state.globalAsNumber;
      revLocals = all.filter((x) => x.ip === p.peerIP && x.node.asNumber === want);
    }
    const peerNodes = isGlobal
      ? withIp
      : p.nodeSelector !== undefined
        ? withIp.filter((x) => sel(p.nodeSelector!)!(x.node.labels))
        : withIp.filter((x) => x.node.name === p.node);
    for (const l of revLocals) {
      for (const pn of peerNodes) {
        emit(`N|${l.node.name}|${pn.ip}`, pn.ip!, {
          ip: pn.ip!,
          as: pn.node.asNumber,
          rr: pn.node.clusterId,
          kind: 'node',
          allow: 0, // reverse peerings never carry it
        });
      }
    }
  }

  const out = new Map<string, NaiveProto[]>();
  const rrInMesh = state.calicoMinor < 21;
  for (const me of all) {
    if (!me.node.participates || me.ip === undefined) continue;
    const protos: NaiveProto[] = [];
    const client = (remoteAS: number, rr: string | undefined, kind: NaiveProto['kind']): boolean =>
      kind !== 'mesh' &&
      remoteAS === me.node.asNumber &&
      me.node.clusterId !== undefined &&
      (rr === undefined || rr !== me.node.clusterId);
    if (state.meshEnabled && (rrInMesh || me.node.clusterId === undefined)) {
      // every node with an address, duplicates included (confd's loop is over the hosts, not the addresses)
      for (const o of state.nodes) {
        if (o.ip === undefined || o.ip === me.ip) continue; // skipping ourselves
        if (!rrInMesh && o.clusterId !== undefined) continue; // skipping route reflectors
        protos.push({
          ip: o.ip,
          kind: 'mesh',
          remoteAS: o.asNumber,
          rr: undefined,
          rrClient: false,
          allowLocalAs: 0,
        });
      }
    }
    for (const [key, v] of keys) {
      if (!key.startsWith('G|') || v.ip === me.ip) continue;
      protos.push({
        ip: v.ip,
        kind: 'global',
        remoteAS: v.as,
        rr: v.rr,
        rrClient: client(v.as, v.rr, 'global'),
        allowLocalAs: v.allow,
      });
    }
    for (const [key, v] of keys) {
      if (!key.startsWith(`N|${me.node.name}|`) || v.ip === me.ip) continue;
      protos.push({
        ip: v.ip,
        kind: 'node',
        remoteAS: v.as,
        rr: v.rr,
        rrClient: client(v.as, v.rr, 'node'),
        allowLocalAs: v.allow,
      });
    }
    out.set(me.node.name, protos);
  }
  return out;
}

/**
 * The nodes whose bird.cfg BIRD refuses (confd keeps the last good one): `neighbor X as 0;`, or two protocols
 * of one name (Mesh_<ip> twice). None of their protocols comes up.
 */
export function naiveRefused(confd: Map<string, NaiveProto[]>): Set<string> {
  const out = new Set<string>();
  for (const [name, protos] of confd) {
    const meshIps = protos.filter((p) => p.kind === 'mesh').map((p) => p.ip);
    if (protos.some((p) => p.remoteAS === 0) || new Set(meshIps).size !== meshIps.length) out.add(name);
  }
  return out;
}

export interface NaiveSession {
  a: string;
  b: string;
  ibgp: boolean;
  /** a marks b `rr client` */
  clientAtA: boolean;
  clientAtB: boolean;
  /** `allow local as` of a's protocol to b, and of b's to a */
  allowAtA: number;
  allowAtB: number;
}

/** Established node-to-node sessions: both ends configured (the first protocol to that IP), AS agreeing. */
export function naiveSessions(state: BgpState, confd = naiveConfd(state)): NaiveSession[] {
  const byIp = new Map<string, BgpNode>();
  for (const x of usableNodes(state)) if (x.ip !== undefined) byIp.set(x.ip, x.node);
  const ipOfNode = new Map<string, string>();
  for (const [ip, n] of byIp) ipOfNode.set(n.name, ip);
  const first = (from: string, ip: string): NaiveProto | undefined =>
    confd.get(from)?.find((p) => p.ip === ip);
  const out: NaiveSession[] = [];
  const refused = naiveRefused(confd);
  const names = [...confd.keys()].filter((x) => !refused.has(x));
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = byIp.get(ipOfNode.get(names[i]!)!)!;
      const b = byIp.get(ipOfNode.get(names[j]!)!)!;
      const ab = first(a.name, ipOfNode.get(b.name)!);
      const ba = first(b.name, ipOfNode.get(a.name)!);
      if (!ab || !ba || ab.remoteAS !== b.asNumber || ba.remoteAS !== a.asNumber) continue;
      out.push({
        a: a.name,
        b: b.name,
        ibgp: a.asNumber === b.asNumber,
        clientAtA: ab.rrClient,
        clientAtB: ba.rrClient,
        allowAtA: ab.allowLocalAs,
        allowAtB: ba.allowLocalAs,
      });
    }
  }
  return out;
}

export interface NaivePath {
  /** Neighbour it was learned from, or '' for the local (originated) route. */
  src: string;
  originatorId: string | null;
  clusterList: string[];
  asPath: number[];
}

function pathKey(p: NaivePath): string {
  return `${p.src}|${p.originatorId ?? '-'}|${[...new Set(p.clusterList)].sort().join(',')}|${[...p.asPath].sort().join(',')}`;
}

/** BIRD's cluster ID: `rr cluster id 0.0.0.0` is none, and BIRD takes its router ID (Calico: the node's IPv4). */
const birdId = (n: BgpNode): string => (n.clusterId === '0.0.0.0' ? n.ip! : n.clusterId!);

/** The paths every node holds for origin x's routes (the origin's own local route included). */
export function naiveTables(
  state: BgpState,
  x: string,
  sessions = naiveSessions(state),
): Map<string, NaivePath[]> {
  const nodeOf = new Map(state.nodes.map((n) => [n.name, n]));
  // Per node: its sessions as (peer, ibgp, I mark peer rr client).
  const sess = new Map<string, { peer: string; ibgp: boolean; client: boolean; allow: number }[]>();
  const add = (a: string, b: string, ibgp: boolean, client: boolean, allow: number): void => {
    if (!sess.has(a)) sess.set(a, []);
    sess.get(a)!.push({ peer: b, ibgp, client, allow });
  };
  for (const s of sessions) {
    add(s.a, s.b, s.ibgp, s.clientAtA, s.allowAtA);
    add(s.b, s.a, s.ibgp, s.clientAtB, s.allowAtB);
  }
  const speakers = [...new Set([x, ...sessions.flatMap((s) => [s.a, s.b])])];
  const tables = new Map<string, Map<string, NaivePath>>(speakers.map((v) => [v, new Map()]));
  const local: NaivePath = { src: '', originatorId: null, clusterList: [], asPath: [] };
  tables.get(x)!.set(pathKey(local), local);
  let changed = true;
  while (changed) {
    changed = false;
    for (const v of speakers) {
      const me = nodeOf.get(v)!;
      const mine = sess.get(v) ?? [];
      for (const p of [...tables.get(v)!.values()]) {
        const srcSess = mine.find((s) => s.peer === p.src);
        for (const d of mine) {
          // bgp_import_control(p = d, e = path learned on srcSess)
          if (srcSess && d.peer === srcSess.peer) continue; // never back to the session it came from
          const dClusterId = d.client ? birdId(me) : '0';
          if (d.client && p.clusterList.includes(dClusterId)) continue; // bgp_cluster_list_loopy on export
          let out: NaivePath;
          if (!srcSess) {
            // originated here: bgp_create_attrs
            out = { src: v, originatorId: null, clusterList: [], asPath: d.ibgp ? [] : [me.asNumber] };
          } else if (srcSess.ibgp && d.ibgp) {
            if (!(srcSess.client || d.client)) continue; // iBGP -> iBGP without RR: never
            const sClusterId = srcSess.client ? birdId(me) : '0';
            const cl = [srcSess.client ? sClusterId : dClusterId, ...p.clusterList];
            if (srcSess.client && d.client && sClusterId !== dClusterId) cl.unshift(dClusterId);
            out = { src: v, originatorId: p.originatorId ?? srcSess.peer, clusterList: cl, asPath: p.asPath };
          } else {
            // bgp_update_attrs(rr = 0); toward eBGP the own AS is prepended, ORIGINATOR_ID/CLUSTER_LIST not encoded
            out = d.ibgp
              ? { src: v, originatorId: p.originatorId, clusterList: p.clusterList, asPath: p.asPath }
              : { src: v, originatorId: null, clusterList: [], asPath: [me.asNumber, ...p.asPath] };
          }
          // Receive at w = d.peer over its session to v.
          const w = d.peer;
          const wNode = nodeOf.get(w)!;
          const back = sess.get(w)!.find((s) => s.peer === v)!;
          if (!back.ibgp) out = { ...out, originatorId: null, clusterList: [] }; // ignored from eBGP
          if (back.ibgp && out.originatorId === w) continue; // bgp_originator_id_loopy
          if (back.ibgp && back.client && out.clusterList.includes(birdId(wNode))) continue; // cluster loop on receive
          // AS path loop, unless `allow local as N` on w's session and the AS appears at most N times
          if (out.asPath.filter((a) => a === wNode.asNumber).length > back.allow) continue;
          const key = pathKey(out);
          const tw = tables.get(w)!;
          if (!tw.has(key)) {
            tw.set(key, out);
            changed = true;
          }
        }
      }
    }
  }
  return new Map([...tables].map(([k, v]) => [k, [...v.values()]]));
}

/** learned.get(y)!.has(x): y (not x) holds a path for x's routes. */
export function naivePropagate(state: BgpState, sessions = naiveSessions(state)): Map<string, Set<string>> {
  const learned = new Map<string, Set<string>>(state.nodes.map((n) => [n.name, new Set<string>()]));
  const speakers = [...new Set(sessions.flatMap((s) => [s.a, s.b]))];
  for (const x of speakers) {
    for (const [y, paths] of naiveTables(state, x, sessions)) {
      if (y !== x && paths.length > 0) learned.get(y)!.add(x);
    }
  }
  return learned;
}
