/**
 * The `bgp topology` document (kind BgpTopology, docs/json-output.md): session counts (now, full mesh, a
 * proposed reflector set), sessions by kind, the reflectors, and the verifier's verdict. Pure.
 */
import { fullMeshSessions, reflectorSessions } from '../model/calico.js';
import type { ClusterSnapshot } from '../model/types.js';
import { bgpStateFromSnapshot } from './state.js';
import {
  classSizes,
  clientsOf,
  computeTopology,
  externalSessionCount,
  nodeSessionCount,
  nodeSessionsByKind,
  routeReflectors,
  type Topology,
} from './topology.js';
import { verifyTopology, type FullVerdict } from './verify.js';

export interface TopologyCounts {
  /** Nodes running BIRD. */
  nodes: number;
  fullMesh: number;
  /** Established-able sessions now: between nodes, and to external peers. */
  current: number;
  currentNodeSessions: number;
  currentExternalSessions: number;
  proposed?:
    { routeReflectors: number; sessions: number; perRouteReflector: number; perClient: number } | undefined;
}

export function topologyCounts(t: Topology, opts: { proposedRRs?: number | undefined } = {}): TopologyCounts {
  const nodes = classSizes(t).reduce((a, b) => a + b, 0);
  const node = nodeSessionCount(t);
  const ext = externalSessionCount(t);
  const r = opts.proposedRRs;
  return {
    nodes,
    fullMesh: fullMeshSessions(nodes),
    current: node + ext,
    currentNodeSessions: node,
    currentExternalSessions: ext,
    proposed:
      r === undefined
        ? undefined
        : {
            routeReflectors: r,
            sessions: reflectorSessions(nodes, Math.min(Math.max(0, r), nodes)),
            perRouteReflector: Math.max(0, nodes - 1),
            perClient: r,
          },
  };
}

export interface BgpTopologyReport {
  /** The document `-o json|yaml` prints. */
  doc: {
    apiVersion: 'calico-tune/v1';
    kind: 'BgpTopology';
    meshEnabled: boolean;
    asNumber: number;
    counts: TopologyCounts & {
      byKind: { mesh: number; nodePeer: number; globalPeer: number; external: number };
      routeReflectorClientSessions: number;
    };
    routeReflectors: (ReturnType<typeof routeReflectors>[number] & {
      clientNodes?: string[] | undefined;
      /** The node's Ready condition: the model counts every reflector up, a NotReady one most likely is not. */
      ready: boolean;
    })[];
    reachability: {
      ok: boolean;
      unreachablePairs: number;
      examples: FullVerdict['examples'];
      n1Ok: boolean | null;
    };
  };
  topology: Topology;
  verdict: FullVerdict;
}

export function bgpTopologyReport(
  s: ClusterSnapshot,
  opts: { proposedRRs?: number | undefined } = {},
): BgpTopologyReport {
  const state = bgpStateFromSnapshot(s);
  const t = computeTopology(state);
  const counts = topologyCounts(t, opts);
  const v = verifyTopology(t, { n1: true, maxExamples: 3 });
  const byKind = nodeSessionsByKind(t);
  return {
    topology: t,
    verdict: v,
    doc: {
      apiVersion: 'calico-tune/v1',
      kind: 'BgpTopology',
      meshEnabled: state.meshEnabled,
      asNumber: state.globalAsNumber,
      counts: {
        ...counts,
        byKind: {
          mesh: byKind.mesh,
          nodePeer: byKind.node,
          globalPeer: byKind.global,
          external: counts.currentExternalSessions,
        },
        routeReflectorClientSessions: byKind.rrClient,
      },
      routeReflectors: routeReflectors(t).map((r) => ({
        ...r,
        clientNodes: r.clients <= 50 ? clientsOf(t, r.name) : undefined,
        ready: s.nodes.find((n) => n.name === r.name)?.ready ?? false,
      })),
      reachability: {
        ok: v.ok,
        unreachablePairs: v.unreachablePairs,
        examples: v.examples,
        n1Ok: v.n1?.ok ?? null,
      },
    },
  };
}
