/**
 * Calico's own tools for cross-checks (docs/testing.md, "Cross-checks with Calico's own code"): calicoctl and
 * confd built from Calico v3.31.0 Go modules by `CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh`, and confd's
 * BIRD templates from the same module version in the Go module cache (tools/calico/go.mod pins it, so the
 * binary and the templates always match).
 *
 *   const out = await renderBirdConfigs(cp.kubeconfig('admin'), ['node-a-001', 'node-b-001']);
 *   const protocols = parseBirdConfig(out.get('node-a-001')!.birdCfg).protocols;
 *   const r = await calicoctl(['get', 'bgppeers', '-o', 'yaml'], { kubeconfig: cp.kubeconfig('admin') });
 *
 * Missing tools are an error (MissingToolsError, naming the command to run), never a skip.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, type RunResult } from './exec.js';
import { mapLimit } from './kube.js';
import { MissingToolsError, REPO_ROOT, toolsDirFromBuildScript } from './tools.js';

/** The Calico release calicoctl and confd are built from (tools/build.sh CALICO_VERSION). */
export const CALICO_TOOLS_VERSION = 'v3.31.0';
export const CALICO_MODULE = 'github.com/projectcalico/calico';
export const BUILD_CALICO_TOOLS = 'CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh';

const CALICO_BINARIES = ['calicoctl', 'confd'] as const;

let binCache: string | undefined;

/**
 * The directory with calicoctl and confd: $CALICO_TUNE_BIN_DIR, else what
 * `CALICO_TUNE_BUILD_CALICOCTL=1 tools/build.sh --dir` prints (the same key as the other tools).
 */
export function calicoToolsBinDir(): string {
  if (binCache) return binCache;
  const dir = toolsDirFromBuildScript(BUILD_CALICO_TOOLS);
  const missing = CALICO_BINARIES.filter((b) => {
    try {
      fs.accessSync(path.join(dir ?? '', b), fs.constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (!dir || missing.length) {
    throw new MissingToolsError(
      `the Calico cross-checks need ${missing.join(' and ')} in ${dir}: run \`${BUILD_CALICO_TOOLS}\` ` +
        `(builds Calico ${CALICO_TOOLS_VERSION} from Go modules; ~2 min on top of the other tools, seconds when cached), ` +
        'or set CALICO_TUNE_BIN_DIR to a directory that has them. These tests never skip themselves (docs/testing.md).',
    );
  }
  binCache = dir;
  return dir;
}

export function calicoctlPath(): string {
  return path.join(calicoToolsBinDir(), 'calicoctl');
}

export function confdPath(): string {
  return path.join(calicoToolsBinDir(), 'confd');
}

export interface ConfdDir {
  /** `<module>/confd/etc/calico/confd`: conf.d/*.toml and templates/*.template. */
  dir: string;
  /** Module version (pseudo-version) the templates come from, or 'CALICO_TUNE_CONFD_DIR'. */
  version: string;
}

let confdDirCache: ConfdDir | undefined;

/**
 * confd's own config dir (conf.d + templates) of the Calico module tools/calico builds confd from:
 * $CALICO_TUNE_CONFD_DIR, else `go list -m -json github.com/projectcalico/calico` run in tools/calico
 * (Dir is the module's directory in the Go module cache).
 */
export function confdTemplatesDir(): ConfdDir {
  if (confdDirCache) return confdDirCache;
  const override = process.env['CALICO_TUNE_CONFD_DIR'];
  let found: ConfdDir;
  if (override) {
    found = { dir: override, version: 'CALICO_TUNE_CONFD_DIR' };
  } else {
    const modDir = path.join(REPO_ROOT, 'tools', 'calico');
    let info: { Dir?: string; Version?: string };
    try {
      const out = execFileSync('go', ['list', '-m', '-json', CALICO_MODULE], {
        cwd: modDir,
        encoding: 'utf8',
        env: {
          ...process.env,
          GOTOOLCHAIN: 'local',
          GOWORK: 'off',
          GOFLAGS: `${process.env['GOFLAGS'] ?? ''} -mod=readonly`.trim(),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      info = JSON.parse(out) as { Dir?: string; Version?: string };
    } catch (e) {
      throw new MissingToolsError(
        `cannot locate confd's templates: \`go list -m -json ${CALICO_MODULE}\` in tools/calico failed ` +
          `(${(e as Error).message.split('\n')[0]}). Run \`${BUILD_CALICO_TOOLS}\` (it downloads the module), or set ` +
          'CALICO_TUNE_CONFD_DIR to a copy of confd/etc/calico/confd from Calico v3.31.0.',
      );
    }
    if (!info.Dir) {
      throw new MissingToolsError(
        `${CALICO_MODULE}@${info.Version ?? '?'} is not in the Go module cache, so confd's templates are missing: ` +
          `run \`(cd tools/calico && go mod download ${CALICO_MODULE})\` or \`${BUILD_CALICO_TOOLS}\`.`,
      );
    }
    found = { dir: path.join(info.Dir, 'confd', 'etc', 'calico', 'confd'), version: info.Version ?? '?' };
  }
  for (const f of ['conf.d/bird.toml', 'templates/bird.cfg.template']) {
    if (!fs.existsSync(path.join(found.dir, f))) {
      throw new MissingToolsError(
        `confd's ${f} is missing in ${found.dir}: run \`${BUILD_CALICO_TOOLS}\` ` +
          `(or \`(cd tools/calico && go mod download ${CALICO_MODULE})\`).`,
      );
    }
  }
  confdDirCache = found;
  return found;
}

/** Fails clearly unless calicoctl, confd and confd's templates are all available. */
export function requireCalicoTools(): { bin: string; confd: ConfdDir } {
  return { bin: calicoToolsBinDir(), confd: confdTemplatesDir() };
}

/** The environment for calicoctl/confd: the kubernetes datastore and nothing inherited that they would read. */
export function calicoEnv(kubeconfig: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: os.tmpdir(),
    DATASTORE_TYPE: 'kubernetes',
    KUBECONFIG: kubeconfig,
  };
  return { ...env, ...extra };
}

/**
 * Runs calicoctl against the test cluster (DATASTORE_TYPE=kubernetes, KUBECONFIG). `--allow-version-mismatch`
 * is added: the ClusterInformation of the fixtures says v3.31.3, calicoctl is v3.31.0.
 */
export function calicoctl(
  args: string[],
  opts: { kubeconfig: string; timeoutMs?: number; allowVersionMismatch?: boolean },
): Promise<RunResult> {
  const extra = opts.allowVersionMismatch === false ? [] : ['--allow-version-mismatch'];
  return run(calicoctlPath(), [...args, ...extra], {
    env: calicoEnv(opts.kubeconfig),
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}

export interface RenderedNode {
  node: string;
  /** bird.cfg as confd rendered it. */
  birdCfg: string;
  /** Where it is (with `includes`, next to the files it includes). */
  path: string;
  /** confd's log (stderr). */
  log: string;
  durationMs: number;
}

let runDir: string | undefined;
/** A temp dir for renders without `dir`, removed when the process exits. */
function defaultRunDir(): string {
  if (!runDir) {
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calico-tune-confd-'));
    const dir = runDir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return runDir;
}

let seq = 0;

/**
 * Runs confd once per node (`NODENAME=<node> confd -onetime -sync-only`, the kubernetes datastore) and returns
 * the bird.cfg it rendered for each. Each run gets its own conf.d (bird.toml with `dest` in a temp dir; the
 * other templates are not rendered) next to a link to the module's templates, under `dir` (e.g. the control
 * plane's state dir, so the files go and stay with it) or a temp dir removed at exit:
 * `<dir>/<n>-<label>/<node>/{bird.cfg,confd.log}`. Throws with confd's log when a run fails or times out.
 */
export async function renderBirdConfigs(
  kubeconfig: string,
  nodes: readonly string[],
  opts: {
    concurrency?: number;
    timeoutMs?: number;
    label?: string;
    dir?: string;
    /** Also bird_aggr.cfg and bird_ipam.cfg, from Debian-BIRD templates, so that `bird -p -c <dir>/bird.cfg` runs. */
    includes?: boolean;
  } = {},
): Promise<Map<string, RenderedNode>> {
  const confd = confdPath();
  const src = confdTemplatesDir();
  const toml = fs.readFileSync(path.join(src.dir, 'conf.d', 'bird.toml'), 'utf8');
  const base = path.join(
    opts.dir ?? defaultRunDir(),
    `${String(++seq).padStart(3, '0')}-${opts.label ?? 'render'}`,
  );
  const templates = opts.includes ? debianBirdTemplates(base) : undefined;
  const out = new Map<string, RenderedNode>();
  await mapLimit([...nodes], opts.concurrency ?? 6, async (node) => {
    const dir = path.join(base, node);
    const confdir = path.join(dir, 'confd');
    const dest = path.join(dir, 'bird.cfg');
    if (templates) stageConfdDir(confdir, templates, dir);
    else {
      fs.mkdirSync(path.join(confdir, 'conf.d'), { recursive: true });
      fs.symlinkSync(path.join(src.dir, 'templates'), path.join(confdir, 'templates'));
      fs.writeFileSync(
        path.join(confdir, 'conf.d', 'bird.toml'),
        toml.replace(/^dest = .*$/m, `dest = ${JSON.stringify(dest)}`),
      );
    }
    const r = await run(confd, [`-confdir=${confdir}`, '-onetime', '-sync-only'], {
      env: calicoEnv(kubeconfig, { NODENAME: node, BGP_LOGSEVERITYSCREEN: 'info' }),
      timeoutMs: opts.timeoutMs ?? 60_000,
    });
    fs.writeFileSync(path.join(dir, 'confd.log'), r.stderr + r.stdout);
    if (r.code !== 0 || !fs.existsSync(dest)) {
      const tail = (r.stderr + r.stdout).split('\n').slice(-30).join('\n');
      throw new Error(
        `confd for node ${node} ${r.timedOut ? 'timed out' : `exited with ${r.code ?? r.signal}`}` +
          `${fs.existsSync(dest) ? '' : ' without writing bird.cfg'} after ${r.durationMs} ms; log tail:\n${tail}`,
      );
    }
    out.set(node, {
      node,
      birdCfg: fs.readFileSync(dest, 'utf8'),
      path: dest,
      log: r.stderr,
      durationMs: r.durationMs,
    });
  });
  return out;
}

/**
 * The module's templates with the `krt_tunnel` assignments removed, copied to `dir/templates` (a variable only
 * Calico's BIRD fork has: `krt_tunnel = "{{$data.ipip}}";` renders `krt_tunnel = "";` without IPIP, which
 * Debian's BIRD refuses; the IPIP cross-subnet branch would be left as `then else`). The real-BGP rig's BIRD,
 * and `bird -p` checks of rendered configs, read these.
 */
export function debianBirdTemplates(dir: string): string {
  const src = path.join(confdTemplatesDir().dir, 'templates');
  const dst = path.join(dir, 'templates');
  fs.mkdirSync(dst, { recursive: true });
  for (const f of fs.readdirSync(src)) {
    let text = fs.readFileSync(path.join(src, f), 'utf8');
    if (f.startsWith('bird_ipam')) text = text.replace(/krt_tunnel\s*=\s*"[^"]*";/g, '');
    fs.writeFileSync(path.join(dst, f), text);
  }
  return dst;
}

/**
 * A confd dir (conf.d + templates) for one node that writes the IPv4 BIRD files (bird.cfg, bird_aggr.cfg,
 * bird_ipam.cfg) into `outDir`, where bird.cfg's `include "bird_aggr.cfg";` finds them; `reload`, when given,
 * replaces confd's reload_cmd. Returns the confd dir.
 */
export function stageConfdDir(
  confdir: string,
  templates: string,
  outDir: string,
  opts: { reload?: string | undefined } = {},
): string {
  const src = confdTemplatesDir().dir;
  fs.mkdirSync(path.join(confdir, 'conf.d'), { recursive: true });
  fs.symlinkSync(templates, path.join(confdir, 'templates'));
  for (const f of fs.readdirSync(path.join(src, 'conf.d')).filter((x) => /^bird(_\w+)?\.toml$/.test(x))) {
    const toml = fs.readFileSync(path.join(src, 'conf.d', f), 'utf8');
    const dest = /^dest\s*=\s*"([^"]*)"/m.exec(toml)?.[1];
    if (!dest) throw new Error(`confd ${f} has no dest line:\n${toml}`);
    let out = toml.replace(
      /^dest\s*=.*$/m,
      `dest = ${JSON.stringify(path.join(outDir, path.basename(dest)))}`,
    );
    if (opts.reload !== undefined) {
      const reload = `reload_cmd = ${JSON.stringify(opts.reload)}`;
      out = /^reload_cmd\s*=/m.test(out)
        ? out.replace(/^reload_cmd\s*=.*$/m, reload)
        : `${out.trimEnd()}\n${reload}\n`;
    }
    fs.writeFileSync(path.join(confdir, 'conf.d', f), out);
  }
  return confdir;
}

export type BirdProtocolKind = 'mesh' | 'node' | 'global' | 'local-workload';

/** One `protocol bgp <Name> from <template> { ... }` block of a rendered bird.cfg. */
export interface BirdProtocol {
  name: string;
  kind: BirdProtocolKind;
  template: string;
  neighbor: string;
  port?: number | undefined;
  /** `neighbor ... as N`. */
  as: number;
  /** `local as N` in the block (overrides the template's). */
  localAs?: number | undefined;
  rrClient: boolean;
  rrClusterId?: string | undefined;
  passive: boolean;
  /** The block's text, for messages. */
  text: string;
}

export interface BirdConfig {
  routerId?: string | undefined;
  /** `local as` of `template bgp bgp_template` (undefined when IPv4 is disabled on the node). */
  localAs?: number | undefined;
  /** Present when confd wrote `# IPv4 disabled on this node.`. */
  ipv4Disabled: boolean;
  protocols: BirdProtocol[];
}

const KIND_BY_PREFIX: [string, BirdProtocolKind][] = [
  ['Mesh_', 'mesh'],
  ['Node_', 'node'],
  ['Global_', 'global'],
  ['Local_Workload_', 'local-workload'],
];

/** The block starting at `open` (index of its `{`), up to the matching `}` (comments skipped). */
function blockAt(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`unbalanced braces in bird.cfg after offset ${open}`);
}

/** Parses the BGP protocols (and router id / template local AS) out of a bird.cfg confd rendered. */
export function parseBirdConfig(text: string): BirdConfig {
  const cfg: BirdConfig = {
    routerId: /^router id (\S+);/m.exec(text)?.[1],
    ipv4Disabled: /^# IPv4 disabled on this node\./m.test(text),
    protocols: [],
  };
  const tpl = /^template bgp bgp_template \{/m.exec(text);
  if (tpl) {
    const body = blockAt(text, tpl.index + tpl[0].length - 1);
    const m = /^\s*local as (\d+);/m.exec(body);
    if (m) cfg.localAs = Number(m[1]);
  }
  const re = /^protocol bgp (\S+) from (\S+) \{/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const name = m[1]!;
    const body = blockAt(text, m.index + m[0].length - 1);
    const kind = KIND_BY_PREFIX.find(([p]) => name.startsWith(p))?.[1];
    if (!kind) throw new Error(`unexpected BGP protocol name ${name} in bird.cfg`);
    const nb = /^\s*neighbor (\S+) (?:port (\d+) )?as (\d+);/m.exec(body);
    if (!nb) throw new Error(`protocol ${name} has no "neighbor <ip> as <asn>" line:\n${body}`);
    const code = body
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean);
    const la = code.map((l) => /^local as (\d+);$/.exec(l)).find(Boolean);
    const cid = code.map((l) => /^rr cluster id (\S+);$/.exec(l)).find(Boolean);
    cfg.protocols.push({
      name,
      kind,
      template: m[2]!,
      neighbor: nb[1]!,
      port: nb[2] !== undefined ? Number(nb[2]) : undefined,
      as: Number(nb[3]),
      localAs: la ? Number(la[1]) : undefined,
      rrClient: code.includes('rr client;'),
      rrClusterId: cid?.[1],
      passive: code.includes('passive on;'),
      text: `protocol bgp ${name} from ${m[2]} {${body}}`,
    });
  }
  return cfg;
}
