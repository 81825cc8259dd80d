/** Machine output: JSON and YAML documents, stable and alone on stdout. */
import yaml from 'js-yaml';

/** Drops undefined values so JSON and YAML agree. */
export function clean<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function toJson(v: unknown): string {
  return JSON.stringify(v, null, 2);
}

export function toYaml(v: unknown): string {
  return yaml.dump(clean(v), { noRefs: true, lineWidth: -1, sortKeys: false }).trimEnd();
}
