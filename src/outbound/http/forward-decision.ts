// The engine's forward decision for one attempt at one endpoint client: which pool and target
// (HTTP/1, or the orig-proto bridge for h2-hinted endpoints), edits, timeouts and retry hooks.
import type { ForwardDecision, ForwardRetry, HeadEdits, RequestHead, ResponseHead } from '../../http/h1/index.js';
import type { HeaderModifier } from '../../policy/inbound/index.js';
import { RESPONSE_STRIP, type EndpointClient, type OutboundHttpClients } from './endpoint-clients.js';
import { responseEdits } from './filters.js';

export interface ForwardOptions {
  readonly requestEdits: HeadEdits;
  /** Response header modifiers from the route's and backend's filters. */
  readonly responseModifiers: readonly HeaderModifier[] | undefined;
  readonly responseTimeoutMs: number | undefined;
  readonly requestTimeoutMs: number | undefined;
  readonly retry: ForwardRetry | undefined;
  /** Sees each relayed final head; decides whether the client connection closes after it. */
  readonly onResponseHead: (res: ResponseHead, req: RequestHead) => boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function forwardDecision(clients: OutboundHttpClients, client: EndpointClient, req: RequestHead, o: ForwardOptions): ForwardDecision {
  // Upgrades and CONNECT keep a dedicated HTTP/1 connection (spec §5.7).
  const upgrade = client.http2 !== undefined && !req.wantsUpgrade;
  const d: Mutable<ForwardDecision> = {
    kind: 'forward',
    pool: upgrade ? clients.bridgePool : clients.http1Pool,
    target: upgrade ? client.http2 : client.http1,
    requestEdits: o.requestEdits,
    responseEdits: RESPONSE_STRIP,
    onResponseHead: o.onResponseHead,
  };
  if (o.responseTimeoutMs !== undefined) d.responseTimeoutMs = o.responseTimeoutMs;
  if (o.requestTimeoutMs !== undefined) d.requestTimeoutMs = o.requestTimeoutMs;
  if (o.retry !== undefined) d.retry = o.retry;
  const modifiers = o.responseModifiers;
  if (modifiers !== undefined) {
    // The engine reads responseEdits after this hook has seen the final head.
    const next = o.onResponseHead;
    d.onResponseHead = (res: ResponseHead, r: RequestHead) => {
      d.responseEdits = responseEdits(res, modifiers, RESPONSE_STRIP);
      return next(res, r);
    };
  }
  return d;
}
