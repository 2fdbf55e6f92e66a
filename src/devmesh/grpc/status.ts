// gRPC statuses as the dev control plane's handlers raise them, and how a call is ended with one.
import * as grpc from '@grpc/grpc-js';

/** A handler's refusal: the call ends with this status. */
export class StatusError extends Error {
  constructor(readonly code: grpc.status, readonly details: string) {
    super(details);
    this.name = 'StatusError';
  }
}

export function statusError(code: keyof typeof grpc.status, details: string): StatusError {
  return new StatusError(grpc.status[code], details);
}

/** Ends a server-streaming call with a non-OK status (grpc-js sends the `error` object as the trailers). */
export function endWithStatus(call: grpc.ServerWritableStream<unknown, unknown>, code: grpc.status, details: string): void {
  call.emit('error', { code, details });
}

/** The status object a unary callback takes. */
export function unaryStatus(code: grpc.status, details: string): Partial<grpc.StatusObject> & Error {
  return Object.assign(new Error(details), { code, details });
}
