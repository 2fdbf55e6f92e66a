// Body framing state machines: they find where a message ends without copying or re-encoding
// its bytes, so the forwarder can write buf.subarray(...) slices straight to the other socket.
import { CR, FIELD_VALUE, HTAB, LF, SP } from './chars.js';

export interface BodyDecoder {
  /**
   * Scans buf[start, end) and returns how many of those bytes belong to the body (the rest
   * belong to whatever follows the message), or -1 when the framing is invalid (see `error`).
   * Allocates nothing.
   */
  feed(buf: Buffer, start: number, end: number): number;
  /** The whole body has been seen. */
  readonly done: boolean;
  readonly error: string | undefined;
}

/** Content-Length framing. */
export class LengthDecoder implements BodyDecoder {
  done = true;
  error: string | undefined = undefined;
  /** Payload bytes seen since reset(). */
  dataBytes = 0;
  private remaining = 0;

  reset(length: number): this {
    this.remaining = length;
    this.done = length === 0;
    this.dataBytes = 0;
    return this;
  }

  feed(_buf: Buffer, start: number, end: number): number {
    const n = Math.min(this.remaining, end - start);
    this.remaining -= n;
    this.dataBytes += n;
    if (this.remaining === 0) this.done = true;
    return n;
  }
}

/** Responses delimited by the connection closing; the forwarder calls end() on EOF. */
export class EofDecoder implements BodyDecoder {
  done = false;
  error: string | undefined = undefined;

  reset(): this {
    this.done = false;
    return this;
  }

  feed(_buf: Buffer, start: number, end: number): number {
    return end - start;
  }

  end(): void {
    this.done = true;
  }
}

// Chunked states.
const SIZE_START = 0;
const SIZE = 1;
const SIZE_WS = 2;
const EXT = 3;
const SIZE_LF = 4;
const DATA = 5;
const DATA_CR = 6;
const DATA_LF = 7;
const TRAILER_START = 8;
const TRAILER = 9;
const TRAILER_LF = 10;
const FINAL_LF = 11;
const DONE = 12;

/** hyper's cap on chunk extensions per body, against extension floods. */
export const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;
export const MAX_TRAILER_BYTES = 64 * 1024;

const MAX_SIZE_BEFORE_DIGIT = Math.floor((Number.MAX_SAFE_INTEGER - 15) / 16);

/**
 * Chunked framing (RFC 9112 §7.1): chunk-size lines with optional extensions, data, the last
 * chunk and trailer lines. Strict: CRLF everywhere, hex sizes without overflow, no control
 * bytes in extensions or trailers, no folded trailer lines.
 *
 * feed() passes the bytes through untouched. feedRun() serves a client that cannot take
 * chunked (HTTP/1.0): it returns one homogeneous run at a time and `runIsData` says whether
 * those bytes are payload (to write) or framing (to drop).
 */
export class ChunkedDecoder implements BodyDecoder {
  done = false;
  error: string | undefined = undefined;
  runIsData = false;
  /** Chunk payload bytes seen since reset() (framing, extensions and trailers excluded). */
  dataBytes = 0;
  private state = SIZE_START;
  private size = 0;
  private extBytes = 0;
  private trailerBytes = 0;

  reset(): this {
    this.done = false;
    this.error = undefined;
    this.state = SIZE_START;
    this.size = 0;
    this.extBytes = 0;
    this.trailerBytes = 0;
    this.dataBytes = 0;
    return this;
  }

  feed(buf: Buffer, start: number, end: number): number {
    return this.scan(buf, start, end, false);
  }

  feedRun(buf: Buffer, start: number, end: number): number {
    return this.scan(buf, start, end, true);
  }

  private fail(reason: string): number {
    this.error = reason;
    this.state = DONE;
    return -1;
  }

  private scan(buf: Buffer, start: number, end: number, runs: boolean): number {
    if (this.done) return 0;
    let i = start;
    if (runs) this.runIsData = this.state === DATA;
    while (i < end) {
      const state = this.state;
      if (state === DATA) {
        if (runs && !this.runIsData) break;
        const n = Math.min(this.size, end - i);
        i += n;
        this.size -= n;
        this.dataBytes += n;
        if (this.size === 0) this.state = DATA_CR;
        if (runs) break;
        continue;
      }
      const c = buf[i]!;
      switch (state) {
        case SIZE_START:
        case SIZE: {
          const d = hexValue(c);
          if (d >= 0) {
            if (this.size > MAX_SIZE_BEFORE_DIGIT) return this.fail('chunk size too large');
            this.size = this.size * 16 + d;
            this.state = SIZE;
          } else if (state === SIZE_START) {
            return this.fail('invalid chunk size');
          } else if (c === SP || c === HTAB) {
            this.state = SIZE_WS;
          } else if (c === 0x3b) {
            this.state = EXT;
          } else if (c === CR) {
            this.state = SIZE_LF;
          } else {
            return this.fail('invalid chunk size');
          }
          break;
        }
        case SIZE_WS:
          if (c === 0x3b) this.state = EXT;
          else if (c === CR) this.state = SIZE_LF;
          else if (c !== SP && c !== HTAB) return this.fail('invalid chunk size line');
          break;
        case EXT:
          if (c === CR) this.state = SIZE_LF;
          else if (FIELD_VALUE[c] === 0) return this.fail('invalid chunk extension');
          else if (++this.extBytes > MAX_CHUNK_EXTENSION_BYTES) return this.fail('chunk extensions too large');
          break;
        case SIZE_LF:
          if (c !== LF) return this.fail('chunk size line not terminated by CRLF');
          this.state = this.size === 0 ? TRAILER_START : DATA;
          if (runs && this.size > 0) return i + 1 - start;
          break;
        case DATA_CR:
          if (c !== CR) return this.fail('chunk data not followed by CRLF');
          this.state = DATA_LF;
          break;
        case DATA_LF:
          if (c !== LF) return this.fail('chunk data not followed by CRLF');
          this.state = SIZE_START;
          break;
        case TRAILER_START:
          if (c === CR) this.state = FINAL_LF;
          else if (c === SP || c === HTAB) return this.fail('folded trailer line');
          else if (FIELD_VALUE[c] === 0) return this.fail('invalid trailer');
          else this.state = TRAILER;
          if (++this.trailerBytes > MAX_TRAILER_BYTES) return this.fail('trailers too large');
          break;
        case TRAILER:
          if (c === CR) this.state = TRAILER_LF;
          else if (FIELD_VALUE[c] === 0) return this.fail('invalid trailer');
          if (++this.trailerBytes > MAX_TRAILER_BYTES) return this.fail('trailers too large');
          break;
        case TRAILER_LF:
          if (c !== LF) return this.fail('trailer line not terminated by CRLF');
          this.state = TRAILER_START;
          break;
        case FINAL_LF:
          if (c !== LF) return this.fail('chunked body not terminated by CRLF');
          this.state = DONE;
          this.done = true;
          return i + 1 - start;
        default:
          return this.fail('invalid chunked decoder state');
      }
      i++;
    }
    return i - start;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
