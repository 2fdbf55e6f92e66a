// One HTTP/2 request from the app (spec §5.5): the in-flight limit, the policy route, filters,
// retries and timeouts; per attempt a backend, an endpoint from its dispatcher and a stream on the
// endpoint's shared HTTP/2 connection (mTLS for meshed peers, h2c otherwise); the proxy's own
// answers as HTTP statuses or, for gRPC requests, 200 + grpc-status (spec §4.7).
import http2 from 'node:http2';
import type { Endpoint } from '../../balance/index.js';
import { messageOf } from '../../core/errors.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import type { Backend, OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import { respondH2 } from '../../inbound/http/synthetic.js';
import { isGrpcRequest } from '../../policy/inbound/index.js';
import type { BackendDispatcher } from '../context.js';
import { A_NONE, A_RESET, A_RESPONSE, A_TIMEOUT, Attempt } from '../http/attempt.js';
import type { EndpointClient } from '../http/endpoint-clients.js';
import type { OutboundHttpErrorKind } from '../http/errors-metric.js';
import { LOAD_SHED, NO_BACKENDS, dispatchFailure } from '../http/responses.js';
import type { RouteErrorLabel } from '../http/route-metrics.js';
import { connectFailed, fromH1, streamTimeout, upstreamFailure, GRPC_DEADLINE_EXCEEDED, type H2Answer } from './answers.js';
import { AttemptTimers, type AttemptTimerOwner } from './attempt-timers.js';
import { chooseH2Backend } from './backend-choice.js';
import type { H2ConnectionContext, H2Deps } from './deps.js';
import type { FilterResult } from './filters.js';
import { copyHeaders, upstreamHeaders, type OutgoingHeaders } from './headers.js';
import { LiveAttempt } from './live-attempt.js';
import { RequestOutcome, dispatchErrorKinds } from './outcome.js';
import { requiredIdentityAnswer } from './require-id.js';
import { retryableH2 } from './retry-policy.js';
import { planRoute, type RoutePlan } from './route-plan.js';
import { D_COMMIT, D_PEEK, D_RETRY, UpstreamStream, type HeadDecision, type UpstreamOwner } from './upstream-stream.js';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

const LOAD_SHED_H2 = fromH1(LOAD_SHED);
const NO_BACKENDS_H2 = fromH1(NO_BACKENDS);

export class H2Exchange implements UpstreamOwner, AttemptTimerOwner {
  private readonly grpc: boolean;
  private readonly start: number;
  private readonly endStream: boolean;
  private readonly abort = new AbortController();
  private holdsSlot = false;
  private over = false;
  /** Set once the request has a route. */
  private plan: RoutePlan | undefined;
  private current: LiveAttempt | undefined;
  private cancelRequestTimer: (() => void) | undefined;
  private readonly timers: AttemptTimers;
  private readonly outcome = new RequestOutcome();

  constructor(
    private readonly deps: H2Deps,
    private readonly conn: H2ConnectionContext,
    private readonly down: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    flags: number,
    private readonly raw: readonly string[],
  ) {
    this.start = deps.clock.monotonic();
    this.grpc = isGrpcRequest(2, single(headers['content-type']));
    this.endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    this.timers = new AttemptTimers(deps.clock, this);
    down.once('close', this.onDownClose);
  }

  run(): void {
    if (!this.deps.inFlight.tryAcquire()) return this.answer(LOAD_SHED_H2, 'loadshed', 'LOAD_SHED');
    this.holdsSlot = true;
    const target = this.conn.target;
    const policy = target.current();
    if (policy !== undefined) return this.route(policy);
    target.ready().then(
      (p) => this.route(p),
      (err: unknown) => this.dispatchFailed(err),
    );
  }

  // --- routing ---

  private route(policy: OutboundPolicy): void {
    if (this.over) return;
    const req = { down: this.down, headers: this.headers, raw: this.raw, endStream: this.endStream, origDst: this.conn.origDst };
    const r = planRoute(policy, req, this.deps.routeMetrics, this.deps.random);
    if (r.plan === undefined) return this.answer(r.answer, 'unexpected', undefined);
    this.plan = r.plan;
    const requestMs = r.plan.timeouts.requestMs;
    if (requestMs !== undefined) {
      this.cancelRequestTimer = this.deps.clock.setTimer(requestMs, () => this.timedOut('REQUEST_TIMEOUT', `request timed out after ${requestMs}ms`));
    }
    this.attemptNow();
  }

  /** One attempt: filters, a backend, an endpoint. */
  private attemptNow(): void {
    if (this.over) return;
    const plan = this.plan!;
    const headers = copyHeaders(plan.base);
    const result: FilterResult = { response: undefined };
    const choice = chooseH2Backend(plan.hit, plan.view, headers, result, this.dispatcherOf, this.deps.random);
    if (choice.kind === 'answer') return this.answer(choice.answer, 'unexpected', choice.label);
    if (choice.kind === 'none') return this.noBackends();
    const backend = choice.backend;
    let picked: Endpoint<DestinationEndpoint> | Promise<Endpoint<DestinationEndpoint>>;
    try {
      picked = choice.dispatcher.pick(this.abort.signal);
    } catch (err) {
      return this.pickFailed(err, backend);
    }
    if (!isPromise(picked)) return this.dispatch(picked, backend, headers, result);
    picked.then(
      (ep) => this.dispatch(ep, backend, headers, result),
      (err: unknown) => this.pickFailed(err, backend),
    );
  }

  private readonly dispatcherOf = (b: Backend): BackendDispatcher => this.conn.target.backend(b);

  private pickFailed(err: unknown, backend: Backend): void {
    if (this.over) return;
    const { kind, label } = dispatchErrorKinds(err);
    const plan = this.plan!;
    const b = plan.series.backend(backend);
    b.requests.inc();
    b.statuses.error(label).inc();
    // Fail-fast may clear on another backend; load shedding is not retried.
    if (kind === 'failfast' && plan.retry !== undefined && plan.body.canReplay && this.retryNext()) return;
    this.dispatchFailed(err);
  }

  private dispatchFailed(err: unknown): void {
    const { kind, label } = dispatchErrorKinds(err);
    this.answer(fromH1(dispatchFailure(err)), kind, label);
  }

  /** An empty distribution never becomes ready: like a queue that never sees an endpoint. */
  private noBackends(): void {
    this.deps.clock.sleep(this.deps.failfastTimeoutMs, this.abort.signal).then(
      () => this.answer(NO_BACKENDS_H2, 'failfast', 'FAIL_FAST'),
      noop,
    );
  }

  private dispatch(ep: Endpoint<DestinationEndpoint>, backend: Backend, headers: OutgoingHeaders, result: FilterResult): void {
    if (this.over) {
      ep.recordOutcome(false);
      return;
    }
    const dispatch = backend.dispatch;
    const client = this.deps.clients.client(ep.metadata, dispatch.kind === 'balancer' ? dispatch.path : undefined);
    const denied = requiredIdentityAnswer(single(this.headers['l5d-require-id']), client, ep);
    if (denied !== undefined) {
      ep.recordOutcome(false);
      return this.answer(denied, 'identity required', 'UNKNOWN');
    }
    const now = this.deps.clock.monotonic();
    const plan = this.plan!;
    const attempt = new Attempt(ep, ep.start(now), client.metrics, plan.series.backend(backend), now, plan.classifyGrpc);
    // An endpoint that cannot connect leaves the balancer's rotation (registered once per endpoint).
    const h2 = client.h2Watched(ep);
    const session = h2.current();
    if (session !== undefined) return this.send(session, client, attempt, headers, result);
    h2.acquire().then(
      (s) => this.send(s, client, attempt, headers, result),
      (err: unknown) => {
        attempt.end(A_NONE, this.deps.clock.monotonic());
        if (!this.over) this.answer(connectFailed(err), 'i/o', 'UNKNOWN');
      },
    );
  }

  private send(session: http2.ClientHttp2Session, client: EndpointClient, attempt: Attempt, headers: OutgoingHeaders, result: FilterResult): void {
    if (this.over) {
      attempt.end(A_NONE, this.deps.clock.monotonic());
      return;
    }
    const plan = this.plan!;
    const body = plan.body;
    let up: http2.ClientHttp2Stream;
    try {
      up = session.request(upstreamHeaders(plan.line, headers, client.authorityOverride), { endStream: body.empty, waitForTrailers: !body.empty });
    } catch (err) {
      attempt.end(A_NONE, this.deps.clock.monotonic());
      return this.answer(upstreamFailure(`HTTP/2 request to the endpoint failed: ${messageOf(err)}`), 'i/o', 'UNKNOWN');
    }
    const h2 = client.h2();
    h2.streamOpened();
    up.once('close', () => h2.streamClosed());
    const s = new UpstreamStream(this, up, this.down);
    this.current = new LiveAttempt(s, attempt, client, result);
    body.attach(up);
    this.timers.arm(plan.timeouts.responseMs, plan.retry?.headTimeoutMs());
  }

  // --- timeouts ---

  responseTimedOut(ms: number): void {
    this.timedOut('RESPONSE_STREAM_TIMEOUT', `response timed out after ${ms}ms`);
  }

  /** The retry policy's per-attempt deadline for the head: another attempt, else a 504. */
  headTimedOut(ms: number): void {
    const cur = this.current;
    if (this.over || cur === undefined || cur.s.relaying) return;
    if (this.plan!.body.canReplay && this.dropAttempt(A_TIMEOUT) && this.retryNext()) return;
    this.timedOut('RESPONSE_HEADERS_TIMEOUT', `response timed out after ${ms}ms`);
  }

  private timedOut(label: RouteErrorLabel, message: string): void {
    if (this.over) return;
    this.timers.clear();
    const cur = this.current;
    this.current = undefined;
    const now = this.deps.clock.monotonic();
    if (cur !== undefined && cur.s.relaying) {
      this.outcome.label = label;
      this.outcome.localKind = 'response timeout';
      cur.end(A_TIMEOUT, now, label);
      this.deps.errors.count('response timeout');
      const trailers = this.grpc ? this.grpcTrailers(GRPC_DEADLINE_EXCEEDED, message) : undefined;
      cur.s.abortRelay(trailers);
      return;
    }
    if (cur !== undefined) {
      cur.s.cancel();
      cur.end(A_TIMEOUT, now, label);
    }
    this.answer(streamTimeout(message), 'response timeout', label);
  }

  private grpcTrailers(code: number, message: string): http2.OutgoingHttpHeaders {
    return this.deps.emitHeaders ? { 'grpc-status': String(code), 'grpc-message': message } : { 'grpc-status': String(code) };
  }

  // --- retries ---

  /** Closes the current attempt's bookkeeping for a retry; false when there is none. */
  private dropAttempt(how: typeof A_RESPONSE | typeof A_TIMEOUT): boolean {
    const cur = this.current;
    if (cur === undefined) return false;
    this.current = undefined;
    this.timers.clear();
    this.plan!.body.detach();
    cur.s.cancel();
    cur.end(how, this.deps.clock.monotonic(), 'RESPONSE_HEADERS_TIMEOUT');
    return true;
  }

  /** Schedules the next attempt after its backoff; false when the limit is reached. */
  private retryNext(): boolean {
    const delay = this.plan!.retry!.next();
    if (delay === undefined) return false;
    this.schedule(delay);
    return true;
  }

  private schedule(delayMs: number): void {
    if (delayMs <= 0) queueMicrotask(() => this.attemptNow());
    else this.deps.clock.sleep(delayMs, this.abort.signal).then(() => this.attemptNow(), noop);
  }

  /** A retryable response: dropped for another attempt unless the body cannot be replayed or the limit is reached. */
  private tryRetry(status: number): boolean {
    const plan = this.plan!;
    if (!plan.body.canReplay) return false;
    const delay = plan.retry!.next();
    if (delay === undefined) return false;
    this.current!.attempt.head(status, this.deps.clock.monotonic());
    this.dropAttempt(A_RESPONSE);
    this.schedule(delay);
    return true;
  }

  // --- UpstreamOwner ---

  onHead(_s: UpstreamStream, status: number, grpcStatus: number | undefined, end: boolean): HeadDecision {
    const plan = this.plan!;
    const r = plan.retry;
    if (r === undefined) return D_COMMIT;
    if (retryableH2(r.policy, status, grpcStatus)) return this.tryRetry(status) ? D_RETRY : D_COMMIT;
    // Only a unary gRPC answer can still be retried on its trailers' status.
    const codes = r.policy.grpcCodes;
    if (!end && grpcStatus === undefined && codes !== undefined && codes.length > 0 && plan.body.canReplay) return D_PEEK;
    r.settled();
    return D_COMMIT;
  }

  onPeeked(_s: UpstreamStream, status: number, grpcStatus: number | undefined): HeadDecision {
    const r = this.plan!.retry!;
    if (retryableH2(r.policy, status, grpcStatus)) return this.tryRetry(status) ? D_RETRY : D_COMMIT;
    r.settled();
    return D_COMMIT;
  }

  responseFor(s: UpstreamStream, status: number, h: http2.IncomingHttpHeaders): OutgoingHeaders {
    const cur = this.current!;
    this.releaseSlot();
    this.outcome.relayed = true;
    this.outcome.status = status;
    const out = cur.relayHeaders(status, h, this.deps.clock.monotonic());
    // Only a forward target reached over mTLS may close the app's connection for its peer (spec §4.7).
    if (h['l5d-proxy-connection'] === 'close' && cur.client.meshed && cur.client.authority === undefined) {
      s.up.once('close', this.closeSession);
    }
    return out;
  }

  private readonly closeSession = (): void => {
    const session = this.conn.session;
    if (!session.closed) session.close();
  };

  onFailed(s: UpstreamStream, rstCode: number, reason: string): void {
    const cur = this.current;
    if (cur === undefined || cur.s !== s || this.over) return;
    this.current = undefined;
    const plan = this.plan!;
    this.timers.clear();
    plan.body.detach();
    cur.end(A_NONE, this.deps.clock.monotonic());
    // A head the app's stream refused was never sent.
    this.outcome.relayed = false;
    // A refused stream was never processed: another attempt may go elsewhere.
    if (rstCode === NGHTTP2_REFUSED_STREAM && plan.retry !== undefined && plan.body.canReplay && this.retryNext()) return;
    if (rstCode !== 0) {
      // An HTTP/2 stream error is not rescued: the app's stream is reset alike.
      this.outcome.label = 'RESET';
      this.finishWithReset(rstCode);
      return;
    }
    this.answer(upstreamFailure(reason), 'i/o', 'UNKNOWN');
  }

  onDone(s: UpstreamStream, rstCode: number): void {
    const cur = this.current;
    if (cur === undefined || cur.s !== s) return;
    this.current = undefined;
    this.timers.clear();
    const now = this.deps.clock.monotonic();
    if (rstCode !== 0) {
      this.outcome.label = 'RESET';
      cur.end(A_RESET, now);
    } else cur.end(A_RESPONSE, now);
  }

  // --- endings ---

  private finishWithReset(code: number): void {
    const down = this.down;
    if (!down.destroyed && !down.closed) down.close(code);
  }

  /** The proxy answers itself; `label` is the route-status error label (undefined: counted by status). */
  private answer(a: H2Answer, kind: OutboundHttpErrorKind, label: RouteErrorLabel | undefined): void {
    if (this.over || this.outcome.relayed) return;
    this.outcome.local(this.grpc ? 200 : a.status, kind, label);
    this.plan?.body.discard();
    this.releaseSlot();
    if (!this.down.destroyed && !this.down.closed) respondH2(this.down, a, this.grpc, this.deps.emitHeaders);
    this.deps.errors.count(kind);
    // The body may still be arriving; nothing reads it now.
    this.down.resume();
  }

  private releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    this.deps.inFlight.release();
  }

  private readonly onDownClose = (): void => {
    if (this.over) return;
    this.over = true;
    this.abort.abort();
    this.cancelRequestTimer?.();
    this.timers.clear();
    this.releaseSlot();
    const cur = this.current;
    this.current = undefined;
    if (cur !== undefined) {
      cur.s.cancel();
      cur.end(cur.s.relaying ? A_RESET : A_NONE, this.deps.clock.monotonic());
      if (!cur.s.relaying) this.outcome.label ??= 'CANCEL';
    }
    const plan = this.plan;
    plan?.body.discard();
    if (plan !== undefined) this.outcome.record(plan.series, this.deps.clock.monotonic() - this.start);
  };
}

function noop(): void {}
