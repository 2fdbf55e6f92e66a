import t from 'tap';
import net from 'node:net';
import { ServeGate } from '../../../src/core/gate.js';

function fakeSocket(): net.Socket {
  return new net.Socket();
}

t.test('holds sockets until opened, then hands them over in order; afterwards at once', async (t) => {
  const gate = new ServeGate();
  const seen: net.Socket[] = [];
  const a = fakeSocket();
  const b = fakeSocket();
  gate.admit(a, (s) => seen.push(s));
  gate.admit(b, (s) => seen.push(s));
  t.same(seen, [], 'nothing handled while closed');
  gate.open();
  t.same(seen, [a, b], 'released in arrival order');
  const c = fakeSocket();
  gate.admit(c, (s) => seen.push(s));
  t.equal(seen[2], c, 'handled immediately once open');
  t.ok(gate.opened);
});

t.test('sockets closed while held are skipped; discard destroys the rest', async (t) => {
  const gate = new ServeGate();
  const seen: net.Socket[] = [];
  const gone = fakeSocket();
  const kept = fakeSocket();
  gate.admit(gone, (s) => seen.push(s));
  gate.admit(kept, (s) => seen.push(s));
  gone.destroy();
  const other = new ServeGate();
  const dropped = fakeSocket();
  other.admit(dropped, () => t.fail('never handled'));
  other.discard();
  t.ok(dropped.destroyed, 'discard destroys held sockets');
  gate.open();
  t.same(seen, [kept]);
});
