// One attempt in flight: the endpoint's stream, the attempt's bookkeeping, the endpoint client
// and the response edits its filters asked for.
import type http2 from 'node:http2';
import type { Attempt, AttemptEnd } from '../http/attempt.js';
import type { EndpointClient } from '../http/endpoint-clients.js';
import type { RouteErrorLabel } from '../http/route-metrics.js';
import { editResponse, type FilterResult } from './filters.js';
import { responseHeaders, type OutgoingHeaders } from './headers.js';
import type { UpstreamStream } from './upstream-stream.js';

export class LiveAttempt {
  constructor(
    readonly s: UpstreamStream,
    readonly attempt: Attempt,
    readonly client: EndpointClient,
    private readonly edits: FilterResult,
  ) {}

  /** Closes the bookkeeping, a gRPC response classified by the grpc-status its stream carried so far. */
  end(how: AttemptEnd, now: number, timeoutLabel?: RouteErrorLabel): void {
    this.attempt.grpcStatus = this.s.classCode;
    this.attempt.end(how, now, timeoutLabel);
  }

  /** The head goes to the app: counted, then its headers as the filters edit them. */
  relayHeaders(status: number, h: http2.IncomingHttpHeaders, now: number): OutgoingHeaders {
    this.attempt.head(status, now);
    const out = responseHeaders(h);
    if (this.edits.response !== undefined) editResponse(out, this.edits.response);
    return out;
  }
}
