// Inbound policy per port: discovery-backed handles, and TCP re-authorization when a policy changes.
export { createPortPolicies, type PortPoliciesOptions, type WatchedPortPolicies } from './port-policies.js';
export type { PortPolicyHandle } from './port-policy-handle.js';
export { enforceTcpAuthorization, type EnforcedTcpConnection, type TcpReauthorizeHooks } from './tcp-reauthorize.js';
export { TcpTerminateMetrics } from './tcp-terminate-metrics.js';
