/**
 * Kubernetes label syntax, as the API server validates it (apimachinery's validation.IsQualifiedName and
 * IsValidLabelValue): what the tool itself writes as a label is checked here first, so that bad input gets exit 2
 * before any write instead of a 422 half-way through a plan.
 */

/** A label name, or the name part of a key: 63 characters at most, alphanumeric at both ends, `-_.` inside. */
const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
/** A DNS-1123 label, as in a key's prefix. */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `key` is not a Kubernetes label key (`[prefix/]name`, the prefix a DNS subdomain), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (!prefix.length || prefix.length > 253 || !prefix.split('.').every((l) => DNS_LABEL.test(l)))
      return `its prefix "${prefix}" is not a DNS subdomain (lowercase letters, digits, '-' and '.', 253 at most)`;
  }
  if (!LABEL_NAME.test(name))
    return `its name "${name}" must be 1-63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit${name.includes('/') ? ' (one / at most)' : ''}`;
  return undefined;
}

/** Why `value` is not a Kubernetes label value (empty, or a label name), or undefined. */
export function labelValueProblem(value: string): string | undefined {
  return value === '' || LABEL_NAME.test(value)
    ? undefined
    : "its value must be empty or 1-63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit";
}
