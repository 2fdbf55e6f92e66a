import t from 'tap';
import { isLoopbackAddress } from '../../../src/admin/localhost.js';

t.test('loopback clients', async (t) => {
  for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::FFFF:127.1.2.3', '::ffff:7f00:1', '::1%lo']) {
    t.ok(isLoopbackAddress(ip), ip);
  }
});

t.test('everything else', async (t) => {
  for (const ip of [undefined, '', '10.0.0.1', '128.0.0.1', '0.0.0.0', '::', '::2', 'fe80::1', '::ffff:10.0.0.1', '::ffff:0:127.0.0.1', '1::1', 'localhost', '127.0.0.1.nip.io']) {
    t.notOk(isLoopbackAddress(ip), String(ip));
  }
});
