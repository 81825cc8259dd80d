/**
 * The API client of a command, created from its parsed connection flags, and the start-up prefetch: the
 * bundled CLI and the single binary (src/cli/standalone.ts) create the client and send the first requests
 * (discovery: `/apis` and `/version`, which every live read starts with) from a pre-parse of argv while oclif
 * and the command's module load. The command takes that client only when oclif's parse gives exactly the
 * same connection flags; otherwise it is closed unused and the command connects itself.
 */
import type { KubeApi } from './api.js';
import type { KubeFlags } from './kubeconfig.js';
import type { ClusterSnapshot } from '../model/types.js';
import { c } from '../render/color.js';

/** The connection flags of BaseCommand (kubectl's, parsed by the plugin), as oclif or the pre-parse give them. */
export interface ConnectionFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  cluster?: string | undefined;
  user?: string | undefined;
  namespace?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
  as?: string | undefined;
  'as-group'?: string[] | undefined;
  'certificate-authority'?: string | undefined;
  'insecure-skip-tls-verify'?: boolean | undefined;
  'request-timeout'?: string | undefined;
  verbose?: boolean | undefined;
}

export function kubeFlagsOf(f: ConnectionFlags): KubeFlags {
  return {
    kubeconfig: f.kubeconfig,
    context: f.context,
    cluster: f.cluster,
    user: f.user,
    namespace: f.namespace,
    server: f.server,
    token: f.token,
    as: f.as,
    asGroups: f['as-group'],
    certificateAuthority: f['certificate-authority'],
    insecureSkipTlsVerify: f['insecure-skip-tls-verify'],
    requestTimeoutMs: undefined,
  };
}

/** Creates the API client for these flags (loads the REST client on first use). */
export async function connect(f: ConnectionFlags): Promise<KubeApi> {
  const [{ resolveKubeconfig, parseDuration }, { KubeHttp }, { KubeApi }] = await Promise.all([
    import('./kubeconfig.js'),
    import('./http.js'),
    import('./api.js'),
  ]);
  const kf = kubeFlagsOf(f);
  if (f['request-timeout']) kf.requestTimeoutMs = parseDuration(f['request-timeout']);
  const cfg = resolveKubeconfig(kf);
  const http = new KubeHttp(cfg);
  // for bench/live.ts: requests and response bytes of this run, on stderr at exit
  // (with the requests' times and the run's performance marks when it is "trace")
  const stats = process.env['CALICO_TUNE_HTTP_STATS'];
  if (stats) {
    if (stats === 'trace') http.trace = [];
    process.once('exit', () => {
      const marks = performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)]);
      process.stderr.write(
        `calico-tune-http-stats ${JSON.stringify({ requests: http.counts, bytes: http.bytes, ...(http.trace ? { trace: http.trace, marks } : {}) })}\n`,
      );
    });
  }
  if (f.verbose) {
    http.onRetry = (e) =>
      process.stderr.write(
        `${c.gray(`retrying ${e.method} ${e.path} in ${e.delayMs}ms (attempt ${e.attempt}/${http.retry.attempts}): ${e.why}`)}\n`,
      );
  }
  return new KubeApi(http);
}

/** What decides the client: equal keys, equal clients. */
export function connectionKey(f: ConnectionFlags): string {
  const k = kubeFlagsOf(f);
  return JSON.stringify({
    ...k,
    insecureSkipTlsVerify: k.insecureSkipTlsVerify === true,
    asGroups: k.asGroups ?? [],
    requestTimeout: f['request-timeout'] ?? '',
    verbose: f.verbose === true,
  });
}

/** A client made before the command ran, and the report read it started (report commands only). */
export interface Prefetched {
  api: Promise<KubeApi>;
  report?: Promise<ClusterSnapshot> | undefined;
}

let prefetched: (Prefetched & { key: string }) | undefined;

/**
 * Creates the client for pre-parsed flags and starts discovery, or with `report` the whole read of a report
 * (`status`, `bgp topology`, `rr list`, `typha report`: the snapshot that loadSnapshot(undefined, { report:
 * true }) reads); resolves once the requests are sent (or the client could not be made: the command then
 * meets the same error itself).
 */
export async function prefetch(f: ConnectionFlags, opts: { report?: boolean } = {}): Promise<void> {
  const api = connect(f);
  const entry: Prefetched & { key: string } = { key: connectionKey(f), api };
  prefetched = entry;
  let a: KubeApi;
  try {
    a = await api;
  } catch {
    return; // the command's own connect() reports it
  }
  // discovery goes out first (readLiveSnapshot starts with it, and takes the primed read), then the reader loads
  a.primeDiscovery();
  // a turn of the event loop: the request's socket connects before anything else is loaded
  await new Promise((r) => setImmediate(r));
  if (!opts.report) return;
  const { readLiveSnapshot } = await import('./snapshot.js');
  entry.report = readLiveSnapshot(a, { context: a.http.cfg.contextName, cachedOk: true });
  entry.report.catch(() => {}); // awaited, and reported, by the command
  // the reads leave before oclif loads: its modules would hold this thread through the TLS handshake
  // (1,000 nodes: every answer's headers came 26 ms after its request, all at once, when oclif was done)
  await a.http.whenConnected(CONNECT_WAIT_MS);
}

/** How long the prefetch waits for the connection before the command loads (ms): a slow server is not waited for. */
const CONNECT_WAIT_MS = 150;

/** The prefetched client (and report read) when made for exactly these flags (once), else undefined. */
export function takePrefetched(f: ConnectionFlags): Prefetched | undefined {
  if (prefetched?.key !== connectionKey(f)) return undefined;
  const { api, report } = prefetched;
  prefetched = undefined;
  return { api, report };
}

/** Closes a prefetched client that no command took (so its sockets do not hold the process). */
export async function discardPrefetched(): Promise<void> {
  const p = prefetched;
  prefetched = undefined;
  if (p) (await p.api.catch(() => undefined))?.http.abort();
}
