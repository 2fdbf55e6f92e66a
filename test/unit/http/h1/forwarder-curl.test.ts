import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { curl, httpOrigin, startProxy } from './helpers/harness.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const dir = mkdtempSync(join(tmpdir(), 'h1-curl-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const big = randomBytes(3 * 1024 * 1024 + 17);
const bigFile = join(dir, 'big.bin');
writeFileSync(bigFile, big);

/** An origin that records each request and answers with the sha256 of its body. */
async function hashingOrigin(t: Test): Promise<{ port: number; seen: { version: string; headers: Record<string, unknown> }[]; connections(): number }> {
  const seen: { version: string; headers: Record<string, unknown> }[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    seen.push({ version: req.httpVersion, headers: req.headers });
    const h = createHash('sha256');
    req.on('data', (c: Buffer) => h.update(c));
    req.on('end', () => res.end(h.digest('hex')));
  });
  return { port: origin.port, seen, connections: origin.connections };
}

t.test('curl: two URLs in one invocation reuse the connection end to end', async (t) => {
  const origin = await hashingOrigin(t);
  const proxy = await startProxy(t, origin.port);
  const url = `http://127.0.0.1:${proxy.port}/`;
  const r = await curl([url, url]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, sha(Buffer.alloc(0)).repeat(2));
  t.equal(proxy.accepted.length, 1);
  t.equal(origin.connections(), 1);
});

t.test('curl: Expect: 100-continue is forwarded and the interim 100 relayed', async (t) => {
  const origin = await hashingOrigin(t);
  const proxy = await startProxy(t, origin.port);
  const r = await curl(['-v', '-H', 'Expect: 100-continue', '--data-binary', `@${bigFile}`, `http://127.0.0.1:${proxy.port}/upload`]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, sha(big), 'the whole body arrived');
  t.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
  t.equal(origin.seen[0]?.headers.expect, '100-continue');
  t.equal(origin.seen[0]?.headers['content-length'], String(big.length));
});

t.test('curl: chunked upload', async (t) => {
  const origin = await hashingOrigin(t);
  const proxy = await startProxy(t, origin.port);
  const r = await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', `@${bigFile}`, `http://127.0.0.1:${proxy.port}/`]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, sha(big));
  t.equal(origin.seen[0]?.headers['transfer-encoding'], 'chunked');
});

t.test('curl -0: HTTP/1.0 end to end', async (t) => {
  const origin = await hashingOrigin(t);
  const proxy = await startProxy(t, origin.port);
  const r = await curl(['-0', '-i', '--data-binary', 'abc', `http://127.0.0.1:${proxy.port}/`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^HTTP\/1\.0 200 OK\r\n/);
  t.match(r.stdout, new RegExp(`${sha(Buffer.from('abc'))}$`));
  t.equal(origin.seen[0]?.version, '1.0');
});

t.test('curl: a large download', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => res.end(big));
  const proxy = await startProxy(t, origin.port);
  const out = join(dir, 'down.bin');
  const r = await curl(['-o', out, '-w', '%{size_download}', `http://127.0.0.1:${proxy.port}/`]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, String(big.length));
});
