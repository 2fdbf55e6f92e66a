// One attempt's way to a backend (spec §5.5): the rule's filters, a backend from the rule's
// distribution, then that route backend's filters; a filter or a failing backend makes the proxy
// answer instead.
import type { Backend, OutboundGrpcFilter, OutboundHttpFilter } from '../../discovery/outbound-policy-types.js';
import type { H2RequestView } from '../../inbound/http/request-view.js';
import type { BackendDispatcher } from '../context.js';
import { backendFailed } from '../http/responses.js';
import type { RouteErrorLabel } from '../http/route-metrics.js';
import { chooseBackend } from '../target/distribution.js';
import { fromH1, type H2Answer } from './answers.js';
import { runGrpcFilters, runHttpFilters, type FilterResult } from './filters.js';
import type { OutgoingHeaders } from './headers.js';
import type { H2RouteHit } from './routes.js';

export type BackendChoice =
  /** The proxy answers (an `unexpected` error); `label` is the route-status error label, if any. */
  | { readonly kind: 'answer'; readonly answer: H2Answer; readonly label: RouteErrorLabel | undefined }
  /** The distribution is empty. */
  | { readonly kind: 'none' }
  | { readonly kind: 'backend'; readonly backend: Backend; readonly dispatcher: BackendDispatcher };

const NONE: BackendChoice = Object.freeze({ kind: 'none' });

/** Runs the filters on `headers` (response edits go to `result`) and chooses the attempt's backend. */
export function chooseH2Backend(
  hit: H2RouteHit,
  view: H2RequestView,
  headers: OutgoingHeaders,
  result: FilterResult,
  dispatcherOf: (b: Backend) => BackendDispatcher,
  random: () => number,
): BackendChoice {
  const answer = runFilters(hit, hit.rule.filters, view, headers, result, random);
  if (answer !== undefined) return { kind: 'answer', answer, label: undefined };
  const chosen = chooseBackend<OutboundHttpFilter | OutboundGrpcFilter>(hit.rule.distribution, dispatcherOf, random);
  if (chosen === undefined) return NONE;
  const backendAnswer = runFilters(hit, chosen.routeBackend.filters, view, headers, result, random);
  if (backendAnswer !== undefined) return { kind: 'answer', answer: backendAnswer, label: undefined };
  const backend = chosen.routeBackend.backend;
  if (backend.dispatch.kind === 'fail') return { kind: 'answer', answer: fromH1(backendFailed(backend.dispatch.message)), label: 'UNKNOWN' };
  return { kind: 'backend', backend, dispatcher: chosen.dispatcher };
}

/** The rule's or route backend's filters, by the route kind. */
function runFilters(
  hit: H2RouteHit,
  filters: readonly (OutboundHttpFilter | OutboundGrpcFilter)[],
  view: H2RequestView,
  headers: OutgoingHeaders,
  result: FilterResult,
  random: () => number,
): H2Answer | undefined {
  if (filters.length === 0) return undefined;
  return hit.kind === 'http'
    ? runHttpFilters(filters as readonly OutboundHttpFilter[], headers, view, hit.match, result, random)
    : runGrpcFilters(filters as readonly OutboundGrpcFilter[], headers, random);
}
