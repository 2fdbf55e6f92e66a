// FIFO of pending picks as a doubly-linked list: O(1) push, shift and removal on abort.

/** One pending pick; it is its own abort listener, so waiting needs no closure. */
export class Waiter<T> {
  prev: Waiter<T> | undefined;
  next: Waiter<T> | undefined;
  queued = false;

  constructor(
    private readonly list: WaitList<T>,
    readonly resolve: (value: T) => void,
    readonly reject: (err: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  handleEvent(): void {
    if (!this.queued) return;
    this.list.remove(this);
    this.reject(this.signal?.reason);
  }
}

export class WaitList<T> {
  private head: Waiter<T> | undefined;
  private tail: Waiter<T> | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Queues a pick at the tail; an abort of `signal` removes it and rejects with the reason. */
  push(resolve: (value: T) => void, reject: (err: unknown) => void, signal: AbortSignal | undefined): void {
    const w = new Waiter<T>(this, resolve, reject, signal);
    w.prev = this.tail;
    if (this.tail === undefined) this.head = w;
    else this.tail.next = w;
    this.tail = w;
    w.queued = true;
    this.count += 1;
    if (signal !== undefined) signal.addEventListener('abort', w, { once: true });
  }

  /** Removes and returns the oldest waiter. */
  shift(): Waiter<T> | undefined {
    const w = this.head;
    if (w !== undefined) this.remove(w);
    return w;
  }

  remove(w: Waiter<T>): void {
    if (!w.queued) return;
    if (w.prev === undefined) this.head = w.next;
    else w.prev.next = w.next;
    if (w.next === undefined) this.tail = w.prev;
    else w.next.prev = w.prev;
    w.prev = undefined;
    w.next = undefined;
    w.queued = false;
    this.count -= 1;
    w.signal?.removeEventListener('abort', w);
  }
}
