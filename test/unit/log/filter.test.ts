import t from 'tap';
import { DEFAULT_LOG_FILTER, LogFilter, LogFilterError } from '../../../src/log/filter.js';

const LEVEL_ERR =
  'error parsing level filter: expected one of "off", "error", "warn", "info", "debug", "trace", or a number 0-5';

function lenient(s: string): LogFilter {
  return LogFilter.parse(s, { strict: false }).filter;
}

t.test('the default filter shows linkerd info, other warnings, and hides hickory warnings', async (t) => {
  const f = lenient(DEFAULT_LOG_FILTER);
  t.ok(f.enabled('linkerd::inbound::accept', 'info'));
  t.notOk(f.enabled('linkerd::inbound::accept', 'debug'));
  t.ok(f.enabled('h2::codec', 'warn'));
  t.notOk(f.enabled('h2::codec', 'info'));
  t.notOk(f.enabled('hickory::resolver', 'warn'));
  t.ok(f.enabled('hickory::resolver', 'error'));
  t.equal(f.toString(), 'linkerd=info,hickory=error,warn');
});

t.test('the longest matching target wins, whatever the order written', async (t) => {
  const f = lenient('linkerd::inbound=debug,linkerd=warn,trace');
  t.ok(f.enabled('linkerd::inbound::accept', 'debug'));
  t.notOk(f.enabled('linkerd::inbound::accept', 'trace'));
  t.notOk(f.enabled('linkerd::outbound', 'info'));
  t.ok(f.enabled('linkerd::outbound', 'warn'));
  t.ok(f.enabled('tokio', 'trace'));
  t.equal(f.toString(), 'linkerd::inbound=debug,linkerd=warn,trace');
});

t.test('targets match by string prefix, as tracing-subscriber does', async (t) => {
  const f = lenient('linkerd=debug');
  t.ok(f.enabled('linkerd', 'debug'));
  t.ok(f.enabled('linkerd::admin', 'debug'));
  t.ok(f.enabled('linkerd_app_inbound', 'debug'));
  t.notOk(f.enabled('link', 'error'), 'no directive applies ⇒ disabled');
  t.notOk(f.enabled('other', 'error'));
});

t.test('off', async (t) => {
  const all = lenient('off');
  t.notOk(all.enabled('linkerd', 'error'));
  t.equal(all.verbosityFor('x'), 0);
  const some = lenient('info,linkerd::inbound=off');
  t.notOk(some.enabled('linkerd::inbound::accept', 'error'));
  t.ok(some.enabled('linkerd::outbound', 'info'));
});

t.test('levels: case-insensitive names, numbers 0-5, empty means trace', async (t) => {
  const f = lenient('a=DeBuG,b=1,c=5,d=0,e=,f,g=+3');
  t.equal(f.toString(), 'g=info,f=trace,e=trace,d=off,c=trace,b=error,a=debug');
  t.ok(f.enabled('f', 'trace'), 'a bare target enables everything for it');
  t.equal(lenient('WARN').toString(), 'warn');
  t.equal(lenient('3').toString(), 'info');
});

t.test('a later directive for the same target replaces an earlier one', async (t) => {
  t.equal(lenient('linkerd=info,linkerd=trace').toString(), 'linkerd=trace');
  t.equal(lenient('warn,debug').toString(), 'debug');
});

t.test('equal-length targets are ordered reverse-lexically, like tracing', async (t) => {
  t.equal(lenient('a=info,c=info,b=info').toString(), 'c=info,b=info,a=info');
});

t.test('no directives at all means warn', async (t) => {
  t.equal(lenient('').toString(), 'warn');
  t.equal(lenient(' , ,').toString(), 'warn');
  t.equal(LogFilter.parse('', { strict: true }).filter.toString(), 'warn');
});

t.test('whitespace around directives is ignored', async (t) => {
  t.equal(lenient(' linkerd=debug , info\n').toString(), 'linkerd=debug,info');
});

t.test('lenient parsing drops bad directives and reports each', async (t) => {
  const { filter, warnings } = LogFilter.parse('linkerd=loud,info,=debug,x[span]=info,a=b=c', {
    strict: false,
  });
  t.equal(filter.toString(), 'info');
  t.strictSame(warnings, [
    `ignoring \`linkerd=loud\`: ${LEVEL_ERR}`,
    'ignoring `=debug`: invalid filter directive',
    'ignoring `x[span]=info`: invalid filter directive: span and field filters are not supported',
    `ignoring \`a=b=c\`: ${LEVEL_ERR}`,
  ]);
  t.equal(LogFilter.parse('all=bad', { strict: false }).filter.toString(), 'warn');
});

t.test('strict parsing throws an error naming the bad directive', async (t) => {
  t.throws(() => LogFilter.parse('info,linkerd=loud', { strict: true }), {
    name: 'LogFilterError',
    directive: 'linkerd=loud',
    message: `\`linkerd=loud\`: ${LEVEL_ERR}`,
  });
  t.throws(() => LogFilter.parse('[{field}]=info', { strict: true }), LogFilterError);
  t.throws(() => LogFilter.parse('*=info', { strict: true }), {
    message: '`*=info`: invalid filter directive',
  });
  t.equal(LogFilter.parse('linkerd=debug', { strict: true }).warnings.length, 0);
});

t.test('withDirective adds or replaces a directive', async (t) => {
  const f = lenient('warn,_access_log=trace').withDirective('_access_log=off');
  t.equal(f.toString(), '_access_log=off,warn');
  t.notOk(f.enabled('_access_log', 'error'));
  t.throws(() => f.withDirective('x=nope'), LogFilterError);
});
