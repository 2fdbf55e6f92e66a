// Validation of Server, AuthorizationPolicy, MeshTLSAuthentication, NetworkAuthentication and Namespace manifests.
import t from 'tap';
import { parseManifests } from '../../../../src/devmesh/manifests/load.js';

const parse = (text: string): ReturnType<typeof parseManifests> => parseManifests([{ file: 'p.yaml', text }]);

const SERVER = `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: s, namespace: env }
spec:
  podSelector:
    matchLabels: { app: web }
    matchExpressions: [ { key: tier, operator: Exists } ]
  port: http
  proxyProtocol: HTTP/1
  accessPolicy: all-authenticated
`;

t.test('Server: selector, port by name or number, protocol, accessPolicy', async (t) => {
  const r = parse(SERVER);
  t.same(r.problems, []);
  t.match(r.resources[0], {
    kind: 'Server',
    selects: 'pod',
    selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Exists', values: [] }] },
    port: 'http',
    proxyProtocol: 'HTTP/1',
    accessPolicy: 'all-authenticated',
  });
  const ew = parse(SERVER.replace('podSelector', 'externalWorkloadSelector').replace('port: http', 'port: 8080').replace('  proxyProtocol: HTTP/1\n', ''));
  t.match(ew.resources[0], { selects: 'external-workload', port: 8080, proxyProtocol: 'unknown' });
  for (const v of ['v1beta1', 'v1alpha1']) {
    t.equal(parse(SERVER.replace('v1beta3', v).replace('  accessPolicy: all-authenticated\n', '')).resources.length, 1, `${v} podSelector`);
  }
});

t.test('Server errors and warnings', async (t) => {
  const errors: [string, string, RegExp][] = [
    [SERVER.replace('podSelector:', 'externalWorkloadSelector: {}\n  podSelector:'), 'spec', /exactly one of podSelector and externalWorkloadSelector/],
    [SERVER.replace('v1beta3', 'v1beta1').replace('podSelector', 'externalWorkloadSelector'), 'spec.externalWorkloadSelector', /not part of policy.linkerd.io\/v1beta1/],
    [SERVER.replace('  port: http\n', ''), 'spec.port', /is required/],
    [SERVER.replace('port: http', 'port: Not_A_Name'), 'spec.port', /port name/],
    [SERVER.replace('HTTP/1', 'http'), 'spec.proxyProtocol', /must be one of/],
    [SERVER.replace('operator: Exists', 'operator: In'), 'spec.podSelector.matchExpressions[0].values', /must not be empty/],
    [SERVER.replace('operator: Exists', 'operator: Matches'), 'spec.podSelector.matchExpressions[0].operator', /must be one of/],
  ];
  for (const [text, field, message] of errors) {
    const r = parse(text);
    t.same(r.resources, [], field);
    t.match(r.problems, [{ severity: 'error', file: 'p.yaml', resource: 'Server env/s', field, message }], field);
  }
  const old = parse(SERVER.replace('v1beta3', 'v1beta2'));
  t.match(old.resources[0], { accessPolicy: undefined });
  t.match(old.problems, [{ severity: 'warning', field: 'spec.accessPolicy', message: /use policy.linkerd.io\/v1beta3/ }]);
  const bad = parse(SERVER.replace('all-authenticated', 'everyone'));
  t.match(bad.problems, [{ severity: 'warning', field: 'spec.accessPolicy', message: /ignored/ }]);
});

const POLICY = `apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: ap, namespace: env }
spec:
  targetRef: { group: policy.linkerd.io, kind: Server, name: s }
  requiredAuthenticationRefs:
  - { group: policy.linkerd.io, kind: MeshTLSAuthentication, name: ids, namespace: other }
  - { group: policy.linkerd.io, kind: NetworkAuthentication, name: lan }
`;

t.test('AuthorizationPolicy: Server or Namespace targets, authentication references', async (t) => {
  const r = parse(POLICY);
  t.same(r.problems, []);
  t.match(r.resources[0], {
    target: { kind: 'Server', name: 's' },
    authentications: [
      { kind: 'MeshTLSAuthentication', name: 'ids', namespace: 'other' },
      { kind: 'NetworkAuthentication', name: 'lan' },
    ],
  });
  const ns = parse(POLICY.replace('{ group: policy.linkerd.io, kind: Server, name: s }', '{ kind: Namespace, name: env }').replace(/ {2}- \{ group: policy.linkerd.io, kind: MeshTLSAuthentication.*\n/, '  - { kind: ServiceAccount, name: web }\n'));
  t.same(ns.problems, []);
  t.match(ns.resources[0], { target: { kind: 'Namespace', name: 'env' }, authentications: [{ kind: 'ServiceAccount', name: 'web' }, { kind: 'NetworkAuthentication' }] });
});

t.test('AuthorizationPolicy errors; route targets are skipped with a warning', async (t) => {
  const errors: [string, string, RegExp][] = [
    [POLICY.replace('kind: Server', 'kind: Deployment'), 'spec.targetRef', /unsupported authorization target type: policy.linkerd.io\/deployment/],
    [POLICY.replace('kind: NetworkAuthentication', 'kind: Secret'), 'spec.requiredAuthenticationRefs[1]', /unsupported authentication target/],
    [POLICY.replace(/ {2}requiredAuthenticationRefs:[\s\S]*$/, ''), 'spec.requiredAuthenticationRefs', /is required/],
    [`${POLICY}  - { kind: ServiceAccount, name: web }\n`, 'spec.requiredAuthenticationRefs', /at most one MeshTLSAuthentication or ServiceAccount/],
  ];
  for (const [text, field, message] of errors) {
    const r = parse(text);
    t.same(r.resources, [], field);
    t.match(r.problems, [{ severity: 'error', resource: 'AuthorizationPolicy env/ap', field, message }], field);
  }
  const route = parse(POLICY.replace('kind: Server', 'kind: HTTPRoute'));
  t.same(route.resources, []);
  t.match(route.problems, [{ severity: 'warning', field: 'spec.targetRef', message: /not supported by the dev control plane/ }]);
});

t.test('MeshTLSAuthentication and NetworkAuthentication', async (t) => {
  const mtls = parse(`apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: { name: ids }
spec:
  identities: [ "spiffe://td/vm" ]
  identityRefs: [ { kind: ServiceAccount, name: web }, { kind: Namespace, name: ops } ]
`);
  t.same(mtls.problems, []);
  t.match(mtls.resources[0], { identities: ['spiffe://td/vm'], identityRefs: [{ kind: 'ServiceAccount', name: 'web' }, { kind: 'Namespace', name: 'ops' }] });
  t.match(parse('apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\nmetadata: { name: none }\nspec: {}\n').problems, [
    { severity: 'error', resource: 'MeshTLSAuthentication default/none', field: 'spec', message: /no identities/ },
  ]);
  t.match(parse('apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\nmetadata: { name: x }\nspec: { identityRefs: [ { kind: Pod, name: p } ] }\n').problems, [
    { field: 'spec.identityRefs[0]', message: /unsupported identity reference/ },
  ]);
  const net = parse(`apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: { name: lan }
spec:
  networks: [ { cidr: 10.0.0.0/8, except: [ 10.1.2.3 ] }, { cidr: "fd00::/8" } ]
`);
  t.same(net.problems, []);
  t.match(net.resources[0], {
    networks: [
      { cidr: { family: 4, addr: '10.0.0.0', prefixLen: 8 }, except: [{ family: 4, addr: '10.1.2.3', prefixLen: 32 }] },
      { cidr: { family: 6, addr: 'fd00::', prefixLen: 8 }, except: [] },
    ],
  });
  t.match(parse('apiVersion: policy.linkerd.io/v1alpha1\nkind: NetworkAuthentication\nmetadata: { name: x }\nspec: { networks: [ { cidr: 10.0.0.0/40 } ] }\n').problems, [
    { severity: 'error', field: 'spec.networks[0].cidr', message: /not a CIDR/ },
  ]);
  t.match(parse('apiVersion: policy.linkerd.io/v1alpha1\nkind: NetworkAuthentication\nmetadata: { name: x }\nspec: { networks: [] }\n').problems, [
    { severity: 'error', field: 'spec.networks', message: /at least one/ },
  ]);
});

t.test('Namespace: cluster-scoped, annotations checked', async (t) => {
  const r = parse('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: env\n  annotations: { config.linkerd.io/default-inbound-policy: allow }\n');
  t.match(r.resources[0], { kind: 'Namespace', meta: { name: 'env', namespace: '' } });
  t.match(r.problems, [{ severity: 'warning', resource: 'Namespace env', field: 'metadata.annotations["config.linkerd.io/default-inbound-policy"]', message: /not one of/ }]);
  t.match(parse('apiVersion: v1\nkind: Namespace\nmetadata: { name: Env }\n').problems, [{ severity: 'error', resource: 'document 1', field: 'metadata.name' }]);
  t.match(parse('apiVersion: v1\nkind: Namespace\nmetadata: { name: e, creationTimestamp: yesterday }\n').problems, [{ severity: 'error', field: 'metadata.creationTimestamp' }]);
  t.match(parse('apiVersion: v1\nkind: Namespace\nmetadata: { name: e, labels: { a: "b c" } }\n').problems, [{ severity: 'error', field: 'metadata.labels.a', message: /not a valid label value/ }]);
});
