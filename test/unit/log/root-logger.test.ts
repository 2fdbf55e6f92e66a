import t from 'tap';
import type { Clock } from '../../../src/core/clock.js';
import { createRootLogger } from '../../../src/log/root-logger.js';

function fakeClock(): Clock & { advance(ms: number): void } {
  let mono = 5000;
  let wall = Date.UTC(2026, 7, 21, 0, 0, 0, 0);
  return {
    now: () => wall,
    monotonic: () => mono,
    setTimer: () => () => undefined,
    sleep: () => Promise.resolve(),
    advance(ms: number) {
      mono += ms;
      wall += ms;
    },
  };
}

t.test('plain lines for enabled events, nothing for filtered ones', async (t) => {
  const lines: string[] = [];
  const clock = fakeClock();
  const root = createRootLogger({ filter: 'warn,linkerd=info', format: 'plain', write: (l) => lines.push(l), clock });
  clock.advance(1500.25);
  root.info('release 0.1.0', { sha: 'abc' });
  root.debug('hidden');
  const inbound = root.child('inbound');
  inbound.warn('Failed', { error: 'boom' });
  root.child('linkerd::outbound').info('full target accepted');
  t.strictSame(lines, [
    '[     1.500250s]  INFO ThreadId(01) linkerd: release 0.1.0 sha=abc\n',
    '[     1.500250s]  WARN ThreadId(01) linkerd::inbound: Failed error=boom\n',
    '[     1.500250s]  INFO ThreadId(01) linkerd::outbound: full target accepted\n',
  ]);
  t.ok(inbound.enabled('info'));
  t.notOk(inbound.enabled('debug'));
});

t.test('json format uses the wall clock', async (t) => {
  const lines: string[] = [];
  const root = createRootLogger({ filter: 'info', format: 'json', write: (l) => lines.push(l), clock: fakeClock() });
  root.child('admin').info('hello');
  t.equal(
    lines[0],
    '{"timestamp":"2026-08-21T00:00:00.000000Z","level":"INFO","fields":{"message":"hello"},"target":"linkerd::admin","threadId":"ThreadId(1)"}\n',
  );
});

t.test('setFilter takes effect on existing loggers; bad filters throw and change nothing', async (t) => {
  const lines: string[] = [];
  const root = createRootLogger({ filter: 'warn,linkerd=info', format: 'plain', write: (l) => lines.push(l), clock: fakeClock() });
  const accept = root.child('inbound').child('accept');
  t.notOk(accept.enabled('debug'));
  t.equal(root.filterString(), '_access_log=off,linkerd=info,warn');

  root.setFilter('linkerd::inbound=debug,warn');
  t.ok(accept.enabled('debug'), 'cached level refreshed after the change');
  t.equal(root.filterString(), 'linkerd::inbound=debug,_access_log=off,warn');
  t.equal(lines.length, 0, 'the change is logged at info, which the new filter hides');
  root.setFilter('linkerd::inbound=debug,linkerd=info');
  t.match(lines.at(-1), /linkerd::log: set new log level level=linkerd::inbound=debug,linkerd=info\n$/);
  root.setFilter('linkerd::inbound=debug,warn');

  const before = lines.length;
  t.throws(() => root.setFilter('linkerd=chatty'), { message: /`linkerd=chatty`: error parsing level filter/ });
  t.equal(root.filterString(), 'linkerd::inbound=debug,_access_log=off,warn');
  t.ok(accept.enabled('debug'));
  t.equal(lines.length, before);

  const control = root.levelControl();
  t.ok(control);
  control?.set('');
  t.equal(control?.get(), '_access_log=off,warn');
});

t.test('off disables logging and the level endpoint', async (t) => {
  const lines: string[] = [];
  const root = createRootLogger({ filter: ' OFF ', format: 'plain', write: (l) => lines.push(l), clock: fakeClock() });
  root.error('nobody hears this');
  t.equal(lines.length, 0);
  t.equal(root.disabled, true);
  t.notOk(root.enabled('error'));
  t.equal(root.levelControl(), undefined);
  t.throws(() => root.setFilter('info'), { message: /disabled/ });
});

t.test('startup warnings for dropped directives go to the warning writer', async (t) => {
  const warnings: string[] = [];
  const root = createRootLogger({
    filter: 'linkerd=info,bad=nope',
    format: 'plain',
    write: () => undefined,
    writeWarning: (l) => warnings.push(l),
    clock: fakeClock(),
  });
  t.equal(warnings.length, 1);
  t.match(warnings[0], /^ignoring `bad=nope`: error parsing level filter/);
  t.strictSame(root.startupWarnings, [warnings[0]?.trimEnd()]);
  t.equal(root.filterString(), '_access_log=off,linkerd=info');
});

t.test('logging never throws into the caller', async (t) => {
  const root = createRootLogger({
    filter: 'trace',
    format: 'plain',
    write: () => {
      throw new Error('EPIPE');
    },
    clock: fakeClock(),
  });
  const hostile = { toString: () => { throw new Error('no'); } } as unknown as string;
  t.doesNotThrow(() => root.info('x', { v: hostile }));
  t.doesNotThrow(() => root.error('y'));
});
