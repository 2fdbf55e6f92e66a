import t from 'tap';
import { httpDate, renderSyntheticResponse } from '../../../../src/http/h1/synthetic.js';

t.test('a non-closing synthetic response (spec §4.7 format)', async (t) => {
  const out = renderSyntheticResponse({ status: 403, message: 'unauthorized', close: false }, { httpVersion: 11, emitHeaders: false, closing: false });
  t.equal(out.toString(), 'HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n', 'no l5d headers unless emitted');
});

t.test('closing with informational headers', async (t) => {
  const out = renderSyntheticResponse(
    { status: 502, message: 'connect to 10.0.0.1:80 failed:\r\nrefused', close: true },
    { httpVersion: 11, emitHeaders: true, closing: true, nowMs: Date.UTC(2024, 0, 2, 3, 4, 5) },
  );
  t.equal(
    out.toString(),
    'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nl5d-proxy-error: connect to 10.0.0.1:80 failed:  refused\r\n' +
      'connection: close\r\nl5d-proxy-connection: close\r\ndate: Tue, 02 Jan 2024 03:04:05 GMT\r\n\r\n',
    'message sanitised to one header line',
  );
});

t.test('HTTP/1.0 mirrors the version and needs no connection: close', async (t) => {
  const out = renderSyntheticResponse({ status: 400, close: true }, { httpVersion: 10, emitHeaders: false, closing: true });
  t.equal(out.toString(), 'HTTP/1.0 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
});

t.test('extra headers (redirects)', async (t) => {
  const out = renderSyntheticResponse(
    { status: 301, close: false, headers: [['location', 'https://example.com/']] },
    { httpVersion: 11, emitHeaders: false, closing: false },
  );
  t.equal(out.toString(), 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: https://example.com/\r\n\r\n');
});

t.test('httpDate is IMF-fixdate and cached per second', async (t) => {
  t.equal(httpDate(784111777000), 'Sun, 06 Nov 1994 08:49:37 GMT');
  t.equal(httpDate(784111777999), 'Sun, 06 Nov 1994 08:49:37 GMT');
  t.equal(httpDate(784111778000), 'Sun, 06 Nov 1994 08:49:38 GMT');
});
