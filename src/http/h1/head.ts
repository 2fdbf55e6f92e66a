// Parsed HTTP/1 message heads: offsets into the received bytes plus the few values that framing,
// routing and policy need. Nothing else is turned into strings unless asked for.
import { eqLower } from './chars.js';

/** Header kinds recorded per field, so later passes never compare names again. */
export const HK_OTHER = 0;
export const HK_CONTENT_LENGTH = 1;
export const HK_TRANSFER_ENCODING = 2;
export const HK_CONNECTION = 3;
export const HK_KEEP_ALIVE = 4;
export const HK_PROXY_CONNECTION = 5;
export const HK_UPGRADE = 6;
export const HK_HTTP2_SETTINGS = 7;
export const HK_HOST = 8;
export const HK_EXPECT = 9;
export const HK_TE = 10;

/** Connection-level headers (RFC 9110 §7.6.1) that a proxy strips unless an upgrade is under way. */
export function isHopByHopKind(kind: number): boolean {
  return kind >= HK_CONNECTION && kind <= HK_HTTP2_SETTINGS;
}

/**
 * Numbers stored per header in `Http1Head.fields`: name start, name end, value start, value end
 * (optional whitespace trimmed), line end (just past its CRLF), kind. Offsets index `buf`.
 */
export const FIELDS = 6;

export type HttpVersion = 10 | 11;

export abstract class Http1Head {
  /** The head's bytes: start line, header lines and the final blank line. */
  buf: Buffer = EMPTY;
  version: HttpVersion = 11;
  fields: Int32Array = NO_FIELDS;
  headerCount = 0;
  /** Offset just past the start line's CRLF, where the first header line begins. */
  startLineEnd = 0;
  /** The Content-Length value, or -1 when there is none. */
  contentLength = -1;
  hasContentLength = false;
  hasTransferEncoding = false;
  /** Transfer-Encoding is present and its final coding is chunked. */
  chunked = false;
  connectionClose = false;
  connectionKeepAlive = false;
  connectionUpgrade = false;
  /** Lower-cased names listed in Connection other than close / keep-alive / upgrade. */
  connectionNames: string[] | undefined = undefined;
  /** Some header that a proxy must not forward as-is is present (see isHopByHopKind). */
  hopByHop = false;
  /** The sender's keep-alive intent (version default adjusted by Connection). */
  keepAlive = true;

  /** All values of the named header joined with ", " (RFC 9110 §5.3), or undefined. */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    let out: string | undefined;
    const f = this.fields;
    for (let i = 0; i < this.headerCount; i++) {
      const o = i * FIELDS;
      if (!eqLower(this.buf, f[o]!, f[o + 1]!, lower)) continue;
      const v = this.buf.toString('latin1', f[o + 2], f[o + 3]);
      out = out === undefined ? v : `${out}, ${v}`;
    }
    return out;
  }

  /** Each value of the named header, in order (for fields like Set-Cookie that must not be joined). */
  headerValues(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    const f = this.fields;
    for (let i = 0; i < this.headerCount; i++) {
      const o = i * FIELDS;
      if (eqLower(this.buf, f[o]!, f[o + 1]!, lower)) out.push(this.buf.toString('latin1', f[o + 2], f[o + 3]));
    }
    return out;
  }

  hasHeader(name: string): boolean {
    return this.indexOfHeader(name.toLowerCase()) !== -1;
  }

  /** Index of the first header named `lower` (lower-case), or -1. */
  indexOfHeader(lower: string, from = 0): number {
    const f = this.fields;
    for (let i = from; i < this.headerCount; i++) {
      if (eqLower(this.buf, f[i * FIELDS]!, f[i * FIELDS + 1]!, lower)) return i;
    }
    return -1;
  }

  /** Every header as [lower-case name, value], in order (e.g. to translate to HTTP/2). */
  headerEntries(): [string, string][] {
    const out: [string, string][] = [];
    const f = this.fields;
    for (let i = 0; i < this.headerCount; i++) {
      const o = i * FIELDS;
      out.push([
        this.buf.toString('latin1', f[o], f[o + 1]).toLowerCase(),
        this.buf.toString('latin1', f[o + 2], f[o + 3]),
      ]);
    }
    return out;
  }
}

export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

export class RequestHead extends Http1Head {
  method = '';
  targetStart = 0;
  targetEnd = 0;
  targetForm: TargetForm = 'origin';
  isConnect = false;
  isHead = false;
  /** The Host value ('' when present but empty), undefined when absent. */
  host: string | undefined = undefined;
  /** Expect: 100-continue was sent. */
  expectContinue = false;
  /** The Upgrade value, if any. */
  upgrade: string | undefined = undefined;
  /** Upgrade: h2c, which is never honoured: the request is served as plain HTTP/1.1. */
  h2cUpgrade = false;
  /**
   * An HTTP/1.1 upgrade (Upgrade other than h2c) or CONNECT: connection headers are kept and a
   * 101 (2xx for CONNECT) response turns the connection into a tunnel.
   */
  wantsUpgrade = false;
  private targetString: string | undefined = undefined;

  /** The request-target exactly as received (path and query for origin-form). */
  get target(): string {
    this.targetString ??= this.buf.toString('latin1', this.targetStart, this.targetEnd);
    return this.targetString;
  }

  /** A non-empty Host header was sent (requests without one use one-off connections). */
  get hasHost(): boolean {
    return this.host !== undefined && this.host !== '';
  }
}

export class ResponseHead extends Http1Head {
  status = 0;
}

const EMPTY = Buffer.alloc(0);
const NO_FIELDS = new Int32Array(0);
