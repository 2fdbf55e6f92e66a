// Where the inbound side dials the app: the original destination itself, as upstream.
import t from 'tap';
import { appAddr } from '../../../src/inbound/tcp-forward.js';

t.test('the app is dialled at the original destination, IP and port', async (t) => {
  t.same(appAddr({ host: '10.42.0.7', port: 8080, family: 4 }), { host: '10.42.0.7', port: 8080, family: 4 }, 'a pod IP is kept, not rewritten to 127.0.0.1');
  t.same(appAddr({ host: '127.18.1.2', port: 80, family: 4 }), { host: '127.18.1.2', port: 80, family: 4 }, 'another loopback IP is kept');
  t.same(appAddr({ host: 'fd00::7', port: 9090, family: 6 }), { host: 'fd00::7', port: 9090, family: 6 }, 'IPv6 is kept, not rewritten to ::1');
  t.same(appAddr({ host: '::ffff:10.42.0.7', port: 8080, family: 6 }), { host: '10.42.0.7', port: 8080, family: 4 }, 'IPv4-mapped IPv6 becomes IPv4');
});
