// Client authorizations: AuthorizationPolicies resolved against their authentications, the default policies, and their Authz wire form.
import type { IpNetwork } from '../../config/types.js';
import type { AuthorizationPolicyResource, DefaultPolicyName } from '../manifests/types.js';
import { key, type Cluster } from './cluster.js';
import { namespaceIdentity, serviceAccountIdentity, type ResolvedSettings } from './settings.js';
import type { ManifestProblem, Wire } from './types.js';
import { defaultMeta, ipNetwork, resourceMeta } from './wire.js';

export type IdentityMatch = { readonly exact: string } | { readonly suffix: readonly string[] };

export type ClientAuthentication =
  | { readonly kind: 'unauthenticated' }
  | { readonly kind: 'tls-authenticated'; readonly matches: readonly IdentityMatch[] };

export interface ClientAuthorization {
  readonly networks: readonly { readonly net: IpNetwork; readonly except: readonly IpNetwork[] }[];
  readonly authentication: ClientAuthentication;
}

/** Where an authorization came from: a default policy (or `probe`), or an AuthorizationPolicy. */
export type AuthorizationRef = { readonly kind: 'default'; readonly name: string } | { readonly kind: 'authorizationpolicy'; readonly name: string };

export interface ResolvedPolicy {
  readonly resource: AuthorizationPolicyResource;
  readonly authz: ClientAuthorization;
}

const ALL_NETWORKS: ClientAuthorization['networks'] = Object.freeze([
  { net: { family: 4, addr: '0.0.0.0', prefixLen: 0 }, except: [] },
  { net: { family: 6, addr: '::', prefixLen: 0 }, except: [] },
]);

/** `*` is any identity, `*.a.b` a suffix, anything else (DNS name or SPIFFE ID) an exact identity. */
export function identityMatch(text: string): IdentityMatch {
  if (text === '*') return { suffix: [] };
  if (text.startsWith('*.')) return { suffix: text.split('.').slice(1) };
  return { exact: text };
}

function resolve(c: Cluster, p: AuthorizationPolicyResource): ClientAuthorization | string {
  const s = c.rs.settings;
  let matches: IdentityMatch[] | undefined;
  let networks: ClientAuthorization['networks'] | undefined;
  for (const ref of p.authentications) {
    const ns = ref.namespace ?? p.meta.namespace;
    if (ref.kind === 'ServiceAccount') {
      matches = [{ exact: serviceAccountIdentity(s, ns, ref.name) }];
    } else if (ref.kind === 'MeshTLSAuthentication') {
      const authn = c.meshTlsAuthentications.get(key(ns, ref.name));
      if (authn === undefined) return `could not find MeshTLSAuthentication ${ref.name} in namespace ${ns}`;
      matches = [
        ...authn.identities.map(identityMatch),
        ...authn.identityRefs.map((r) =>
          r.kind === 'ServiceAccount' ? { exact: serviceAccountIdentity(s, r.namespace ?? authn.meta.namespace, r.name) } : identityMatch(namespaceIdentity(s, r.name)),
        ),
      ];
    } else {
      const authn = c.networkAuthentications.get(key(ns, ref.name));
      if (authn === undefined) return `could not find NetworkAuthentication ${ref.name} in namespace ${ns}`;
      networks = authn.networks.map((n) => ({ net: n.cidr, except: n.except }));
    }
  }
  return {
    authentication: matches === undefined ? { kind: 'unauthenticated' } : { kind: 'tls-authenticated', matches },
    networks: networks ?? ALL_NETWORKS,
  };
}

/** Every usable AuthorizationPolicy; one naming a missing authentication is ignored with a warning, as upstream logs and skips it. */
export function resolvePolicies(c: Cluster, problems: ManifestProblem[]): ResolvedPolicy[] {
  const out: ResolvedPolicy[] = [];
  for (const p of c.authorizationPolicies) {
    const r = resolve(c, p);
    if (typeof r === 'string') {
      problems.push({
        severity: 'warning',
        file: p.source.file,
        resource: `AuthorizationPolicy ${key(p.meta.namespace, p.meta.name)}`,
        field: 'spec.requiredAuthenticationRefs',
        message: `${r}; the policy authorizes nothing until it exists`,
      });
      continue;
    }
    out.push({ resource: p, authz: r });
  }
  return out;
}

/** The authorization a default policy grants (none for `deny`). `authenticated` forces mesh TLS (require-identity ports). */
export function defaultPolicyAuthz(rs: ResolvedSettings, policy: DefaultPolicyName): ClientAuthorization | undefined {
  const cluster = rs.clusterNetworks.map((net) => ({ net, except: [] }));
  const anyIdentity: ClientAuthentication = { kind: 'tls-authenticated', matches: [{ suffix: [] }] };
  const open: ClientAuthentication = { kind: 'unauthenticated' };
  switch (policy) {
    case 'all-unauthenticated':
    case 'audit':
      return { networks: ALL_NETWORKS, authentication: open };
    case 'all-authenticated':
      return { networks: ALL_NETWORKS, authentication: anyIdentity };
    case 'cluster-unauthenticated':
      return { networks: cluster, authentication: open };
    case 'cluster-authenticated':
      return { networks: cluster, authentication: anyIdentity };
    case 'deny':
      return undefined;
  }
}

/** The authenticated variant of an allow policy (what require-identity ports turn it into). */
export function authenticatedVariant(policy: DefaultPolicyName): DefaultPolicyName {
  if (policy === 'all-unauthenticated') return 'all-authenticated';
  if (policy === 'cluster-unauthenticated') return 'cluster-authenticated';
  return policy;
}

function authnWire(a: ClientAuthentication): Wire {
  if (a.kind === 'unauthenticated') return { unauthenticated: {} };
  const identities = a.matches.flatMap((m) => ('exact' in m ? [{ name: m.exact }] : []));
  const suffixes = a.matches.flatMap((m) => ('suffix' in m ? [{ parts: [...m.suffix] }] : []));
  return { meshTLS: { identities: { identities, suffixes } } };
}

/** An inbound `Authz`: networks (cluster networks when none), authentication, and both metadata and the legacy labels. */
export function authzWire(ref: AuthorizationRef, a: ClientAuthorization, rs: ResolvedSettings): Wire {
  const nets = a.networks.length > 0 ? a.networks : rs.clusterNetworks.map((net) => ({ net, except: [] }));
  const isDefault = ref.kind === 'default';
  return {
    networks: nets.map((n) => ({ net: ipNetwork(n.net), except: n.except.map(ipNetwork) })),
    authentication: authnWire(a.authentication),
    labels: isDefault ? { group: '', kind: 'default', name: ref.name } : { group: 'policy.linkerd.io', kind: ref.kind, name: ref.name },
    metadata: isDefault ? defaultMeta(ref.name) : resourceMeta({ group: 'policy.linkerd.io', kind: ref.kind, name: ref.name }),
  };
}
