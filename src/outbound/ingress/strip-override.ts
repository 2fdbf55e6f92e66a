// Ingress mode forwards no `l5d-dst-override`: every attempt's request edits (retries included) drop it.
import type { ForwardDecision, ForwardRetry, HeadEdits, RequestHead, ResponseHead, RouteDecision } from '../../http/h1/index.js';
import { DST_OVERRIDE_HEADER } from './dst-override.js';

const ONLY_OVERRIDE: HeadEdits = Object.freeze({ remove: Object.freeze([DST_OVERRIDE_HEADER]) });

/** Edits with the header added to `remove`, computed once per edits object (most are shared per endpoint client). */
const withOverride = new WeakMap<HeadEdits, HeadEdits>();
const stripping = new WeakSet<HeadEdits>();
stripping.add(ONLY_OVERRIDE);

function stripEdits(edits: HeadEdits | undefined): HeadEdits {
  if (edits === undefined) return ONLY_OVERRIDE;
  if (stripping.has(edits)) return edits;
  let out = withOverride.get(edits);
  if (out === undefined) {
    out = Object.freeze({ remove: Object.freeze([...(edits.remove ?? []), DST_OVERRIDE_HEADER]), ...(edits.set !== undefined && { set: edits.set }) });
    withOverride.set(edits, out);
    stripping.add(out);
  }
  return out;
}

/** The retry hooks of one delegate connection, with the decisions they make stripped too. */
class StrippingRetry implements ForwardRetry {
  constructor(private readonly inner: ForwardRetry) {}

  get maxRequestBytes(): number {
    return this.inner.maxRequestBytes;
  }

  get attemptTimeoutMs(): number | undefined {
    return this.inner.attemptTimeoutMs;
  }

  retryResponse(res: ResponseHead, req: RequestHead): RouteDecision | Promise<RouteDecision> | undefined {
    const d = this.inner.retryResponse(res, req);
    return d === undefined ? undefined : stripOverride(d);
  }

  retryTimeout(req: RequestHead): RouteDecision | Promise<RouteDecision> | undefined {
    const d = this.inner.retryTimeout(req);
    return d === undefined ? undefined : stripOverride(d);
  }
}

const retries = new WeakMap<ForwardRetry, StrippingRetry>();

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function stripOne(d: RouteDecision): RouteDecision {
  if (d.kind !== 'forward') return d;
  // Forward decisions are built fresh per attempt (and their response hook updates the same
  // object), so they are edited in place rather than copied.
  const f = d as Mutable<ForwardDecision>;
  f.requestEdits = stripEdits(f.requestEdits);
  const retry = f.retry;
  if (retry !== undefined && !(retry instanceof StrippingRetry)) {
    let wrapped = retries.get(retry);
    if (wrapped === undefined) {
      wrapped = new StrippingRetry(retry);
      retries.set(retry, wrapped);
    }
    f.retry = wrapped;
  }
  return f;
}

/** `d`, with `l5d-dst-override` removed from what it forwards (now and on any retry). */
export function stripOverride(d: RouteDecision | Promise<RouteDecision>): RouteDecision | Promise<RouteDecision> {
  return typeof (d as { then?: unknown }).then === 'function' ? (d as Promise<RouteDecision>).then(stripOne) : stripOne(d as RouteDecision);
}
