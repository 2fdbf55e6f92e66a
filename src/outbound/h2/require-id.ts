// l5d-require-id: an attempt's endpoint must be reached over mTLS with the identity the request
// names, or the proxy answers instead of sending it.
import type { Endpoint } from '../../balance/index.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import type { EndpointClient } from '../http/endpoint-clients.js';
import { identityRequired } from '../http/responses.js';
import { fromH1, type H2Answer } from './answers.js';

/** The answer for an endpoint that lacks the required identity; undefined when none is required or it matches. */
export function requiredIdentityAnswer(requiredRaw: string | undefined, client: EndpointClient, ep: Endpoint<DestinationEndpoint>): H2Answer | undefined {
  if (requiredRaw === undefined) return undefined;
  const required = requiredRaw.trim();
  const id = client.meshed ? ep.metadata.tlsIdentity : undefined;
  if (id !== undefined && sameIdentity(required, id)) return undefined;
  return fromH1(identityRequired(required, id?.name));
}

/** Identities compare as the Rust `identity::Id`: DNS names without case or a trailing dot. */
export function sameIdentity(required: string, id: { readonly kind: 'dns' | 'uri'; readonly name: string }): boolean {
  if (id.kind === 'uri') return required === id.name;
  const r = required.endsWith('.') ? required.slice(0, -1) : required;
  return r.toLowerCase() === id.name.toLowerCase();
}
