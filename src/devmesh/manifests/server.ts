// Server (policy.linkerd.io v1alpha1-v1beta3): pod or external-workload selector, port, proxyProtocol, accessPolicy.
import { DEFAULT_POLICY_NAMES, isDefaultPolicyName } from './annotations.js';
import { portRef, recordField, stringField, type Json, type ParseCtx } from './fields.js';
import { readMetadata } from './metadata.js';
import { readLabelSelector } from './selector.js';
import type { ProxyProtocolName, ResourceSource, ServerResource } from './types.js';

const PROTOCOLS: readonly ProxyProtocolName[] = ['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS'];

export function readServer(ctx: ParseCtx, doc: Json, apiVersion: string, source: ResourceSource): ServerResource | undefined {
  const meta = readMetadata(ctx, doc, true);
  const spec = recordField(ctx, doc, 'spec', '', true);
  if (meta === undefined || spec === undefined) return undefined;
  const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
  const hasEw = spec.externalWorkloadSelector !== undefined && spec.externalWorkloadSelector !== null;
  const hasPod = spec.podSelector !== undefined && spec.podSelector !== null;
  if (hasEw && (version === 'v1alpha1' || version === 'v1beta1')) {
    return ctx.error('spec.externalWorkloadSelector', `is not part of ${apiVersion}; use policy.linkerd.io/v1beta2 or later`);
  }
  if (hasEw === hasPod) return ctx.error('spec', 'must have exactly one of podSelector and externalWorkloadSelector');
  const key = hasPod ? 'podSelector' : 'externalWorkloadSelector';
  const sel = recordField(ctx, spec, key, 'spec', true);
  const selector = sel === undefined ? undefined : readLabelSelector(ctx, sel, `spec.${key}`);
  const port = spec.port === undefined || spec.port === null ? ctx.error('spec.port', 'is required') : portRef(ctx, spec.port, 'spec.port');
  const proxyProtocol = (stringField(ctx, spec, 'proxyProtocol', 'spec', { oneOf: PROTOCOLS }) ?? 'unknown') as ProxyProtocolName;
  let accessPolicy: ServerResource['accessPolicy'];
  const access = stringField(ctx, spec, 'accessPolicy', 'spec');
  if (access !== undefined && version !== 'v1beta3') {
    ctx.warn('spec.accessPolicy', `is not part of ${apiVersion} and is ignored; use policy.linkerd.io/v1beta3`);
  } else if (access !== undefined && !isDefaultPolicyName(access)) {
    ctx.warn('spec.accessPolicy', `${JSON.stringify(access)} is not one of ${DEFAULT_POLICY_NAMES.join(', ')}; it is ignored (as the policy controller does)`);
  } else if (access !== undefined && isDefaultPolicyName(access)) {
    accessPolicy = access;
  }
  if (ctx.errors > 0 || selector === undefined || port === undefined) return undefined;
  return Object.freeze({
    kind: 'Server',
    apiVersion,
    meta,
    source,
    selects: hasPod ? 'pod' : 'external-workload',
    selector,
    port,
    proxyProtocol,
    ...(accessPolicy === undefined ? {} : { accessPolicy }),
  });
}
