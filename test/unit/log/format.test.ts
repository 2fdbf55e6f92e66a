import t from 'tap';
import {
  formatJson,
  formatPlain,
  formatTimestamp,
  formatUptime,
  parseLogFormat,
} from '../../../src/log/format.js';

t.test('uptime is [secs right-aligned to 6].[micros]s, truncating below a microsecond', async (t) => {
  t.equal(formatUptime(1000 + 100e-6), '[     1.000000s]', '1s + 100ns');
  t.equal(formatUptime(1000.002), '[     1.000002s]', '1s + 2µs');
  t.equal(formatUptime(1000 - 1e-6), '[     0.999999s]', '1s - 1ns');
  t.equal(formatUptime(1234567 * 1000), '[1234567.000000s]', 'wider than 6 is not truncated');
  t.equal(formatUptime(0), '[     0.000000s]');
});

t.test('timestamps are RFC 3339 UTC with microseconds', async (t) => {
  t.equal(formatTimestamp(0), '1970-01-01T00:00:00.000000Z');
  t.equal(formatTimestamp(Date.UTC(2026, 7, 21, 11, 3, 2, 123) + 0.456), '2026-08-21T11:03:02.123456Z');
});

t.test('plain lines: uptime, 5-wide level, thread id, target, message, fields', async (t) => {
  t.equal(
    formatPlain(
      {
        level: 'info',
        target: 'linkerd::admin',
        message: 'Admin interface on 127.0.0.1:4191',
        fields: { addr: '127.0.0.1:4191', n: 3, ok: true, skipped: undefined, none: null },
      },
      1000.002,
    ),
    '[     1.000002s]  INFO ThreadId(01) linkerd::admin: Admin interface on 127.0.0.1:4191 addr=127.0.0.1:4191 n=3 ok=true\n',
  );
  const levels = (['error', 'warn', 'info', 'debug', 'trace'] as const).map((level) =>
    formatPlain({ level, target: 'linkerd', message: 'm' }, 0, 12),
  );
  t.strictSame(levels, [
    '[     0.000000s] ERROR ThreadId(12) linkerd: m\n',
    '[     0.000000s]  WARN ThreadId(12) linkerd: m\n',
    '[     0.000000s]  INFO ThreadId(12) linkerd: m\n',
    '[     0.000000s] DEBUG ThreadId(12) linkerd: m\n',
    '[     0.000000s] TRACE ThreadId(12) linkerd: m\n',
  ]);
});

t.test('JSON lines: timestamp, level, fields (message first), target, threadId', async (t) => {
  const line = formatJson(
    {
      level: 'warn',
      target: 'linkerd::inbound',
      message: 'Failed "quoted"',
      fields: { error: 'connection refused', port: 8080, tls: false, gone: undefined },
    },
    Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  );
  t.equal(
    line,
    '{"timestamp":"2026-01-02T03:04:05.006000Z","level":"WARN","fields":{"message":"Failed \\"quoted\\"","error":"connection refused","port":8080,"tls":false},"target":"linkerd::inbound","threadId":"ThreadId(1)"}\n',
  );
  t.notOk('spans' in JSON.parse(line), 'no spans key for events outside spans, as tracing does');
});

t.test('LINKERD2_PROXY_LOG_FORMAT: json in any case, else plain', async (t) => {
  t.equal(parseLogFormat('json'), 'json');
  t.equal(parseLogFormat(' JSON '), 'json');
  t.equal(parseLogFormat('PLAIN'), 'plain');
  t.equal(parseLogFormat('yaml'), 'plain');
  t.equal(parseLogFormat(undefined), 'plain');
});
