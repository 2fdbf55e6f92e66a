// The cluster-wide settings a snapshot is computed with: stock Linkerd defaults, overridable, validated once.
import type { IpNetwork } from '../../config/types.js';
import { makeNetworkMatcher } from '../../config/ip.js';
import { isValidDnsName } from '../../config/dns-name.js';
import { isDefaultPolicyName } from '../manifests/annotations.js';
import { parseCidr } from '../manifests/authorization.js';
import type { DefaultPolicyName } from '../manifests/types.js';
import type { MeshSettings } from './types.js';

/** What a stock Linkerd install uses (Helm values `clusterDomain`, `identityTrustDomain`, `clusterNetworks`, `proxy.*`). */
export const DEFAULT_MESH_SETTINGS: MeshSettings = Object.freeze({
  clusterDomain: 'cluster.local',
  identityTrustDomain: 'cluster.local',
  controlPlaneNamespace: 'linkerd',
  clusterNetworks: Object.freeze(['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8']),
  defaultInboundPolicy: 'all-unauthenticated',
  defaultOpaquePorts: Object.freeze([25, 587, 3306, 4444, 5432, 6379, 9300, 11211]),
});

/** Settings with the derived forms the model uses on every answer. */
export interface ResolvedSettings {
  readonly settings: MeshSettings;
  readonly clusterNetworks: readonly IpNetwork[];
  readonly inCluster: (ip: string) => boolean;
  readonly defaultPolicy: DefaultPolicyName;
  readonly defaultOpaquePorts: ReadonlySet<number>;
}

/** Merges `overrides` over the defaults; throws a TypeError naming the bad setting. */
export function resolveSettings(overrides: Partial<MeshSettings> = {}): ResolvedSettings {
  const settings: MeshSettings = Object.freeze({ ...DEFAULT_MESH_SETTINGS, ...overrides });
  for (const key of ['clusterDomain', 'identityTrustDomain'] as const) {
    if (!isValidDnsName(settings[key])) throw new TypeError(`mesh setting ${key}: ${JSON.stringify(settings[key])} is not a DNS name`);
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(settings.controlPlaneNamespace)) {
    throw new TypeError(`mesh setting controlPlaneNamespace: ${JSON.stringify(settings.controlPlaneNamespace)} is not a namespace name`);
  }
  const clusterNetworks = settings.clusterNetworks.map((text) => {
    const net = parseCidr(text);
    if (net === undefined) throw new TypeError(`mesh setting clusterNetworks: ${JSON.stringify(text)} is not a CIDR`);
    return net;
  });
  const policy = settings.defaultInboundPolicy;
  if (!isDefaultPolicyName(policy)) throw new TypeError(`mesh setting defaultInboundPolicy: ${JSON.stringify(policy)} is not a default policy name`);
  for (const p of settings.defaultOpaquePorts) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new TypeError(`mesh setting defaultOpaquePorts: ${p} is not a port`);
  }
  return Object.freeze({
    settings,
    clusterNetworks: Object.freeze(clusterNetworks),
    inCluster: makeNetworkMatcher(clusterNetworks),
    defaultPolicy: policy,
    defaultOpaquePorts: new Set(settings.defaultOpaquePorts),
  });
}

/** `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>`: a pod's Linkerd identity. */
export function serviceAccountIdentity(s: MeshSettings, namespace: string, serviceAccount: string): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.${s.controlPlaneNamespace}.${s.identityTrustDomain}`;
}

/** `*.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>`: every identity of a namespace. */
export function namespaceIdentity(s: MeshSettings, namespace: string): string {
  return `*.${namespace}.serviceaccount.identity.${s.controlPlaneNamespace}.${s.identityTrustDomain}`;
}
