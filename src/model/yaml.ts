/**
 * YAML from files the user hands us (snapshots, saved plans), without anchors and aliases.
 *
 * js-yaml resolves `*alias` to the very object the `&anchor` named, so a 500-byte file can describe a tree
 * with billions of nodes ("billion laughs"): loading is quick, but everything that walks the result (parsing
 * a snapshot, JSON.stringify, a digest) takes minutes and gigabytes. Kubernetes never writes anchors
 * (`kubectl get -o yaml`, `snapshot save` and `-o yaml` plans have none), so they are refused outright: the
 * loader's listener stops at the first node after an anchor is defined, before any alias is expanded or walked.
 */
import yaml from 'js-yaml';

export class YamlAnchorError extends Error {
  constructor(
    readonly anchor: string,
    /** 1-based line where the loader noticed it. */
    readonly line: number,
  ) {
    super(
      `YAML anchors and aliases are not accepted (anchor "&${anchor}" near line ${line}): they can expand a small file into a huge document`,
    );
    this.name = 'YamlAnchorError';
  }
}

/** The loader's per-node callback: any stored anchor stops the load. */
function refuseAnchors(eventType: yaml.EventType, state: yaml.State): void {
  if (eventType !== 'close') return;
  const anchors = (state as yaml.State & { anchorMap?: Record<string, unknown> }).anchorMap;
  for (const name in anchors) throw new YamlAnchorError(name, state.line + 1);
}

const OPTIONS: yaml.LoadOptions = { listener: refuseAnchors };

/** `yaml.loadAll`, refusing anchors and aliases (`YamlAnchorError`). */
export function loadAllNoAliases(text: string): unknown[] {
  return yaml.loadAll(text, undefined, OPTIONS);
}

/** `yaml.load`, refusing anchors and aliases (`YamlAnchorError`). */
export function loadNoAliases(text: string): unknown {
  return yaml.load(text, OPTIONS);
}
