// Parses LINKERD2_PROXY_POLICY_WORKLOAD as the policy controller does: JSON {ns, pod | external_workload}, or legacy `ns:pod`.

export interface WorkloadRef {
  readonly namespace: string;
  readonly kind: 'pod' | 'external-workload';
  readonly name: string;
}

/** The workload, or why the string is invalid (the server then answers INVALID_ARGUMENT). */
export function parseWorkloadRef(text: string): WorkloadRef | { readonly error: string } {
  const s = text.trim();
  const invalid = { error: `Invalid workload: ${text}` };
  if (s.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      return invalid;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return invalid;
    const o = v as Record<string, unknown>;
    const pod = o.pod;
    const ew = o.external_workload;
    if (typeof o.ns !== 'string') return invalid;
    // Exactly one of the two kinds; other keys (e.g. nodeName) are ignored.
    if (typeof pod === 'string' && ew === undefined) return { namespace: o.ns, kind: 'pod', name: pod };
    if (typeof ew === 'string' && pod === undefined) return { namespace: o.ns, kind: 'external-workload', name: ew };
    return invalid;
  }
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1) return invalid;
  return { namespace: s.slice(0, colon), kind: 'pod', name: s.slice(colon + 1) };
}
