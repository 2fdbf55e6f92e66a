// The outbound runtime, logs and backends the outbound unit tests run against, all on 127.0.0.1.
import net from 'node:net';
import { once } from 'node:events';
import type { Test } from 'tap';
import { loadConfig } from '../../../../src/config/index.js';
import type { Config, OutboundConfig } from '../../../../src/config/types.js';
import type { Credentials } from '../../../../src/identity/types.js';
import { createMetrics, type Metrics } from '../../../../src/metrics/index.js';
import type { OutboundRuntime } from '../../../../src/outbound/context.js';
import { testProxyEnv } from '../../../support/proxy-env.js';

import { CaptureLogger, type LogLine } from '../../../support/capture-logger.js';
export { CaptureLogger, type LogLine };

export function testConfig(trustAnchorsPem: string, env: Record<string, string> = {}): Config {
  return loadConfig(testProxyEnv(trustAnchorsPem, env)).config;
}

export interface TestRuntime extends OutboundRuntime {
  readonly log: CaptureLogger;
  readonly metrics: Metrics;
  /** Every socket handed to `track`. */
  readonly tracked: net.Socket[];
}

export function testRuntime(opts: { config: OutboundConfig; creds?: Credentials; localIps?: readonly string[] }): TestRuntime {
  const tracked: net.Socket[] = [];
  return {
    config: opts.config,
    localIps: new Set(opts.localIps ?? []),
    metrics: createMetrics({ buildInfo: { version: 'test', gitSha: '', profile: '', vendor: '', date: '' }, processMetrics: false }),
    log: new CaptureLogger(),
    credentials: () => opts.creds,
    track: (s) => void tracked.push(s),
    tracked,
  };
}

/** An echo server on 127.0.0.1:0 that counts its connections (echoes until the client half-closes). */
export async function countingEcho(t: Test): Promise<{ port: number; readonly accepted: number; readonly open: number; readonly received: number }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let received = 0;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted++;
    sockets.add(s);
    s.on('data', (c: Buffer) => void (received += c.length));
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    get received() {
      return received;
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Writes `text` on an open connection and resolves with the echo (without closing). */
export async function echoOnce(s: net.Socket, text: string): Promise<string> {
  const want = Buffer.byteLength(text);
  const chunks: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= want) {
        s.off('data', onData);
        s.off('close', onClose);
        resolve(Buffer.concat(chunks).toString());
      }
    };
    const onClose = (): void => reject(new Error(`closed after ${got} of ${want} echoed bytes`));
    s.on('data', onData);
    s.once('close', onClose);
    s.write(text);
  });
}
