// The endpoint set of one Destination.Get target, reconciled across reconnects as the Rust proxy does.
import type { DestinationEndpoint, DestinationUpdate, EndpointsView } from './destination-types.js';

const EMPTY: ReadonlyMap<string, DestinationEndpoint> = new Map();

/**
 * Applies updates to an immutable snapshot (subscribers keep the maps they were given). The
 * first useful update of each stream is a full state: an `add` then *replaces* the set, so
 * endpoints that vanished while disconnected are dropped; a `remove` before it is ignored.
 */
export class EndpointState {
  private endpoints: ReadonlyMap<string, DestinationEndpoint> = EMPTY;
  private exists = true;
  private awaitingInitial = true;

  /** A new stream opened: its first useful update reconciles. */
  streamStarted(): void {
    this.awaitingInitial = true;
  }

  /** The view to publish, or undefined when the update changes nothing. */
  apply(update: DestinationUpdate | undefined): EndpointsView | undefined {
    if (update === undefined) return undefined;
    const initial = this.awaitingInitial;
    switch (update.kind) {
      case 'add': {
        this.awaitingInitial = false;
        this.exists = true;
        if (initial) {
          this.endpoints = new Map(update.endpoints.map((e) => [e.key, e]));
          return this.view({ kind: 'reset', endpoints: update.endpoints });
        }
        const next = new Map(this.endpoints);
        for (const e of update.endpoints) next.set(e.key, e);
        this.endpoints = next;
        return this.view({ kind: 'add', endpoints: update.endpoints });
      }
      case 'remove': {
        if (initial) return undefined;
        const next = new Map(this.endpoints);
        const removed = update.addrs.filter((a) => next.delete(a));
        if (removed.length === 0) return undefined;
        this.endpoints = next;
        return this.view({ kind: 'remove', addrs: Object.freeze(removed) });
      }
      case 'no-endpoints':
        this.awaitingInitial = false;
        this.endpoints = EMPTY;
        this.exists = update.exists;
        return this.view(update.exists ? { kind: 'reset', endpoints: [] } : { kind: 'does-not-exist' });
    }
  }

  /** The watch stopped for good; the last set is kept and the change says why nothing more will come. */
  rejected(code: string, message: string): EndpointsView {
    return this.view({ kind: 'rejected', code, message });
  }

  private view(change: EndpointsView['change']): EndpointsView {
    return Object.freeze({ endpoints: this.endpoints, exists: this.exists, change: Object.freeze(change) });
  }
}

/** What a late subscriber gets first: the whole current set as a reset. */
export function replayEndpoints(view: EndpointsView): EndpointsView {
  if (view.change.kind === 'reset' || view.change.kind === 'rejected') return view;
  const change = view.exists || view.endpoints.size > 0 ? { kind: 'reset' as const, endpoints: Object.freeze([...view.endpoints.values()]) } : { kind: 'does-not-exist' as const };
  return Object.freeze({ ...view, change: Object.freeze(change) });
}
