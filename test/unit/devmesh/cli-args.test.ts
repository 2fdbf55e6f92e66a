// Flag parsing for `dev-control-plane`: defaults, repeatable flags, and usage errors.
import t from 'tap';
import { parseCliArgs } from '../../../src/devmesh/cli-args.js';

t.test('defaults: loopback listeners on the usual ports, a per-user state dir', async (t) => {
  const r = parseCliArgs(['-f', 'a', '-f', 'b']);
  if (r.kind !== 'run') throw new Error(r.kind);
  t.same(r.settings.options.manifests, ['a', 'b']);
  t.same(r.settings.options.listen, { destination: '127.0.0.1:8086', policy: '127.0.0.1:8090', identity: '127.0.0.1:8080' });
  t.match(r.settings.options.stateDir, /linkerd2-proxy-ts-dev-/);
  t.equal(r.settings.logFilter, 'info');
  t.same(r.settings.printEnv, []);
});

t.test('every flag', async (t) => {
  const r = parseCliArgs([
    '--filename', 'm', '--listen-destination', '0.0.0.0:1', '--listen-policy', '[::]:2', '--listen-identity', '10.0.0.1:3',
    '--state-dir', '/s', '--trust-anchor-cert', 'c', '--trust-anchor-key', 'k', '--workload-api', 'unix:///x/a.sock=ns/ew',
    '--workload-api', 'b=ns2/ew2', '--print-env', 'ns/ew', '--advertise-host', 'vm.local', '--log', 'debug',
  ]);
  if (r.kind !== 'run') throw new Error(r.kind);
  t.match(r.settings.options, {
    listen: { destination: '0.0.0.0:1', policy: '[::]:2', identity: '10.0.0.1:3' },
    stateDir: '/s',
    trustAnchor: { certFile: 'c', keyFile: 'k' },
    workloadApis: [{ socket: '/x/a.sock', externalWorkload: 'ns/ew' }, { socket: 'b', externalWorkload: 'ns2/ew2' }],
    advertiseHost: 'vm.local',
  });
  t.same(r.settings.printEnv, ['ns/ew']);
  t.equal(r.settings.logFilter, 'debug');
  t.same(parseCliArgs(['-h']), { kind: 'help' });
});

t.test('usage errors', async (t) => {
  t.match(parseCliArgs(['-f']), { kind: 'usage', message: /argument missing/ });
  t.match(parseCliArgs(['x']), { kind: 'usage', message: /Unexpected argument 'x'/ });
  t.match(parseCliArgs(['-f', 'a', '--print-env', 'justname']), { kind: 'usage', message: /--print-env 'justname' is not NAMESPACE\/NAME/ });
  t.match(parseCliArgs(['-f', 'a', '--workload-api', '=ns/ew']), { kind: 'usage' });
  t.match(parseCliArgs(['-f', 'a', '--listen-policy', 'x:99999']), { kind: 'usage', message: /--listen-policy/ });
});
