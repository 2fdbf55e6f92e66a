import { once } from 'node:events';
import net from 'node:net';
import t, { type Test } from 'tap';
import { inboundAcceptLabels, outboundConnectLabels } from '../../../src/metrics/labels.js';
import { TcpMetrics } from '../../../src/metrics/tcp.js';

const MIN = 60_000;

function render(m: TcpMetrics, now = 0): string {
  const out: string[] = [];
  m.render(out, now);
  return out.join('');
}

/** A loopback server whose accepted sockets are handed to `onAccept`; closed at teardown. */
async function loopbackServer(t: Test, onAccept: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer(onAccept);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

async function connect(port: number): Promise<net.Socket> {
  const c = net.connect(port, '127.0.0.1');
  await once(c, 'connect');
  return c;
}

const SRC = 'direction="inbound",peer="src",target_addr="127.0.0.1:4143",target_ip="127.0.0.1",target_port="4143",tls="no_identity",no_tls_reason="no_tls_from_remote",srv_group="",srv_kind="default",srv_name="all-unauthenticated",srv_port="4143"';
const DST = 'direction="outbound",peer="dst",target_addr="127.0.0.1:8080",target_ip="127.0.0.1",target_port="8080",tls="no_identity",no_tls_reason="not_provided_by_service_discovery"';

function exposition(rows: {
  open: [number, number];
  conns: [number, number];
  read: [number, number];
  write: [number, number];
  close: string[];
}): string {
  return [
    '# HELP tcp_open_total Total count of opened connections',
    '# TYPE tcp_open_total counter',
    `tcp_open_total{${SRC}} ${rows.open[0]}`,
    `tcp_open_total{${DST}} ${rows.open[1]}`,
    '# HELP tcp_open_connections Number of currently-open connections',
    '# TYPE tcp_open_connections gauge',
    `tcp_open_connections{${SRC}} ${rows.conns[0]}`,
    `tcp_open_connections{${DST}} ${rows.conns[1]}`,
    '# HELP tcp_read_bytes_total Total count of bytes read from peers',
    '# TYPE tcp_read_bytes_total counter',
    `tcp_read_bytes_total{${SRC}} ${rows.read[0]}`,
    `tcp_read_bytes_total{${DST}} ${rows.read[1]}`,
    '# HELP tcp_write_bytes_total Total count of bytes written to peers',
    '# TYPE tcp_write_bytes_total counter',
    `tcp_write_bytes_total{${SRC}} ${rows.write[0]}`,
    `tcp_write_bytes_total{${DST}} ${rows.write[1]}`,
    '# HELP tcp_close_total Total count of closed connections',
    '# TYPE tcp_close_total counter',
    ...rows.close,
    '',
  ].join('\n');
}

t.test('exact exposition for a connection seen from both ends, live and after a clean close', async (t) => {
  const metrics = new TcpMetrics();
  t.equal(render(metrics), '', 'omitted until there is a series');
  const accept = metrics.bind(
    inboundAcceptLabels({ ip: '127.0.0.1', port: 4143 }, { kind: 'none', reason: 'no_tls_from_remote' }, {
      group: '',
      kind: 'default',
      name: 'all-unauthenticated',
    }),
  );
  const dial = metrics.bind(
    outboundConnectLabels({ ip: '127.0.0.1', port: 8080 }, { kind: 'none', reason: 'not_provided_by_service_discovery' }),
  );
  t.equal(metrics.bind(SRC), accept, 'one handle per label set');

  let serverSide: net.Socket | undefined;
  const port = await loopbackServer(t, (s) => {
    serverSide = s;
    accept.track(s);
    s.once('data', () => s.write('bye'));
    s.on('end', () => s.end());
  });
  const client = await connect(port);
  dial.track(client);
  client.write('hello');
  await once(client, 'data');

  t.equal(
    render(metrics),
    exposition({ open: [1, 1], conns: [1, 1], read: [5, 3], write: [3, 5], close: [] }),
    'bytes of live connections are counted at scrape time',
  );

  client.write('!!');
  client.end();
  await Promise.all([once(client, 'close'), once(serverSide as net.Socket, 'close')]);
  t.equal(
    render(metrics),
    exposition({
      open: [1, 1],
      conns: [0, 0],
      read: [7, 3],
      write: [3, 7],
      close: [`tcp_close_total{${SRC},errno=""} 1`, `tcp_close_total{${DST},errno=""} 1`],
    }),
    'the final bytes are flushed at close, and a clean close has errno=""',
  );
});

t.test('a reset connection closes with errno="ECONNRESET"', async (t) => {
  const metrics = new TcpMetrics();
  const handle = metrics.bind({ direction: 'inbound', peer: 'src' });
  let serverSide: net.Socket | undefined;
  const port = await loopbackServer(t, (s) => {
    serverSide = s;
    handle.track(s);
    s.on('error', () => undefined); // the owner's job; tracking must not need it
  });
  const client = await connect(port);
  client.write('abc');
  while (serverSide === undefined || serverSide.bytesRead < 3) await new Promise((r) => setImmediate(r));
  const closed = new Promise((resolve) => serverSide?.once('close', resolve)); // once() rejects on 'error'
  client.resetAndDestroy();
  await closed;
  const text = render(metrics);
  t.match(text, 'tcp_close_total{direction="inbound",peer="src",errno="ECONNRESET"} 1\n');
  t.match(text, 'tcp_read_bytes_total{direction="inbound",peer="src"} 3\n');
  t.match(text, 'tcp_open_connections{direction="inbound",peer="src"} 0\n');
});

t.test('idle handles without live sockets are dropped after the retention period', async (t) => {
  const metrics = new TcpMetrics({ retainIdleMs: 10 * MIN });
  const live = metrics.bind({ k: 'live' });
  const done = metrics.bind({ k: 'done' });
  const port = await loopbackServer(t, (s) => s.on('end', () => s.end()));
  const a = await connect(port);
  const b = await connect(port);
  live.track(a);
  done.track(b);
  t.teardown(() => a.destroy());
  b.end();
  await once(b, 'close');

  render(metrics, 0);
  t.match(render(metrics, 10 * MIN + 1), /k="done"/, 'rendered one last time');
  t.equal(metrics.size, 1);
  t.notMatch(render(metrics, 11 * MIN), /k="done"/);
  t.match(render(metrics, 60 * MIN), /tcp_open_connections\{k="live"\} 1/, 'a live socket keeps its series');

  // The holder of a dropped handle keeps using it: the series comes back, counts intact.
  const c = await connect(port);
  done.track(c);
  t.match(render(metrics, 61 * MIN), /tcp_open_total\{k="done"\} 2/);
  c.destroy();
  await once(c, 'close');
});

t.test('tracking an already closed socket records open and close', async (t) => {
  const metrics = new TcpMetrics();
  const handle = metrics.bind({ k: 'v' });
  const port = await loopbackServer(t, () => undefined);
  const c = await connect(port);
  c.destroy();
  await once(c, 'close');
  handle.track(c);
  handle.track(c);
  t.equal(handle.openTotal, 1, 'a socket is tracked once');
  t.equal(handle.openConnections, 0);
  t.equal(handle.closeTotal.get(''), 1);
});
