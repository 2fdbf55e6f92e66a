// Incremental, strict HTTP/1 head parsing shared by requests and responses (RFC 9112 §2–§5):
// accumulates split heads, validates every byte, records header offsets and kinds.
import { COLON, CR, FIELD_VALUE, HTAB, LF, ListCursor, SP, TOKEN, eqLower, skipOws, trimOwsEnd } from './chars.js';
import {
  FIELDS,
  HK_CONNECTION,
  HK_CONTENT_LENGTH,
  HK_EXPECT,
  HK_HOST,
  HK_HTTP2_SETTINGS,
  HK_KEEP_ALIVE,
  HK_OTHER,
  HK_PROXY_CONNECTION,
  HK_TE,
  HK_TRANSFER_ENCODING,
  HK_UPGRADE,
  isHopByHopKind,
  type Http1Head,
  type HttpVersion,
} from './head.js';

export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024;
/** hyper's limit, which the Rust proxy inherits. */
export const DEFAULT_MAX_HEADERS = 100;

export interface HeadLimits {
  /** Start line + headers + blank line; default 64 KiB. */
  readonly maxHeadBytes?: number;
  /** Default 100. */
  readonly maxHeaders?: number;
  /**
   * Lower-case header names in place in the received buffer, as hyper writes them (the
   * Rust proxy forwards `upgrade: x`, not `Upgrade: x`). Default false.
   */
  readonly lowercaseNames?: boolean;
}

export interface HeadIncomplete {
  readonly kind: 'incomplete';
}
export interface HeadError {
  readonly kind: 'error';
  /** 400/431 for requests (what to answer), 502 for responses. */
  readonly status: 400 | 431 | 502;
  readonly reason: string;
  /** The message's version when the start line was readable (a 400 mirrors it). */
  readonly version: HttpVersion | undefined;
}
export interface HeadComplete<H> {
  readonly kind: 'head';
  readonly head: H;
  /** How many bytes of the buffer passed to this feed() (from its offset) the head used. */
  readonly consumed: number;
}
export type HeadResult<H> = HeadIncomplete | HeadError | HeadComplete<H>;

const INCOMPLETE: HeadIncomplete = Object.freeze({ kind: 'incomplete' });
const NEED_MORE = -1;
const FAILED = -2;

/** Why a parse failed; `tooLarge` picks 431 over 400 for requests. */
interface Failure {
  reason: string;
  tooLarge: boolean;
}

/**
 * One parser per connection and direction, reused message after message. feed() may be called
 * with any split of the bytes; a head that arrives in one piece is parsed in place (no copy).
 */
export abstract class HeadParser<H extends Http1Head> {
  protected readonly maxHeadBytes: number;
  protected readonly maxHeaders: number;
  private readonly lowercase: boolean;
  private readonly offsets: Int32Array;
  protected readonly list = new ListCursor();
  protected head: H;
  private scratch: Buffer | undefined = undefined;
  private scratchLen = 0;
  /** Next line's start, relative to the message start (leading blank lines included). */
  private pos = 0;
  /** Bytes of blank lines skipped before the start line. */
  private lead = 0;
  private started = false;
  private count = 0;
  private failure: Failure | undefined = undefined;
  protected sawChunked = 0;
  protected chunkedLast = false;

  constructor(limits: HeadLimits) {
    this.maxHeadBytes = limits.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    this.maxHeaders = limits.maxHeaders ?? DEFAULT_MAX_HEADERS;
    this.lowercase = limits.lowercaseNames ?? false;
    this.offsets = new Int32Array(this.maxHeaders * FIELDS);
    this.head = this.newHead();
  }

  protected abstract newHead(): H;
  protected abstract errorStatus(tooLarge: boolean): 400 | 431 | 502;
  /** Parses the start line in buf[s, e) (CRLF excluded) into this.head. */
  protected abstract startLine(buf: Buffer, s: number, e: number): boolean;
  /** Whether blank lines before the start line are skipped (RFC 9112 §2.2, requests only). */
  protected abstract skipsLeadingBlankLines(): boolean;
  /** Message-level checks once all headers are in. */
  protected abstract finish(): boolean;
  /** Headers only one message kind cares about (Host, Expect, Upgrade). */
  protected abstract otherHeader(kind: number, buf: Buffer, vs: number, ve: number): boolean;

  /** True while part of a head has been received but not all of it. */
  get partial(): boolean {
    return this.scratch !== undefined;
  }

  /** Parses from buf[off...]; see HeadResult. After 'head' or 'error' the parser is ready for the next message. */
  feed(buf: Buffer, off = 0): HeadResult<H> {
    let data: Buffer;
    let base: number;
    let end: number;
    let prev: number;
    if (this.scratch === undefined) {
      if (off >= buf.length) return INCOMPLETE;
      data = buf;
      base = off;
      end = buf.length;
      prev = off;
    } else {
      prev = this.scratchLen;
      this.append(buf, off);
      data = this.scratch;
      base = 0;
      end = this.scratchLen;
    }
    const headEnd = this.parseLines(data, base, end);
    if (headEnd === NEED_MORE) {
      if (end - base > this.maxHeadBytes) return this.error('message head too large', true);
      if (this.scratch === undefined) this.toScratch(data, base, end);
      return INCOMPLETE;
    }
    if (headEnd === FAILED || !this.finish()) return this.error(this.failure?.reason ?? 'invalid message head', this.failure?.tooLarge ?? false);
    const origin = base + this.lead;
    const head = this.head;
    head.buf = data.subarray(origin, headEnd);
    head.fields = this.offsets.slice(0, this.count * FIELDS);
    head.headerCount = this.count;
    const consumed = headEnd - prev;
    this.reset();
    return { kind: 'head', head, consumed };
  }

  protected fail(reason: string, tooLarge = false): false {
    this.failure = { reason, tooLarge };
    return false;
  }

  private error(reason: string, tooLarge: boolean): HeadError {
    const version = this.started ? this.head.version : undefined;
    this.reset();
    return { kind: 'error', status: this.errorStatus(tooLarge), reason, version };
  }

  private reset(): void {
    this.scratch = undefined;
    this.scratchLen = 0;
    this.pos = 0;
    this.lead = 0;
    this.started = false;
    this.count = 0;
    this.failure = undefined;
    this.sawChunked = 0;
    this.chunkedLast = false;
    this.head = this.newHead();
  }

  /** A fresh buffer per split head: the previous one may still be queued in a socket write. */
  private toScratch(data: Buffer, base: number, end: number): void {
    const len = end - base;
    this.scratch = Buffer.allocUnsafe(Math.min(Math.max(1024, len * 2), this.maxHeadBytes + 1));
    data.copy(this.scratch, 0, base, end);
    this.scratchLen = len;
  }

  /** Appends up to what could still belong to a head within the limit (one byte more proves overflow). */
  private append(buf: Buffer, off: number): void {
    const want = Math.min(buf.length - off, this.maxHeadBytes + 1 - this.scratchLen);
    if (want <= 0) return;
    let s = this.scratch!;
    if (this.scratchLen + want > s.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(s.length * 2, this.scratchLen + want), this.maxHeadBytes + 1));
      s.copy(grown, 0, 0, this.scratchLen);
      s = this.scratch = grown;
    }
    buf.copy(s, this.scratchLen, off, off + want);
    this.scratchLen += want;
  }

  /** Returns the index just past the blank line, NEED_MORE, or FAILED. */
  private parseLines(data: Buffer, base: number, end: number): number {
    for (;;) {
      const ls = base + this.pos;
      const nl = data.indexOf(LF, ls);
      if (nl === -1 || nl >= end) return NEED_MORE;
      if (nl + 1 - base > this.maxHeadBytes) return this.failLine('message head too large', true);
      if (nl === ls || data[nl - 1] !== CR) return this.failLine('line not terminated by CRLF', false);
      const le = nl - 1;
      this.pos = nl + 1 - base;
      if (!this.started) {
        if (le === ls && this.skipsLeadingBlankLines()) {
          this.lead = this.pos;
          continue;
        }
        if (!this.startLine(data, ls, le)) return FAILED;
        this.started = true;
        this.head.startLineEnd = this.pos - this.lead;
        continue;
      }
      if (le === ls) return nl + 1;
      if (!this.headerLine(data, base + this.lead, ls, le)) return FAILED;
    }
  }

  private failLine(reason: string, tooLarge: boolean): number {
    this.fail(reason, tooLarge);
    return FAILED;
  }

  private headerLine(data: Buffer, origin: number, ls: number, le: number): boolean {
    const c0 = data[ls];
    if (c0 === SP || c0 === HTAB) return this.fail('obsolete line folding');
    let i = ls;
    const lower = this.lowercase;
    for (; i < le; i++) {
      const c = data[i]!;
      if (c === COLON) break;
      if (TOKEN[c] === 0) return this.fail(c === SP || c === HTAB ? 'whitespace in header name' : 'invalid header name');
      if (lower && c >= 0x41 && c <= 0x5a) data[i] = c | 0x20;
    }
    if (i === le) return this.fail('header line without a colon');
    if (i === ls) return this.fail('empty header name');
    const nameEnd = i;
    const vs = skipOws(data, i + 1, le);
    const ve = trimOwsEnd(data, vs, le);
    for (let j = vs; j < ve; j++) {
      if (FIELD_VALUE[data[j]!] === 0) return this.fail(data[j] === CR ? 'bare CR in header value' : 'invalid header value');
    }
    if (this.count >= this.maxHeaders) return this.fail('too many headers', true);
    const kind = classify(data, ls, nameEnd);
    const o = this.count * FIELDS;
    const f = this.offsets;
    f[o] = ls - origin;
    f[o + 1] = nameEnd - origin;
    f[o + 2] = vs - origin;
    f[o + 3] = ve - origin;
    f[o + 4] = le + 2 - origin;
    f[o + 5] = kind;
    this.count++;
    if (kind === HK_OTHER) return true;
    if (isHopByHopKind(kind)) this.head.hopByHop = true;
    return this.knownHeader(kind, data, vs, ve);
  }

  private knownHeader(kind: number, buf: Buffer, vs: number, ve: number): boolean {
    const head = this.head;
    switch (kind) {
      case HK_CONTENT_LENGTH:
        return this.contentLength(buf, vs, ve);
      case HK_TRANSFER_ENCODING: {
        head.hasTransferEncoding = true;
        const l = this.list.reset(buf, vs, ve);
        while (l.next()) {
          this.chunkedLast = eqLower(buf, l.start, l.end, 'chunked');
          if (this.chunkedLast) this.sawChunked++;
        }
        head.chunked = this.chunkedLast && this.sawChunked === 1;
        return true;
      }
      case HK_CONNECTION: {
        const l = this.list.reset(buf, vs, ve);
        while (l.next()) {
          if (eqLower(buf, l.start, l.end, 'close')) head.connectionClose = true;
          else if (eqLower(buf, l.start, l.end, 'keep-alive')) head.connectionKeepAlive = true;
          else if (eqLower(buf, l.start, l.end, 'upgrade')) head.connectionUpgrade = true;
          else (head.connectionNames ??= []).push(buf.toString('latin1', l.start, l.end).toLowerCase());
        }
        return true;
      }
      default:
        return this.otherHeader(kind, buf, vs, ve);
    }
  }

  /**
   * 1*DIGIT only. Repeats must agree; a comma list of equal values is accepted only where
   * `allowsContentLengthList` (responses, as hyper does); requests get no leeway.
   */
  private contentLength(buf: Buffer, vs: number, ve: number): boolean {
    const head = this.head;
    const l = this.list.reset(buf, vs, ve);
    let items = 0;
    while (l.next()) {
      items++;
      let n = 0;
      for (let i = l.start; i < l.end; i++) {
        const d = buf[i]! - 0x30;
        if (d < 0 || d > 9) return this.fail('invalid content-length');
        n = n * 10 + d;
        if (n > Number.MAX_SAFE_INTEGER) return this.fail('content-length too large');
      }
      if (head.hasContentLength) {
        if (!this.allowsContentLengthList()) return this.fail('duplicate content-length');
        if (n !== head.contentLength) return this.fail('conflicting content-length values');
      }
      head.hasContentLength = true;
      head.contentLength = n;
    }
    if (items === 0) return this.fail('empty content-length');
    return true;
  }

  protected abstract allowsContentLengthList(): boolean;
}

/** Kind of the (token-validated) name in buf[s, e). */
function classify(buf: Buffer, s: number, e: number): number {
  switch (e - s) {
    case 2:
      return eqLower(buf, s, e, 'te') ? HK_TE : HK_OTHER;
    case 4:
      return eqLower(buf, s, e, 'host') ? HK_HOST : HK_OTHER;
    case 6:
      return eqLower(buf, s, e, 'expect') ? HK_EXPECT : HK_OTHER;
    case 7:
      return eqLower(buf, s, e, 'upgrade') ? HK_UPGRADE : HK_OTHER;
    case 10:
      if (eqLower(buf, s, e, 'connection')) return HK_CONNECTION;
      return eqLower(buf, s, e, 'keep-alive') ? HK_KEEP_ALIVE : HK_OTHER;
    case 14:
      if (eqLower(buf, s, e, 'content-length')) return HK_CONTENT_LENGTH;
      return eqLower(buf, s, e, 'http2-settings') ? HK_HTTP2_SETTINGS : HK_OTHER;
    case 16:
      return eqLower(buf, s, e, 'proxy-connection') ? HK_PROXY_CONNECTION : HK_OTHER;
    case 17:
      return eqLower(buf, s, e, 'transfer-encoding') ? HK_TRANSFER_ENCODING : HK_OTHER;
    default:
      return HK_OTHER;
  }
}
