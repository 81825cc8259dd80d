#!/usr/bin/env node
// npm run package: the single binary `kubectl-calico_tune` (no Node.js needed) per os/arch, its krew archive
// (binary, kubectl_complete-calico_tune, LICENSE) and the krew manifest dist/krew/calico-tune.yaml.
// docs/packaging.md explains the choice (an esbuild bundle compiled by Bun) and the numbers behind it.
//
//   node scripts/package.js                        # this machine's os/arch (after npm run build)
//   node scripts/package.js --all                  # every target below; other runtimes come from npm packages
//   node scripts/package.js --targets linux-arm64,darwin-arm64
//   node scripts/package.js --homepage https://github.com/OWNER/REPO --base-uri https://github.com/OWNER/REPO/releases/download/v0.1.0
//
// The command index is generated from dist/src/commands at build time (explicit oclif strategy; shared with
// the Node bundle, scripts/bundle.js), so a new command file is packaged without touching this script. Builds
// are cached by a digest of their inputs.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { esbuildOptions, writeEntry } from './bundle.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(repo, 'dist', 'package');
const krewDir = path.join(repo, 'dist', 'krew');
const pjson = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const BIN = 'kubectl-calico_tune';
const COMPLETE_BIN = 'kubectl_complete-calico_tune';

/** krew os/arch -> Bun's target and the npm package holding that Bun runtime. */
export const TARGETS = {
  'linux-amd64': { bun: 'bun-linux-x64', pkg: '@oven/bun-linux-x64', exe: '' },
  'linux-arm64': { bun: 'bun-linux-arm64', pkg: '@oven/bun-linux-aarch64', exe: '' },
  'darwin-amd64': { bun: 'bun-darwin-x64', pkg: '@oven/bun-darwin-x64', exe: '' },
  'darwin-arm64': { bun: 'bun-darwin-arm64', pkg: '@oven/bun-darwin-aarch64', exe: '' },
  'windows-amd64': { bun: 'bun-windows-x64', pkg: '@oven/bun-windows-x64', exe: '.exe' },
};

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const hostTarget = `${process.platform === 'win32' ? 'windows' : process.platform}-${{ x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch}`;
const targets = args.includes('--all')
  ? Object.keys(TARGETS)
  : (opt('--targets')?.split(',') ?? [hostTarget]);
for (const t of targets)
  if (!TARGETS[t]) throw new Error(`unknown target ${t} (known: ${Object.keys(TARGETS).join(', ')})`);
// the project's page and the release URL: the release workflow passes both (--homepage, --base-uri); a local
// build only needs them to be well-formed, as `krew install --archive` never downloads
const homepage = opt('--homepage') ?? pjson.homepage ?? 'https://github.com/calico-tune/kubectl-calico-tune';
const baseUri = opt('--base-uri') ?? `${homepage}/releases/download/v${pjson.version}`;

const log = (s) => process.stderr.write(`package: ${s}\n`);
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

/** The Apache-2.0 notice of the third-party files inside the binary (Calico's Grafana dashboards). */
const NOTICE_FILE = path.join(repo, 'assets', 'grafana', 'NOTICE');
function notice() {
  return fs.readFileSync(NOTICE_FILE, 'utf8').replaceAll('*/', '* /');
}

async function bundle(entry) {
  const esbuild = await import('esbuild');
  const file = path.join(out, 'bundle.mjs');
  const options = esbuildOptions();
  // the notice of Calico's Grafana dashboards, which the bundle carries (JSON imports in src/kube/files.ts),
  // is the bundle's first comment
  const banner = { js: `/*!\n${notice()}*/\n${options.banner.js}` };
  await esbuild.build({ ...options, banner, entryPoints: [entry], outfile: file });
  return file;
}

/** Bun's own binary for this machine (the bun package's postinstall put it there), or the platform package's. */
function hostBun() {
  const cands = [
    path.join(repo, 'node_modules', 'bun', 'bin', 'bun.exe'),
    path.join(
      repo,
      'node_modules',
      '@oven',
      `bun-${process.platform}-${process.arch === 'arm64' ? 'aarch64' : 'x64'}`,
      'bin',
      'bun',
    ),
  ];
  for (const c of cands) {
    try {
      if (fs.statSync(c).size > 1_000_000) return c;
    } catch {
      // next
    }
  }
  throw new Error('no Bun binary in node_modules: run npm ci (bun is a devDependency)');
}

/** The Bun runtime for a target, from its npm package (fetched once with npm pack into the cache). */
function runtimeFor(target) {
  const { pkg } = TARGETS[target];
  const version = JSON.parse(
    fs.readFileSync(path.join(repo, 'node_modules', 'bun', 'package.json'), 'utf8'),
  ).version;
  const cache = path.join(
    process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
    'calico-tune',
    'bun',
    version,
    pkg.replace('/', '+'),
  );
  const exe = path.join(cache, 'package', 'bin', target.startsWith('windows') ? 'bun.exe' : 'bun');
  if (fs.existsSync(exe)) return exe;
  fs.mkdirSync(cache, { recursive: true });
  log(`npm pack ${pkg}@${version}`);
  const tgz = execFileSync('npm', ['pack', `${pkg}@${version}`, '--silent', '--pack-destination', cache], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['-xzf', path.join(cache, tgz), '-C', cache]);
  fs.rmSync(path.join(cache, tgz));
  return exe;
}

function compile(bundleFile, target, digest) {
  const { bun, exe } = TARGETS[target];
  const dir = path.join(out, target);
  const binFile = path.join(dir, BIN + exe);
  const stamp = path.join(dir, '.digest');
  if (fs.existsSync(binFile) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === digest) {
    log(`${target}: cached`);
    return binFile;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const bunArgs = [
    'build',
    '--compile',
    `--target=${bun}`,
    bundleFile,
    '--outfile',
    binFile,
    '--bytecode',
    '--format=esm',
    '--no-compile-autoload-dotenv',
    '--no-compile-autoload-bunfig',
  ];
  if (target !== hostTarget) bunArgs.push(`--compile-executable-path=${runtimeFor(target)}`);
  log(`${target}: bun ${bunArgs.join(' ')}`);
  execFileSync(hostBun(), bunArgs, { stdio: ['ignore', 'ignore', 'inherit'], cwd: out });
  fs.writeFileSync(stamp, digest);
  return binFile;
}

async function archive(target, binFile) {
  const { exe } = TARGETS[target];
  const stage = path.join(out, target, 'stage');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  fs.copyFileSync(binFile, path.join(stage, BIN + exe));
  fs.chmodSync(path.join(stage, BIN + exe), 0o755);
  fs.copyFileSync(path.join(repo, 'LICENSE'), path.join(stage, 'LICENSE'));
  fs.copyFileSync(NOTICE_FILE, path.join(stage, 'NOTICE'));
  const files = [BIN + exe, 'LICENSE', 'NOTICE'];
  if (!exe) {
    const { kubectlCompleteScript } = await import('../dist/src/cli/shell.js');
    fs.writeFileSync(path.join(stage, COMPLETE_BIN), kubectlCompleteScript(), { mode: 0o755 });
    files.push(COMPLETE_BIN);
  }
  fs.mkdirSync(krewDir, { recursive: true });
  const name = `kubectl-calico_tune-${target}.tar.gz`;
  const file = path.join(krewDir, name);
  // reproducible: fixed order, owner and mtime, gzip without a timestamp
  execFileSync('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-cf',
    file.replace(/\.gz$/, ''),
    '-C',
    stage,
    ...files,
  ]);
  execFileSync('gzip', ['-n', '-f', '-9', file.replace(/\.gz$/, '')]);
  return { target, name, file, files, sha256: sha256(fs.readFileSync(file)), bin: BIN + exe };
}

function yamlQuote(s) {
  return JSON.stringify(s);
}

export function krewManifest(archives) {
  const platforms = archives
    .map((a) => {
      const [os_, arch] = a.target.split('-');
      return [
        '  - selector:',
        '      matchLabels:',
        `        os: ${os_}`,
        `        arch: ${arch}`,
        `    uri: ${yamlQuote(`${baseUri}/${a.name}`)}`,
        `    sha256: ${yamlQuote(a.sha256)}`,
        '    files:',
        ...a.files.map((f) => `      - from: ${yamlQuote(f)}\n        to: "."`),
        `    bin: ${yamlQuote(a.bin)}`,
      ].join('\n');
    })
    .join('\n');
  return `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: calico-tune
spec:
  version: ${yamlQuote(`v${pjson.version}`)}
  homepage: ${yamlQuote(homepage)}
  shortDescription: Check and safely tune Calico BGP route reflectors and Typha
  description: |
    Reads a cluster running Calico and reports its BGP design (full mesh or route
    reflectors), session health and Typha sizing against Calico's best-practice
    guide; plans and applies route-reflector changes and the mesh <-> reflector
    migration step by step, with checks between steps, resume and rollback.
  caveats: |
    Shell completion (kubectl >= 1.26): run
      kubectl calico-tune completion install
    which puts kubectl_complete-calico_tune next to the plugin on your PATH.
  platforms:
${platforms}
`;
}

const t0 = Date.now();
const { entry, ids } = writeEntry(out);
const bundleFile = await bundle(entry);
const digest = sha256(
  Buffer.concat([fs.readFileSync(bundleFile), Buffer.from(fs.readFileSync(hostBun()).length.toString())]),
);
log(`${ids.length} commands bundled (${(fs.statSync(bundleFile).size / 1e6).toFixed(1)} MB)`);
const archives = [];
for (const t of targets) {
  // the archive is cached with the binary: same bundle and Bun, same bytes and sha256
  const stamp = path.join(out, t, '.archive.json');
  const bin = compile(bundleFile, t, digest);
  try {
    const a = JSON.parse(fs.readFileSync(stamp, 'utf8'));
    if (a.digest === digest && fs.existsSync(a.file)) {
      archives.push(a);
      continue;
    }
  } catch {
    // not cached
  }
  const a = { ...(await archive(t, bin)), digest };
  fs.writeFileSync(stamp, JSON.stringify(a));
  archives.push(a);
}
fs.writeFileSync(path.join(krewDir, 'calico-tune.yaml'), krewManifest(archives));
for (const a of archives)
  log(`${a.name}: ${(fs.statSync(a.file).size / 1e6).toFixed(1)} MB, sha256 ${a.sha256}`);
log(`dist/krew/calico-tune.yaml written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
