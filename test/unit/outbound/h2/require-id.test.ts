// l5d-require-id on the outbound HTTP/2 server: only an mTLS endpoint with the named identity is sent the request.
import t from 'tap';
import type { Endpoint } from '../../../../src/balance/index.js';
import type { DestinationEndpoint } from '../../../../src/discovery/destination-types.js';
import type { EndpointClient } from '../../../../src/outbound/http/endpoint-clients.js';
import { requiredIdentityAnswer, sameIdentity } from '../../../../src/outbound/h2/require-id.js';

const dns = (name: string) => ({ kind: 'dns' as const, name });

function endpoint(id: { kind: 'dns' | 'uri'; name: string } | undefined): Endpoint<DestinationEndpoint> {
  return { metadata: { tlsIdentity: id } } as unknown as Endpoint<DestinationEndpoint>;
}
const meshed = { meshed: true } as EndpointClient;
const plain = { meshed: false } as EndpointClient;

t.test('DNS identities compare without case or a trailing dot; URIs exactly', async (t) => {
  t.ok(sameIdentity('web.ns.serviceaccount.identity.linkerd.cluster.local', dns('web.ns.serviceaccount.identity.linkerd.cluster.local')));
  t.ok(sameIdentity('Web.NS.svc.', dns('web.ns.svc')));
  t.notOk(sameIdentity('web.ns.svc', dns('api.ns.svc')));
  t.ok(sameIdentity('spiffe://td/ns/web', { kind: 'uri', name: 'spiffe://td/ns/web' }));
  t.notOk(sameIdentity('spiffe://td/ns/Web', { kind: 'uri', name: 'spiffe://td/ns/web' }));
});

t.test('no header ⇒ no answer; a matching mTLS identity ⇒ no answer; otherwise the proxy answers', async (t) => {
  t.equal(requiredIdentityAnswer(undefined, plain, endpoint(undefined)), undefined);
  t.equal(requiredIdentityAnswer(' web.ns.svc ', meshed, endpoint(dns('web.ns.svc'))), undefined, 'the value is trimmed');
  const wrong = requiredIdentityAnswer('web.ns.svc', meshed, endpoint(dns('api.ns.svc')));
  t.equal(wrong?.status, 502, 'another identity is refused');
  t.equal(wrong?.message, 'required id "web.ns.svc"; found Some("api.ns.svc")');
  const unmeshed = requiredIdentityAnswer('web.ns.svc', plain, endpoint(dns('web.ns.svc')));
  t.equal(unmeshed?.message, 'required id "web.ns.svc"; found None', 'an identity not reached over mTLS does not count');
});
