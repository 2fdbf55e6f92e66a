// Holds the proxy's current credentials; installs a new certificate only after it verifies.
import type { Registry } from 'prom-client';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { ProxyError, messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { Credentials, IdentitySource } from './types.js';
import { IdentityMetrics } from './identity-metrics.js';
import { toCredentials, verifyCredentials } from './verify-credentials.js';

/** A certificate as a source delivers it, before verification. */
export interface CandidateCredentials {
  /** Leaf first, then intermediates, each DER. */
  readonly chainDer: readonly Uint8Array[];
  /** PKCS#8 DER. */
  readonly keyDer: Uint8Array;
}

export type InstallResult =
  | { readonly ok: true; readonly credentials: Credentials }
  | { readonly ok: false; readonly reason: string };

export interface CredentialStoreOptions {
  readonly serverId: string;
  readonly serverName: string;
  readonly trustAnchorsPem: string;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock?: Clock;
}

/**
 * The one place credentials change. Sources (SPIRE, Linkerd identity) push candidates into it;
 * TLS code reads `current()` for each new handshake, so a rotation never disturbs live connections.
 */
export class CredentialStore implements IdentitySource {
  private creds: Credentials | undefined;
  private generation = 0;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(creds: Credentials) => void>();
  private readonly closers: (() => void)[] = [];
  private readonly metrics: IdentityMetrics;
  private readonly clock: Clock;
  private readonly readyPromise: Promise<Credentials>;
  private resolveReady!: (creds: Credentials) => void;
  private rejectReady!: (err: Error) => void;

  constructor(private readonly opts: CredentialStoreOptions) {
    this.clock = opts.clock ?? systemClock;
    this.metrics = new IdentityMetrics(opts.registry);
    this.readyPromise = new Promise<Credentials>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A fatal failure must not crash the process just because nobody awaited ready() yet.
    this.readyPromise.catch(() => undefined);
  }

  current(): Credentials | undefined {
    return this.creds;
  }

  /**
   * Resolves with the first installed credentials. Rejects (ProxyError 'identity_fatal') if the
   * source gave up for good before that, or 'identity_closed' if closed first.
   */
  ready(): Promise<Credentials> {
    return this.readyPromise;
  }

  onUpdate(listener: (creds: Credentials) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Verifies and installs; on failure logs, counts, and keeps the previous credentials. */
  install(candidate: CandidateCredentials): Promise<InstallResult> {
    // Verification is async: serialise so that a slow check can't land after a newer certificate.
    const run = this.queue.then(() => this.doInstall(candidate));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doInstall(candidate: CandidateCredentials): Promise<InstallResult> {
    if (this.closed) return { ok: false, reason: 'identity source closed' };
    const { serverId, serverName, trustAnchorsPem, logger } = this.opts;
    const result = await verifyCredentials({
      chainDer: candidate.chainDer,
      keyDer: candidate.keyDer,
      serverId,
      trustAnchorsPem,
      nowMs: this.clock.now(),
    });
    if (this.closed) return { ok: false, reason: 'identity source closed' };
    if (!result.ok) {
      this.metrics.failed();
      logger.warn(
        this.creds ? 'Rejected a new identity certificate; keeping the current one' : 'Rejected a new identity certificate; none installed yet',
        { reason: result.reason, server_id: serverId },
      );
      return { ok: false, reason: result.reason };
    }
    this.generation += 1;
    const creds = toCredentials(result.verified, { serverId, serverName, trustAnchorsPem, generation: this.generation });
    const first = this.creds === undefined;
    this.creds = creds;
    this.metrics.installed(creds.notAfterMs, this.clock.now());
    logger.info('Installed identity certificate', {
      server_id: serverId,
      expiry: new Date(creds.notAfterMs).toISOString(),
      generation: creds.generation,
    });
    if (first) this.resolveReady(creds);
    for (const listener of [...this.listeners]) {
      try {
        listener(creds);
      } catch (err) {
        logger.error('identity update listener failed', { error: messageOf(err) });
      }
    }
    return { ok: true, credentials: creds };
  }

  /** Counts a refresh that failed before a certificate was even obtained (RPC error, no SVID…). */
  recordFailure(): void {
    this.metrics.failed();
  }

  /** The source will never produce credentials: ready() rejects unless it already resolved. */
  giveUp(reason: string): void {
    this.rejectReady(new ProxyError(reason, 'identity_fatal'));
  }

  /** Registers work to stop when the store closes (a stream, a timer loop). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closers.push(fn);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rejectReady(new ProxyError('identity source closed before a certificate was installed', 'identity_closed'));
    this.listeners.clear();
    for (const fn of this.closers.splice(0)) {
      try {
        fn();
      } catch (err) {
        this.opts.logger.debug('identity close hook failed', { error: messageOf(err) });
      }
    }
  }
}
