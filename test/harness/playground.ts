/**
 * A throw-away cluster to try the plugin on by hand:
 *
 *   npm run playground -- --nodes 150 --zones 3 --calico v3.31.3 [--install operator|manifest]
 *                         [--rrs N] [--mesh on|off] [--statuses N] [--delay-ms N] [--seed N] [--calico-api v3]
 *
 * Starts etcd + kube-apiserver, installs the Calico CRDs, loads a generated cluster, creates
 * CalicoNodeStatus objects for the first --statuses nodes (default 3) and runs the calico-node
 * simulator, prints the `export KUBECONFIG=...` line, and runs until Ctrl-C (then tears everything down).
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateCluster, parseSpecArgs, type ClusterSpec } from '../fixtures/generate.js';
import { ControlPlane } from './control-plane.js';
import { Simulator } from './simulator.js';
import { CALICO_RELEASES, REPO_ROOT } from './tools.js';

const USAGE = `usage: npm run playground -- [--nodes 150] [--zones 3] [--calico ${CALICO_RELEASES.join('|')}]
         [--install operator|manifest] [--rrs N] [--mesh on|off] [--statuses N] [--delay-ms N] [--seed N]
         [--calico-api v3]   (serve projectcalico.org/v3 through Calico's real calico-apiserver; needs
                              CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh and root for its test address)

Starts etcd + kube-apiserver with the Calico CRDs and a generated cluster, runs the calico-node simulator
(CalicoNodeStatus for the first --statuses nodes, default 3; sessions Established after --delay-ms, default
2000), prints the export KUBECONFIG=... line, and runs until Ctrl-C.
`;

interface Args {
  spec: ClusterSpec;
  statuses: number;
  delayMs: number;
  calicoApi: 'v3' | undefined;
}

function parse(argv: string[]): Args {
  let statuses = 3;
  let delayMs = 2000;
  let calicoApi: 'v3' | undefined;
  const int = (flag: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer`);
    return n;
  };
  const help = (): void => {
    process.stdout.write(USAGE);
    process.exit(0);
  };
  if (argv.includes('-h') || argv.includes('--help')) help();
  const spec = parseSpecArgs(
    argv,
    { nodes: 150, zones: 3, calico: 'v3.31.3', install: 'operator' },
    {
      '--statuses': (v) => (statuses = int('--statuses', v())),
      '--delay-ms': (v) => (delayMs = int('--delay-ms', v())),
      '--calico-api': (v) => {
        const x = v();
        if (x !== 'v3') throw new Error(`--calico-api takes v3 (got ${x})`);
        calicoApi = 'v3';
      },
    },
  );
  return { spec, statuses, delayMs, calicoApi };
}

async function main(): Promise<void> {
  const { spec, statuses, delayMs, calicoApi } = parse(process.argv.slice(2));
  const t0 = performance.now();
  const log = (s: string): void => void process.stderr.write(`[playground] ${s}\n`);
  log(`starting etcd + kube-apiserver, Calico ${spec.calico} CRDs ...`);
  const cp = await ControlPlane.start({ calico: spec.calico!, label: 'playground', calicoApi });
  log(
    `control plane ready in ${cp.timings.readyMs} ms, CRDs in ${cp.timings.crdInstallMs[spec.calico!]} ms` +
      (cp.calicoApi
        ? `, calico-apiserver on ${cp.calicoApi.address}:${cp.calicoApi.port} serving projectcalico.org/v3`
        : ''),
  );
  const objects = generateCluster(spec);
  const applied = await cp.apply(objects);
  log(`${objects.length} objects (${spec.nodes} nodes) loaded in ${applied.ms} ms`);
  const nodeNames = objects.filter((o) => o.kind === 'Node').map((o) => o.metadata.name);
  await cp.apply(
    nodeNames.slice(0, statuses).map((node) => ({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'CalicoNodeStatus',
      metadata: { name: `playground-${node}` },
      spec: { node, classes: ['Agent', 'BGP'], updatePeriodSeconds: 10 },
    })),
  );
  const sim = new Simulator({ client: cp.client('simulator'), knobs: { establishDelayMs: delayMs }, log });
  await sim.start();

  const link = path.join(REPO_ROOT, '.playground');
  fs.mkdirSync(link, { recursive: true });
  fs.copyFileSync(cp.kubeconfig('admin'), path.join(link, 'kubeconfig'));
  const total = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    [
      '',
      `Playground ready in ${total} s: ${spec.nodes} nodes in ${spec.zones} zones, Calico ${spec.calico} (${spec.install} install), ` +
        `${spec.rrs ?? 0} route reflectors, mesh ${(spec.mesh ?? (spec.rrs ?? 0) === 0) ? 'on' : 'off'}, simulator running (Established after ${delayMs} ms)`,
      '',
      `  export KUBECONFIG=${cp.kubeconfig('admin')}`,
      `  export PATH=${cp.bin}:$PATH      # kubectl built by tools/build.sh`,
      '',
      `  node bin/run.js status            # or: kubectl calico-tune status, with kubectl-calico_tune on PATH`,
      `  other users: ${cp.kubeconfig('plugin')} (docs/rbac.yaml role), ${cp.kubeconfig('readonly')} (read-only);`,
      `  ${cp.kubeconfigAll} has one context per user; .playground/kubeconfig is a copy of the admin one`,
      `  simulator knobs: see test/harness/simulator.ts (the standalone simulator takes --knobs FILE)`,
      '',
      'Ctrl-C to stop (everything is torn down).',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping`);
    await sim.close().catch(() => {});
    await cp.stop();
    fs.rmSync(path.join(link, 'kubeconfig'), { force: true });
    log('stopped');
    process.exit(0);
  };
  // Registered after the harness's own handlers, so the harness does not re-raise the signal and we exit here.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void stop(sig));
  setInterval(() => {}, 1 << 30); // stay alive until a signal
}

main().catch((e: unknown) => {
  process.stderr.write(`playground: ${(e as Error).message}\n`);
  process.exit(1);
});
