// Client-policy filters on an HTTP/2 request: header modifiers edit the outgoing request headers
// (or, for response modifiers, are kept for the response), redirects and injected failures become
// local answers (HTTP routes answer the configured status, gRPC routes 200 + the configured code).
import type { OutboundGrpcFilter, OutboundHttpFilter } from '../../discovery/outbound-policy-types.js';
import { applyHeaderModifier, applyRedirect, ratioHits, type HeaderModifier, type HttpMatchSummary, type RedirectRequest } from '../../policy/inbound/index.js';
import { H2HeaderEdits, type OutgoingHeaders } from '../../inbound/http/header-edits.js';
import { injectedFailure, invalidPolicy, redirect, UNEXPECTED_ERROR } from '../http/responses.js';
import { fromH1, grpcInjected, type H2Answer } from './answers.js';

/** What the filters of one attempt asked for besides the request edits. */
export interface FilterResult {
  /** Response header modifiers, in order. */
  response: HeaderModifier[] | undefined;
}

/** Runs an HTTP rule's (or route backend's) filters on `headers`; returns the local answer, if one fires. */
export function runHttpFilters(
  filters: readonly OutboundHttpFilter[],
  headers: OutgoingHeaders,
  req: RedirectRequest,
  match: HttpMatchSummary,
  out: FilterResult,
  random: () => number,
): H2Answer | undefined {
  let edits: H2HeaderEdits | undefined;
  for (const f of filters) {
    switch (f.kind) {
      case 'request-header-modifier':
        applyHeaderModifier(f, (edits ??= new H2HeaderEdits(headers)));
        break;
      case 'response-header-modifier':
        (out.response ??= []).push(f);
        break;
      case 'redirect': {
        const r = applyRedirect(f, req, match);
        if (r.kind === 'redirect') return fromH1(redirect(r.status, r.location));
        if (r.kind === 'invalid') return fromH1(UNEXPECTED_ERROR);
        break;
      }
      case 'failure-injector':
        if (ratioHits(f.ratio, random)) return fromH1(injectedFailure(f.status, f.message));
        break;
      case 'internal-error':
        return fromH1(invalidPolicy(f.message));
    }
  }
  return undefined;
}

/** Runs a gRPC rule's (or route backend's) filters on `headers`. */
export function runGrpcFilters(filters: readonly OutboundGrpcFilter[], headers: OutgoingHeaders, random: () => number): H2Answer | undefined {
  let edits: H2HeaderEdits | undefined;
  for (const f of filters) {
    switch (f.kind) {
      case 'request-header-modifier':
        applyHeaderModifier(f, (edits ??= new H2HeaderEdits(headers)));
        break;
      case 'failure-injector':
        if (ratioHits(f.ratio, random)) return grpcInjected(f.code, f.message);
        break;
      case 'internal-error':
        return fromH1(invalidPolicy(f.message));
    }
  }
  return undefined;
}

/** Applies response header modifiers to a response's headers in place. */
export function editResponse(headers: OutgoingHeaders, modifiers: readonly HeaderModifier[]): void {
  const edits = new H2HeaderEdits(headers);
  for (const m of modifiers) applyHeaderModifier(m, edits);
}
