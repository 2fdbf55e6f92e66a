// Decodes route filters (header modifier, redirect, failure injectors) with the upstream proxy's validation.
import { headerName, headerValue } from './decode-match.js';
import { asMessage, bytes, child, enumName, fail, list, oneof, optMessage, str, strings, u32, type Obj } from './decode-fields.js';
import type { GrpcFilter, HeaderModifier, HttpFilter, Ratio, RedirectFilter } from './types.js';

/** What the upstream proxy does with a filter it does not recognise: fail matching requests with a 500. */
export const UNKNOWN_FILTER_MESSAGE = 'server policy configured with unknown filter';

function pairs(m: Obj, name: string, path: string): (readonly [string, string])[] {
  const headers = optMessage(m, name, path);
  if (headers === undefined) return [];
  const p = child(path, name);
  return list(headers, 'headers', p).map((h) => {
    const msg = asMessage(h.value, h.path);
    return Object.freeze([headerName(str(msg, 'name', h.path), child(h.path, 'name')), headerValue(bytes(msg, 'value', h.path), child(h.path, 'value'))] as const);
  });
}

function decodeHeaderModifier(v: unknown, path: string): HeaderModifier {
  const m = asMessage(v, path);
  return {
    add: Object.freeze(pairs(m, 'add', path)),
    set: Object.freeze(pairs(m, 'set', path)),
    remove: Object.freeze(strings(m, 'remove', path).map((n, i) => headerName(n, `${child(path, 'remove')}[${i}]`))),
  };
}

/** `http::StatusCode` accepts 100–999. */
function statusCode(n: number, path: string): number {
  if (n < 100 || n > 999) fail(path, `invalid HTTP status code ${n}`);
  return n;
}

/** A Bernoulli ratio; absent ⇒ always. The denominator must be non-zero and ≥ the numerator. */
function decodeRatio(m: Obj, path: string): Ratio {
  const r = optMessage(m, 'ratio', path);
  if (r === undefined) return { numerator: 1, denominator: 1 };
  const p = child(path, 'ratio');
  const numerator = u32(r, 'numerator', p);
  const denominator = u32(r, 'denominator', p);
  if (denominator === 0 || numerator > denominator) fail(p, `invalid request distribution ${numerator}/${denominator}`);
  return { numerator, denominator };
}

const AUTHORITY = /^[^\s/?#@\\]+$/;

function decodeRedirect(v: unknown, path: string): RedirectFilter {
  const r = asMessage(v, path);
  let scheme: string | undefined;
  const schemeMsg = optMessage(r, 'scheme', path);
  if (schemeMsg !== undefined) {
    const sp = child(path, 'scheme');
    const t = oneof(schemeMsg, 'type', ['registered', 'unregistered'], sp) ?? fail(sp, 'scheme must have a type');
    if (t.name === 'registered') scheme = enumName(schemeMsg, 'registered', sp, ['HTTP', 'HTTPS']).toLowerCase();
    else if (typeof t.value === 'string' && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(t.value)) scheme = t.value.toLowerCase();
    else fail(t.path, `invalid unregistered scheme ${JSON.stringify(t.value)}`);
  }
  const host = str(r, 'host', path);
  const port = u32(r, 'port', path);
  if (port > 65535) fail(child(path, 'port'), `port number must be a u16: ${port}`);
  if (host !== '' && !AUTHORITY.test(host)) fail(child(path, 'host'), `invalid HTTP authority ${JSON.stringify(host)}`);
  const authority: RedirectFilter['authority'] =
    host === '' ? (port === 0 ? undefined : { kind: 'port', port }) : port === 0 ? { kind: 'host', host } : { kind: 'exact', authority: `${host}:${port}` };

  let rpath: RedirectFilter['path'];
  const pm = optMessage(r, 'path', path);
  if (pm !== undefined) {
    const pp = child(path, 'path');
    const replace = oneof(pm, 'replace', ['full', 'prefix'], pp);
    if (replace !== undefined) {
      if (typeof replace.value !== 'string') fail(replace.path, 'expected a string');
      if (!replace.value.startsWith('/')) fail(replace.path, 'redirect paths must be absolute');
      rpath = replace.name === 'full' ? { kind: 'full', path: replace.value } : { kind: 'prefix', prefix: replace.value };
    }
  }
  const status = u32(r, 'status', path);
  return Object.freeze({
    kind: 'redirect',
    scheme,
    authority,
    path: rpath,
    status: status === 0 ? undefined : statusCode(status, child(path, 'status')),
  });
}

/** An inbound `HttpRoute.Filter` (oneof `kind`). An unset filter becomes an internal-error filter, as upstream. */
export function decodeHttpFilter(v: unknown, path: string): HttpFilter {
  const f = asMessage(v, path);
  const k = oneof(f, 'kind', ['failureInjector', 'requestHeaderModifier', 'redirect'], path);
  if (k === undefined) return { kind: 'internal-error', message: UNKNOWN_FILTER_MESSAGE };
  switch (k.name) {
    case 'requestHeaderModifier':
      return Object.freeze({ kind: 'request-header-modifier', ...decodeHeaderModifier(k.value, k.path) });
    case 'redirect':
      return decodeRedirect(k.value, k.path);
    default: {
      const fi = asMessage(k.value, k.path);
      return Object.freeze({
        kind: 'failure-injector',
        status: statusCode(u32(fi, 'status', k.path), child(k.path, 'status')),
        message: str(fi, 'message', k.path),
        ratio: decodeRatio(fi, k.path),
      });
    }
  }
}

/** An inbound `GrpcRoute.Filter` (oneof `kind`). */
export function decodeGrpcFilter(v: unknown, path: string): GrpcFilter {
  const f = asMessage(v, path);
  const k = oneof(f, 'kind', ['failureInjector', 'requestHeaderModifier'], path);
  if (k === undefined) return { kind: 'internal-error', message: UNKNOWN_FILTER_MESSAGE };
  if (k.name === 'requestHeaderModifier') {
    return Object.freeze({ kind: 'request-header-modifier', ...decodeHeaderModifier(k.value, k.path) });
  }
  const fi = asMessage(k.value, k.path);
  const code = u32(fi, 'code', k.path);
  if (code > 0xffff) fail(child(k.path, 'code'), `gRPC status code is not a u16: ${code}`);
  return Object.freeze({ kind: 'failure-injector', code, message: str(fi, 'message', k.path), ratio: decodeRatio(fi, k.path) });
}
