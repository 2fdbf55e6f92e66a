import { once } from 'node:events';
import net from 'node:net';
import { register as globalRegistry } from 'prom-client';
import t from 'tap';
import type { Clock } from '../../../src/core/clock.js';
import { createMetrics } from '../../../src/metrics/registry.js';
import { LegacyCounterFamily } from '../../../src/metrics/legacy-family.js';

const buildInfo = { version: 'v0.1.0', gitSha: 'abc123', profile: 'release', vendor: 'example.com', date: '2026-08-21' };

t.test('legacy families come first, then the prom-client registry ending in # EOF', async (t) => {
  const metrics = createMetrics({ buildInfo });
  const server = net.createServer((s) => s.resume());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(c, 'connect');
  metrics.tcp.bind({ direction: 'outbound', peer: 'dst' }).track(c);

  const text = await metrics.render();
  t.ok(text.startsWith('# HELP tcp_open_total Total count of opened connections\n'), 'legacy first');
  const promStart = text.indexOf('# HELP process_');
  t.ok(promStart > text.indexOf('tcp_close_total'), 'prom-client section after every legacy family');
  t.ok(text.endsWith('\n# EOF\n'));
  t.match(
    text,
    '# HELP proxy_build_info Proxy build info\n# TYPE proxy_build_info gauge\n' +
      'proxy_build_info{date="2026-08-21",git_sha="abc123",profile="release",vendor="example.com",version="v0.1.0"} 1\n',
  );
  for (const name of [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'process_open_fds',
    'process_max_fds',
    'process_virtual_memory_bytes',
    'nodejs_heap_size_used_bytes',
  ]) {
    t.match(text, new RegExp(`^${name} \\d`, 'm'), name);
  }
  t.match(text, /^# TYPE process_cpu_seconds counter$/m, 'OpenMetrics counter family naming');
  t.equal(globalRegistry.getMetricsAsArray().length, 0, 'the global default registry is untouched');
  c.destroy();
  await once(c, 'close');
});

t.test('later legacy families can be placed before the transport families', async (t) => {
  const metrics = createMetrics({ buildInfo, processMetrics: false });
  const requests = new LegacyCounterFamily({ name: 'request_total', help: 'Total count of HTTP requests.' });
  metrics.legacy.register(requests, { before: metrics.tcp });
  requests.get({ direction: 'inbound' }).inc();
  metrics.tcp.bind({ direction: 'inbound', peer: 'dst' });
  const text = await metrics.render();
  t.ok(text.startsWith('# HELP request_total'));
  t.ok(text.indexOf('request_total{') < text.indexOf('tcp_open_total'));
  t.notMatch(text, /process_cpu/);
});

t.test('retention uses the injected clock', async (t) => {
  let now = 0;
  const clock: Clock = {
    now: () => now,
    monotonic: () => now,
    setTimer: () => () => undefined,
    sleep: () => Promise.resolve(),
  };
  const metrics = createMetrics({ buildInfo, processMetrics: false, clock, retainIdleMs: 1000 });
  metrics.tcp.bind({ k: 'v' });
  t.match(await metrics.render(), /k="v"/);
  now = 1001;
  t.match(await metrics.render(), /k="v"/);
  now = 2000;
  t.notMatch(await metrics.render(), /tcp_/);
});
