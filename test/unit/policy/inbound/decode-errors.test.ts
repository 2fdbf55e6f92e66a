// Every decodeServer failure path, each with its path-qualified reason.
import t from 'tap';
import { authorizeHttp, authorizeTcp, decodeServer, decodeServerOrInvalid, InvalidServerError } from '../../../../src/policy/inbound/index.js';
import { WIRE_ALL_NETWORKS, wireDefaultMeta, wireNet4, wireNet6, wireUnauthenticated } from './fixtures.js';

const AUTHZ = { networks: WIRE_ALL_NETWORKS, authentication: wireUnauthenticated(), metadata: wireDefaultMeta('a') };

function server(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { protocol: { detect: { timeout: { seconds: '10' } }, kind: 'detect' }, authorizations: [AUTHZ], labels: { name: 's' }, ...over };
}

function withRoute(route: Record<string, unknown>): Record<string, unknown> {
  return server({ protocol: { http1: { routes: [{ metadata: wireDefaultMeta('r'), ...route }] }, kind: 'http1' } });
}

function withMatch(match: Record<string, unknown>): Record<string, unknown> {
  return withRoute({ rules: [{ matches: [match] }] });
}

function withFilter(filter: Record<string, unknown>): Record<string, unknown> {
  return withRoute({ rules: [{ filters: [filter] }] });
}

function withGrpc(route: Record<string, unknown>): Record<string, unknown> {
  return server({ protocol: { grpc: { routes: [{ metadata: wireDefaultMeta('g'), ...route }] }, kind: 'grpc' } });
}

function withAuthz(authz: Record<string, unknown>): Record<string, unknown> {
  return server({ authorizations: [AUTHZ, AUTHZ, authz] });
}

const R = 'protocol.http1.routes[0]';
const M = `${R}.rules[0].matches[0]`;
const F = `${R}.rules[0].filters[0]`;

const CASES: [name: string, msg: unknown, message: string][] = [
  ['not an object', 'nope', 'expected a message object, got string "nope"'],
  ['null', null, 'expected a message object, got null'],
  ['an array', [], 'expected a message object, got an array'],
  ['missing protocol', server({ protocol: undefined }), 'protocol: missing proxy protocol'],
  ['empty protocol', server({ protocol: {} }), 'protocol: no protocol kind set'],
  ['oneof names an unset member', server({ protocol: { kind: 'opaque' } }), 'protocol.opaque: oneof kind names opaque, which is unset'],
  ['several members without virtual field', server({ protocol: { opaque: {}, tls: {} } }), 'protocol: oneof kind has several members set (opaque, tls)'],
  ['protocol member not a message', server({ protocol: { opaque: 3, kind: 'opaque' } }), 'protocol.opaque: expected a message object, got number 3'],
  ['detect without timeout', server({ protocol: { detect: {}, kind: 'detect' } }), 'protocol.detect.timeout: missing protocol detection timeout'],
  ['negative timeout', server({ protocol: { detect: { timeout: { seconds: '-1' } }, kind: 'detect' } }), 'protocol.detect.timeout: invalid protocol detection timeout: negative or out of range'],
  ['bad timeout seconds', server({ protocol: { detect: { timeout: { seconds: 'ten' } }, kind: 'detect' } }), 'protocol.detect.timeout.seconds: expected a decimal integer string, got string "ten"'],
  ['bad timeout nanos', server({ protocol: { detect: { timeout: { nanos: 1.5 } }, kind: 'detect' } }), 'protocol.detect.timeout.nanos: expected an int32'],
  ['labels without name', server({ labels: { group: 'g' } }), "labels: missing 'name' label"],
  ['no labels at all', server({ labels: undefined }), "labels: missing 'name' label"],
  ['labels with a non-string value', server({ labels: { name: 1 } }), 'labels["name"]: expected string keys and values'],
  ['labels not a map', server({ labels: 'x' }), 'labels: expected a map, got string "x"'],
  ['authorizations not a list', server({ authorizations: {} }), 'authorizations: expected a list, got an object'],
  ['authz without networks', withAuthz({ authentication: wireUnauthenticated() }), 'authorizations[2].networks: at least one network is required'],
  ['network without net', withAuthz({ ...AUTHZ, networks: [{}] }), 'authorizations[2].networks[0].net: missing network'],
  ['net without ip', withAuthz({ ...AUTHZ, networks: [{ net: { prefixLen: 8 } }] }), 'authorizations[2].networks[0].net.ip: missing IP address'],
  ['ip without family', withAuthz({ ...AUTHZ, networks: [{ net: { ip: {} } }] }), 'authorizations[2].networks[0].net.ip: no address family set'],
  ['IPv4 prefix > 32', withAuthz({ ...AUTHZ, networks: [{ net: wireNet4(0, 33) }] }), 'authorizations[2].networks[0].net.prefixLen: invalid IPv4 prefix length 33'],
  ['IPv6 prefix > 128', withAuthz({ ...AUTHZ, networks: [{ net: wireNet6('0', '0', 129) }] }), 'authorizations[2].networks[0].net.prefixLen: invalid IPv6 prefix length 129'],
  ['IPv4 too big', withAuthz({ ...AUTHZ, networks: [{ net: { ip: { ipv4: '4294967296', ip: 'ipv4' } } }] }), 'authorizations[2].networks[0].net.ip.ipv4: IPv4 address does not fit in 32 bits'],
  ['IPv6 half not a number', withAuthz({ ...AUTHZ, networks: [{ net: wireNet6(true, '0', 0) }] }), 'authorizations[2].networks[0].net.ip.ipv6.first: expected a 64-bit integer, got boolean true'],
  ['IPv6 half fractional', withAuthz({ ...AUTHZ, networks: [{ net: wireNet6(1.5, '0', 0) }] }), 'authorizations[2].networks[0].net.ip.ipv6.first: expected an integer, got number 1.5'],
  ['prefixLen negative', withAuthz({ ...AUTHZ, networks: [{ net: { ...wireNet4(0, 0), prefixLen: -1 } }] }), 'authorizations[2].networks[0].net.prefixLen: expected a uint32, got number -1'],
  ['bad except', withAuthz({ ...AUTHZ, networks: [{ net: wireNet4(0, 0), except: [{}] }] }), 'authorizations[2].networks[0].except[0].ip: missing IP address'],
  ['authz without authentication', withAuthz({ networks: WIRE_ALL_NETWORKS }), 'authorizations[2].authentication: missing authentication'],
  ['authentication without permit', withAuthz({ networks: WIRE_ALL_NETWORKS, authentication: {} }), 'authorizations[2].authentication: no permit variant set'],
  ['meshTLS without clients', withAuthz({ networks: WIRE_ALL_NETWORKS, authentication: { meshTLS: {}, permit: 'meshTLS' } }), 'authorizations[2].authentication.meshTLS: no clients variant set'],
  ['identity name not a string', withAuthz({ networks: WIRE_ALL_NETWORKS, authentication: { meshTLS: { identities: { identities: [{ name: 5 }] } } } }), 'authorizations[2].authentication.meshTLS.identities.identities[0].name: expected a string, got number 5'],
  ['suffix parts not strings', withAuthz({ networks: WIRE_ALL_NETWORKS, authentication: { meshTLS: { identities: { suffixes: [{ parts: [1] }] } } } }), 'authorizations[2].authentication.meshTLS.identities.suffixes[0].parts[0]: expected a string, got number 1'],
  ['authz labels without name', withAuthz({ networks: WIRE_ALL_NETWORKS, authentication: wireUnauthenticated() }), "authorizations[2].labels: missing 'name' label"],
  ['authz metadata without kind', withAuthz({ ...AUTHZ, metadata: {} }), 'authorizations[2].metadata: no metadata kind set'],
  ['authz metadata default not a string', withAuthz({ ...AUTHZ, metadata: { default: 1 } }), 'authorizations[2].metadata.default: expected a string'],
  ['route without metadata', server({ protocol: { http1: { routes: [{}] }, kind: 'http1' } }), `${R}.metadata: missing route metadata`],
  ['route authz invalid', withRoute({ authorizations: [{}] }), `${R}.authorizations[0].networks: at least one network is required`],
  ['host match without match', withRoute({ hosts: [{}] }), `${R}.hosts[0]: host match must contain a match`],
  ['host exact not a string', withRoute({ hosts: [{ exact: 1 }] }), `${R}.hosts[0].exact: expected a string`],
  ['host suffix labels not strings', withRoute({ hosts: [{ suffix: { reverseLabels: [2] } }] }), `${R}.hosts[0].suffix.reverseLabels[0]: expected a string`],
  ['rule not a message', withRoute({ rules: [7] }), `${R}.rules[0]: expected a message object, got number 7`],
  ['path match without kind', withMatch({ path: {} }), `${M}.path: no path match kind set`],
  ['path exact not a string', withMatch({ path: { exact: 3 } }), `${M}.path.exact: expected a string`],
  ['invalid path regex', withMatch({ path: { regex: '(' } }), `${M}.path.regex: invalid regular expression "(": `],
  ['unsupported regex flag', withMatch({ path: { regex: '(?x)a b' } }), `${M}.path.regex: invalid regular expression "(?x)a b": unsupported flag x`],
  ['bad header name', withMatch({ headers: [{ name: 'a b', exact: Buffer.from('x') }] }), `${M}.headers[0].name: invalid header name "a b"`],
  ['empty header name', withMatch({ headers: [{ exact: Buffer.from('x') }] }), `${M}.headers[0].name: invalid header name ""`],
  ['header match without value', withMatch({ headers: [{ name: 'x' }] }), `${M}.headers[0]: missing a header value match`],
  ['header value with a control byte', withMatch({ headers: [{ name: 'x', exact: Buffer.from('a\nb') }] }), `${M}.headers[0].exact: invalid header value byte 0x0a`],
  ['header value not bytes', withMatch({ headers: [{ name: 'x', exact: { a: 1 } }] }), `${M}.headers[0].exact: expected bytes, got an object`],
  ['invalid header regex', withMatch({ headers: [{ name: 'x', regex: '[' }] }), `${M}.headers[0].regex: invalid regular expression "[": `],
  ['query param without name', withMatch({ queryParams: [{ exact: 'x' }] }), `${M}.queryParams[0].name: missing a query param name`],
  ['query param without value', withMatch({ queryParams: [{ name: 'q' }] }), `${M}.queryParams[0]: missing a query param value`],
  ['invalid query regex', withMatch({ queryParams: [{ name: 'q', regex: '*' }] }), `${M}.queryParams[0].regex: invalid regular expression "*": `],
  ['method without type', withMatch({ method: {} }), `${M}.method: missing HTTP method type`],
  ['unknown registered method', withMatch({ method: { registered: 42 } }), `${M}.method.registered: unknown enum value 42`],
  ['unknown registered method name', withMatch({ method: { registered: 'BREW' } }), `${M}.method.registered: unknown enum value string "BREW"`],
  ['invalid unregistered method', withMatch({ method: { unregistered: 'NOT OK' } }), `${M}.method.unregistered: invalid unregistered method "NOT OK"`],
  ['header modifier bad name', withFilter({ requestHeaderModifier: { set: { headers: [{ name: 'bad name', value: Buffer.from('1') }] } } }), `${F}.requestHeaderModifier.set.headers[0].name: invalid header name "bad name"`],
  ['header modifier bad value', withFilter({ requestHeaderModifier: { add: { headers: [{ name: 'x', value: Buffer.from([0]) }] } } }), `${F}.requestHeaderModifier.add.headers[0].value: invalid header value byte 0x00`],
  ['header modifier bad remove', withFilter({ requestHeaderModifier: { remove: ['ok', 'no way'] } }), `${F}.requestHeaderModifier.remove[1]: invalid header name "no way"`],
  ['redirect relative full path', withFilter({ redirect: { path: { full: 'x' } } }), `${F}.redirect.path.full: redirect paths must be absolute`],
  ['redirect relative prefix', withFilter({ redirect: { path: { prefix: 'x' } } }), `${F}.redirect.path.prefix: redirect paths must be absolute`],
  ['redirect port too big', withFilter({ redirect: { port: 70000 } }), `${F}.redirect.port: port number must be a u16: 70000`],
  ['redirect bad status', withFilter({ redirect: { status: 42 } }), `${F}.redirect.status: invalid HTTP status code 42`],
  ['redirect scheme without type', withFilter({ redirect: { scheme: {} } }), `${F}.redirect.scheme: scheme must have a type`],
  ['redirect bad scheme', withFilter({ redirect: { scheme: { unregistered: '1http' } } }), `${F}.redirect.scheme.unregistered: invalid unregistered scheme "1http"`],
  ['redirect bad host', withFilter({ redirect: { host: 'a b' } }), `${F}.redirect.host: invalid HTTP authority "a b"`],
  ['failure injector bad status', withFilter({ failureInjector: { status: 1000 } }), `${F}.failureInjector.status: invalid HTTP status code 1000`],
  ['failure injector missing status', withFilter({ failureInjector: {} }), `${F}.failureInjector.status: invalid HTTP status code 0`],
  ['failure injector zero denominator', withFilter({ failureInjector: { status: 500, ratio: { numerator: 1 } } }), `${F}.failureInjector.ratio: invalid request distribution 1/0`],
  ['failure injector ratio above one', withFilter({ failureInjector: { status: 500, ratio: { numerator: 3, denominator: 2 } } }), `${F}.failureInjector.ratio: invalid request distribution 3/2`],
  ['grpc route without metadata', server({ protocol: { grpc: { routes: [{}] }, kind: 'grpc' } }), 'protocol.grpc.routes[0].metadata: missing route metadata'],
  ['grpc match without rpc', withGrpc({ rules: [{ matches: [{}] }] }), 'protocol.grpc.routes[0].rules[0].matches[0].rpc: missing RPC match'],
  ['grpc match bad header', withGrpc({ rules: [{ matches: [{ rpc: {}, headers: [{ name: 'x' }] }] }] }), 'protocol.grpc.routes[0].rules[0].matches[0].headers[0]: missing a header value match'],
  ['grpc code too big', withGrpc({ rules: [{ filters: [{ failureInjector: { code: 65536 } }] }] }), 'protocol.grpc.routes[0].rules[0].filters[0].failureInjector.code: gRPC status code is not a u16: 65536'],
  ['grpc injector bad ratio', withGrpc({ rules: [{ filters: [{ failureInjector: { ratio: { numerator: 2, denominator: 1 } } }] }] }), 'protocol.grpc.routes[0].rules[0].filters[0].failureInjector.ratio: invalid request distribution 2/1'],
  ['rate limit bad rps', server({ protocol: { detect: { timeout: {}, httpLocalRateLimit: { total: { requestsPerSecond: 'lots' } } }, kind: 'detect' } }), 'protocol.detect.httpLocalRateLimit.total.requestsPerSecond: expected a uint32, got string "lots"'],
  ['rate limit override identity', server({ protocol: { http2: { localRateLimit: { overrides: [{ limit: { requestsPerSecond: 1 }, clients: { identities: [{ name: [] }] } }] } }, kind: 'http2' } }), 'protocol.http2.localRateLimit.overrides[0].clients.identities[0].name: expected a string, got an array'],
  ['rate limit metadata', server({ protocol: { http1: { localRateLimit: { metadata: {} } }, kind: 'http1' } }), 'protocol.http1.localRateLimit.metadata: no metadata kind set'],
];

t.test('each invalid Server fails with its path and reason', async (t) => {
  for (const [name, msg, message] of CASES) {
    try {
      decodeServer(msg);
      t.fail(`${name}: decoded`);
    } catch (e) {
      t.ok(e instanceof InvalidServerError, `${name}: InvalidServerError`);
      if (!(e instanceof InvalidServerError)) continue;
      if (message.endsWith(': ')) t.ok(e.message.startsWith(message), `${name}: ${e.message}`);
      else t.equal(e.message, message, name);
      t.equal(e.code, 'INVALID_SERVER_POLICY');
      t.equal(e.path === '' ? e.reason : `${e.path}: ${e.reason}`, e.message, `${name}: path + reason`);
    }
  }
});

t.test('the base message of these cases is itself valid', async (t) => {
  t.doesNotThrow(() => decodeServer(server()));
  t.doesNotThrow(() => decodeServer(withMatch({})));
  t.doesNotThrow(() => decodeServer(withFilter({ redirect: {} })));
  t.doesNotThrow(() => decodeServer(withGrpc({ rules: [{ matches: [{ rpc: {} }] }] })));
});

t.test('decodeServerOrInvalid swaps an unparseable Server for the invalid policy', async (t) => {
  const bad = decodeServerOrInvalid(withAuthz({ networks: WIRE_ALL_NETWORKS, authentication: {} }), 2500);
  t.same(bad.policy.meta, { group: '', kind: 'default', name: 'invalid' });
  t.equal(bad.policy.protocol.kind === 'detect' && bad.policy.protocol.timeoutMs, 2500);
  t.equal(bad.error?.message, 'authorizations[2].authentication: no permit variant set');
  const client = { clientIp: '127.0.0.1', tls: { kind: 'none' } } as const;
  t.equal(authorizeTcp(bad.policy, client).allowed, false, 'even localhost is refused by the invalid policy');
  t.equal(authorizeHttp(bad.policy, client, { method: 'GET', path: '/', query: undefined, host: undefined, headers: () => undefined }).kind, 'denied');
  const good = decodeServerOrInvalid(server(), 2500);
  t.equal(good.error, undefined);
  t.equal(good.policy.meta.name, 's');
});
