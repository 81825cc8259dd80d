/**
 * Renders the BGP session topology (src/bgp/topology.ts) as text: a table of route reflectors with session
 * counts, and a graph in Graphviz DOT or Mermaid. Pure string rendering, no I/O.
 *
 * Small clusters (up to `maxNodes` BIRD nodes, default 40) are drawn node by node. Larger ones are collapsed:
 * route reflectors individually, every other node grouped by zone and by session class (nodes that peer
 * alike), with node and session counts on the groups and edges. Edges: dashed = node-to-node mesh,
 * arrow = route reflector -> its rr client, plain = other sessions; eBGP sessions are labelled.
 */
import {
  effectiveProto,
  externalsOf,
  FLAG_CLIENT,
  FLAG_IBGP,
  routeReflectors,
  type Topology,
} from '../bgp/topology.js';
import { fullMeshSessions } from '../model/calico.js';
import { topologyCounts, type BgpTopologyReport } from '../bgp/topology-report.js';
import type { FullVerdict } from '../bgp/verify.js';
import { kv, table } from './table.js';
import { append } from '../model/arrays.js';
import { num as fmt } from '../model/format.js';

/** Route reflectors and the session counts (full mesh vs now vs a proposed RR set). */
export function renderTopologyTable(
  t: Topology,
  opts: { proposedRRs?: number | undefined; extra?: [string, string][] } = {},
): string {
  const counts = topologyCounts(t, opts);
  const rrs = routeReflectors(t);
  const lines: string[] = [];
  if (rrs.length > 0) {
    lines.push(
      table(
        ['ROUTE REFLECTOR', 'CLUSTER ID', 'ZONE', 'CLIENTS', 'SESSIONS', 'BIRD'],
        rrs.map((r) => [
          r.name,
          r.clusterId,
          r.zone ?? '-',
          fmt(r.clients) + (r.externalClients > 0 ? ` (+${r.externalClients} external)` : ''),
          fmt(r.sessions),
          r.participates ? 'yes' : 'no',
        ]),
      ),
    );
    lines.push('');
  }
  const pairs: [string, string][] = [
    ['BGP nodes', fmt(counts.nodes)],
    [
      'full mesh',
      `${fmt(counts.fullMesh)} sessions (n(n-1)/2), ${fmt(Math.max(0, counts.nodes - 1))} per node`,
    ],
    [
      'now',
      `${fmt(counts.current)} sessions` +
        (counts.currentExternalSessions > 0
          ? ` (${fmt(counts.currentExternalSessions)} to external peers)`
          : '') +
        (t.state.meshEnabled ? ', node-to-node mesh on' : ', node-to-node mesh off'),
    ],
  ];
  if (counts.proposed) {
    const p = counts.proposed;
    pairs.push([
      `with ${p.routeReflectors} RRs`,
      `${fmt(p.sessions)} sessions (R(n-R) + R(R-1)/2): ${p.perClient} per client, ${fmt(p.perRouteReflector)} per route reflector`,
    ]);
  }
  append(pairs, opts.extra ?? []);
  lines.push(kv(pairs, 0));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Graph model shared by DOT and Mermaid

interface GNode {
  id: string;
  label: string[];
  kind: 'rr' | 'node' | 'group' | 'external';
}

interface GEdge {
  from: string;
  to: string;
  /** mesh: dashed; client: arrow from RR to client; peer: plain. */
  style: 'mesh' | 'client' | 'peer';
  ebgp: boolean;
  /** Sessions this edge stands for (collapsed graphs). */
  count: number;
}

interface Graph {
  title: string;
  nodes: GNode[];
  edges: GEdge[];
  collapsed: boolean;
}

export interface GraphOptions {
  /** Draw node by node up to this many BIRD nodes (default 40); collapse above. */
  maxNodes?: number | undefined;
  /** Force collapsing (or not). */
  collapse?: boolean | undefined;
}

function edgeStyle(
  t: Topology,
  a: number,
  b: number,
): { style: GEdge['style']; ebgp: boolean; reversed: boolean } {
  const k = t.classes.length;
  const pr = t.pairs.get(a * k + b)!;
  const kind = effectiveProto(pr, t.classes[b]!).kind;
  const fab = t.flags.get(a * k + b) ?? 0;
  const fba = t.flags.get(b * k + a) ?? 0;
  const ebgp = (fab & FLAG_IBGP) === 0;
  if (kind === 'mesh') return { style: 'mesh', ebgp, reversed: false };
  if ((fab & FLAG_CLIENT) !== 0 && (fba & FLAG_CLIENT) === 0)
    return { style: 'client', ebgp, reversed: false };
  if ((fba & FLAG_CLIENT) !== 0 && (fab & FLAG_CLIENT) === 0)
    return { style: 'client', ebgp, reversed: true };
  return { style: 'peer', ebgp, reversed: false };
}

function buildGraph(t: Topology, opts: GraphOptions): Graph {
  const counts = topologyCounts(t);
  const live: number[] = [];
  for (let i = 0; i < t.n; i++) if (t.participates[i] === 1) live.push(i);
  const collapsed = opts.collapse ?? live.length > (opts.maxNodes ?? 40);
  const title =
    `${fmt(counts.nodes)} BGP nodes, ${fmt(counts.current)} sessions (full mesh would be ${fmt(counts.fullMesh)})` +
    (t.state.meshEnabled ? ', mesh on' : ', mesh off');
  const nodesOut: GNode[] = [];
  const edges: GEdge[] = [];
  const names = t.state.nodes;
  const k = t.classes.length;
  const extIds = new Map<string, string>();
  const extEdges = new Map<string, GEdge>();
  const addExternal = (owner: string, i: number, ownerCount: number): void => {
    for (const e of externalsOf(t, i)) {
      if (e.remoteAS <= 0) continue;
      const key = `${e.ip}|${e.port ?? ''}`;
      let id = extIds.get(key);
      if (!id) {
        id = `ext${extIds.size}`;
        extIds.set(key, id);
        nodesOut.push({
          id,
          label: [`${e.ip}${e.port ? `:${e.port}` : ''}`, `external AS ${e.remoteAS}`],
          kind: 'external',
        });
      }
      const ek = `${owner}|${id}`;
      const prev = extEdges.get(ek);
      if (prev) prev.count += ownerCount;
      else {
        const edge: GEdge = {
          from: owner,
          to: id,
          style: 'peer',
          ebgp: e.remoteAS !== names[i]!.asNumber,
          count: ownerCount,
        };
        extEdges.set(ek, edge);
        edges.push(edge);
      }
    }
  };

  if (!collapsed) {
    const id = (i: number): string => `n${i}`;
    for (const i of live) {
      const n = names[i]!;
      nodesOut.push({
        id: id(i),
        label: [
          n.name,
          ...(n.clusterId ? [`RR ${n.clusterId}`] : []),
          ...(n.asNumber !== t.state.globalAsNumber ? [`AS ${n.asNumber}`] : []),
        ],
        kind: n.clusterId ? 'rr' : 'node',
      });
    }
    for (let x = 0; x < live.length; x++) {
      for (let y = x + 1; y < live.length; y++) {
        const i = live[x]!;
        const j = live[y]!;
        const a = t.classOf[i]!;
        const b = t.classOf[j]!;
        if (!t.flags.has(a * k + b)) continue;
        const st = edgeStyle(t, a, b);
        edges.push({
          from: id(st.reversed ? j : i),
          to: id(st.reversed ? i : j),
          style: st.style,
          ebgp: st.ebgp,
          count: 1,
        });
      }
    }
    for (const i of live) addExternal(id(i), i, 1);
    return { title, nodes: nodesOut, edges, collapsed };
  }

  // Collapsed: RRs one by one, the others grouped by (zone, class).
  const groupOf = new Map<number, string>(); // node index -> graph id
  const groups = new Map<string, { id: string; zone: string; cls: number; members: number[] }>();
  let groupCount = 0;
  for (const i of live) {
    const n = names[i]!;
    if (n.clusterId !== undefined) {
      const gid = `rr${i}`;
      groupOf.set(i, gid);
      groups.set(gid, { id: gid, zone: n.zone ?? '', cls: t.classOf[i]!, members: [i] });
      nodesOut.push({
        id: gid,
        label: [n.name, `RR ${n.clusterId}`, ...(n.zone ? [n.zone] : [])],
        kind: 'rr',
      });
      continue;
    }
    const key = `${n.zone ?? ''}|${t.classOf[i]}`;
    let g = groups.get(key);
    if (!g) {
      g = { id: `g${groupCount++}`, zone: n.zone ?? '', cls: t.classOf[i]!, members: [] };
      groups.set(key, g);
    }
    g.members.push(i);
    groupOf.set(i, g.id);
  }
  const plain = [...groups.values()].filter((g) => !g.id.startsWith('rr'));
  const perZone = new Map<string, number>();
  for (const g of plain) perZone.set(g.zone, (perZone.get(g.zone) ?? 0) + 1);
  const zoneIdx = new Map<string, number>();
  for (const g of plain) {
    const nth = (zoneIdx.get(g.zone) ?? 0) + 1;
    zoneIdx.set(g.zone, nth);
    const clique = t.flags.has(g.cls * k + g.cls) && g.members.length > 1;
    const zoneLabel = g.zone || 'no zone';
    nodesOut.push({
      id: g.id,
      label: [
        (perZone.get(g.zone)! > 1 ? `${zoneLabel} (group ${nth})` : zoneLabel) +
          `: ${fmt(g.members.length)} node${g.members.length === 1 ? '' : 's'}`,
        ...(clique
          ? [
              `${t.state.meshEnabled && t.classes[g.cls]!.meshMember ? 'full mesh' : 'all peered'}: ${fmt(fullMeshSessions(g.members.length))} sessions`,
            ]
          : []),
      ],
      kind: 'group',
    });
  }
  const all = [...groups.values()];
  for (let x = 0; x < all.length; x++) {
    for (let y = x + 1; y < all.length; y++) {
      const g1 = all[x]!;
      const g2 = all[y]!;
      if (!t.flags.has(g1.cls * k + g2.cls)) continue;
      const st = edgeStyle(t, g1.cls, g2.cls);
      const count = g1.members.length * g2.members.length;
      edges.push({
        from: st.reversed ? g2.id : g1.id,
        to: st.reversed ? g1.id : g2.id,
        style: st.style,
        ebgp: st.ebgp,
        count,
      });
    }
  }
  for (const g of all) {
    if (extIds.size >= 20) break;
    const first = g.members[0]!;
    // Global external peers are the same for every member; node-specific ones are counted per member.
    const own = g.members.some((m) => t.nodeExternals.has(m));
    if (!own) addExternal(g.id, first, g.members.length);
    else for (const m of g.members) addExternal(g.id, m, 1);
  }
  return { title, nodes: nodesOut, edges, collapsed };
}

function dotQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Graphviz DOT (`dot -Tsvg`). */
export function renderDot(t: Topology, opts: GraphOptions = {}): string {
  const g = buildGraph(t, opts);
  const shape: Record<GNode['kind'], string> = {
    rr: 'doubleoctagon',
    node: 'box',
    group: 'box3d',
    external: 'ellipse',
  };
  const out = [
    'digraph bgp {',
    `  label=${dotQuote(g.title)};`,
    '  labelloc=t;',
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const n of g.nodes)
    out.push(`  ${dotQuote(n.id)} [label=${dotQuote(n.label.join('\n'))}, shape=${shape[n.kind]}];`);
  for (const e of g.edges) {
    const attrs: string[] = [];
    if (e.style !== 'client') attrs.push('dir=none');
    if (e.style === 'mesh') attrs.push('style=dashed');
    const label = [g.collapsed ? fmt(e.count) : '', e.ebgp ? 'eBGP' : ''].filter(Boolean).join(' ');
    if (label) attrs.push(`label=${dotQuote(label)}`);
    out.push(`  ${dotQuote(e.from)} -> ${dotQuote(e.to)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

function mermaidText(lines: string[]): string {
  return `"${lines.map((l) => l.replace(/"/g, '#quot;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'))).join('<br/>')}"`;
}

/** Mermaid flowchart (renders in GitHub markdown). */
export function renderMermaid(t: Topology, opts: GraphOptions = {}): string {
  const g = buildGraph(t, opts);
  const out = ['flowchart LR', `  %% ${g.title}`];
  for (const n of g.nodes) {
    const text = mermaidText(n.label);
    const shaped =
      n.kind === 'rr'
        ? `{{${text}}}`
        : n.kind === 'group'
          ? `[[${text}]]`
          : n.kind === 'external'
            ? `([${text}])`
            : `[${text}]`;
    out.push(`  ${n.id}${shaped}`);
  }
  for (const e of g.edges) {
    const label = [g.collapsed ? fmt(e.count) : '', e.ebgp ? 'eBGP' : ''].filter(Boolean).join(' ');
    const arrow = e.style === 'mesh' ? '-.-' : e.style === 'client' ? '-->' : '---';
    const withLabel = label
      ? e.style === 'mesh'
        ? `-. ${mermaidText([label])} .-`
        : `${arrow}|${mermaidText([label])}|`
      : arrow;
    out.push(`  ${e.from} ${withLabel} ${e.to}`);
  }
  return out.join('\n') + '\n';
}

/** The "by kind" and "routes" rows under the topology table. */
export function topologyExtraRows(doc: BgpTopologyReport['doc'], v: FullVerdict): [string, string][] {
  const k = doc.counts.byKind;
  const down = doc.routeReflectors.filter((r) => r.ready === false).map((r) => r.name);
  return [
    [
      'by kind',
      `mesh ${fmt(k.mesh)} · node-specific ${fmt(k.nodePeer)} · global ${fmt(k.globalPeer)} · external ${fmt(k.external)} · to RR clients ${fmt(doc.counts.routeReflectorClientSessions)}`,
    ],
    [
      'routes',
      (v.ok
        ? "every pair of nodes learns each other's routes"
        : `${fmt(v.unreachablePairs)} node pairs do not learn each other's routes (kubectl calico-tune status explains)`) +
        (down.length
          ? `; reflector${down.length === 1 ? '' : 's'} ${down.join(', ')} not Ready (the model counts ${down.length === 1 ? 'it' : 'them'} up)`
          : v.n1 && doc.routeReflectors.length >= 2
            ? v.n1.ok
              ? '; any one reflector can fail'
              : '; losing one reflector would cut nodes off'
            : ''),
    ],
  ];
}

/** `bgp topology`'s outputs other than -o json|yaml: the table (with the rows above), or the graph. */
export function renderTopologyReport(
  r: BgpTopologyReport,
  format: string,
  opts: { proposedRRs?: number | undefined } = {},
): string {
  if (format === 'dot') return renderDot(r.topology);
  if (format === 'mermaid') return renderMermaid(r.topology);
  return renderTopologyTable(r.topology, {
    proposedRRs: opts.proposedRRs,
    extra: topologyExtraRows(r.doc, r.verdict),
  });
}
