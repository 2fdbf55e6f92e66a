// INBOUND_MAX_IN_FLIGHT through startProxy: a request beyond the limit is shed with a 503.
import t from 'tap';
import http from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { fixedOrigDst, socketAddr } from '../../src/transport/index.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import { TestPki } from '../support/pki.js';
import { testCredentials, testProxyEnv } from '../support/proxy-env.js';

t.test('with a limit of 1, a second concurrent request gets 503 and later ones succeed', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const { ca, creds } = testCredentials(pki);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const app = http.createServer((req, res) => {
    if (req.url === '/slow') void held.then(() => res.end('slow done'));
    else res.end('fast');
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  t.teardown(() => app.close());
  const port = (app.address() as import('node:net').AddressInfo).port;
  const { config } = loadConfig(testProxyEnv(ca.certPem, { LINKERD2_PROXY_INBOUND_MAX_IN_FLIGHT: '1' }));
  const proxy = await startProxy(config, { identity: staticIdentity(creds), origDst: fixedOrigDst(() => socketAddr('127.0.0.1', port)), discovery: false });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();
  const base = `http://127.0.0.1:${proxy.inboundAddr.port}`;

  const slow = fetch(`${base}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
  await sleep(200);
  const shed = await fetch(`${base}/second`);
  t.equal(shed.status, 503, 'over the limit: load shed');
  t.equal(shed.headers.get('connection'), 'close', 'and the connection is closed');
  release();
  t.same(await slow, { status: 200, body: 'slow done' }, 'the request in flight completed');
  const after = await fetch(`${base}/third`);
  t.equal(after.status, 200, 'the slot was released');
});
