// DNS name syntax as the Rust proxy checks it (webpki's reference-id rules, underscores allowed), and suffix matching.

/**
 * True if `name` is a syntactically valid DNS name: ≤ 253 chars, dot-separated labels of 1–63
 * chars from [A-Za-z0-9_-], no label starting or ending with `-`, last label not all digits
 * (so IPv4 literals are rejected). One trailing dot (absolute name) is allowed.
 */
export function isValidDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const body = name.endsWith('.') ? name.slice(0, -1) : name;
  if (body.length === 0) return false;
  const labels = body.split('.');
  for (const label of labels) {
    if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label)) return false;
  }
  return !/^[0-9]+$/.test(labels[labels.length - 1] ?? '');
}

/**
 * True if `name` is `suffix` or ends with `.` + `suffix` (trailing dots ignored on both sides,
 * case-insensitive); the root suffix `.` contains every name.
 */
export function dnsSuffixContains(suffix: string, name: string): boolean {
  if (suffix === '.') return true;
  const n = name.toLowerCase().replace(/\.$/, '');
  const s = suffix.toLowerCase().replace(/\.$/, '');
  return n === s || n.endsWith(`.${s}`);
}

/** True if any suffix in the list contains `name`. */
export function dnsSuffixesContain(suffixes: readonly string[], name: string): boolean {
  return suffixes.some((s) => dnsSuffixContains(s, name));
}
