// Opaque TCP through the proxy's outbound and inbound listeners vs. straight to the server:
// bulk throughput, interleaved in rounds, medians and ratios (one machine, one run).
import net from 'node:net';
import { once } from 'node:events';
import { writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BYTES = Number(process.env.BYTES ?? 256 * 1024 * 1024);
const CHUNK = Buffer.alloc(64 * 1024, 1);

/** A sink that counts bytes and answers with one byte when the client half-closes. */
async function sink(): Promise<{ port: number; close: () => void }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', () => undefined);
    s.on('end', () => s.end('k'));
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** Sends BYTES to port and waits for the sink's reply; returns Gbit/s. */
async function blast(port: number): Promise<number> {
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(s, 'connect');
  const started = process.hrtime.bigint();
  let sent = 0;
  while (sent < BYTES) {
    sent += CHUNK.length;
    if (!s.write(CHUNK)) await once(s, 'drain');
  }
  s.end();
  s.resume();
  await once(s, 'end');
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  s.destroy();
  return (sent * 8) / secs / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const target = await sink();
  // The proxy gets a process (and so a core) of its own, as a sidecar would.
  const child = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'support/proxy-child.js'), String(target.port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const ports = JSON.parse(line) as { inbound: number; outbound: number };
  const cases = { direct: target.port, outbound: ports.outbound, inbound: ports.inbound };
  const results: Record<string, number[]> = { direct: [], outbound: [], inbound: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, port] of Object.entries(cases)) {
      results[name]!.push(await blast(port));
      process.stderr.write(`\rround ${round}/${ROUNDS} ${name.padEnd(8)}`);
    }
  }
  process.stderr.write('\n');
  child.kill('SIGTERM');
  await once(child, 'exit');
  target.close();

  const direct = median(results.direct!);
  const rows = Object.entries(results).map(([name, xs]) => ({ name, medianGbps: median(xs), ratioToDirect: median(xs) / direct, samples: xs }));
  console.log('| path | median Gbit/s | ratio to direct |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.medianGbps.toFixed(2)} | ${r.ratioToDirect.toFixed(2)} |`);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `tcp-throughput-${commit}.json`);
  writeFileSync(file, JSON.stringify({ bench: 'tcp-throughput', date: new Date().toISOString(), node: process.version, commit, bytesPerRun: BYTES, rounds: ROUNDS, rows }, null, 2) + '\n');
  console.log(`results: ${path.relative(process.cwd(), file)}`);
}

await main();
