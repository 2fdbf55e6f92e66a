// INBOUND_MAX_IN_FLIGHT: requests beyond the limit are shed with a 503 (gRPC UNAVAILABLE), closing.
import type { SyntheticResponse } from '../../policy/inbound/index.js';

/** One counter per inbound runtime, shared by its HTTP/1 and HTTP/2 servers. */
export class InFlightLimit {
  private inFlight = 0;
  constructor(readonly max: number) {}

  /** Takes a slot; false when the limit is reached (the request must be shed). */
  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    if (this.inFlight > 0) this.inFlight--;
  }

  get current(): number {
    return this.inFlight;
  }
}

export const LOAD_SHED_RESPONSE: SyntheticResponse = Object.freeze({
  status: 503,
  grpcStatus: 14,
  closeConnection: true,
  message: 'service unavailable: the proxy is at its in-flight request limit',
});
