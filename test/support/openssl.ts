// Runs the real openssl s_client / s_server as TLS peers in tests, killed at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Test } from 'tap';

/** A running openssl (or other) child whose output is collected. */
export class Peer {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.update('stdout', d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.update('stderr', d));
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        resolve(code);
        this.notify();
      });
      child.on('error', () => resolve(null));
    });
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with all output once `re` matches it (or rejects after timeoutMs / on exit). */
  waitFor(re: RegExp, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${this.output}`)), timeoutMs);
      const check = (): void => {
        if (re.test(this.output)) {
          clearTimeout(timer);
          resolve(this.output);
        } else if (!this.running) {
          clearTimeout(timer);
          reject(new Error(`exited before ${re}; output:\n${this.output}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  write(text: string): void {
    this.child.stdin?.write(text);
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  private update(stream: 'stdout' | 'stderr', data: string): void {
    this[stream] += data;
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Spawns a process with a piped stdin kept open, killed at teardown. */
export function spawnPeer(t: Test, cmd: string, args: readonly string[]): Peer {
  const peer = new Peer(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  t.teardown(() => peer.kill());
  return peer;
}

/** A port that was free a moment ago (listen on 0, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `openssl s_server -accept 127.0.0.1:<port> …args`, started on a free port and ready once it
 * prints ACCEPT; a lost race for the port is retried on another one.
 */
export async function startSServer(t: Test, args: readonly string[]): Promise<{ peer: Peer; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const peer = spawnPeer(t, 'openssl', ['s_server', '-accept', `127.0.0.1:${port}`, ...args]);
    try {
      await peer.waitFor(/^ACCEPT$/m);
      return { peer, port };
    } catch (err) {
      lastError = err;
      peer.kill();
    }
  }
  throw lastError;
}

/** `openssl s_client -connect 127.0.0.1:<port> …args`, writing `input` once started. */
export function runSClient(t: Test, port: number, args: readonly string[], input?: string): Peer {
  const peer = spawnPeer(t, 'openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args]);
  if (input !== undefined) peer.write(input);
  return peer;
}

/** A TCP connection to 127.0.0.1:port, destroyed at teardown. */
export function connectTcp(t: Test, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    t.teardown(() => sock.destroy());
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}
