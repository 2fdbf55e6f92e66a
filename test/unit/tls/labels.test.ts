// TLS metric label fragments of spec §8.1.
import t from 'tap';
import { clientTlsLabels, formatTlsLabels, serverTlsLabels } from '../../../src/tls/labels.js';

t.test('server-side (TlsAccept) fragments', async (t) => {
  t.same(serverTlsLabels({ kind: 'established', clientId: 'web.ns1.serviceaccount.identity.linkerd.cluster.local' }),
    { tls: 'true', client_id: 'web.ns1.serviceaccount.identity.linkerd.cluster.local' });
  t.same(serverTlsLabels({ kind: 'established', clientId: undefined }), { tls: 'true', client_id: '' }, 'no client certificate');
  t.same(serverTlsLabels({ kind: 'passthrough', sni: 'other.example.com' }), { tls: 'opaque', sni: 'other.example.com' });
  for (const reason of ['no_tls_from_remote', 'port_skipped', 'loopback'] as const) {
    t.same(serverTlsLabels({ kind: 'no-tls', reason }), { tls: 'no_identity', no_tls_reason: reason });
  }
  t.same(serverTlsLabels({ kind: 'disabled' }), { tls: 'disabled' });
});

t.test('client-side (TlsConnect) fragments', async (t) => {
  t.same(clientTlsLabels({ kind: 'established', serverId: 'spiffe://td/ns/x/sa/y' }), { tls: 'true', server_id: 'spiffe://td/ns/x/sa/y' });
  for (const reason of ['loopback', 'not_provided_by_service_discovery', 'ingress_without_override'] as const) {
    t.same(clientTlsLabels({ kind: 'no-tls', reason }), { tls: 'no_identity', no_tls_reason: reason });
  }
  t.same(clientTlsLabels({ kind: 'disabled' }), { tls: 'disabled' });
});

t.test('text rendering in label order, as the legacy exposition writes it', async (t) => {
  t.equal(formatTlsLabels(serverTlsLabels({ kind: 'established', clientId: 'a.b' })), 'tls="true",client_id="a.b"');
  t.equal(formatTlsLabels(serverTlsLabels({ kind: 'established', clientId: undefined })), 'tls="true",client_id=""');
  t.equal(formatTlsLabels(serverTlsLabels({ kind: 'passthrough', sni: 'x.y' })), 'tls="opaque",sni="x.y"');
  t.equal(formatTlsLabels(serverTlsLabels({ kind: 'no-tls', reason: 'no_tls_from_remote' })), 'tls="no_identity",no_tls_reason="no_tls_from_remote"');
  t.equal(formatTlsLabels(clientTlsLabels({ kind: 'established', serverId: 'srv.id' })), 'tls="true",server_id="srv.id"');
  t.equal(formatTlsLabels(clientTlsLabels({ kind: 'disabled' })), 'tls="disabled"');
  t.equal(formatTlsLabels({ tls: 'true', client_id: 'spiffe://a"b/c\\d' }), 'tls="true",client_id="spiffe://a\\"b/c\\\\d"',
    'a URI host may carry a quote; it is escaped');
});
