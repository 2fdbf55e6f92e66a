// Protocol detection on a connection's first bytes (inbound HTTP detection, the pure part) and the HTTP/1 head parser.
import { randomBytes } from 'node:crypto';
import { classifyHttp } from '../../src/inbound/http/detect-http.js';
import { RequestParser } from '../../src/http/h1/parse-head.js';
import type { MicroCase } from './harness.js';

const GET = Buffer.from('GET /api/v1/users?id=42 HTTP/1.1\r\nHost: web.default.svc.cluster.local:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n');
const H2 = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00', 'latin1');
const OPAQUE = randomBytes(64);
const headers = Array.from({ length: 14 }, (_, i) => `X-Header-${i}: ${'v'.repeat(40)}\r\n`).join('');
const BIG = Buffer.from(`POST /orders/12345/items HTTP/1.1\r\nHost: orders.shop.svc.cluster.local\r\nContent-Length: 0\r\n${headers}\r\n`);

export function detectCases(): MicroCase[] {
  const parser = new RequestParser();
  return [
    { name: 'detect/classify GET (105 B)', fn: () => classifyHttp(GET) },
    { name: `detect/classify POST, 17 headers (${BIG.length} B)`, fn: () => classifyHttp(BIG) },
    { name: 'detect/classify h2 preface', fn: () => classifyHttp(H2) },
    { name: 'detect/classify opaque 64 B', fn: () => classifyHttp(OPAQUE) },
    { name: 'h1/parse request head GET (4 headers)', fn: () => parser.feed(GET) },
    { name: `h1/parse request head POST (17 headers, ${BIG.length} B)`, fn: () => parser.feed(BIG) },
  ];
}
