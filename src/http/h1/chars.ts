// Byte classes for HTTP/1 parsing (RFC 9110 §5.6.2 tokens, §5.5 field values) and ASCII helpers.

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const isAlnum = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** tchar: the characters of a method or a field name. */
export const TOKEN = table((c) => isAlnum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/**
 * field-vchar / SP / HTAB / obs-text. Everything else (NUL, CR, LF, other controls, DEL) is
 * rejected rather than replaced: a bare CR is a classic smuggling vector.
 */
export const FIELD_VALUE = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/** Visible ASCII: the only bytes a request-target may carry (no spaces, controls or raw UTF-8). */
export const TARGET = table((c) => c > 0x20 && c < 0x7f);

/** Characters allowed after the first letter of a URI scheme (RFC 3986 §3.1). */
export const SCHEME = table((c) => isAlnum(c) || c === 0x2b || c === 0x2d || c === 0x2e);

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

/** ASCII lower-casing of one byte (A-Z only). */
export const LOWER = new Uint8Array(256).map((_, c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));

/** True when buf[start, end) equals `lower` (already lower-case) ignoring ASCII case. */
export function eqLower(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (LOWER[buf[start + i]!] !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The bytes as a lower-case latin1 string. */
export function lowerString(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end).toLowerCase();
}

/** Index of the first byte at or after `from` that is not SP/HTAB, bounded by `end`. */
export function skipOws(buf: Buffer, from: number, end: number): number {
  while (from < end && (buf[from] === SP || buf[from] === HTAB)) from++;
  return from;
}

/** Index just past the last byte before `end` that is not SP/HTAB, bounded below by `from`. */
export function trimOwsEnd(buf: Buffer, from: number, end: number): number {
  while (end > from && (buf[end - 1] === SP || buf[end - 1] === HTAB)) end--;
  return end;
}

/**
 * Walks the elements of a comma-separated list (RFC 9110 §5.6.1) without allocating: after
 * reset(), each next() that returns true leaves the element's trimmed bounds in start/end.
 * Empty elements are skipped. One cursor is reused by its owner.
 */
export class ListCursor {
  start = 0;
  end = 0;
  private pos = 0;
  private limit = 0;
  private buf: Buffer | undefined;

  reset(buf: Buffer, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.limit = end;
    return this;
  }

  next(): boolean {
    const buf = this.buf;
    if (buf === undefined) return false;
    while (this.pos <= this.limit) {
      let j = this.pos;
      while (j < this.limit && buf[j] !== 0x2c) j++;
      const s = skipOws(buf, this.pos, j);
      const e = trimOwsEnd(buf, s, j);
      this.pos = j + 1;
      if (e > s) {
        this.start = s;
        this.end = e;
        return true;
      }
    }
    this.buf = undefined;
    return false;
  }
}
