import t from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { ConnectionTracker } from '../../../src/core/connection-tracker.js';

t.test('drained() waits for every tracked socket to close; destroyAll cuts them', async (t) => {
  const server = net.createServer((s) => s.on('error', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const tracker = new ConnectionTracker();
  await tracker.drained();
  t.pass('no sockets: drained at once');
  const a = net.connect(port, '127.0.0.1');
  const b = net.connect(port, '127.0.0.1');
  await Promise.all([once(a, 'connect'), once(b, 'connect')]);
  tracker.add(a);
  tracker.add(b);
  t.equal(tracker.size, 2);
  let drained = false;
  const p = tracker.drained().then(() => (drained = true));
  a.destroy();
  await once(a, 'close');
  t.equal(drained, false, 'one still open');
  tracker.destroyAll();
  await p;
  t.equal(tracker.size, 0);
});
