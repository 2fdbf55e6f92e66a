// Linkerd mode: trades the service-account token and our CSR for a certificate, and renews it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { ProxyError, messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { protoType } from '../proto/load.js';
import type { IdentitySource } from './types.js';
import { CredentialStore } from './credential-store.js';
import { identityChannel, type ChannelSetup } from './identity-channel.js';
import type { IdentityServiceTls } from './identity-channel.js';

export const CERTIFY_PATH = '/io.linkerd.proxy.identity.Identity/Certify';
export const KEY_FILE = 'key.p8';
export const CSR_FILE = 'csr.der';
const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export type { IdentityServiceTls } from './identity-channel.js';

export interface LinkerdIdentityOptions {
  readonly svcAddr: { readonly host: string; readonly port: number };
  readonly svcTls: IdentityServiceTls;
  /** Holds key.p8 (PKCS#8 DER) and csr.der, written by `identity init`. */
  readonly dir: string;
  /** Service-account token; re-read for every Certify call. */
  readonly tokenFile: string;
  readonly serverId: string;
  readonly serverName: string;
  readonly trustAnchorsPem: string;
  readonly minRefreshMs: number;
  readonly maxRefreshMs: number;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock?: Clock;
  /** Deadline for one Certify call (default 30s). */
  readonly callTimeoutMs?: number;
  /**
   * Like the Rust proxy, a loopback identity address is dialled without TLS whatever `svcTls`
   * says (default true). Tests set false to exercise TLS against a server on 127.0.0.1.
   */
  readonly plaintextOnLoopback?: boolean;
  /** Replaces how the channel to the identity service is made (library users, tests). */
  readonly channel?: () => ChannelSetup;
}

export interface IdentityDocuments {
  readonly keyDer: Buffer;
  readonly csrDer: Buffer;
}

interface WireCertifyResponse {
  leafCertificate?: Uint8Array;
  intermediateCertificates?: Uint8Array[];
  validUntil?: { seconds?: number; nanos?: number };
}

function configError(message: string, cause?: unknown): ProxyError {
  return new ProxyError(message, 'identity_config', 'internal', cause === undefined ? undefined : { cause });
}

async function readNonEmpty(file: string, what: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw configError(`cannot read the ${what} ${file}: ${messageOf(err)}`, err);
  }
  if (data.length === 0) throw configError(`the ${what} ${file} is empty`);
  return data;
}

/** Reads the key and CSR once at startup, and checks that a token is there to send. */
export async function loadIdentityDocuments(dir: string, tokenFile: string): Promise<IdentityDocuments> {
  // One at a time, so the error always names the first missing piece.
  const keyDer = await readNonEmpty(path.join(dir, KEY_FILE), 'identity key');
  const csrDer = await readNonEmpty(path.join(dir, CSR_FILE), 'identity CSR');
  await readNonEmpty(tokenFile, 'identity token file');
  return { keyDer, csrDer };
}

/**
 * When to renew: 70% of what remains until `expiryMs`, clamped to [min, max]; `min` when there is
 * no certificate or it has already expired.
 */
export function refreshDelay(expiryMs: number | undefined, nowMs: number, minMs: number, maxMs: number): number {
  if (expiryMs === undefined || expiryMs <= nowMs) return minMs;
  const delay = ((expiryMs - nowMs) * 7) / 10;
  return Math.min(maxMs, Math.max(minMs, delay));
}

/** Starts the certify/renew loop; the returned source is ready after the first certificate. */
export function startLinkerdIdentity(opts: LinkerdIdentityOptions): IdentitySource {
  const store = new CredentialStore({
    serverId: opts.serverId,
    serverName: opts.serverName,
    trustAnchorsPem: opts.trustAnchorsPem,
    logger: opts.logger,
    registry: opts.registry,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const abort = new AbortController();
  store.onClose(() => abort.abort());
  void runCertifyLoop(opts, store, abort.signal);
  return store;
}

async function runCertifyLoop(opts: LinkerdIdentityOptions, store: CredentialStore, signal: AbortSignal): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  let docs: IdentityDocuments;
  try {
    docs = await loadIdentityDocuments(opts.dir, opts.tokenFile);
  } catch (err) {
    log.error('Identity is not usable', { error: messageOf(err) });
    store.giveUp(messageOf(err));
    return;
  }
  let expiryMs: number | undefined;
  while (!signal.aborted) {
    try {
      expiryMs = await certifyOnce(opts, docs, store, clock);
      log.debug('Identity certified', { expiry: new Date(expiryMs).toISOString() });
    } catch (err) {
      if (signal.aborted) return;
      if (!(err instanceof ProxyError && err.code === 'identity_rejected')) store.recordFailure();
      log.error('Failed to obtain identity', { error: messageOf(err) });
    }
    const delay = refreshDelay(expiryMs, clock.now(), opts.minRefreshMs, opts.maxRefreshMs);
    log.debug('Waiting to refresh identity', { delay_ms: Math.round(delay) });
    await clock.sleep(delay, signal);
  }
}

/** One Certify round trip and installation; returns the new expiry (ms). */
async function certifyOnce(opts: LinkerdIdentityOptions, docs: IdentityDocuments, store: CredentialStore, clock: Clock): Promise<number> {
  const token = await readNonEmpty(opts.tokenFile, 'identity token file');
  const requestType = protoType('io.linkerd.proxy.identity.CertifyRequest');
  const request = Buffer.from(requestType.encode(requestType.fromObject({
    identity: opts.serverName,
    token,
    certificateSigningRequest: docs.csrDer,
  })).finish());
  const response = await callCertify(opts, request);

  const vu = response.validUntil;
  if (vu === undefined) throw new ProxyError('identity certification missing expiration', 'identity_response');
  const expiryMs = (vu.seconds ?? 0) * 1000 + Math.floor((vu.nanos ?? 0) / 1e6);
  if (expiryMs <= clock.now()) {
    throw new ProxyError(`certificate already expired (valid_until ${new Date(expiryMs).toISOString()})`, 'identity_response');
  }
  const leaf = response.leafCertificate;
  if (leaf === undefined || leaf.length === 0) throw new ProxyError('identity service returned no leaf certificate', 'identity_response');

  const result = await store.install({ chainDer: [leaf, ...(response.intermediateCertificates ?? [])], keyDer: docs.keyDer });
  if (!result.ok) throw new ProxyError(`certificate rejected: ${result.reason}`, 'identity_rejected');
  return expiryMs;
}

function callCertify(opts: LinkerdIdentityOptions, request: Buffer): Promise<WireCertifyResponse> {
  const responseType = protoType('io.linkerd.proxy.identity.CertifyResponse');
  // Calls are a few a day, so each gets a fresh channel (fresh DNS, no stale reconnect backoff).
  const { target, credentials, options } =
    opts.channel?.() ?? identityChannel(opts.svcAddr, opts.svcTls, opts.trustAnchorsPem, opts.plaintextOnLoopback ?? true);
  const client = new grpc.Client(target, credentials, options);
  // A network timeout, so real time rather than the injected clock.
  const deadline = new Date(systemClock.now() + (opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
  return new Promise<WireCertifyResponse>((resolve, reject) => {
    client.makeUnaryRequest<Buffer, WireCertifyResponse>(
      CERTIFY_PATH,
      (b) => b,
      (bytes) => responseType.toObject(responseType.decode(bytes), { longs: Number }),
      request,
      new grpc.Metadata(),
      { deadline },
      (err, value) => {
        client.close();
        if (err) reject(new ProxyError(`${grpc.status[err.code]}: ${err.details}`, 'identity_rpc', 'upstream', { cause: err }));
        else if (value === undefined) reject(new ProxyError('identity service sent no response', 'identity_rpc', 'upstream'));
        else resolve(value);
      },
    );
  });
}
