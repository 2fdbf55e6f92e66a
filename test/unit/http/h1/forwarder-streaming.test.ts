import { createHash, randomBytes } from 'node:crypto';
import type net from 'node:net';
import t from 'tap';
import { RawClient, httpOrigin, startProxy, waitFor } from './helpers/harness.js';

const BLOCK = randomBytes(64 * 1024);
const BLOCKS = 160; // 10 MiB
const TOTAL = BLOCK.length * BLOCKS;
const expected = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < BLOCKS; i++) h.update(BLOCK);
  return h.digest('hex');
})();

/** Samples fn every few ms until stopped; returns the maximum seen. */
function sampleMax(fn: () => number): { stop(): number } {
  let max = 0;
  const timer = setInterval(() => {
    max = Math.max(max, fn());
  }, 2);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, fn());
    },
  };
}

async function writeBlocks(s: net.Socket): Promise<void> {
  for (let i = 0; i < BLOCKS; i++) {
    if (!s.write(BLOCK)) await new Promise((resolve) => s.once('drain', resolve));
  }
}

t.test('a 10 MiB request body streams to a slow origin without being buffered', async (t) => {
  let digest = '';
  const origin = await httpOrigin(t, (req, res) => {
    const h = createHash('sha256');
    // Reads nothing for a while, then slowly: without backpressure the proxy would hold the body.
    req.pause();
    setTimeout(() => req.resume(), 300);
    req.on('data', (c: Buffer) => {
      h.update(c);
      req.pause();
      setTimeout(() => req.resume(), 1);
    });
    req.on('end', () => {
      digest = h.digest('hex');
      res.end('stored');
    });
  });
  const proxy = await startProxy(t, origin.port);
  const rss0 = process.memoryUsage().rss;
  const rss = sampleMax(() => process.memoryUsage().rss);
  const c = await RawClient.open(t, proxy.port);
  c.write(`PUT /blob HTTP/1.1\r\nHost: a\r\nContent-Length: ${TOTAL}\r\n\r\n`);
  await waitFor(() => proxy.upstream.length === 1);
  const queued = sampleMax(() => proxy.upstream[0]!.writableLength);
  await writeBlocks(c.socket);
  await c.until((s) => s.endsWith('stored'), 20_000);
  const maxQueued = queued.stop();
  const rssGrowth = rss.stop() - rss0;
  t.equal(digest, expected, 'every byte arrived in order');
  t.ok(maxQueued < 1024 * 1024, `at most ${maxQueued} bytes queued in the proxy towards the origin`);
  t.ok(rssGrowth < 32 * 1024 * 1024, `RSS grew by ${(rssGrowth / 1048576).toFixed(1)} MiB`);
});

t.test('a 10 MiB response streams to a slow client without being buffered', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => {
    res.setHeader('content-length', String(TOTAL));
    let i = 0;
    const more = (): void => {
      while (i < BLOCKS) {
        i++;
        if (!res.write(BLOCK)) {
          res.once('drain', more);
          return;
        }
      }
      res.end();
    };
    more();
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.socket.pause();
  c.socket.removeAllListeners('data');
  const h = createHash('sha256');
  let got = 0;
  let headDone = false;
  let pending = Buffer.alloc(0);
  c.socket.on('data', (chunk: Buffer) => {
    if (!headDone) {
      pending = Buffer.concat([pending, chunk]);
      const i = pending.indexOf('\r\n\r\n');
      if (i === -1) return;
      headDone = true;
      chunk = pending.subarray(i + 4);
    }
    got += chunk.length;
    h.update(chunk);
  });
  c.write('GET /blob HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitFor(() => proxy.accepted.length === 1);
  const queued = sampleMax(() => proxy.accepted[0]!.writableLength);
  await new Promise((resolve) => setTimeout(resolve, 300));
  c.socket.resume();
  await waitFor(() => got === TOTAL, 20_000);
  const maxQueued = queued.stop();
  t.equal(h.digest('hex'), expected);
  t.ok(maxQueued < 1024 * 1024, `at most ${maxQueued} bytes queued in the proxy towards the client`);
  t.same(await waitFor(() => proxy.pool.stats().idle === 1).then(() => proxy.pool.stats()), { idle: 1, active: 0, pending: 0 });
});
