// Test fixtures: a real self-signed P-256 root (generated once with openssl) and the spec §1.5 VM environment.

/** `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=root.linkerd.cluster.local -days 3650 -keyout /dev/null` */
export const TEST_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIIBnjCCAUWgAwIBAgIUNkoydnen95ALk3SJBsuhQLoQIBAwCgYIKoZIzj0EAwIw
JTEjMCEGA1UEAwwacm9vdC5saW5rZXJkLmNsdXN0ZXIubG9jYWwwHhcNMjYxMjAx
MDc1NDI5WhcNMzYxMTI4MDc1NDI5WjAlMSMwIQYDVQQDDBpyb290LmxpbmtlcmQu
Y2x1c3Rlci5sb2NhbDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPhAVdkiQJmH
/P8HXgt9t/Vjq+gpsap+n86MA8ME/ySblglcjLa2XBWbe2OWwkHsGuDZ4a5j5eL8
FVyovPAPydijUzBRMB0GA1UdDgQWBBSjQSjCxGCyWE9GvcZwUpJmD6nfhDAfBgNV
HSMEGDAWgBSjQSjCxGCyWE9GvcZwUpJmD6nfhDAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0cAMEQCIAwjW1u5joKLvPjDjGhU/wH6sTGUL2xVC2Lw8LD6urlu
AiB2BTNZXR9GY5uUEhp3LREAOWzQ8y240ikPM+TNtKhvBg==
-----END CERTIFICATE-----
`;

/** The mesh-expansion VM environment of spec §1.5 (SPIRE mode, deprecated socket alias). */
export const VM_ENV: Readonly<Record<string, string>> = Object.freeze({
  LINKERD2_PROXY_IDENTITY_SERVER_ID: 'spiffe://root.linkerd.cluster.local/external-workload',
  LINKERD2_PROXY_IDENTITY_SERVER_NAME: 'external-workload.cluster.local',
  LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"mixed-env", "external_workload":"external-workload"}',
  LINKERD2_PROXY_DESTINATION_CONTEXT: '{"ns":"mixed-env", "nodeName":"my-vm", "external_workload":"external-workload"}',
  LINKERD2_PROXY_DESTINATION_SVC_ADDR: 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086',
  LINKERD2_PROXY_DESTINATION_SVC_NAME: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_POLICY_SVC_ADDR: 'linkerd-policy.linkerd.svc.cluster.local.:8090',
  LINKERD2_PROXY_POLICY_SVC_NAME: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET: 'unix:///tmp/spire-agent/public/api.sock',
  LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: TEST_ROOT_PEM,
});

/** A minimal Linkerd-identity-mode (Kubernetes-style) environment. */
export const K8S_ENV: Readonly<Record<string, string>> = Object.freeze({
  LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: TEST_ROOT_PEM,
  LINKERD2_PROXY_IDENTITY_LOCAL_NAME: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_IDENTITY_DIR: '/var/run/linkerd/identity/end-entity',
  LINKERD2_PROXY_IDENTITY_TOKEN_FILE: '/var/run/secrets/tokens/linkerd-identity-token',
  LINKERD2_PROXY_IDENTITY_SVC_ADDR: 'linkerd-identity-headless.linkerd.svc.cluster.local.:8080',
  LINKERD2_PROXY_IDENTITY_SVC_NAME: 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_DESTINATION_SVC_ADDR: 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086',
  LINKERD2_PROXY_DESTINATION_SVC_NAME: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_POLICY_SVC_ADDR: 'linkerd-policy.linkerd.svc.cluster.local.:8090',
  LINKERD2_PROXY_POLICY_SVC_NAME: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"emojivoto", "pod":"web-123"}\n',
  LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'all-unauthenticated',
});

/** `env` with some variables replaced (undefined removes one). */
export function withEnv(
  base: Readonly<Record<string, string>>,
  changes: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = { ...base };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}
