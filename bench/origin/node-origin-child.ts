// The origin without nginx: node:http answering `/` with a short body and `POST /big` with 1 MiB (after reading the request's).
import http from 'node:http';
import { BODY_BYTES } from '../load/wrk.js';
import { SMALL_BODY } from './origin.js';

const small = Buffer.from(SMALL_BODY);
const big = Buffer.alloc(BODY_BYTES, 'r');
const server = http.createServer({ keepAliveTimeout: 300_000 }, (req, res) => {
  const body = req.url === '/big' ? big : small;
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
