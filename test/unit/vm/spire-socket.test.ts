// vm init's look at the SPIRE socket: a listening unix socket passes; missing, or a plain file, warns.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkSpireSocket, spireSocketPath } from '../../../src/vm/spire-socket.js';

const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-spire-check-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('addresses are stripped as the proxy strips them', async (t) => {
  t.equal(spireSocketPath('unix:///tmp/spire-agent/public/api.sock'), '/tmp/spire-agent/public/api.sock');
  t.equal(spireSocketPath('unix:/run/spire.sock'), '/run/spire.sock');
  t.equal(spireSocketPath('/run/spire.sock'), '/run/spire.sock');
});

t.test('a listening socket: no warning', async (t) => {
  const sock = path.join(dir, 'agent.sock');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  t.same(checkSpireSocket(`unix://${sock}`), { path: sock });
});

t.test('missing, not a socket, relative: warnings that say what to check', async (t) => {
  t.match(checkSpireSocket(`unix://${dir}/nope.sock`), { path: `${dir}/nope.sock`, warning: /does not exist yet: is the SPIRE agent running/ });
  const file = path.join(dir, 'plain');
  writeFileSync(file, '');
  t.match(checkSpireSocket(file), { warning: /exists but is not a socket/ });
  t.match(checkSpireSocket('unix:agent.sock'), { path: 'agent.sock', warning: /not an absolute unix socket path/ });
});
