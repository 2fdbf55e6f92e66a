// Applies a matched rule's filters in order (upstream `apply_http_filters`/`apply_grpc_filters`), deciding any synthetic answer.
import type { HttpMatchSummary } from './match-http.js';
import { applyRedirect, type RedirectRequest } from './redirect.js';
import { inboundRejection, internalErrorResponse, redirectResponse, type SyntheticResponse } from './responses.js';
import type { GrpcFilter, HeaderModifier, HttpFilter, Ratio } from './types.js';

/** The request-header operations a header modifier needs (names are lower-case). */
export interface MutableHeaders {
  append(name: string, value: string): void;
  set(name: string, value: string): void;
  delete(name: string): void;
}

/** Adds, then sets, then removes — the order upstream `ModifyHeader::apply` uses. */
export function applyHeaderModifier(m: HeaderModifier, headers: MutableHeaders): void {
  for (const [name, value] of m.add) headers.append(name, value);
  for (const [name, value] of m.set) headers.set(name, value);
  for (const name of m.remove) headers.delete(name);
}

/** One Bernoulli draw with probability numerator/denominator; `random` returns [0, 1). */
export function ratioHits(r: Ratio, random: () => number = Math.random): boolean {
  if (r.numerator >= r.denominator) return true;
  if (r.numerator === 0) return false;
  return random() * r.denominator < r.numerator;
}

export type FilterOutcome =
  | { readonly kind: 'continue' }
  /** Answer with this instead of forwarding. `injected` marks a failure injection. */
  | { readonly kind: 'respond'; readonly response: SyntheticResponse; readonly injected?: { readonly status: number; readonly message: string } };

const CONTINUE: FilterOutcome = Object.freeze({ kind: 'continue' });

/**
 * An injected failure is not rescued specially by the upstream inbound server (only the outbound
 * side renders the configured status), so it ends as its generic 500 "unexpected error".
 */
function injectedFailure(status: number, message: string): FilterOutcome {
  return { kind: 'respond', response: inboundRejection('unexpected-error'), injected: { status, message } };
}

export function runHttpFilters(
  filters: readonly HttpFilter[],
  req: RedirectRequest,
  match: HttpMatchSummary,
  headers: MutableHeaders,
  random: () => number = Math.random,
): FilterOutcome {
  for (const f of filters) {
    switch (f.kind) {
      case 'failure-injector':
        if (ratioHits(f.ratio, random)) return injectedFailure(f.status, f.message);
        break;
      case 'redirect': {
        const r = applyRedirect(f, req, match);
        if (r.kind === 'redirect') return { kind: 'respond', response: redirectResponse(r.status, r.location) };
        if (r.kind === 'invalid') return { kind: 'respond', response: inboundRejection('unexpected-error') };
        break;
      }
      case 'request-header-modifier':
        applyHeaderModifier(f, headers);
        break;
      case 'internal-error':
        return { kind: 'respond', response: internalErrorResponse(f.message) };
    }
  }
  return CONTINUE;
}

export function runGrpcFilters(filters: readonly GrpcFilter[], headers: MutableHeaders, random: () => number = Math.random): FilterOutcome {
  for (const f of filters) {
    switch (f.kind) {
      case 'failure-injector':
        if (ratioHits(f.ratio, random)) return injectedFailure(f.code, f.message);
        break;
      case 'request-header-modifier':
        applyHeaderModifier(f, headers);
        break;
      case 'internal-error':
        return { kind: 'respond', response: internalErrorResponse(f.message) };
    }
  }
  return CONTINUE;
}
