// The loopback layout's address check: a taken address is named with what the demo wanted it for.
import net from 'node:net';
import t from 'tap';
import { loopbackBindings } from '../../../src/demo/loopback-mesh.js';
import { probeBinding, unavailableBindings } from '../../../src/demo/port-check.js';

t.test('a taken address is reported with its purpose; a free one is not; nothing stays bound', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.teardown(() => taken.close());
  const port = (taken.address() as net.AddressInfo).port;
  const why = await probeBinding({ host: '127.0.0.1', port, what: "the VM's proxy (inbound)" });
  t.equal(why, `127.0.0.1:${port} for the VM's proxy (inbound) is already in use (another demo still running? see: ss -ltnp)`);
  const free = net.createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const freePort = (free.address() as net.AddressInfo).port;
  await new Promise((r) => free.close(r));
  t.same(await unavailableBindings([{ host: '127.0.0.1', port: freePort, what: 'x' }]), []);
  t.equal(await probeBinding({ host: '127.0.0.1', port: freePort, what: 'x' }), undefined, 'the probe released it');
});

t.test('the loopback layout: control plane, three proxies and two apps, each on its own address', async (t) => {
  const list = loopbackBindings().map((b) => `${b.host}:${b.port}`);
  t.equal(new Set(list).size, list.length, 'no address twice');
  t.same(list.filter((a) => a.startsWith('127.18.3.1:')).sort(), ['127.18.3.1:8080', '127.18.3.1:8086', '127.18.3.1:8090']);
  for (const ip of ['127.18.0.2', '127.18.1.2', '127.18.2.2']) for (const p of [4140, 4143, 4191]) t.ok(list.includes(`${ip}:${p}`), `${ip}:${p}`);
  t.ok(list.includes('127.18.0.2:8080') && list.includes('127.18.1.2:8080'), 'the two apps');
});
