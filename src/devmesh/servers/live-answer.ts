// Keeps one call's answer current: re-queries the snapshot on every change and reacts only to real changes.
import * as grpc from '@grpc/grpc-js';
import { messageOf } from '../../core/errors.js';
import type { MeshSnapshot, Wire } from '../model/types.js';
import type { OpenCalls } from '../grpc/open-calls.js';
import { unaryStatus } from '../grpc/status.js';
import type { SnapshotHolder } from '../snapshot/snapshot-holder.js';
import { wireEqual } from './wire-equal.js';

/** A model refusal, or the model crashing on this query (which must not take the server down). */
export interface Refusal {
  readonly kind: 'refused';
  readonly code: 'NOT_FOUND' | 'INVALID_ARGUMENT' | 'INTERNAL';
  readonly message: string;
}

export type Answer<A> = A | Refusal;

/** The non-refusal arms of a model answer type. */
export type Accepted<T> = Exclude<T, { readonly kind: 'refused' }>;

export function isRefusal(a: { readonly kind: string }): a is Refusal {
  return a.kind === 'refused';
}

export function refusalStatus(r: Refusal): grpc.status {
  return grpc.status[r.code];
}

/** `query` against `snapshot`, with a crash turned into an INTERNAL refusal. */
export function ask<A>(snapshot: MeshSnapshot, query: (s: MeshSnapshot) => Answer<A>): Answer<A> {
  try {
    return query(snapshot);
  } catch (err) {
    return { kind: 'refused', code: 'INTERNAL', message: `dev control plane failed to answer: ${messageOf(err)}` };
  }
}

/**
 * Calls `onAnswer` with the current answer, then again after each snapshot change whose answer
 * differs (deep equality) from the previous one. Returns the function that stops following.
 */
export function followAnswer<A>(holder: SnapshotHolder, query: (s: MeshSnapshot) => Answer<A>, onAnswer: (a: Answer<A>) => void): () => void {
  let last: Answer<A> | undefined;
  let started = false;
  const run = (s: MeshSnapshot): void => {
    const next = ask(s, query);
    if (started && wireEqual(last, next)) return;
    started = true;
    last = next;
    onAnswer(next);
  };
  const unsubscribe = holder.subscribe(run);
  run(holder.current());
  return unsubscribe;
}

type StreamCall = grpc.ServerWritableStream<Wire, Wire>;

/**
 * Serves a streaming call from the live answer: `onAnswer` writes to the call (or ends it) for each
 * changed answer; the subscription ends with the call however it ends.
 */
export function serveLive<A>(
  call: StreamCall,
  calls: OpenCalls,
  holder: SnapshotHolder,
  query: (s: MeshSnapshot) => Answer<A>,
  onAnswer: (a: Answer<A>) => void,
): void {
  let ended = false;
  let stop: (() => void) | undefined;
  calls.add(call, () => {
    ended = true;
    stop?.();
  });
  const unsubscribe = followAnswer(holder, query, (a) => {
    if (!ended) onAnswer(a);
  });
  if (ended) unsubscribe();
  else stop = unsubscribe;
}

/**
 * A stream of full replacements (GetProfile, WatchPort, outbound Watch): each changed answer is
 * written whole; a refusal ends the stream with its status.
 */
export function serveReplacements<T extends { readonly kind: string }>(
  call: StreamCall,
  calls: OpenCalls,
  holder: SnapshotHolder,
  query: (s: MeshSnapshot) => T | Refusal,
  message: (a: Accepted<T>) => Wire,
): void {
  serveLive(call, calls, holder, query, (a) => {
    if (isRefusal(a)) calls.end(call, refusalStatus(a), a.message);
    else call.write(message(a as Accepted<T>));
  });
}

/** A unary call answered from the current snapshot. */
export function answerOnce<T extends { readonly kind: string }>(
  holder: SnapshotHolder,
  query: (s: MeshSnapshot) => T | Refusal,
  message: (a: Accepted<T>) => Wire,
  callback: grpc.sendUnaryData<Wire>,
): void {
  const a = ask(holder.current(), query);
  if (isRefusal(a)) callback(unaryStatus(refusalStatus(a), a.message));
  else callback(null, message(a as Accepted<T>));
}
