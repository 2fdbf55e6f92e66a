// Bodies through the real proxy's outbound side are streamed, never buffered whole (issue #4
// item 5): 64 MiB each way with backpressure, and Expect: 100-continue uploads from curl.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';
import { curl, httpOrigin, keepAliveOrigin, parseCurlOutput, rawClient, rawOrigin, serviceMesh } from './outbound-http-helpers.js';

const HOST = 'web.test.svc.cluster.local';
const MiB = 1024 * 1024;
const BIG = 64 * MiB;

/** Deterministic, cheap pseudo-random bytes: one 1 MiB block repeated with its index mixed in. */
function block(i: number): Buffer {
  const b = Buffer.alloc(MiB, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

function sha(blocks: number): string {
  const h = crypto.createHash('sha256');
  for (let i = 0; i < blocks; i++) h.update(block(i));
  return h.digest('hex');
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return cond();
}

t.test('a 64 MiB request body is streamed with backpressure: the origin reads it before the client has sent it all', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: ${BIG}\r\n\r\n`);
  const up = await origin.next();
  await up.reader.until('\r\n\r\n');
  // The origin stops reading: what the client can push in is bounded by socket buffers, not 64 MiB.
  up.socket.pause();
  let sent = 0;
  let blocked = false;
  const writer = (async () => {
    for (let i = 0; i < BIG / MiB; i++) {
      if (!c.socket.write(block(i))) {
        blocked = true;
        await new Promise((r) => c.socket.once('drain', r));
      }
      sent += MiB;
    }
  })();
  await new Promise((r) => setTimeout(r, 500));
  t.ok(blocked, 'the client hit backpressure');
  t.ok(sent < 40 * MiB, `with the origin not reading, the client got only ${sent / MiB} MiB in`);
  const h = crypto.createHash('sha256');
  let got = 0;
  up.socket.resume();
  const reading = new Promise<void>((resolve) => {
    const onData = (): void => {
      const n = Math.min(up.reader.buffered, BIG - got);
      if (n === 0) return;
      void up.reader.bytes(n).then((b) => {
        h.update(b);
        got += b.length;
        if (got === BIG) resolve();
      });
    };
    up.socket.on('data', onData);
    onData();
  });
  t.ok(await until(() => got > 0 && sent < BIG, 5000), 'the origin received body bytes while the client was still sending');
  await writer;
  await reading;
  t.equal(h.digest('hex'), sha(BIG / MiB), 'all 64 MiB arrived intact');
  up.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  t.equal((await c.reader.response()).status, 200);
});

t.test('a 64 MiB response body is streamed: the client reads it while the origin is still writing, with backpressure', async (t) => {
  let written = 0;
  let originBlocked = false;
  const origin = await httpOrigin(t, (_req, res) => {
    res.setHeader('content-length', String(BIG));
    let i = 0;
    const pump = (): void => {
      while (i < BIG / MiB) {
        const ok = res.write(block(i++));
        written += MiB;
        if (!ok) {
          originBlocked = true;
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  const res = await request(`http://127.0.0.1:${mesh.outboundPort}/download`, { dispatcher, headers: { host: HOST } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-length'], String(BIG));
  // Not reading yet: the origin must be held back.
  await new Promise((r) => setTimeout(r, 500));
  t.ok(originBlocked, 'the origin hit backpressure while the client was not reading');
  t.ok(written < 40 * MiB, `only ${written / MiB} MiB left the origin meanwhile`);
  const h = crypto.createHash('sha256');
  let firstAt = -1;
  let total = 0;
  for await (const chunk of res.body) {
    if (firstAt < 0) firstAt = written;
    h.update(chunk as Buffer);
    total += (chunk as Buffer).length;
  }
  t.ok(firstAt < BIG, `the first bytes arrived before the origin had written everything (${firstAt / MiB} MiB)`);
  t.equal(total, BIG);
  t.equal(h.digest('hex'), sha(BIG / MiB), 'all 64 MiB arrived intact');
});

t.test('64 MiB both ways at once (a streaming echo): memory stays bounded', async (t) => {
  const origin = await httpOrigin(t, (req, res) => {
    res.setHeader('content-type', 'application/octet-stream');
    req.pipe(res);
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  t.teardown(() => clearInterval(sampler));
  const hashIn = crypto.createHash('sha256');
  const received = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: mesh.outboundPort, method: 'PUT', path: '/echo', headers: { host: HOST, 'transfer-encoding': 'chunked' } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        hashIn.update(c);
      });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    });
    req.on('error', reject);
    let i = 0;
    const pump = (): void => {
      while (i < BIG / MiB) {
        if (!req.write(block(i++))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
  clearInterval(sampler);
  t.equal(received, BIG, 'every byte came back');
  t.equal(hashIn.digest('hex'), sha(BIG / MiB), 'intact');
  // Client, proxy and origin share this process: 64 MiB held anywhere would show twice over.
  t.ok(peak - before < 48 * MiB, `RSS grew by ${Math.round((peak - before) / MiB)} MiB for 128 MiB moved`);
});

t.test('Expect: 100-continue from curl: the origin’s 100 Continue is relayed and the upload arrives intact', async (t) => {
  const seen: { expect: string | undefined; sha: string; length: number }[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    const h = crypto.createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      h.update(c);
      n += c.length;
    });
    req.on('end', () => {
      seen.push({ expect: req.headers.expect, sha: h.digest('hex'), length: n });
      res.end(`got ${n}`);
    });
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbound-expect-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'upload.bin');
  const data = Buffer.concat(Array.from({ length: 8 }, (_, i) => block(i)));
  fs.writeFileSync(file, data);
  // No Expect flag: curl adds Expect: 100-continue itself for an upload this large.
  const r = await curl(['-i', '-v', '-H', `Host: ${HOST}`, '--data-binary', `@${file}`, `http://127.0.0.1:${mesh.outboundPort}/upload`]);
  t.equal(r.code, 0, r.stderr.slice(-500));
  t.match(r.stderr, /< HTTP\/1.1 100 Continue/, 'curl got the 100 Continue');
  const res = parseCurlOutput(r.stdout);
  t.equal(res.status, 200);
  t.equal(res.body.toString(), `got ${data.length}`);
  t.equal(seen[0]?.expect, '100-continue', 'Expect reached the origin');
  t.equal(seen[0]?.sha, crypto.createHash('sha256').update(data).digest('hex'), '8 MiB upload intact');
});

t.test('Expect: 100-continue answered without a 100: the final response is relayed and the connection closes', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n`);
  const up = await origin.next();
  t.match(await up.reader.until('\r\n\r\n'), /\r\nexpect: 100-continue\r\n/, 'the origin saw the request head with Expect');
  up.socket.write('HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n');
  const res = await c.reader.response();
  t.equal(res.status, 417);
  t.equal(res.headers.get('connection'), 'close', 'the body the client was not invited to send cannot be skipped: close');
  t.ok(await c.reader.closedWithin(2000));
  t.ok(await up.reader.closedWithin(2000), 'the upstream connection, owed a body, is not reused');
});

t.test('curl uploading with its own Expect timeout: an origin that never sends 100 still gets the body', async (t) => {
  const origin = await keepAliveOrigin(t, (req) => `HTTP/1.1 200 OK\r\ncontent-length: ${String(req.body.length).length}\r\n\r\n${req.body.length}`);
  const mesh = await serviceMesh(t, [origin.port]);
  const body = Buffer.alloc(2 * MiB, 0x61);
  const r = await curl(['-i', '--expect100-timeout', '0.2', '-H', `Host: ${HOST}`, '-H', 'Expect: 100-continue', '--data-binary', '@-', `http://127.0.0.1:${mesh.outboundPort}/`], body);
  t.equal(r.code, 0, r.stderr);
  const res = parseCurlOutput(r.stdout);
  t.equal(res.status, 200);
  t.equal(res.body.toString(), String(body.length), 'the whole body reached the origin');
});
