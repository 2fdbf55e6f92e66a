// Chooses a route's backend from its distribution: first-available or weighted random-available.
import type { Backend, Distribution, RouteBackend } from '../../discovery/outbound-policy-types.js';
import type { BackendDispatcher } from '../context.js';
import { dispatcherReady } from './dispatchers.js';

export interface ChosenBackend<F> {
  readonly routeBackend: RouteBackend<F>;
  readonly dispatcher: BackendDispatcher;
}

/**
 * The backend a connection or request goes to; undefined for an `empty` distribution.
 *
 * Like upstream's distributors, ready backends (an endpoint to hand out now) are preferred:
 * `first-available` takes the first ready one in order, `random-available` draws among the
 * ready ones by weight. When none is ready the choice falls back to the first backend
 * (respectively a weighted draw over all), whose queue then waits and fails fast.
 * Zero-weight backends are never drawn unless every weight is zero (then all weigh the same).
 */
export function chooseBackend<F>(
  distribution: Distribution<F>,
  dispatcherOf: (backend: Backend) => BackendDispatcher,
  random: () => number = Math.random,
): ChosenBackend<F> | undefined {
  switch (distribution.kind) {
    case 'empty':
      return undefined;
    case 'first-available': {
      let first: ChosenBackend<F> | undefined;
      for (const routeBackend of distribution.backends) {
        const dispatcher = dispatcherOf(routeBackend.backend);
        if (dispatcherReady(dispatcher)) return { routeBackend, dispatcher };
        first ??= { routeBackend, dispatcher };
      }
      return first;
    }
    case 'random-available': {
      const all = distribution.backends;
      if (all.length === 0) return undefined;
      const uniform = all.every((b) => b.weight <= 0);
      const candidates = all.map((b) => ({ routeBackend: b.backend, weight: uniform ? 1 : Math.max(0, b.weight), dispatcher: dispatcherOf(b.backend.backend) }));
      const ready = candidates.filter((c) => c.weight > 0 && dispatcherReady(c.dispatcher));
      const pool = ready.length > 0 ? ready : candidates.filter((c) => c.weight > 0);
      const chosen = weighted(pool, random);
      return chosen === undefined ? undefined : { routeBackend: chosen.routeBackend, dispatcher: chosen.dispatcher };
    }
  }
}

function weighted<T extends { readonly weight: number }>(items: readonly T[], random: () => number): T | undefined {
  let total = 0;
  for (const i of items) total += i.weight;
  if (total <= 0) return items[0];
  let r = random() * total;
  for (const i of items) {
    r -= i.weight;
    if (r < 0) return i;
  }
  return items[items.length - 1];
}
