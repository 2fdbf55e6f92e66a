import t from 'tap';
import {
  LegacyCounterFamily,
  LegacyGaugeFamily,
  LegacyHistogramFamily,
} from '../../../src/metrics/legacy-family.js';
import { LegacyRegistry } from '../../../src/metrics/legacy-registry.js';

const MIN = 60_000;

function render(r: { render(out: string[], now: number): void }, now = 0): string {
  const out: string[] = [];
  r.render(out, now);
  return out.join('');
}

t.test('a family is omitted until it has a series', async (t) => {
  const f = new LegacyCounterFamily({ name: 'request_total', help: 'Total count of HTTP requests.' });
  t.equal(render(f), '');
  const s = f.get({ direction: 'inbound', target_port: '80' });
  t.equal(
    render(f),
    '# HELP request_total Total count of HTTP requests.\n# TYPE request_total counter\nrequest_total{direction="inbound",target_port="80"} 0\n',
  );
  s.inc();
  s.inc(2);
  t.equal(f.get('direction="inbound",target_port="80"'), s, 'same labels ⇒ same series');
  t.match(render(f), /request_total\{direction="inbound",target_port="80"\} 3\n$/);
});

t.test('histograms: cumulative buckets with le last, then _count and _sum', async (t) => {
  const f = new LegacyHistogramFamily({ name: 'response_latency_ms', help: 'Elapsed times.', buckets: [1, 10, 100] });
  const h = f.get({ direction: 'outbound' });
  for (const v of [0, 1, 5, 10, 11, 250]) h.observe(v);
  t.equal(
    render(f),
    [
      '# HELP response_latency_ms Elapsed times.',
      '# TYPE response_latency_ms histogram',
      'response_latency_ms_bucket{direction="outbound",le="1"} 2',
      'response_latency_ms_bucket{direction="outbound",le="10"} 4',
      'response_latency_ms_bucket{direction="outbound",le="100"} 5',
      'response_latency_ms_bucket{direction="outbound",le="+Inf"} 6',
      'response_latency_ms_count{direction="outbound"} 6',
      'response_latency_ms_sum{direction="outbound"} 277',
      '',
    ].join('\n'),
  );
  const bare = new LegacyHistogramFamily({ name: 'x', help: 'h' });
  bare.get({}).observe(3);
  const text = render(bare);
  t.match(text, /^x_bucket\{le="1"\} 0$/m);
  t.match(text, /^x_bucket\{le="50000"\} 1$/m, "default buckets are Linkerd's latency buckets");
  t.match(text, /^x_bucket\{le="\+Inf"\} 1\nx_count 1\nx_sum 3\n$/m);
  t.throws(() => new LegacyHistogramFamily({ name: 'y', help: 'h', buckets: [2, 1] }));
});

t.test('label values are escaped only where the text format requires it', async (t) => {
  const f = new LegacyGaugeFamily({ name: 'g', help: 'h' });
  f.get({ a: 'plain:80', b: 'q"uo\\te\nnl' }).set(1.5);
  t.match(render(f), 'g{a="plain:80",b="q\\"uo\\\\te\\nnl"} 1.5\n');
});

t.test('series idle longer than the retention period are dropped after a last render', async (t) => {
  const f = new LegacyCounterFamily({ name: 'c', help: 'h', retainIdleMs: 10 * MIN });
  const busy = f.get({ k: 'busy' });
  const idle = f.get({ k: 'idle' });
  idle.inc();
  render(f, 0);
  busy.inc();
  t.match(render(f, 9 * MIN), /k="idle"/);
  busy.inc();
  t.match(render(f, 10 * MIN + 1), /k="idle"\} 1/, 'rendered one last time');
  t.equal(f.size, 1);
  t.notMatch(render(f, 11 * MIN), /idle/);

  idle.inc(4);
  t.match(render(f, 12 * MIN), /c\{k="idle"\} 5/, 'a dropped series comes back when its holder uses it');
  const fresh = f.get({ k: 'busy' });
  t.equal(fresh, busy);
});

t.test('a dropped series feeds whichever series took its labels', async (t) => {
  const f = new LegacyCounterFamily({ name: 'c', help: 'h', retainIdleMs: 1 });
  const old = f.get({ k: 'v' });
  render(f, 0);
  render(f, 10);
  t.equal(f.size, 0);
  const replacement = f.get({ k: 'v' });
  t.not(replacement, old);
  old.inc(2);
  t.equal(replacement.value, 2);
  t.equal(f.size, 1);
});

t.test('non-zero gauges are live state and are never dropped', async (t) => {
  const f = new LegacyGaugeFamily({ name: 'g', help: 'h', retainIdleMs: 1 });
  const g = f.get({ k: 'v' });
  g.inc();
  render(f, 0);
  render(f, 100);
  t.equal(f.size, 1);
  g.dec();
  render(f, 200);
  render(f, 300);
  t.equal(f.size, 0);
});

t.test('the legacy registry renders reports in order', async (t) => {
  const reg = new LegacyRegistry();
  const a = new LegacyCounterFamily({ name: 'a_total', help: 'a' });
  const b = new LegacyCounterFamily({ name: 'b_total', help: 'b' });
  const c = new LegacyCounterFamily({ name: 'c_total', help: 'c' });
  reg.register(a);
  reg.register(c);
  reg.register(b, { before: c });
  t.equal(reg.render(0), '', 'all empty ⇒ nothing');
  for (const f of [a, b, c]) f.get({}).inc();
  t.equal(
    reg.render(0),
    '# HELP a_total a\n# TYPE a_total counter\na_total 1\n# HELP b_total b\n# TYPE b_total counter\nb_total 1\n# HELP c_total c\n# TYPE c_total counter\nc_total 1\n',
  );
  t.throws(() => reg.register(a));
  t.throws(() => reg.register(new LegacyCounterFamily({ name: 'd', help: 'd' }), { before: new LegacyCounterFamily({ name: 'e', help: 'e' }) }));
});
