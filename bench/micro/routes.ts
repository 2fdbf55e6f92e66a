// Route and authorization matching: inbound server policy (routes + authorizations) and outbound HTTPRoute selection.
import { compileServerPolicy, defaultServerPolicy } from '../../src/policy/inbound/index.js';
import type { Authorization, HttpRequestView, HttpRoute as InboundRoute, ServerPolicy } from '../../src/policy/inbound/index.js';
import { http1Routes } from '../../src/outbound/http/routes.js';
import type { HttpRoute as OutboundRoute, OutboundPolicy, PolicyMeta } from '../../src/discovery/outbound-policy-types.js';
import type { MicroCase } from './harness.js';

const ROUTES = 10;
const CLIENT_ID = 'client.shop.serviceaccount.identity.linkerd.cluster.local';

/** A request as the inbound/outbound HTTP paths present it (one object, re-pointed per request in the proxy). */
const request: HttpRequestView = {
  method: 'GET',
  path: '/api/v7/users/42',
  query: 'verbose=1',
  host: 'web.shop.svc.cluster.local',
  headers: (name) => (name === 'x-tenant' ? 'blue' : undefined),
};
const miss: HttpRequestView = { ...request, path: '/nothing/here' };

function inboundPolicy(): ServerPolicy {
  const authz = (name: string, ids: string[]): Authorization => ({
    meta: { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name },
    networks: [{ net: { family: 4, addr: '10.0.0.0', prefixLen: 8 }, except: [{ family: 4, addr: '10.99.0.0', prefixLen: 16 }] }],
    authentication: { kind: 'tls-authenticated', identities: ids, suffixes: [['shop', 'serviceaccount', 'identity', 'linkerd', 'cluster', 'local']] },
  });
  const routes: InboundRoute[] = Array.from({ length: ROUTES }, (_, i) => ({
    meta: { group: 'policy.linkerd.io', kind: 'httproute', name: `api-v${i}` },
    hosts: [],
    rules: [
      {
        matches: [
          { path: { kind: 'prefix', prefix: `/api/v${i}` }, headers: [{ kind: 'exact', name: 'x-tenant', value: 'blue' }], queryParams: [], method: 'GET' },
          { path: { kind: 'exact', path: `/api/v${i}/health` }, headers: [], queryParams: [], method: undefined },
        ],
        filters: [],
      },
    ],
    authorizations: [authz(`other-${i}`, ['nobody.shop.serviceaccount.identity.linkerd.cluster.local']), authz(`clients-${i}`, [CLIENT_ID])],
  }));
  return { meta: { group: 'policy.linkerd.io', kind: 'server', name: 'web-http' }, protocol: { kind: 'http1', routes }, localRateLimit: undefined };
}

function outboundPolicy(): OutboundPolicy {
  const meta = (kind: string, name: string): PolicyMeta => ({ group: 'policy.linkerd.io', kind, name, namespace: 'shop', section: undefined, port: undefined });
  const routes: OutboundRoute[] = Array.from({ length: ROUTES }, (_, i) => ({
    meta: meta('HTTPRoute', `api-v${i}`),
    hosts: [],
    rules: [
      {
        matches: [{ path: { kind: 'prefix', prefix: `/api/v${i}` }, headers: [], queryParams: [], method: undefined }],
        filters: [],
        distribution: { kind: 'empty' },
        timeouts: { responseMs: undefined, requestMs: undefined, idleMs: undefined },
        retry: undefined,
        allowL5dRequestHeaders: false,
      },
    ],
  }));
  return { meta: meta('Service', 'web'), protocol: { kind: 'http1', routes, failureAccrual: undefined }, backends: [] };
}

export function routeCases(): MicroCase[] {
  const compiled = compileServerPolicy(inboundPolicy());
  const dflt = compileServerPolicy(defaultServerPolicy('all-unauthenticated', { detectTimeoutMs: 10_000, clusterNetworks: [] }));
  const conn = { clientIp: '10.1.2.3', tls: { kind: 'terminated', clientId: CLIENT_ID } } as const;
  const plain = { clientIp: '10.1.2.3', tls: { kind: 'none' } } as const;
  const out = http1Routes(outboundPolicy())!;
  return [
    { name: `authz/inbound http: ${ROUTES} routes, match + 2nd authorization`, fn: () => compiled.authorizeHttp(conn, request) },
    { name: `authz/inbound http: ${ROUTES} routes, no match (404)`, fn: () => compiled.authorizeHttp(conn, miss) },
    { name: 'authz/inbound http: default all-unauthenticated', fn: () => dflt.authorizeHttp(plain, request) },
    { name: 'authz/inbound tcp: default all-unauthenticated', fn: () => dflt.authorizeTcp(plain) },
    { name: `routes/outbound http1: ${ROUTES} routes, 8th matches`, fn: () => out.find(request) },
    { name: `routes/outbound http1: ${ROUTES} routes, none match`, fn: () => out.find(miss) },
  ];
}
