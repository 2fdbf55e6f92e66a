// AuthorizationPolicy, MeshTLSAuthentication and NetworkAuthentication (policy.linkerd.io/v1alpha1).
import { parseIp } from '../../config/ip.js';
import type { IpNetwork } from '../../config/types.js';
import { DNS_LABEL, DNS_SUBDOMAIN, at, checkString, listField, recordField, recordItems, stringField, stringList, type Json, type ParseCtx } from './fields.js';
import { readMetadata } from './metadata.js';
import type {
  AuthenticationRef,
  AuthorizationPolicyResource,
  IdentityRef,
  MeshTLSAuthenticationResource,
  NetworkAuthenticationResource,
  ResourceSource,
} from './types.js';

interface TargetRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** A `{group?, kind, name, namespace?}` reference; the group defaults to `core`, kinds compare case-insensitively. */
function readRef(ctx: ParseCtx, r: Json, path: string, namespaced: boolean): TargetRef | undefined {
  const group = stringField(ctx, r, 'group', path) ?? '';
  const kind = stringField(ctx, r, 'kind', path, { required: true, minLength: 1 });
  const name = stringField(ctx, r, 'name', path, { required: true, minLength: 1, maxLength: 253 });
  const namespace = namespaced ? stringField(ctx, r, 'namespace', path, { pattern: DNS_LABEL }) : undefined;
  if (!namespaced && r.namespace !== undefined) ctx.error(at(path, 'namespace'), 'is not allowed: the target must be in the same namespace');
  if (kind === undefined || name === undefined) return undefined;
  return { group: group === '' ? 'core' : group.toLowerCase(), kind: kind.toLowerCase(), name, ...(namespace === undefined ? {} : { namespace }) };
}

function refText(r: TargetRef): string {
  return `${r.group === 'core' ? '' : `${r.group}/`}${r.kind}`;
}

export function readAuthorizationPolicy(ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource): AuthorizationPolicyResource | undefined {
  const meta = readMetadata(ctx, doc, true);
  const spec = recordField(ctx, doc, 'spec', '', true);
  if (meta === undefined || spec === undefined) return undefined;
  const t = recordField(ctx, spec, 'targetRef', 'spec', true);
  const ref = t === undefined ? undefined : readRef(ctx, t, 'spec.targetRef', false);
  let target: AuthorizationPolicyResource['target'] | undefined;
  if (ref !== undefined) {
    if (ref.group === 'policy.linkerd.io' && ref.kind === 'server') target = { kind: 'Server', name: ref.name };
    else if (ref.group === 'core' && ref.kind === 'namespace') target = { kind: 'Namespace', name: ref.name };
    else if (ref.kind === 'httproute' || ref.kind === 'grpcroute') {
      ctx.warn('spec.targetRef', `${refText(ref)} targets are not supported by the dev control plane (it serves no routes); the policy is skipped`);
      return undefined;
    } else return ctx.error('spec.targetRef', `unsupported authorization target type: ${refText(ref)}`);
  }
  if (target?.kind === 'Namespace' && target.name !== meta.namespace) {
    ctx.warn('spec.targetRef.name', `a Namespace target applies to this policy's own namespace ${JSON.stringify(meta.namespace)}, not ${JSON.stringify(target.name)}`);
  }
  const authentications: AuthenticationRef[] = [];
  if (listField(ctx, spec, 'requiredAuthenticationRefs', 'spec', true) !== undefined) {
    for (const item of recordItems(ctx, spec, 'requiredAuthenticationRefs', 'spec')) {
      const r = readRef(ctx, item.value, item.path, true);
      if (r === undefined) continue;
      const ns = r.namespace === undefined ? {} : { namespace: r.namespace };
      if (r.group === 'policy.linkerd.io' && r.kind === 'meshtlsauthentication') authentications.push({ kind: 'MeshTLSAuthentication', name: r.name, ...ns });
      else if (r.group === 'policy.linkerd.io' && r.kind === 'networkauthentication') authentications.push({ kind: 'NetworkAuthentication', name: r.name, ...ns });
      else if (r.group === 'core' && r.kind === 'serviceaccount') authentications.push({ kind: 'ServiceAccount', name: r.name, ...ns });
      else ctx.error(item.path, `unsupported authentication target: ${refText(r)}`);
    }
  }
  const count = (k: AuthenticationRef['kind']): number => authentications.filter((a) => a.kind === k).length;
  if (count('MeshTLSAuthentication') + count('ServiceAccount') > 1) ctx.error('spec.requiredAuthenticationRefs', 'may name at most one MeshTLSAuthentication or ServiceAccount');
  if (count('NetworkAuthentication') > 1) ctx.error('spec.requiredAuthenticationRefs', 'may name at most one NetworkAuthentication');
  if (ctx.errors > 0 || target === undefined) return undefined;
  return Object.freeze({ kind: 'AuthorizationPolicy', apiVersion, meta, source, target, authentications: Object.freeze(authentications) });
}

export function readMeshTLSAuthentication(ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource): MeshTLSAuthenticationResource | undefined {
  const meta = readMetadata(ctx, doc, true);
  const spec = recordField(ctx, doc, 'spec', '', true);
  if (meta === undefined || spec === undefined) return undefined;
  const identities = stringList(ctx, spec, 'identities', 'spec');
  identities.forEach((id, i) => checkString(ctx, id, at('spec.identities', i), { minLength: 1 }));
  const identityRefs: IdentityRef[] = [];
  for (const item of recordItems(ctx, spec, 'identityRefs', 'spec')) {
    const r = readRef(ctx, item.value, item.path, true);
    if (r === undefined) continue;
    if (r.group === 'core' && r.kind === 'serviceaccount') {
      checkString(ctx, r.name, at(item.path, 'name'), { pattern: DNS_SUBDOMAIN });
      identityRefs.push(Object.freeze({ kind: 'ServiceAccount', name: r.name, ...(r.namespace === undefined ? {} : { namespace: r.namespace }) }));
    } else if (r.group === 'core' && r.kind === 'namespace') {
      identityRefs.push(Object.freeze({ kind: 'Namespace', name: r.name }));
    } else {
      ctx.error(item.path, `unsupported identity reference: ${refText(r)} (use ServiceAccount or Namespace)`);
    }
  }
  if (identities.length + identityRefs.length === 0 && ctx.errors === 0) ctx.error('spec', 'configures no identities (set identities or identityRefs)');
  if (ctx.errors > 0) return undefined;
  return Object.freeze({ kind: 'MeshTLSAuthentication', apiVersion, meta, source, identities, identityRefs: Object.freeze(identityRefs) });
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a host network). */
export function parseCidr(text: string): IpNetwork | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  const lenText = slash === -1 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return undefined;
  return Object.freeze({ family: ip.family, addr: ip.addr, prefixLen: Number(lenText) });
}

export function readNetworkAuthentication(ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource): NetworkAuthenticationResource | undefined {
  const meta = readMetadata(ctx, doc, true);
  const spec = recordField(ctx, doc, 'spec', '', true);
  if (meta === undefined || spec === undefined) return undefined;
  const networks: NetworkAuthenticationResource['networks'][number][] = [];
  const cidr = (text: string, path: string): IpNetwork | undefined => parseCidr(text) ?? ctx.error(path, `${JSON.stringify(text)} is not a CIDR such as 10.0.0.0/8`);
  const items = recordItems(ctx, spec, 'networks', 'spec', true);
  if (items.length === 0 && ctx.errors === 0) ctx.error('spec.networks', 'must list at least one network');
  for (const n of items) {
    const text = stringField(ctx, n.value, 'cidr', n.path, { required: true });
    const net = text === undefined ? undefined : cidr(text, at(n.path, 'cidr'));
    const except: IpNetwork[] = [];
    stringList(ctx, n.value, 'except', n.path).forEach((e, i) => {
      const x = cidr(e, at(at(n.path, 'except'), i));
      if (x !== undefined) except.push(x);
    });
    if (net !== undefined) networks.push(Object.freeze({ cidr: net, except: Object.freeze(except) }));
  }
  if (ctx.errors > 0) return undefined;
  return Object.freeze({ kind: 'NetworkAuthentication', apiVersion, meta, source, networks: Object.freeze(networks) });
}
