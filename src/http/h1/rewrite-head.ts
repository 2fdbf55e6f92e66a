// Outgoing head bytes: the received head minus hop-by-hop headers, plus the proxy's own edits.
// When nothing needs changing the received bytes are reused as they are.
import { FIELD_VALUE, TOKEN, eqLower } from './chars.js';
import {
  FIELDS,
  HK_CONTENT_LENGTH,
  HK_HOST,
  HK_TRANSFER_ENCODING,
  isHopByHopKind,
  type Http1Head,
} from './head.js';

export interface HeadEdits {
  /** Lower-case names of headers to drop (e.g. a client-supplied `l5d-client-id`). */
  readonly remove?: readonly string[];
  /** Headers to set: any received ones of the same name are dropped, these are appended. Names lower-case. */
  readonly set?: readonly (readonly [name: string, value: string])[];
}

export interface RewriteOptions {
  /**
   * Forward Connection, Upgrade and the rest unchanged: a real upgrade (or CONNECT) is under
   * way, and like the Rust proxy the headers that make it one are kept.
   */
  readonly keepHopByHop?: boolean;
  readonly dropContentLength?: boolean;
  readonly dropTransferEncoding?: boolean;
  /** Write a response's status line as HTTP/1.0 (the client speaks 1.0, as hyper does). */
  readonly asHttp10?: boolean;
  /** Append `connection: <value>` (after the received one, if any, was stripped). */
  readonly connection?: 'close' | 'keep-alive' | undefined;
  /** Append `date: <value>` when the head has no Date (hyper's server adds one to responses). */
  readonly date?: string | undefined;
  readonly edits?: HeadEdits | undefined;
}

/**
 * Returns the head to send: `head.buf` itself (same object) when no header has to go and none
 * is added, else a new Buffer. Stripped unless keepHopByHop: Connection and every header it
 * names, Keep-Alive, Proxy-Connection, Upgrade, HTTP2-Settings (RFC 9110 §7.6.1; the Rust
 * proxy's strip_connection_headers; `Upgrade: h2c` is never honoured). TE is end-to-end for
 * HTTP/1 here, as in the Rust proxy. Framing headers and Host named in Connection are kept:
 * dropping them would change where the forwarded message ends or whom it is for.
 *
 * Throws TypeError for an edit whose name is not a token or whose value has control bytes.
 */
export function rewriteHead(head: Http1Head, opts: RewriteOptions): Buffer {
  const stripHop = head.hopByHop && opts.keepHopByHop !== true;
  const dropCl = opts.dropContentLength === true && head.hasContentLength;
  const dropTe = opts.dropTransferEncoding === true && head.hasTransferEncoding;
  const asHttp10 = opts.asHttp10 === true && head.version === 11;
  const removes = opts.edits?.remove;
  const sets = opts.edits?.set;
  let editHit = sets !== undefined && sets.length > 0;
  if (!editHit && removes !== undefined) {
    for (const name of removes) if (head.indexOfHeader(name) !== -1) editHit = true;
  }
  const addDate = opts.date !== undefined && head.indexOfHeader('date') === -1;
  if (!stripHop && !dropCl && !dropTe && !asHttp10 && !editHit && opts.connection === undefined && !addDate) return head.buf;

  const buf = head.buf;
  const f = head.fields;
  const named = stripHop ? head.connectionNames : undefined;
  const drop = dropScratch(head.headerCount);
  let size = buf.length;
  for (let i = 0; i < head.headerCount; i++) {
    const o = i * FIELDS;
    const kind = f[o + 5]!;
    const ns = f[o]!;
    const ne = f[o + 1]!;
    let d =
      (stripHop && isHopByHopKind(kind)) ||
      (dropCl && kind === HK_CONTENT_LENGTH) ||
      (dropTe && kind === HK_TRANSFER_ENCODING);
    if (!d && named !== undefined && kind !== HK_CONTENT_LENGTH && kind !== HK_TRANSFER_ENCODING && kind !== HK_HOST) {
      d = matchesAny(buf, ns, ne, named);
    }
    if (!d && removes !== undefined) d = matchesAny(buf, ns, ne, removes);
    if (!d && sets !== undefined) d = matchesAnySet(buf, ns, ne, sets);
    drop[i] = d ? 1 : 0;
    if (d) size -= f[o + 4]! - ns;
  }
  let added = '';
  if (sets !== undefined) {
    for (const [name, value] of sets) added += `${checkName(name)}: ${checkValue(value)}\r\n`;
  }
  if (opts.connection !== undefined) added += `connection: ${opts.connection}\r\n`;
  if (addDate) added += `date: ${opts.date}\r\n`;
  size += added.length;

  const out = Buffer.allocUnsafe(size);
  let w = buf.copy(out, 0, 0, head.startLineEnd);
  if (asHttp10) out[7] = 0x30;
  let run = head.startLineEnd;
  for (let i = 0; i < head.headerCount; i++) {
    if (drop[i] === 0) continue;
    const o = i * FIELDS;
    w += buf.copy(out, w, run, f[o]);
    run = f[o + 4]!;
  }
  w += buf.copy(out, w, run, buf.length - 2);
  w += out.write(added, w, 'latin1');
  out[w] = 0x0d;
  out[w + 1] = 0x0a;
  return out;
}

let scratch = new Uint8Array(128);

function dropScratch(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(n);
  return scratch;
}

function matchesAny(buf: Buffer, s: number, e: number, names: readonly string[]): boolean {
  for (const n of names) if (eqLower(buf, s, e, n)) return true;
  return false;
}

function matchesAnySet(buf: Buffer, s: number, e: number, sets: readonly (readonly [string, string])[]): boolean {
  for (const [n] of sets) if (eqLower(buf, s, e, n)) return true;
  return false;
}

function checkName(name: string): string {
  if (name.length === 0) throw new TypeError('empty header name');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  }
  return name;
}

function checkValue(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) throw new TypeError(`invalid header value ${JSON.stringify(value)}`);
  }
  return value;
}
