import t from 'tap';
import { execFileSync } from 'node:child_process';
import { h2App, httpApp, portPolicy, runtime, startProxy, serverPolicy, meshed } from './helpers/harness.js';

t.test('manual', async (t) => {
  const r = runtime(t);
  const app = await h2App(t, (stream, h) => { stream.respond({ ':status': 200, 'content-type': 'text/plain' }); stream.end('h2:' + h[':path']); });
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port });
  const out = execFileSync('curl', ['-sS', '-v', '--http2-prior-knowledge', `http://127.0.0.1:${proxy.port}/x`, `http://127.0.0.1:${proxy.port}/y`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  console.log(out);
  const h1app = await httpApp(t);
  const p2 = await startProxy(t, r, { policy: portPolicy(serverPolicy([{ name: 'only', path: '/only' }])), appPort: h1app.port, peer: meshed() });
  try {
    const o2 = execFileSync('curl', ['-sS', '-i', `http://127.0.0.1:${p2.port}/nope`, `http://127.0.0.1:${p2.port}/only`], { encoding: 'utf8' });
    console.log(o2);
  } catch (e) { console.log(String(e)); }
  const p3 = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: h1app.port });
  const o3 = execFileSync('curl', ['-sS', '-i', '--http1.0', `http://127.0.0.1:${p3.port}/ten`], { encoding: 'utf8' });
  console.log(o3);
  console.log(h1app.seen.map((s) => `${s.httpVersion} ${s.url} ${JSON.stringify(s.rawHeaders)}`).join('\n'));
  console.log(await r.metrics.render());
});
