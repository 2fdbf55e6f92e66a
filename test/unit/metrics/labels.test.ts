import t from 'tap';
import {
  inboundAcceptLabels,
  inboundConnectLabels,
  outboundAcceptLabels,
  outboundConnectLabels,
  tlsAcceptLabels,
  tlsConnectLabels,
} from '../../../src/metrics/labels.js';
import { renderLabels } from '../../../src/metrics/legacy-format.js';

t.test('inbound accept: direction, peer, target, tls-accept, srv_*', async (t) => {
  t.equal(
    renderLabels(
      inboundAcceptLabels(
        { ip: '192.0.2.4', port: 40000 },
        { kind: 'established', clientId: 'foo.id.example.com' },
        { group: 'policy.linkerd.io', kind: 'server', name: 'testserver' },
      ),
    ),
    'direction="inbound",peer="src",target_addr="192.0.2.4:40000",target_ip="192.0.2.4",target_port="40000",' +
      'tls="true",client_id="foo.id.example.com",' +
      'srv_group="policy.linkerd.io",srv_kind="server",srv_name="testserver",srv_port="40000"',
  );
  t.equal(
    renderLabels(
      inboundAcceptLabels(
        { ip: '127.0.0.1', port: 4191 },
        { kind: 'none', reason: 'no_tls_from_remote' },
        { group: '', kind: 'default', name: 'all-unauthenticated' },
      ),
    ),
    'direction="inbound",peer="src",target_addr="127.0.0.1:4191",target_ip="127.0.0.1",target_port="4191",' +
      'tls="no_identity",no_tls_reason="no_tls_from_remote",' +
      'srv_group="",srv_kind="default",srv_name="all-unauthenticated",srv_port="4191"',
  );
});

t.test('outbound accept is always loopback TLS-less', async (t) => {
  t.equal(
    renderLabels(outboundAcceptLabels({ ip: 'fd00::1', port: 8080 })),
    'direction="outbound",peer="src",target_addr="[fd00::1]:8080",target_ip="fd00::1",target_port="8080",' +
      'tls="no_identity",no_tls_reason="loopback"',
  );
});

t.test('inbound connect has no target labels', async (t) => {
  t.equal(
    renderLabels(inboundConnectLabels()),
    'direction="inbound",peer="dst",tls="no_identity",no_tls_reason="loopback"',
  );
});

t.test('outbound connect: [authority], target, tls-connect, sorted dst_*', async (t) => {
  t.equal(
    renderLabels(
      outboundConnectLabels(
        { ip: '10.0.0.7', port: 8080 },
        { kind: 'established', serverId: 'web.ns.serviceaccount.identity.linkerd.cluster.local' },
        { authority: 'web.ns.svc.cluster.local:8080', dstLabels: { service: 'web', namespace: 'ns', pod: 'web-1' } },
      ),
    ),
    'direction="outbound",peer="dst",authority="web.ns.svc.cluster.local:8080",' +
      'target_addr="10.0.0.7:8080",target_ip="10.0.0.7",target_port="8080",' +
      'tls="true",server_id="web.ns.serviceaccount.identity.linkerd.cluster.local",' +
      'dst_namespace="ns",dst_pod="web-1",dst_service="web"',
  );
  t.equal(
    renderLabels(
      outboundConnectLabels({ ip: '10.0.0.7', port: 80 }, { kind: 'none', reason: 'not_provided_by_service_discovery' }),
    ),
    'direction="outbound",peer="dst",target_addr="10.0.0.7:80",target_ip="10.0.0.7",target_port="80",' +
      'tls="no_identity",no_tls_reason="not_provided_by_service_discovery"',
  );
});

t.test('every TLS variant', async (t) => {
  t.equal(renderLabels(tlsAcceptLabels({ kind: 'established', clientId: undefined })), 'tls="true",client_id=""');
  t.equal(renderLabels(tlsAcceptLabels({ kind: 'passthru', sni: 'a.example' })), 'tls="opaque",sni="a.example"');
  t.equal(renderLabels(tlsAcceptLabels({ kind: 'none', reason: 'port_skipped' })), 'tls="no_identity",no_tls_reason="port_skipped"');
  t.equal(renderLabels(tlsAcceptLabels({ kind: 'disabled' })), 'tls="disabled"');
  t.equal(renderLabels(tlsConnectLabels({ kind: 'none', reason: 'ingress_without_override' })), 'tls="no_identity",no_tls_reason="ingress_without_override"');
  t.equal(renderLabels(tlsConnectLabels({ kind: 'disabled' })), 'tls="disabled"');
});
