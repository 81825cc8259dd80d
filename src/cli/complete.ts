import type { ManifestLike } from '../render/help-text.js';
export async function completeCommandLine(
  _m: ManifestLike,
  _args: string[],
  _noDesc: boolean,
): Promise<string> {
  return ':4\n';
}
