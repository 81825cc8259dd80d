/**
 * Grafana dashboards for the sidecar (ConfigMap label `grafana_dashboard: "1"`): Calico's Felix and Typha
 * dashboards (assets/grafana/, Apache-2.0, see assets/grafana/NOTICE) with every hard-coded Prometheus
 * datasource turned into the template variable `${datasource}`, and a kube-controllers IPAM dashboard of our
 * own (the guide notes that Calico has none). Pure: the caller reads the files (kube/files.ts).
 */
import { MANAGED_BY, MANAGED_BY_LABEL } from '../model/managed-by.js';
import { DASHBOARDS_CONFIGMAP } from '../model/monitoring.js';
import type { KubeObject } from '../model/types.js';

const DS = { type: 'prometheus', uid: '${datasource}' };
export const DASHBOARD_NOTICE =
  'Felix and Typha dashboards: Project Calico (github.com/projectcalico/calico manifests/grafana-dashboards.yaml), Apache License 2.0; datasource made a template variable by kubectl calico-tune. kube-controllers dashboard: kubectl calico-tune, Apache License 2.0.';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObj(v: unknown): v is { [k: string]: Json } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A Prometheus datasource reference (object with type prometheus, or a named datasource string). */
function isPromDatasource(v: Json): boolean {
  if (typeof v === 'string') return !v.startsWith('-- ') && v !== '';
  return (
    isObj(v) && (v['type'] === 'prometheus' || (v['type'] === undefined && typeof v['uid'] === 'string'))
  );
}

function rewrite(v: Json): Json {
  if (Array.isArray(v)) return v.map(rewrite);
  if (!isObj(v)) return v;
  const out: { [k: string]: Json } = {};
  for (const [k, x] of Object.entries(v))
    out[k] = k === 'datasource' && x !== null && isPromDatasource(x) ? { ...DS } : rewrite(x);
  return out;
}

/** A copy of the dashboard (parsed JSON) with its datasources templated and a `datasource` variable. */
export function templateDatasource(dashboard: unknown): Record<string, Json> {
  if (!isObj(dashboard)) throw new Error('a Grafana dashboard is a JSON object');
  const d = rewrite(dashboard) as { [k: string]: Json };
  delete d['id'];
  const templating = isObj(d['templating']) ? d['templating'] : { list: [] };
  const list = Array.isArray(templating['list']) ? templating['list'] : [];
  if (!list.some((x) => isObj(x) && x['name'] === 'datasource'))
    list.unshift({
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      hide: 0,
    });
  d['templating'] = { ...templating, list };
  return d;
}

function panel(
  id: number,
  title: string,
  expr: string,
  legend: string,
  x: number,
  y: number,
  unit = 'short',
): Json {
  return {
    id,
    title,
    type: 'timeseries',
    datasource: { ...DS },
    gridPos: { h: 8, w: 12, x, y },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: [{ refId: 'A', datasource: { ...DS }, expr, legendFormat: legend }],
  };
}

/** kube-controllers' IPAM metrics: Table 4's per-node allocations and blocks, pool use, borrowing, GC. */
export function kubeControllersDashboard(): Record<string, Json> {
  return {
    title: 'Calico: kube-controllers IPAM',
    uid: 'calico-kube-controllers-ipam',
    tags: ['calico', 'kube-controllers', 'ipam'],
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', hide: 0 }],
    },
    panels: [
      panel(
        1,
        'IP pool use (allocated / size)',
        'sum by (ippool) (ipam_allocations_in_use) / on (ippool) max by (ippool) (ipam_ippool_size)',
        '{{ippool}}',
        0,
        0,
        'percentunit',
      ),
      panel(
        2,
        'IP allocations per node (Table 4: ipam_allocations_per_node)',
        'topk(20, ipam_allocations_per_node)',
        '{{node}}',
        12,
        0,
      ),
      panel(
        3,
        'IPAM blocks per node (Table 4: ipam_blocks_per_node)',
        'topk(20, ipam_blocks_per_node)',
        '{{node}}',
        0,
        8,
      ),
      panel(
        4,
        'Borrowed allocations per node (from blocks affine to other nodes)',
        'topk(20, ipam_allocations_borrowed_per_node)',
        '{{node}}',
        12,
        8,
      ),
      panel(5, 'Blocks per pool', 'sum by (ippool) (ipam_blocks)', '{{ippool}}', 0, 16),
      panel(
        6,
        'Leaked-allocation GC: candidates and reclamations',
        'sum(ipam_allocations_gc_candidates) or vector(0)',
        'candidates',
        12,
        16,
      ),
    ],
  };
}

/** The ConfigMap the Grafana sidecar loads. `dashboards`: file name → Calico's dashboard (parsed JSON). */
export function dashboardsConfigMap(namespace: string, dashboards: Record<string, unknown>): KubeObject {
  const data: Record<string, string> = {};
  for (const [name, dashboard] of Object.entries(dashboards))
    data[name] = JSON.stringify(templateDatasource(dashboard));
  data['kube-controllers-dashboard.json'] = JSON.stringify(kubeControllersDashboard());
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: DASHBOARDS_CONFIGMAP,
      namespace,
      labels: { grafana_dashboard: '1', [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { 'calico-tune.io/notice': DASHBOARD_NOTICE },
    },
    data,
  };
}
