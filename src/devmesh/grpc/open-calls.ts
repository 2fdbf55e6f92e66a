// The streaming calls a server has open, so shutting down can end each with a status instead of a reset.
import * as grpc from '@grpc/grpc-js';
import { endWithStatus } from './status.js';

type AnyCall = grpc.ServerWritableStream<unknown, unknown>;

export class OpenCalls {
  private readonly calls = new Map<AnyCall, () => void>();

  /** Tracks `call` until it is cancelled or ended; `cleanup` runs exactly once either way. */
  add(call: AnyCall, cleanup: () => void): void {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.calls.delete(call);
      cleanup();
    };
    this.calls.set(call, finish);
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('finish', finish);
  }

  /** Ends `call` with `code` and stops tracking it. */
  end(call: AnyCall, code: grpc.status, details: string): void {
    this.calls.get(call)?.();
    endWithStatus(call, code, details);
  }

  get size(): number {
    return this.calls.size;
  }

  /** Ends every open call UNAVAILABLE, which clients treat as "reconnect". */
  endAll(details: string): void {
    for (const call of [...this.calls.keys()]) this.end(call, grpc.status.UNAVAILABLE, details);
  }
}
