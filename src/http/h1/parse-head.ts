// Request and response head parsers (RFC 9112 §3, §4) with the smuggling defences of §6.
import { FIELD_VALUE, SCHEME, SP, TARGET, TOKEN, eqLower } from './chars.js';
import { HK_EXPECT, HK_HOST, HK_UPGRADE, RequestHead, ResponseHead, type TargetForm } from './head.js';
import { HeadParser, type HeadLimits } from './head-parser.js';

export type { HeadComplete, HeadError, HeadIncomplete, HeadLimits, HeadResult } from './head-parser.js';
export { DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS } from './head-parser.js';

/**
 * Parses request heads. Malformed ⇒ status 400, over the size or count limit ⇒ 431.
 *
 * Beyond RFC 9112 syntax it rejects what lets two parsers disagree on where a request ends
 * (RFC 9112 §6.1, §6.3, §11.2): Transfer-Encoding in HTTP/1.0, Transfer-Encoding whose final
 * coding is not a single `chunked`, Content-Length together with Transfer-Encoding, repeated
 * Content-Length (even equal), repeated Host; plus the §4.8 target-form rules (CONNECT needs
 * HTTP/1.1 and authority-form; authority-form needs CONNECT).
 *
 * hyper, which the Rust proxy uses, would instead let Transfer-Encoding win over
 * Content-Length and drop the latter when forwarding (hyper src/proto/h1/role.rs: the server's
 * parse skips CONTENT_LENGTH once `is_te`; the client's set_length removes it). RFC 9112 §6.1
 * allows either; as this proxy forwards the received bytes rather than re-encoding them,
 * rejecting is the choice that cannot forward an ambiguous message.
 */
export class RequestParser extends HeadParser<RequestHead> {
  constructor(limits: HeadLimits = {}) {
    super(limits);
  }

  protected newHead(): RequestHead {
    return new RequestHead();
  }

  protected errorStatus(tooLarge: boolean): 400 | 431 {
    return tooLarge ? 431 : 400;
  }

  protected skipsLeadingBlankLines(): boolean {
    return true;
  }

  protected allowsContentLengthList(): boolean {
    return false;
  }

  protected startLine(buf: Buffer, s: number, e: number): boolean {
    const head = this.head;
    let i = s;
    while (i < e && TOKEN[buf[i]!] === 1) i++;
    if (i === s || i >= e || buf[i] !== SP) return this.fail('invalid method');
    const methodEnd = i++;
    const ts = i;
    while (i < e && TARGET[buf[i]!] === 1) i++;
    if (i === ts || i >= e || buf[i] !== SP) return this.fail('invalid request-target');
    const te = i++;
    const version = httpVersion(buf, i, e);
    if (version === 0 || i + 8 !== e) return this.fail('unsupported HTTP version');
    head.version = version;
    head.method = methodName(buf, s, methodEnd);
    head.isConnect = head.method === 'CONNECT';
    head.isHead = head.method === 'HEAD';
    head.targetStart = ts - s;
    head.targetEnd = te - s;
    head.targetForm = targetForm(buf, ts, te);
    return true;
  }

  protected otherHeader(kind: number, buf: Buffer, vs: number, ve: number): boolean {
    const head = this.head;
    switch (kind) {
      case HK_HOST:
        // Two Hosts would let the router and the origin pick different authorities.
        if (head.host !== undefined) return this.fail('multiple host headers');
        head.host = buf.toString('latin1', vs, ve);
        return true;
      case HK_EXPECT:
        head.expectContinue = eqLower(buf, vs, ve, '100-continue');
        return true;
      case HK_UPGRADE: {
        const v = buf.toString('latin1', vs, ve);
        head.upgrade = head.upgrade === undefined ? v : `${head.upgrade}, ${v}`;
        return true;
      }
      default:
        return true;
    }
  }

  protected finish(): boolean {
    const h = this.head;
    if (h.hasTransferEncoding) {
      if (h.version === 10) return this.fail('transfer-encoding in an HTTP/1.0 request');
      if (h.hasContentLength) return this.fail('both content-length and transfer-encoding');
      if (!h.chunked) return this.fail('transfer-encoding does not end in a single chunked');
    }
    if (h.isConnect) {
      if (h.version !== 11) return this.fail('CONNECT requires HTTP/1.1');
      if (h.targetForm !== 'authority') return this.fail('CONNECT requires an authority-form target');
    } else if (h.targetForm === 'authority') {
      return this.fail('authority-form target without CONNECT');
    }
    h.keepAlive = !h.connectionClose && (h.version === 11 || h.connectionKeepAlive);
    if (h.upgrade === '') h.upgrade = undefined;
    if (h.upgrade !== undefined) h.h2cUpgrade = h.upgrade.trim().toLowerCase() === 'h2c';
    h.wantsUpgrade = h.isConnect || (h.version === 11 && h.upgrade !== undefined && !h.h2cUpgrade);
    return true;
  }
}

/** Parses response heads; every failure is the upstream's fault (status 502). */
export class ResponseParser extends HeadParser<ResponseHead> {
  constructor(limits: HeadLimits = {}) {
    super(limits);
  }

  protected newHead(): ResponseHead {
    return new ResponseHead();
  }

  protected errorStatus(): 502 {
    return 502;
  }

  protected skipsLeadingBlankLines(): boolean {
    return false;
  }

  protected allowsContentLengthList(): boolean {
    return true;
  }

  /** `HTTP/1.x SP 3DIGIT [SP reason-phrase]`; a missing reason (and its SP) is tolerated, as httparse does. */
  protected startLine(buf: Buffer, s: number, e: number): boolean {
    const version = httpVersion(buf, s, e);
    if (version === 0 || s + 12 > e || buf[s + 8] !== SP) return this.fail('invalid status line');
    let status = 0;
    for (let i = s + 9; i < s + 12; i++) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) return this.fail('invalid status code');
      status = status * 10 + d;
    }
    if (status < 100) return this.fail('invalid status code');
    if (s + 12 < e) {
      if (buf[s + 12] !== SP) return this.fail('invalid status line');
      for (let i = s + 13; i < e; i++) if (FIELD_VALUE[buf[i]!] === 0) return this.fail('invalid reason phrase');
    }
    this.head.version = version;
    this.head.status = status;
    return true;
  }

  protected otherHeader(): boolean {
    return true;
  }

  protected finish(): boolean {
    const h = this.head;
    h.keepAlive = !h.connectionClose && (h.version === 11 || h.connectionKeepAlive);
    return true;
  }
}

/** 11 or 10 for `HTTP/1.1` / `HTTP/1.0` at buf[i], else 0. */
function httpVersion(buf: Buffer, i: number, e: number): 0 | 10 | 11 {
  if (i + 8 > e) return 0;
  if (buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50) return 0;
  if (buf[i + 4] !== 0x2f || buf[i + 5] !== 0x31 || buf[i + 6] !== 0x2e) return 0;
  const minor = buf[i + 7];
  return minor === 0x31 ? 11 : minor === 0x30 ? 10 : 0;
}

function targetForm(buf: Buffer, s: number, e: number): TargetForm {
  const c = buf[s];
  if (c === 0x2f) return 'origin';
  if (c === 0x2a && e - s === 1) return 'asterisk';
  return isAbsolute(buf, s, e) ? 'absolute' : 'authority';
}

/** scheme "://" … (RFC 3986 §3); `http::Uri` too requires an authority after a scheme. */
function isAbsolute(buf: Buffer, s: number, e: number): boolean {
  const c = buf[s]! | 0x20;
  if (c < 0x61 || c > 0x7a) return false;
  let i = s + 1;
  while (i < e && SCHEME[buf[i]!] === 1) i++;
  return i + 3 <= e && buf[i] === 0x3a && buf[i + 1] === 0x2f && buf[i + 2] === 0x2f;
}

const METHODS = ['GET', 'PUT', 'POST', 'HEAD', 'PATCH', 'TRACE', 'DELETE', 'OPTIONS', 'CONNECT'];

/** The method, as a shared string constant for the standard ones (methods are case-sensitive). */
function methodName(buf: Buffer, s: number, e: number): string {
  const len = e - s;
  for (const m of METHODS) {
    if (m.length !== len) continue;
    let same = true;
    for (let i = 0; i < len; i++) {
      if (buf[s + i] !== m.charCodeAt(i)) {
        same = false;
        break;
      }
    }
    if (same) return m;
  }
  return buf.toString('latin1', s, e);
}
