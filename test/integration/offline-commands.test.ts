/**
 * Every read command and every planner on the shipped example clusters, offline (--snapshot), in every
 * output format: what the README promises works without a cluster.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { KubeObject } from '../../src/model/types.js';
import { parsePlan } from '../../src/plan/file.js';
import { REPO_ROOT, runCli } from '../harness/index.js';

const ex = (f: string): string => path.join(REPO_ROOT, 'examples', f);
const EXAMPLES = ['cluster-12.yaml', 'cluster-150.yaml', 'cluster-1000.json', 'cluster-rr-broken.yaml'];

/** A generated 12-node cluster with 3 reflectors (plus `extra` objects) as a snapshot file, and its removal. */
async function rrSnapshot(extra: KubeObject[] = []): Promise<{ file: string; remove: () => void }> {
  const { generateCluster } = await import('../fixtures/generate.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-offline-'));
  const file = path.join(dir, 'cluster.json');
  const items = [...generateCluster({ nodes: 12, zones: 3, rrs: 3 }), ...extra];
  fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe('offline commands on the shipped examples', function () {
  this.timeout(120_000);

  for (const file of EXAMPLES) {
    it(`status works on ${file} in every output format`, async () => {
      const json = await runCli(['status', '--snapshot', ex(file), '-o', 'json']);
      assert.ok(json.code === 0 || json.code === 1, json.stderr);
      const doc = json.json<{ kind: string; findings: { severity: string }[]; nodes: { total: number } }>();
      assert.equal(doc.kind, 'StatusReport');
      assert.equal(
        json.code,
        doc.findings.some((f) => f.severity === 'critical') ? 1 : 0,
        'exit code follows the critical findings',
      );
      const y = await runCli(['status', '--snapshot', ex(file), '-o', 'yaml']);
      assert.deepEqual(yaml.load(y.stdout), doc, 'YAML and JSON carry the same document');
      for (const o of ['table', 'wide']) {
        const t = await runCli(['status', '--snapshot', ex(file), '-o', o]);
        assert.equal(t.code, json.code);
        assert.match(t.stdout, /^CLUSTER\s+snapshot /m);
        assert.match(t.stdout, /FINDINGS/);
        assert.equal(t.stderr, '', 'nothing on stderr for a file snapshot');
      }
    });
  }

  it('a flag that does not parse, with -o json|yaml: exit 2 and the error document (a review: nothing on stdout)', async () => {
    for (const o of [['-o', 'json'], ['--output=yaml'], ['-ojson']]) {
      const r = await runCli(['status', '--snapshot', ex('cluster-12.yaml'), ...o, '--bogus']);
      assert.equal(r.code, 2, r.stderr);
      const doc = (
        o.join('').includes('yaml') ? yaml.load(r.stdout.replace(/^---\n/, '')) : JSON.parse(r.stdout)
      ) as {
        error: { message: string; exitCode: number };
      };
      assert.equal(doc.error.exitCode, 2, r.stdout);
      assert.match(doc.error.message, /bogus/);
    }
  });

  it('completion without a shell: exit 2 and one readable line (a review: oclif wrapped the description into the values)', async () => {
    const r = await runCli(['completion']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: name a shell: kubectl-calico_tune completion bash\|zsh\|fish/m);
    assert.doesNotMatch(r.stderr, /script for/);
  });

  it('bgp peers --wait-timeout without --wait is bad input, not ignored (a review)', async () => {
    const r = await runCli(['bgp', 'peers', '--wait-timeout', '1m']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--wait-timeout: --wait/);
  });

  it('--strict turns warnings into exit 1', async () => {
    const plain = await runCli(['status', '--snapshot', ex('cluster-150.yaml')]);
    const strict = await runCli(['status', '--snapshot', ex('cluster-150.yaml'), '--strict']);
    assert.equal(plain.code, 0);
    assert.equal(strict.code, 1);
  });

  it('bgp topology prints counts, JSON, DOT and Mermaid', async () => {
    const t = await runCli(['bgp', 'topology', '--snapshot', ex('cluster-150.yaml'), '--proposed-rrs', '3']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /full mesh\s+11,175 sessions/);
    assert.match(t.stdout, /with 3 RRs\s+444 sessions/);
    // more reflectors than nodes is bad input (a review: it printed 1000 sessions per client and exit 0)
    const many = await runCli([
      'bgp',
      'topology',
      '--snapshot',
      ex('cluster-150.yaml'),
      '--proposed-rrs',
      '1000',
    ]);
    assert.equal(many.code, 2, many.stdout);
    assert.match(many.stderr, /--proposed-rrs 1000: the cluster has 150 node\(s\)/);
    const j = (
      await runCli(['bgp', 'topology', '--snapshot', ex('cluster-rr-broken.yaml'), '-o', 'json'])
    ).json<{
      counts: { byKind: { nodePeer: number; mesh: number } };
      reachability: { ok: boolean; unreachablePairs: number };
      routeReflectors: { name: string; clientNodes?: string[] }[];
    }>();
    assert.equal(j.counts.byKind.mesh, 0);
    assert.ok(j.counts.byKind.nodePeer > 0);
    assert.equal(j.reachability.ok, false);
    assert.ok(j.reachability.unreachablePairs > 0);
    assert.equal(j.routeReflectors.length, 3);
    const dot = await runCli(['bgp', 'topology', '--snapshot', ex('cluster-12.yaml'), '-o', 'dot']);
    assert.match(dot.stdout, /^(di)?graph /m);
    const mm = await runCli(['bgp', 'topology', '--snapshot', ex('cluster-rr-broken.yaml'), '-o', 'mermaid']);
    assert.match(mm.stdout, /^flowchart /m);
  });

  it('rr list and rr recommend', async () => {
    const l = (await runCli(['rr', 'list', '--snapshot', ex('cluster-rr-broken.yaml'), '-o', 'json'])).json<{
      routeReflectors: unknown[];
      problems: { code: string }[];
    }>();
    assert.equal(l.routeReflectors.length, 3);
    assert.ok(l.problems.some((p) => p.code === 'RR_CLUSTER_ID_INVALID'));
    const r = (await runCli(['rr', 'recommend', '--snapshot', ex('cluster-1000.json'), '-o', 'json'])).json<{
      chosen: { zone: string }[];
    }>();
    assert.equal(r.chosen.length, 3);
    assert.equal(new Set(r.chosen.map((c) => c.zone)).size, 3);
    const bad = await runCli([
      'rr',
      'recommend',
      '--snapshot',
      ex('cluster-12.yaml'),
      '--min-memory',
      'lots',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid --min-memory "lots"/);
  });

  it('plans offline: a migration plan round-trips through a file and prints as a script', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-offline-'));
    try {
      const file = path.join(dir, 'plan.yaml');
      const p = await runCli([
        'migrate',
        'plan',
        '--to',
        'route-reflectors',
        '--snapshot',
        ex('cluster-1000.json'),
        '-f',
        file,
        '-o',
        'json',
      ]);
      assert.equal(p.code, 0, p.stderr);
      const fromStdout = p.json<{ summary: { sessions: { before: number; after: number } } }>();
      assert.deepEqual(fromStdout.summary.sessions, { before: 499500, after: 2994, fullMesh: 499500 });
      const fromFile = parsePlan(fs.readFileSync(file, 'utf8'), file);
      assert.deepEqual(
        JSON.parse(JSON.stringify(fromFile)),
        JSON.parse(p.stdout),
        'the saved plan is the printed plan',
      );
      const script = await runCli(['apply', '-f', file, '-o', 'script']);
      assert.equal(script.code, 0, script.stderr);
      assert.match(
        script.stdout,
        /\$KUBECTL patch bgpconfigurations\.crd\.projectcalico\.org 'default' --type=merge -p '\{"spec":\{"nodeToNodeMeshEnabled":false,"nodeMeshPassword":null,"nodeMeshMaxRestartTime":null\}\}'/,
      );
      assert.match(script.stdout, /wait_bgp /);
      const sh = path.join(dir, 'plan.sh');
      fs.writeFileSync(sh, script.stdout);
      const syntax = await (await import('../harness/index.js')).run('bash', ['-n', sh]);
      assert.equal(syntax.code, 0, syntax.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-o json|yaml when there is nothing to do, and on an error: a whole document in the format asked for', async () => {
    // found by trying the tool: -o yaml printed JSON, and the nothing-to-do document had no plan/steps/done
    const want = {
      apiVersion: 'calico-tune/v1',
      kind: 'ApplyResult',
      outcome: 'nothing-to-do',
      plan: null,
      steps: 0,
      done: 0,
      differences: null,
    };
    for (const [fmt, parse] of [
      ['json', (t: string) => JSON.parse(t) as Record<string, unknown>],
      ['yaml', (t: string) => yaml.load(t) as Record<string, unknown>],
    ] as const) {
      const r = await runCli([
        'migrate',
        'plan',
        '--to',
        'mesh',
        '--snapshot',
        ex('cluster-12.yaml'),
        '-o',
        fmt,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const doc = parse(r.stdout);
      const { message, ...rest } = doc;
      assert.deepEqual(rest, want, fmt);
      assert.match(String(message), /the full mesh is already on/);
      if (fmt === 'yaml') assert.ok(!r.stdout.trimStart().startsWith('{'), r.stdout);
      const bad = await runCli(['rr', 'promote', 'nosuch', '--snapshot', ex('cluster-12.yaml'), '-o', fmt]);
      assert.equal(bad.code, 2, bad.stderr);
      const err = parse(bad.stdout) as { error: { exitCode: number; message: string } };
      assert.equal(err.error.exitCode, 2);
      if (fmt === 'yaml') assert.ok(!bad.stdout.trimStart().startsWith('{'), bad.stdout);
    }
  });

  it('--snapshot with a flag that picks a live cluster (--context, --server, ...) is refused, not ignored', async () => {
    // (an operator trial: `status --snapshot f --context foo` read the file and said nothing of --context)
    for (const flag of [
      ['--context', 'prod'],
      ['--server', 'https://10.0.0.1:6443'],
      ['--token', 't'],
    ]) {
      const r = await runCli(['status', '--snapshot', ex('cluster-12.yaml'), ...flag]);
      assert.equal(r.code, 2, `${flag[0]}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${flag[0]} picks a live cluster; --snapshot reads a file`));
    }
  });

  it('-o json|yaml: a plan refused by verification is one document, the error with the plan in it', async () => {
    // (a review: the error document merged into the YAML plan printed before it; an operator trial: in JSON
    // the two documents did not parse, json.load said "Extra data")
    const { file, remove } = await rrSnapshot([
      {
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'BGPPeer',
        metadata: { name: 'rr-to-tor' },
        spec: { nodeSelector: "route-reflector == 'true'", peerIP: '10.99.0.1', asNumber: 65000 },
      },
    ]);
    for (const fmt of ['json', 'yaml']) {
      const r = await runCli(['migrate', 'plan', '--to', 'mesh', '--snapshot', file, '-o', fmt]);
      assert.equal(r.code, 2, r.stderr);
      const docs = (fmt === 'json' ? [JSON.parse(r.stdout)] : yaml.loadAll(r.stdout)) as Record<
        string,
        unknown
      >[];
      assert.equal(docs.length, 1, r.stdout.slice(0, 400));
      const doc = docs[0] as { error: { exitCode: number; message: string }; plan: { kind: string } };
      assert.equal(doc.error.exitCode, 2);
      assert.match(doc.error.message, /fails verification/);
      assert.equal(doc.plan.kind, 'Plan', 'the refused plan, to see why');
    }
    remove();
  });

  it('bad migrate flags are refused (exit 2) whatever the cluster holds, also when it is already at the target', async () => {
    // found by trying the tool: on a cluster already on reflectors each of these said "nothing to do" (exit 0)
    const { file: onRrs, remove } = await rrSnapshot();
    const done = await runCli(['migrate', 'plan', '--to', 'route-reflectors', '--snapshot', onRrs]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /nothing to do/);
    for (const [flags, why] of [
      [['--cluster-id', '288.0.4.5'], /invalid cluster ID "288\.0\.4\.5"/],
      [['--cluster-id', '10.0.0.1/24'], /invalid cluster ID/],
      [['--cluster-id', '0.0.0.0'], /BIRD reads 0\.0\.0\.0 as no cluster ID/],
      [['--label', '=x'], /invalid --label/],
      [['--label', 'foo'], /invalid --label/],
      [['--label', 'kubernetes.io/hostname=x'], /Kubernetes' own label domain/],
      [['--rr', 'nosuch'], /nosuch/],
      [['--rr', ',,'], /names no node/],
    ] as const) {
      const r = await runCli(['migrate', 'plan', '--to', 'route-reflectors', '--snapshot', onRrs, ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why, flags.join(' '));
    }
    for (const flags of [
      ['--rr', 'node-a-002'],
      ['--rr-count', '3'],
      ['--cluster-id', '244.0.0.9'],
    ]) {
      const r = await runCli([
        'migrate',
        'plan',
        '--to',
        'mesh',
        '--snapshot',
        ex('cluster-12.yaml'),
        ...flags,
      ]);
      assert.equal(r.code, 2, `--to mesh ${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /only with --to route-reflectors/);
    }
    remove();
  });

  it('refuses offline plans that would cut routes, and bad flags, with exit 2', async () => {
    const demote = await runCli([
      'rr',
      'demote',
      'node-a-002',
      'node-b-002',
      'node-c-002',
      '--snapshot',
      ex('cluster-rr-broken.yaml'),
      '--force',
    ]);
    assert.equal(demote.code, 2, demote.stderr);
    const back = await runCli(['migrate', 'plan', '--to', 'mesh', '--snapshot', ex('cluster-12.yaml')]);
    assert.equal(back.code, 0, 'the target already holds: nothing to do is a success');
    assert.match(back.stderr, /nothing to do/);
    const noTo = await runCli(['migrate', 'plan', '--snapshot', ex('cluster-12.yaml')]);
    assert.equal(noTo.code, 2);
    const server = await runCli([
      'rr',
      'promote',
      'node-a-002',
      '--snapshot',
      ex('cluster-12.yaml'),
      '--dry-run=server',
    ]);
    assert.equal(server.code, 2);
    assert.match(server.stderr, /--dry-run=server needs a cluster/);
    const missing = await runCli(['status', '--snapshot', ex('no-such-file.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: cannot read snapshot file .*no-such-file.yaml: ENOENT/);
  });

  it('serves help without loading oclif, identical to oclif’s own help', async () => {
    const fast = await runCli(['rr', 'promote', '--help']);
    assert.equal(fast.code, 0);
    // (optional: none with --resume or --rollback)
    assert.match(fast.stdout, /USAGE\n {2}kubectl calico-tune rr promote \[NODES\]\.\.\. \[flags\]/);
    assert.match(fast.stdout, /KUBECTL FLAGS/);
    // without the manifest, oclif's help class renders the same text
    const manifest = path.join(REPO_ROOT, 'oclif.manifest.json');
    const moved = `${manifest}.bak-${process.pid}`;
    fs.renameSync(manifest, moved);
    try {
      const slow = await runCli(['rr', 'promote', '--help']);
      assert.equal(slow.stdout, fast.stdout);
    } finally {
      fs.renameSync(moved, manifest);
    }
  });
});
