// The request body kept for a retry: references to the received slices (no copies) while the
// payload stays within the route's max_request_bytes, dropped as soon as it grows past it.
import type net from 'node:net';
import type { ForwardRetry } from './handler.js';

export class RequestReplay {
  /** Still replayable: a retry policy asked for it and the body has stayed within the limit. */
  active = false;
  private slices: Buffer[] = [];
  private limit = 0;

  /**
   * Starts a request. `declaredLength` is its Content-Length (0 for chunked or no body): a body
   * declared longer than the limit is never kept, as upstream's ReplayBody refuses it up front.
   */
  reset(retry: ForwardRetry | undefined, declaredLength: number): void {
    if (this.slices.length > 0) this.slices = [];
    this.active = retry !== undefined && declaredLength <= retry.maxRequestBytes;
    this.limit = retry?.maxRequestBytes ?? 0;
  }

  /** Keeps `slice` (raw body bytes as forwarded); `dataBytes` is the payload seen so far. */
  keep(slice: Buffer, dataBytes: number): void {
    if (dataBytes > this.limit) return this.drop();
    this.slices.push(slice);
  }

  /** Writes the kept body to a new attempt's connection (bounded by the limit, so not flow-controlled). */
  writeTo(socket: net.Socket): void {
    for (const s of this.slices) socket.write(s);
  }

  drop(): void {
    this.active = false;
    if (this.slices.length > 0) this.slices = [];
  }
}
