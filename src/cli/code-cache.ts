/**
 * Loads the Node bundle (dist/bundle/node/run.cjs, scripts/bundle.js) with a V8 code cache, as Node 22's
 * module compile cache would: the first run of a command compiles the bundle and, when it ends, writes V8's
 * cached data (the functions it compiled, that command's included) to the user's cache directory; later runs
 * of that command start from it instead of parsing and compiling again. On a 1,000-node `status` that took
 * a quarter of the process's CPU time off (docs/benchmarks.md, "Start-up").
 *
 * The cache is only an optimisation: any failure to read, check or write it runs the bundle without it.
 * It lives in `$XDG_CACHE_HOME/calico-tune/v8` (else `~/.cache/calico-tune/v8`), a directory the user owns
 * and only the user may write (V8 accepts cached data for a script of the same source length and flags, so
 * a cache others could write would be a way to run their code); `CALICO_TUNE_CODE_CACHE=0` turns it off.
 * A cache file is named after the bundle's directory (each install its own files: two installs used in turn
 * no longer throw each other's away), then the bundle file's identity (size, modification and change times,
 * inode), Node's version and the command; a new build makes that install's old files go on the next write.
 * The change time and inode are there because V8 checks only the source's length: a bundle replaced by one of
 * the same size with its archive's modification time kept (`cp -p`, `rsync -a`, `tar x`) ran the old build's
 * cached functions. Each file starts with a digest of V8's data, checked before V8 sees it: V8's release
 * builds do not check the data, and one flipped bit made Node crash (or compute a wrong result) on every
 * later run of that command.
 *
 * scripts/bundle.js writes the bundles in ASCII only, so the source is a one-byte string (a single
 * character beyond ASCII made all 1.2 MB of it a two-byte one, which V8 also scans more slowly for every
 * function missing from the cached data), and an ASCII file is read as Latin-1, which skips UTF-8 decoding.
 * Together with bin/run.js as CommonJS: the command starts about 10 ms earlier in a 1,000-node `status`
 * (docs/benchmarks.md, "Start-up", item 4). A bundle that is not ASCII is read as UTF-8, as before.
 *
 * Pure Node, no dependency (kube/cache-dir.ts is Node only too): bin/run.js requires it before the bundle, as
 * scripts/bundle.js's CommonJS build (dist/bundle/node/loader.cjs), which needs no ES module loader.
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { userCacheDir } from '../kube/cache-dir.js';

export interface LoadedBundle<T> {
  exports: T;
  /** Whether V8 started from cached data. */
  cacheUsed: boolean;
  /** The cache file this run reads or writes (undefined: no usable cache directory). */
  cacheFile: string | undefined;
  /**
   * Writes the cached data when there was none (or V8 rejected it), else marks the file as in use (once a
   * day); call when the command has run.
   */
  save(): void;
}

/** What the bundle calls instead of import() (scripts/bundle.js): `globalThis[Symbol.for(...)](specifier)`. */
export const IMPORT_HOOK = Symbol.for('calico-tune.import');

/**
 * Packages the CLI imports lazily on a few paths only, which scripts/bundle.js bundles each into a file of its
 * own beside run.cjs (it reads this list): inquirer for prompts, @kubernetes/client-node (4.9 MB) for exec into
 * a pod and legacy auth-providers. Loaded from node_modules instead, they took 0.5 and 1.1 s to import.
 */
export const SIDE_BUNDLES: Record<string, string> = {
  inquirer: 'inquirer.cjs',
  '@kubernetes/client-node': 'client-node.cjs',
};

/** import() for a bundle in `dir`: a side bundle when there is one for the specifier (with its cache), else Node's. */
function sideImport(
  dir: string,
  env: NodeJS.ProcessEnv,
): (spec: string, options?: ImportCallOptions) => Promise<unknown> {
  const loaded = new Map<string, unknown>();
  const require = createRequire(path.join(dir, 'run.cjs'));
  return async (spec, options) => {
    // a Node built-in (node:http2 with the first HTTP/2 connection, node:child_process for an exec credential
    // plugin) through require(): an import() from here would start Node's ES module loader, about 4 ms. As a
    // namespace: `default` is the module, its exports are read through it (its prototype)
    if (spec.startsWith('node:')) {
      const builtin = require(spec) as object;
      return Object.setPrototypeOf({ default: builtin }, builtin);
    }
    const side = SIDE_BUNDLES[spec];
    const file = side ? path.join(dir, side) : undefined;
    if (!file || !fs.existsSync(file)) return import(spec, options);
    if (!loaded.has(spec)) {
      const b = loadBundle(file, side!.replace(/\.cjs$/, ''), env);
      process.once('exit', b.save);
      loaded.set(spec, b.exports);
    }
    return loaded.get(spec);
  };
}

/** The code cache's directory, or undefined when caching is off or no directory is safe to use. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['CALICO_TUNE_CODE_CACHE'] === '0') return undefined;
  return userCacheDir('v8', env);
}

const DAY_MS = 86_400_000;
/** Cached data of another install that no run has used for this long is removed (kept fresh by use: save()). */
const UNUSED_MS = 30 * DAY_MS;

const hash16 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

/**
 * `<bundle>.<install>.<stamp>.<key>.v8`: the bundle's file name (run, inquirer, client-node), its directory's
 * hash (the install), a stamp that changes with the bundle and with Node, and the key (the command).
 */
const nameOf = (file: string): string => path.basename(file).replace(/\.c?js$/, '');
function prefixOf(file: string): string {
  return `${nameOf(file)}.${hash16(path.dirname(path.resolve(file))).slice(0, 8)}.`;
}
function stampOf(file: string, st: fs.Stats): string {
  return hash16(
    [path.resolve(file), st.size, st.mtimeMs, st.ctimeMs, st.ino, process.version, process.arch].join('\0'),
  );
}

/** A cache file: this magic, the SHA-256 of V8's cached data, then the data. */
const MAGIC = Buffer.from('ctv8\0\0\0\x01', 'latin1');
const HEADER = MAGIC.length + 32;
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** V8's cached data from a cache file, or undefined when the file is not one this code wrote, intact. */
export function cachedDataOf(file: Buffer): Buffer | undefined {
  if (file.length <= HEADER || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const data = file.subarray(HEADER);
  return sha256(data).equals(file.subarray(MAGIC.length, HEADER)) ? data : undefined;
}

/** The cache file of V8's cached data `data`. */
export function cacheFileOf(data: Buffer): Buffer {
  return Buffer.concat([MAGIC, sha256(data), data]);
}

/** The bundle's source: Latin-1 (a one-byte string) when it is all ASCII, as scripts/bundle.js writes it. */
export function readSource(file: string): string {
  const buf = fs.readFileSync(file);
  return isAscii(buf) ? buf.toString('latin1') : buf.toString('utf8');
}

/**
 * Runs the CommonJS bundle `file` in this context (as `require` would) and returns its exports. `key` names
 * the cached data (one per command: each command compiles different functions).
 */
export function loadBundle<T>(
  file: string,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): LoadedBundle<T> {
  const source = readSource(file);
  const dir = cacheDir(env);
  let cacheFile: string | undefined;
  let stamp = '';
  const name = nameOf(file);
  const prefix = prefixOf(file);
  let cachedData: Buffer | undefined;
  if (dir) {
    try {
      stamp = stampOf(file, fs.statSync(file));
      cacheFile = path.join(dir, `${prefix}${stamp}.${key.replace(/[^A-Za-z0-9_-]/g, '_')}.v8`);
      // damaged, or of an older layout: compiled afresh, and the file written again when the command ends
      cachedData = cachedDataOf(fs.readFileSync(cacheFile));
    } catch {
      cachedData = undefined;
    }
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  // a script compiled by vm has no import() of its own on Node 20 without an experimental flag or warning:
  // scripts/bundle.js turns the bundle's (inquirer, client-node, node:child_process, oclif's loader) into
  // calls of this one; inquirer and client-node come from their own bundles beside this one
  (globalThis as Record<symbol, unknown>)[IMPORT_HOOK] ??= sideImport(path.dirname(file), env);
  const script = new vm.Script(wrapper, { filename: file, cachedData });
  const cacheUsed = cachedData !== undefined && !script.cachedDataRejected;
  const mod = { exports: {} as T };
  const fn = script.runInThisContext() as (...a: unknown[]) => void;
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  return {
    exports: mod.exports,
    cacheUsed,
    cacheFile,
    save: () => {
      if (!cacheFile || !dir) return;
      try {
        if (cacheUsed) {
          // in use: its time says so (other installs remove files unused for a month, below)
          const now = Date.now();
          if (now - fs.statSync(cacheFile).mtimeMs > DAY_MS) fs.utimesSync(cacheFile, now / 1000, now / 1000);
          return;
        }
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, cacheFileOf(script.createCachedData()), { mode: 0o600 });
        fs.renameSync(tmp, cacheFile);
        // this bundle's files from older builds (or Node versions) go; so do the files of other installs unused
        // for a month (removed, or an npx directory long gone), and those of the layout before installs had
        // their own (`<bundle>.<stamp>.<key>.v8`)
        const unusedSince = Date.now() - UNUSED_MS;
        for (const f of fs.readdirSync(dir)) {
          const parts = f.split('.');
          if (parts[0] !== name || parts.at(-1) !== 'v8') continue;
          const p = path.join(dir, f);
          const stale =
            parts.length === 4 ||
            (f.startsWith(prefix)
              ? !f.startsWith(`${prefix}${stamp}.`)
              : (fs.statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < unusedSince);
          if (stale) fs.rmSync(p, { force: true });
        }
      } catch {
        /* an optimisation only */
      }
    },
  };
}
