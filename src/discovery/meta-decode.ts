// io.linkerd.proxy.meta.Metadata: a synthesised default's name, or the Kubernetes object a policy piece came from.
import type { PolicyMeta } from './destination-types.js';
import { fail, msg, oneofArm, str, u32 } from './wire.js';

/** Metadata for something with no backing resource (group '', kind `default`), e.g. `fallback`. */
export function defaultPolicyMeta(name: string): PolicyMeta {
  return Object.freeze({ group: '', kind: 'default', name, namespace: '', section: undefined, port: undefined });
}

export function isDefaultPolicyMeta(meta: PolicyMeta): boolean {
  return meta.group === '' && meta.kind === 'default';
}

/**
 * Decodes a Metadata message. `strict` (policy objects) requires group, kind, name and
 * namespace of a resource to be non-empty, as the Rust proxy's client policy does.
 */
export function decodePolicyMeta(v: unknown, path: string, strict: boolean): PolicyMeta {
  const m = msg(v, path);
  const arm = oneofArm(m, 'kind', ['default', 'resource'], path) ?? fail(path, 'no metadata kind set');
  if (arm.name === 'default') {
    if (typeof arm.value !== 'string') fail(arm.path, 'expected a string');
    return defaultPolicyMeta(arm.value);
  }
  const r = msg(arm.value, arm.path);
  const group = str(r, 'group', arm.path);
  const kind = str(r, 'kind', arm.path);
  const name = str(r, 'name', arm.path);
  const namespace = str(r, 'namespace', arm.path);
  if (strict) {
    for (const [field, value] of [['group', group], ['kind', kind], ['name', name], ['namespace', namespace]] as const) {
      if (value === '') fail(arm.path, `${field} must not be empty`);
    }
  }
  const section = str(r, 'section', arm.path);
  const port = u32(r, 'port', arm.path);
  return Object.freeze({
    group,
    kind,
    name,
    namespace,
    section: section === '' ? undefined : section,
    port: port > 0 && port <= 65535 ? port : undefined,
  });
}

/** `kind namespace/name` for logs and synthesised error messages. */
export function formatPolicyMeta(meta: PolicyMeta): string {
  return `${meta.kind} ${meta.namespace}${meta.namespace === '' ? '' : '/'}${meta.name}`;
}
