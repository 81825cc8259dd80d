/**
 * The user's cache directory for calico-tune: V8's code cache (cli/code-cache.ts) and the discovery cache
 * (kube/discovery-cache.ts). Node only, no dependency: bin/run.js loads it before the bundle.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * `$XDG_CACHE_HOME/calico-tune/<sub>` (else `~/.cache/calico-tune/<sub>`), made when missing; undefined when
 * it cannot be made or is not safe: what is cached there is trusted, so it must be a directory the user owns
 * and nobody else may write.
 */
export function userCacheDir(sub: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env['XDG_CACHE_HOME'] || (env['HOME'] ? path.join(env['HOME'], '.cache') : undefined);
  if (!base || !path.isAbsolute(base)) return undefined;
  const dir = path.join(base, 'calico-tune', sub);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    // owned by this user and writable by nobody else
    if (!st.isDirectory() || (st.mode & 0o022) !== 0) return undefined;
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}
