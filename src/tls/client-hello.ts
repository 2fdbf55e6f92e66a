// Reads the first TLS record of a connection: is it a ClientHello, and which SNI and ALPN does it offer (pure).
import { isValidDnsName } from './dns-name.js';

export type ClientHelloResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'not-tls' }
  | {
      readonly kind: 'client-hello';
      /** Lower-cased; undefined when absent or not a valid DNS name (the proxy then treats it as "no SNI"). */
      readonly sni: string | undefined;
      /** Protocols offered in the ALPN extension, in the client's order. */
      readonly alpn: readonly string[];
    };

/** Longer vectors mean this is not a ClientHello a mesh proxy would send (spec §3.1). */
export const MAX_TLS_VECTOR = 8192;

const INCOMPLETE: ClientHelloResult = Object.freeze({ kind: 'incomplete' });
const NOT_TLS: ClientHelloResult = Object.freeze({ kind: 'not-tls' });
const NO_ALPN: readonly string[] = Object.freeze([]);

const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const RANDOM_LENGTH = 32;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const NAME_TYPE_HOST = 0;

/** Marks a server_name extension whose inner vectors do not fit. */
const MALFORMED = Symbol('malformed');

/**
 * Classifies the bytes a client sent first. `incomplete` until the whole first record is
 * available (a prefix that already contradicts a ClientHello is `not-tls` at once); never
 * reads outside `input` and never throws.
 *
 * The ClientHello must sit in one record (every real client does this). A vector that
 * overruns its enclosing, fully received vector is malformed and so `not-tls`; the Rust
 * proxy keeps reading in that case until EOF or its buffer fills, with the same outcome
 * ("no SNI"). Extensions after server_name that are malformed end the scan without
 * discarding the SNI, as the Rust proxy stops reading at the SNI.
 */
export function parseClientHello(input: Uint8Array): ClientHelloResult {
  const n = input.length;
  if (n < 1) return INCOMPLETE;
  if (input[0] !== CONTENT_TYPE_HANDSHAKE) return NOT_TLS;
  if (n < 2) return INCOMPLETE;
  if (input[1] !== 3) return NOT_TLS;
  if (n < 3) return INCOMPLETE;
  if (input[2] !== 1 && input[2] !== 3) return NOT_TLS;
  if (n < RECORD_HEADER) return INCOMPLETE;
  const recordLength = u16(input, 3);
  if (recordLength > MAX_TLS_VECTOR) return NOT_TLS;
  if (n > 5 && input[5] !== HANDSHAKE_CLIENT_HELLO) return NOT_TLS;
  // A 24-bit handshake length: nobody sends one above 0xffff, so its high byte must be 0.
  if (n > 6 && input[6] !== 0) return NOT_TLS;
  if (n >= RECORD_HEADER + HANDSHAKE_HEADER) {
    const bodyLength = u16(input, 7);
    if (bodyLength > MAX_TLS_VECTOR || HANDSHAKE_HEADER + bodyLength > recordLength) return NOT_TLS;
  } else if (recordLength < HANDSHAKE_HEADER) {
    return NOT_TLS;
  }
  if (n < RECORD_HEADER + recordLength) return INCOMPLETE;
  const bodyStart = RECORD_HEADER + HANDSHAKE_HEADER;
  return parseBody(input, bodyStart, bodyStart + u16(input, 7));
}

function parseBody(b: Uint8Array, start: number, end: number): ClientHelloResult {
  let p = start;
  if (p + 2 > end || b[p] !== 3 || b[p + 1] !== 3) return NOT_TLS; // legacy_version TLS 1.2
  p += 2 + RANDOM_LENGTH;
  if (p + 1 > end) return NOT_TLS;
  p += 1 + byte(b, p); // session id
  if (p + 2 > end) return NOT_TLS;
  const suites = u16(b, p);
  if (suites > MAX_TLS_VECTOR) return NOT_TLS;
  p += 2 + suites;
  if (p + 1 > end) return NOT_TLS;
  p += 1 + byte(b, p); // compression methods
  if (p > end) return NOT_TLS;
  if (p === end) return hello(undefined, NO_ALPN); // a hello without extensions
  if (p + 2 > end) return NOT_TLS;
  const extensionsLength = u16(b, p);
  p += 2;
  const extensionsEnd = p + extensionsLength;
  if (extensionsLength > MAX_TLS_VECTOR || extensionsEnd > end) return NOT_TLS;

  let sawSni = false;
  let sni: string | undefined;
  let alpn: readonly string[] | undefined;
  while (p < extensionsEnd) {
    const length = p + 4 <= extensionsEnd ? u16(b, p + 2) : -1;
    if (length < 0 || length > MAX_TLS_VECTOR || p + 4 + length > extensionsEnd) {
      return sawSni ? hello(sni, alpn ?? NO_ALPN) : NOT_TLS;
    }
    const type = u16(b, p);
    const dataStart = p + 4;
    p = dataStart + length;
    if (type === EXT_SERVER_NAME && !sawSni) {
      const name = serverName(b, dataStart, p);
      if (name === MALFORMED) return NOT_TLS;
      sni = name;
      sawSni = true;
    } else if (type === EXT_ALPN && alpn === undefined) {
      alpn = protocolNames(b, dataStart, p);
    }
  }
  return hello(sni, alpn ?? NO_ALPN);
}

/** The first host_name entry of a server_name extension, if it is a valid DNS name. */
function serverName(b: Uint8Array, start: number, end: number): string | undefined | typeof MALFORMED {
  if (start + 2 > end) return MALFORMED;
  const listLength = u16(b, start);
  let p = start + 2;
  const listEnd = p + listLength;
  if (listLength > MAX_TLS_VECTOR || listEnd > end) return MALFORMED;
  while (p < listEnd) {
    if (p + 3 > listEnd) return MALFORMED;
    const nameType = byte(b, p);
    const length = u16(b, p + 1);
    const nameStart = p + 3;
    p = nameStart + length;
    if (length > MAX_TLS_VECTOR || p > listEnd) return MALFORMED;
    if (nameType === NAME_TYPE_HOST) {
      const name = Buffer.from(b.buffer, b.byteOffset + nameStart, length).toString('latin1');
      return isValidDnsName(name) ? name.toLowerCase() : undefined;
    }
  }
  return undefined;
}

/** ALPN ProtocolNameList; contents the proxy doesn't act on, so a malformed list is just "none". */
function protocolNames(b: Uint8Array, start: number, end: number): readonly string[] {
  if (start + 2 > end) return NO_ALPN;
  let p = start + 2;
  const listEnd = p + u16(b, start);
  if (listEnd > end) return NO_ALPN;
  const names: string[] = [];
  while (p < listEnd) {
    const length = byte(b, p);
    const nameStart = p + 1;
    p = nameStart + length;
    if (length === 0 || p > listEnd) return NO_ALPN;
    names.push(Buffer.from(b.buffer, b.byteOffset + nameStart, length).toString('latin1'));
  }
  return names;
}

function hello(sni: string | undefined, alpn: readonly string[]): ClientHelloResult {
  return { kind: 'client-hello', sni, alpn };
}

/** Callers check bounds first; `?? 0` only satisfies the index type. */
function byte(b: Uint8Array, i: number): number {
  return b[i] ?? 0;
}

function u16(b: Uint8Array, i: number): number {
  return (byte(b, i) << 8) | byte(b, i + 1);
}
