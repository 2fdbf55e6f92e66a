// HTTP protocol detection (spec §3.2): one read of up to 1024 bytes, classified, then put back on the stream.
import type net from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';

/** The most detection reads; a longer first read is still classified on its first 1024 bytes. */
export const HTTP_DETECT_CAPACITY = 1024;
/** `GET / HTTP/1.1` is the shortest request line worth calling HTTP/1. */
const MIN_HTTP_BYTES = 14;
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0', 'latin1');

export type HttpDetectKind =
  /** The HTTP/2 connection preface (prior knowledge). */
  | 'h2'
  | 'http1'
  /** Not HTTP (including any first read shorter than 14 bytes). */
  | 'opaque'
  /** The peer closed before sending a byte ("socket closed before protocol detection"). */
  | 'eof'
  /** Nothing arrived in time; inbound assumes HTTP/1 on Http1 servers, else forwards opaquely. */
  | 'timeout'
  /** The stream errored or was destroyed while detecting. */
  | 'closed';

export interface HttpDetected {
  readonly kind: HttpDetectKind;
  /**
   * What the read returned. The bytes are already back at the front of the stream, so the next
   * reader (the HTTP/1 engine, the HTTP/2 server, an opaque pipe) sees them first; this copy is
   * only for looking at. Never feed it to the stream again.
   */
  readonly buffered: Buffer;
  /** The peer half-closed; its EOF is queued behind `buffered`. */
  readonly peerEnded: boolean;
}

export interface DetectHttpOptions {
  readonly timeoutMs: number;
  readonly clock?: Clock;
}

const EMPTY = Buffer.alloc(0);

/**
 * Reads once from `stream` (not flowing, nothing read yet) and classifies the bytes. Node has no
 * MSG_PEEK: the bytes are read and unshifted back in the same tick, before the stream can emit a
 * FIN that arrived with them, so the stream looks as if it had only been peeked. Never rejects.
 */
export function detectHttp(stream: net.Socket, opts: DetectHttpOptions): Promise<HttpDetected> {
  return new Promise((resolve) => {
    new HttpDetection(stream, opts.clock ?? systemClock, opts.timeoutMs, resolve).start();
  });
}

class HttpDetection {
  private cancelTimer: () => void = noop;
  private done = false;

  constructor(
    private readonly stream: net.Socket,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly resolve: (d: HttpDetected) => void,
  ) {}

  start(): void {
    const s = this.stream;
    if (s.destroyed) return this.finish('closed', EMPTY);
    this.cancelTimer = this.clock.setTimer(this.timeoutMs, this.onTimeout);
    s.on('readable', this.onReadable);
    s.on('end', this.onEnd);
    s.on('error', this.onError);
    s.on('close', this.onClose);
    // Bytes may already be buffered (e.g. after TLS detection put them back).
    if (s.readableLength > 0) this.onReadable();
  }

  private readonly onReadable = (): void => {
    if (this.done) return;
    const s = this.stream;
    const available = s.readableLength;
    if (available === 0) {
      if (readSideEnded(s)) this.finish('eof', EMPTY);
      return;
    }
    // An exact, available length never makes the stream schedule its 'end'.
    const chunk = s.read(Math.min(available, HTTP_DETECT_CAPACITY)) as Buffer | null;
    if (chunk === null) return;
    this.finish(classifyHttp(chunk), chunk);
  };

  private readonly onEnd = (): void => this.finish('eof', EMPTY);
  private readonly onTimeout = (): void => this.finish('timeout', EMPTY);
  private readonly onError = (): void => this.finish('closed', EMPTY);
  private readonly onClose = (): void => this.finish('closed', EMPTY);

  private finish(kind: HttpDetectKind, bytes: Buffer): void {
    if (this.done) return;
    this.done = true;
    this.cancelTimer();
    const s = this.stream;
    s.off('readable', this.onReadable);
    s.off('end', this.onEnd);
    s.off('error', this.onError);
    s.off('close', this.onClose);
    const peerEnded = readSideEnded(s);
    if (bytes.length > 0 && !s.destroyed) s.unshift(bytes);
    this.resolve({ kind, buffered: bytes, peerEnded });
  }
}

/** What the inbound side serves after detection (spec §3.2, §3.3); 'close' = drop the connection. */
export type InboundDetectDecision = 'http1' | 'h2' | 'opaque' | 'close';

/**
 * The inbound reading of a detection result: a timeout assumes HTTP/1 when the port's server
 * protocol is `http1` (a TLS peer that may speak HTTP/2), else forwards opaquely; a peer that
 * closed or broke before sending anything is dropped.
 */
export function inboundDetectDecision(kind: HttpDetectKind, protocol: string): InboundDetectDecision {
  switch (kind) {
    case 'h2':
    case 'http1':
    case 'opaque':
      return kind;
    case 'timeout':
      return protocol === 'http1' ? 'http1' : 'opaque';
    case 'eof':
    case 'closed':
      return 'close';
  }
}

/** Classifies the first bytes of a connection (exported for tests and the outbound side). */
export function classifyHttp(buf: Buffer): 'h2' | 'http1' | 'opaque' {
  if (buf.length < MIN_HTTP_BYTES) return 'opaque';
  if (buf.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) return 'h2';
  return looksLikeHttp1Request(buf) ? 'http1' : 'opaque';
}

// Parser states.
const METHOD = 0;
const TARGET = 1;
const VERSION = 2;
const LINE_LF = 3;
const HEADER_START = 4;
const NAME = 5;
const VALUE = 6;
const HEADER_LF = 7;

const HTTP_1_DOT = Buffer.from('HTTP/1.', 'latin1');

/**
 * A request line and first header that are valid as far as they go, as upstream's detector
 * decides it: `httparse` with no header slots accepts leading blank lines, a token method, a target
 * of visible bytes, `HTTP/1.0` or `HTTP/1.1`, and validates the first header line whole before it
 * runs out of slots ("too many headers", which upstream counts as HTTP/1). Nothing after the first
 * header is looked at, so a head with a malformed later header is HTTP/1 (and then answered 400).
 * Stopping anywhere valid counts as HTTP/1, and so does an empty header section.
 */
export function looksLikeHttp1Request(buf: Buffer): boolean {
  let i = 0;
  // Leading empty lines are skipped (RFC 9112 §2.2).
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) {
    if (buf[i] === 0x0d && i + 1 < buf.length && buf[i + 1] !== 0x0a) return false;
    i++;
  }
  let state = METHOD;
  let start = i;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    switch (state) {
      case METHOD:
        if (c === 0x20) {
          if (i === start) return false;
          state = TARGET;
          start = i + 1;
        } else if (!isToken(c)) return false;
        break;
      case TARGET:
        if (c === 0x20) {
          if (i === start) return false;
          state = VERSION;
          start = i + 1;
        } else if (c < 0x21 || c === 0x7f) return false;
        break;
      case VERSION: {
        const at = i - start;
        if (at < HTTP_1_DOT.length) {
          if (c !== HTTP_1_DOT[at]) return false;
        } else if (at === HTTP_1_DOT.length) {
          if (c !== 0x30 && c !== 0x31) return false;
        } else if (c === 0x0d) state = LINE_LF;
        else if (c === 0x0a) state = HEADER_START;
        else return false;
        break;
      }
      case LINE_LF:
      case HEADER_LF:
        if (c !== 0x0a) return false;
        if (state === HEADER_LF) return true;
        state = HEADER_START;
        break;
      case HEADER_START:
        if (c === 0x0d || c === 0x0a) return true;
        if (!isToken(c)) return false;
        state = NAME;
        break;
      case NAME:
        if (c === 0x3a) state = VALUE;
        else if (!isToken(c)) return false;
        break;
      case VALUE:
        if (c === 0x0d) state = HEADER_LF;
        else if (c === 0x0a) return true;
        else if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
        break;
    }
  }
  return true;
}

/** RFC 9110 tchar. */
const TCHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  TCHAR[c] = alnum || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)) ? 1 : 0;
}

function isToken(c: number): boolean {
  return TCHAR[c] === 1;
}

/**
 * Whether the peer's EOF has reached the stream, even if 'end' has not been emitted yet (see
 * src/tls/detect.ts: only `_readableState.ended` says so early enough to unshift in front of it).
 */
function readSideEnded(s: net.Socket): boolean {
  const state = (s as unknown as { _readableState?: { ended?: unknown } })._readableState;
  return state?.ended === true || s.readableEnded;
}

function noop(): void {}
