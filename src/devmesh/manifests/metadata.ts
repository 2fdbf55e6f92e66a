// Reads `metadata` (name, namespace, labels, annotations, creation time, owners) and checks the annotations we act on.
import {
  DEFAULT_INBOUND_POLICY_ANNOTATION,
  DEFAULT_POLICY_NAMES,
  INJECT_ANNOTATION,
  IPS_ANNOTATION,
  OPAQUE_PORTS_ANNOTATION,
  REQUIRE_IDENTITY_PORTS_ANNOTATION,
  SKIP_INBOUND_PORTS_ANNOTATION,
  isDefaultPolicyName,
  parseIpList,
  parsePortList,
} from './annotations.js';
import { DNS_LABEL, DNS_SUBDOMAIN, PORT_NAME, at, recordItems, recordField, stringField, stringMapField, type Json, type ParseCtx } from './fields.js';
import type { ObjectMeta, OwnerReference } from './types.js';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** `metadata` of a resource; undefined (with errors recorded) when the name is unusable. */
export function readMetadata(ctx: ParseCtx, doc: Json, namespaced: boolean, nameRule = DNS_SUBDOMAIN): ObjectMeta | undefined {
  const m = recordField(ctx, doc, 'metadata', '', true);
  if (m === undefined) return undefined;
  const name = stringField(ctx, m, 'name', 'metadata', { required: true, pattern: nameRule });
  let namespace = '';
  if (namespaced) namespace = stringField(ctx, m, 'namespace', 'metadata', { pattern: DNS_LABEL }) ?? 'default';
  else if (m.namespace !== undefined) ctx.warn('metadata.namespace', 'is ignored: this kind is not namespaced');
  if (name !== undefined) ctx.named(namespace, name);
  const labels = stringMapField(ctx, m, 'labels', 'metadata');
  for (const [k, v] of Object.entries(labels)) {
    if (v.length > 63 || !LABEL_VALUE.test(v)) ctx.error(at('metadata.labels', k), `${JSON.stringify(v)} is not a valid label value`);
  }
  const annotations = stringMapField(ctx, m, 'annotations', 'metadata');
  const created = stringField(ctx, m, 'creationTimestamp', 'metadata');
  let creationTimestamp: number | undefined;
  if (created !== undefined) {
    creationTimestamp = Date.parse(created);
    if (Number.isNaN(creationTimestamp)) ctx.error('metadata.creationTimestamp', `${JSON.stringify(created)} is not an RFC 3339 time`);
  }
  const ownerReferences: OwnerReference[] = [];
  for (const o of recordItems(ctx, m, 'ownerReferences', 'metadata')) {
    const kind = stringField(ctx, o.value, 'kind', o.path, { required: true, minLength: 1 });
    const oname = stringField(ctx, o.value, 'name', o.path, { required: true, minLength: 1 });
    if (kind !== undefined && oname !== undefined) ownerReferences.push(Object.freeze({ kind, name: oname }));
  }
  if (name === undefined) return undefined;
  return Object.freeze({
    name,
    namespace,
    labels,
    annotations,
    ...(creationTimestamp === undefined || Number.isNaN(creationTimestamp) ? {} : { creationTimestamp }),
    ownerReferences: Object.freeze(ownerReferences),
  });
}

/**
 * Warns about Linkerd annotations whose values the control plane would ignore (it logs and
 * falls back, so these are warnings, not errors). `portNames` resolves named ports.
 */
export function checkLinkerdAnnotations(ctx: ParseCtx, path: string, annotations: Readonly<Record<string, string>>, portNames?: ReadonlyMap<string, readonly number[]>): void {
  const policy = annotations[DEFAULT_INBOUND_POLICY_ANNOTATION];
  if (policy !== undefined && !isDefaultPolicyName(policy)) {
    ctx.warn(at(path, DEFAULT_INBOUND_POLICY_ANNOTATION), `${JSON.stringify(policy)} is not one of ${DEFAULT_POLICY_NAMES.join(', ')}; the cluster default applies`);
  }
  for (const key of [OPAQUE_PORTS_ANNOTATION, REQUIRE_IDENTITY_PORTS_ANNOTATION, SKIP_INBOUND_PORTS_ANNOTATION]) {
    const v = annotations[key];
    if (v === undefined) continue;
    // Without the workload's ports (a Namespace), any well-formed name is accepted: pods resolve it.
    const names = portNames ?? new Map(v.split(',').map((e) => [e.trim(), []] as const).filter(([e]) => PORT_NAME.re.test(e)));
    const parsed = parsePortList(v, names);
    if ('error' in parsed) ctx.warn(at(path, key), `${parsed.error}; the annotation is ignored`);
  }
  const inject = annotations[INJECT_ANNOTATION];
  if (inject !== undefined && !['enabled', 'disabled', 'ingress'].includes(inject)) {
    ctx.warn(at(path, INJECT_ANNOTATION), `${JSON.stringify(inject)} is not enabled, disabled or ingress`);
  }
}

/** The `devmesh.l5d.io/ips` annotation, if present and valid. */
export function readIpsAnnotation(ctx: ParseCtx, path: string, annotations: Readonly<Record<string, string>>): string[] | undefined {
  const v = annotations[IPS_ANNOTATION];
  if (v === undefined) return undefined;
  const parsed = parseIpList(v);
  if ('error' in parsed) return ctx.error(at(path, IPS_ANNOTATION), parsed.error);
  return parsed.ips;
}
