// DNS reference-name syntax as the proxy accepts it for SNI values and DNS identities (pure).

const MAX_NAME = 253;
const MAX_LABEL = 63;

/**
 * True when `name` is a syntactically valid DNS name per RFC 5280 §7.2 with underscores
 * allowed (the webpki rule the Rust proxy uses): ASCII letters, digits, `-` and `_`; labels
 * of 1..63 bytes that neither start nor end with `-`; at most 253 bytes; the last label not
 * all-numeric (so IPv4 literals are rejected). One trailing dot is allowed.
 */
export function isValidDnsName(name: string): boolean {
  const n = name.length;
  if (n === 0 || n > MAX_NAME) return false;
  let labelLength = 0;
  let labelAllNumeric = false;
  let labelEndsWithHyphen = false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (labelLength === 0 || labelEndsWithHyphen) return false;
      labelLength = 0;
      continue;
    }
    if (c === 0x2d /* - */) {
      if (labelLength === 0) return false;
      labelAllNumeric = false;
      labelEndsWithHyphen = true;
    } else if (c >= 0x30 && c <= 0x39) {
      if (labelLength === 0) labelAllNumeric = true;
      labelEndsWithHyphen = false;
    } else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f) {
      labelAllNumeric = false;
      labelEndsWithHyphen = false;
    } else {
      return false;
    }
    labelLength += 1;
    if (labelLength > MAX_LABEL) return false;
  }
  // A trailing dot leaves labelLength at 0; the flags still describe the last real label.
  return !labelEndsWithHyphen && !labelAllNumeric;
}

