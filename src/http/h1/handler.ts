// The contract between the HTTP/1 engine and a pipeline (inbound/outbound): routing decisions
// and observation hooks.
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log/logger.js';
import type { RequestHead, ResponseHead } from './head.js';
import type { HeadLimits } from './head-parser.js';
import type { Http1Pool, UpstreamTarget } from './pool.js';
import type { HeadEdits } from './rewrite-head.js';
import type { SyntheticResponse } from './synthetic.js';

/** Send the request upstream. Build these per target and reuse them; nothing here is per request. */
export interface ForwardDecision {
  readonly kind: 'forward';
  readonly pool: Http1Pool;
  /**
   * The endpoint. Its connections are pooled per request authority (Host, or the absolute URI's)
   * and absolute-form requests apart from origin-form ones, as hyper's pools key them;
   * HTTP/1.0 requests, requests without Host, upgrades and CONNECT use one-off connections
   * (spec §5.8, §5.7).
   */
  readonly target: UpstreamTarget;
  /** Applied after hop-by-hop stripping, e.g. set or remove `l5d-client-id`. */
  readonly requestEdits?: HeadEdits;
  /** Applied to the upstream's response, e.g. remove `l5d-proxy-error` / `l5d-proxy-connection`. */
  readonly responseEdits?: HeadEdits;
  /**
   * The route's response timeout: counted from when the request body has been sent (or the
   * response head arrived, if sooner) until the response ends. Before the head ⇒ 504 and the
   * connection closes; during the body ⇒ the client connection is reset. Per attempt.
   */
  readonly responseTimeoutMs?: number;
  /**
   * The route's request timeout: the whole exchange, from the request head to the response's
   * end, retries included. Read from the first attempt's decision only. Same failure as above.
   */
  readonly requestTimeoutMs?: number;
  /** Retries for this request (client policy); absent ⇒ the request is sent once. */
  readonly retry?: ForwardRetry;
  /**
   * Sees each final response head before it is relayed; returning true closes the client
   * connection after this response (e.g. `l5d-proxy-connection: close` from a forward target).
   */
  readonly onResponseHead?: (res: ResponseHead, req: RequestHead) => boolean | undefined;
}

/**
 * How the engine replays a request (spec §5.5): the body is kept (as received) while it stays
 * within `maxRequestBytes`; a request whose body was cut short of the limit, or is still being
 * sent when a response arrives, is never retried. Before a final response head (or an attempt
 * timeout) is acted upon, the hooks decide: a decision means "discard this attempt and make
 * that one instead" (it may answer locally), undefined means "this is the outcome". Each
 * attempt's decision carries its own hooks (with the limit counted down by the handler).
 */
export interface ForwardRetry {
  /** Payload bytes (chunked framing excluded) a replayable body may have. */
  readonly maxRequestBytes: number;
  /** This attempt's deadline for a response head, from when the request was sent; its expiry may be retried. */
  readonly attemptTimeoutMs: number | undefined;
  /** A final (non-1xx) response head of this attempt, before any of it reaches the client. */
  retryResponse(res: ResponseHead, req: RequestHead): RouteDecision | Promise<RouteDecision> | undefined;
  /** The attempt timeout fired before a response head. */
  retryTimeout(req: RequestHead): RouteDecision | Promise<RouteDecision> | undefined;
}

/** Answer locally (404 no route, 403 unauthorized, 429, redirects, injected faults …). */
export interface RespondDecision {
  readonly kind: 'respond';
  readonly response: SyntheticResponse;
}

export type RouteDecision = ForwardDecision | RespondDecision;

/** What the handler may know about the client connection. */
export interface Http1Session {
  readonly socket: net.Socket;
  /** Requests begun on this connection, this one included. */
  readonly requestCount: number;
}

/** How a request ended, for metrics. */
export type Http1Outcome =
  /** The upstream's response was relayed completely. */
  | 'ok'
  /** The proxy answered itself (route decision or upstream failure before a response). */
  | 'synthetic'
  /** The connection became a tunnel (101 / CONNECT 2xx); reported when the tunnel closes. */
  | 'upgraded'
  /** The upstream failed after its response began: the client connection was reset. */
  | 'upstream-reset'
  /** A route timeout fired (504 before the response head, a reset after it): the request timeout, */
  | 'request-timeout'
  /** the response timeout, */
  | 'response-timeout'
  /** or the retry policy's per-attempt head timeout, with no retry left. */
  | 'response-headers-timeout'
  /** The client went away or sent a broken body. */
  | 'client-error';

export interface Http1Handler {
  /**
   * Decides what to do with a request. The head is valid until the request ends. A throw or
   * rejection becomes a 500 (closing).
   */
  route(req: RequestHead, session: Http1Session): RouteDecision | Promise<RouteDecision>;
  /** Hooks: called only when present, with no per-call allocation. */
  onRequestStart?(req: RequestHead, session: Http1Session): void;
  /** The response head (relayed or synthetic) was written to the client. */
  onResponseHead?(req: RequestHead, status: number): void;
  /** The request is over. status is 0 if no response head was sent. */
  onRequestEnd?(req: RequestHead, status: number, durationMs: number, outcome: Http1Outcome): void;
  /** A request head was rejected before routing (status 400 or 431). */
  onBadRequest?(status: number, reason: string): void;
}

/** HeadLimits apply to requests and responses; here `lowercaseNames` defaults to true (hyper's wire format). */
export interface ServeHttp1Options extends HeadLimits {
  /** Limit for upstream response heads; default 400 KiB (hyper's read buffer), as the Rust proxy's client. */
  readonly maxResponseHeadBytes?: number;
  /** l5d-proxy-error & co. on synthetic responses (inbound: client is meshed; outbound: unless disabled). */
  readonly emitHeaders?: boolean;
  readonly log?: Logger;
  readonly clock?: Clock;
  /** After the proxy half-closes a client connection, how long to wait for the client's FIN. Default 5000 ms. */
  readonly lingerMs?: number;
}
