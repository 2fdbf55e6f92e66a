// Identity: trust anchors, local id and SNI, then SPIRE or Linkerd-identity mode (spec §1.4).
import { DEFAULTS } from '../defaults.js';
import { ENV } from '../env-names.js';
import type { EnvReader } from '../env-reader.js';
import { EXPECTED, parseDnsName, parseDuration, parseTlsId } from '../formats.js';
import { parseTrustAnchors } from '../trust-anchors.js';
import type { IdentityConfig, LinkerdIdentityMode, SpireIdentityMode, TlsId } from '../types.js';
import { readBackoff } from './backoff.js';
import { controlClient, readControlPair, type ClientContext } from './control-plane.js';

const PEM_EXPECTED = 'an inline PEM bundle with at least one CERTIFICATE block';
const SOCKET_EXPECTED = 'a Unix socket path, e.g. unix:///run/spire/agent.sock or /run/spire/agent.sock';

export function readIdentity(r: EnvReader, ctx: ClientContext): IdentityConfig | undefined {
  const anchors = readTrustAnchors(r);
  const local = readLocalIdentity(r);
  const disabled = r.raw(ENV.IDENTITY_DISABLED);
  if (disabled !== undefined && disabled !== '') {
    r.invalid(ENV.IDENTITY_DISABLED, disabled, 'unset or empty', 'identity can no longer be disabled');
  }
  const spireAddr = readSpireAddress(r);
  const mode = spireAddr !== undefined ? readSpireMode(r, spireAddr, local) : readLinkerdMode(r, ctx, local);
  if (anchors === undefined || local.id === undefined || local.name === undefined || mode === undefined) return undefined;
  return { ...anchors, serverId: local.id, serverName: local.name, mode };
}

function readTrustAnchors(r: EnvReader): Pick<IdentityConfig, 'trustAnchorsPem' | 'trustAnchors'> | undefined {
  const pem = r.raw(ENV.IDENTITY_TRUST_ANCHORS);
  if (pem === undefined) {
    r.rule(ENV.IDENTITY_TRUST_ANCHORS, undefined, PEM_EXPECTED, `${ENV.IDENTITY_TRUST_ANCHORS} must be set`);
    return undefined;
  }
  const parsed = parseTrustAnchors(pem);
  if (!parsed.ok) {
    r.invalid(ENV.IDENTITY_TRUST_ANCHORS, pem, PEM_EXPECTED, parsed.detail);
    return undefined;
  }
  if (parsed.skipped > 0) r.warn(`Skipped ${parsed.skipped} invalid trust anchor(s) in ${ENV.IDENTITY_TRUST_ANCHORS}`);
  return { trustAnchorsPem: pem, trustAnchors: parsed.certs };
}

interface LocalIdentity {
  readonly id: TlsId | undefined;
  readonly name: string | undefined;
  /** The variables the id and name came from, for messages. */
  readonly idVar: string;
  readonly nameVar: string;
}

/** Legacy LOCAL_NAME (if set at all) supplies both; otherwise SERVER_ID and SERVER_NAME. */
function readLocalIdentity(r: EnvReader): LocalIdentity {
  if (r.isSet(ENV.IDENTITY_LOCAL_NAME)) {
    for (const n of [ENV.IDENTITY_SERVER_ID, ENV.IDENTITY_SERVER_NAME]) {
      if (r.isSet(n)) r.warn(`${n} is ignored because ${ENV.IDENTITY_LOCAL_NAME} is set`);
    }
    const raw = r.raw(ENV.IDENTITY_LOCAL_NAME) ?? '';
    const id = parseTlsId(raw);
    const name = parseDnsName(raw);
    if (!id.ok || !name.ok || id.value.kind !== 'dns') {
      r.invalid(ENV.IDENTITY_LOCAL_NAME, raw, 'a DNS name without a trailing dot (used as both TLS id and server name)');
      return { id: undefined, name: undefined, idVar: ENV.IDENTITY_LOCAL_NAME, nameVar: ENV.IDENTITY_LOCAL_NAME };
    }
    return { id: id.value, name: name.value, idVar: ENV.IDENTITY_LOCAL_NAME, nameVar: ENV.IDENTITY_LOCAL_NAME };
  }
  const id = r.parse(ENV.IDENTITY_SERVER_ID, parseTlsId);
  const name = r.parse(ENV.IDENTITY_SERVER_NAME, parseDnsName);
  for (const [value, variable, expected] of [
    [id, ENV.IDENTITY_SERVER_ID, EXPECTED.tlsId],
    [name, ENV.IDENTITY_SERVER_NAME, EXPECTED.dnsName],
  ] as const) {
    if (value === undefined && !r.isSet(variable)) {
      r.rule(variable, undefined, expected, `${variable} (or ${ENV.IDENTITY_LOCAL_NAME}) must be set`);
    }
  }
  return { id, name, idVar: ENV.IDENTITY_SERVER_ID, nameVar: ENV.IDENTITY_SERVER_NAME };
}

/**
 * The Workload API socket path. Rust strips only `unix:`, turning `unix:///tmp/x.sock` into
 * `///tmp/x.sock` (the same file on Linux); we strip `unix://` as well, giving `/tmp/x.sock`.
 */
function readSpireAddress(r: EnvReader): string | undefined {
  let name: string = ENV.IDENTITY_SPIRE_WORKLOAD_API_ADDRESS;
  let raw = r.raw(name);
  if (raw === undefined) {
    raw = r.raw(ENV.IDENTITY_SPIRE_SOCKET);
    if (raw === undefined) return undefined;
    name = ENV.IDENTITY_SPIRE_SOCKET;
    r.warn(`${ENV.IDENTITY_SPIRE_SOCKET} has been deprecated; use ${ENV.IDENTITY_SPIRE_WORKLOAD_API_ADDRESS}`);
  }
  const path = raw.startsWith('unix://') ? raw.slice('unix://'.length) : raw.startsWith('unix:') ? raw.slice('unix:'.length) : raw;
  if (path.trim() === '') {
    r.invalid(name, raw, SOCKET_EXPECTED, 'empty socket path');
    // Still SPIRE mode: the user clearly asked for it, so don't also demand Linkerd-identity settings.
    return '';
  }
  return path;
}

function readSpireMode(r: EnvReader, path: string, local: LocalIdentity): SpireIdentityMode | undefined {
  for (const n of [ENV.IDENTITY_SVC_ADDR, ENV.IDENTITY_SVC_NAME, ENV.IDENTITY_DIR, ENV.IDENTITY_TOKEN_FILE]) {
    if (r.isSet(n)) r.warn(`${n} is ignored in SPIRE identity mode`);
  }
  const backoff = readBackoff(
    r,
    {
      min: ENV.IDENTITY_SPIRE_EXP_BACKOFF_MIN,
      max: ENV.IDENTITY_SPIRE_EXP_BACKOFF_MAX,
      jitter: ENV.IDENTITY_SPIRE_EXP_BACKOFF_JITTER,
    },
    DEFAULTS.spireBackoff,
  );
  const id = local.id;
  if (id !== undefined && !(id.kind === 'uri' && id.value.toLowerCase().startsWith('spiffe:'))) {
    r.rule(local.idVar, r.raw(local.idVar), 'a SPIFFE id such as spiffe://trust.domain/workload', 'Spire support requires a SPIFFE TLS Id');
    return undefined;
  }
  if (path === '' || id === undefined) return undefined;
  return { kind: 'spire', workloadApiAddress: path, backoff };
}

function readLinkerdMode(r: EnvReader, ctx: ClientContext, local: LocalIdentity): LinkerdIdentityMode | undefined {
  const { id, name } = local;
  let ok = true;
  if (id !== undefined && name !== undefined && !(id.kind === 'dns' && id.value === name)) {
    r.rule(
      local.idVar,
      r.raw(local.idVar),
      `a DNS identity equal to ${local.nameVar} (or set ${ENV.IDENTITY_SPIRE_WORKLOAD_API_ADDRESS} for SPIRE)`,
      'linkerd identity requires a TLS Id and server name to be the same',
    );
    ok = false;
  }
  const pair = readControlPair(r, { addr: ENV.IDENTITY_SVC_ADDR, name: ENV.IDENTITY_SVC_NAME });
  if (pair.state === 'unset') {
    r.rule(
      ENV.IDENTITY_SVC_ADDR,
      undefined,
      EXPECTED.controlAddr,
      `${ENV.IDENTITY_SVC_ADDR} and ${ENV.IDENTITY_SVC_NAME} must be set in Linkerd identity mode (set ${ENV.IDENTITY_SPIRE_WORKLOAD_API_ADDRESS} for SPIRE)`,
    );
  }
  const dir = requiredPath(r, ENV.IDENTITY_DIR, 'a directory containing csr.der and key.p8');
  const tokenFile = requiredPath(r, ENV.IDENTITY_TOKEN_FILE, 'the path of a service-account token file');
  const minRefreshMs = r.parse(ENV.IDENTITY_MIN_REFRESH, parseDuration) ?? DEFAULTS.identityMinRefreshMs;
  const maxRefreshMs = r.parse(ENV.IDENTITY_MAX_REFRESH, parseDuration) ?? DEFAULTS.identityMaxRefreshMs;
  if (minRefreshMs > maxRefreshMs) {
    r.warn(`${ENV.IDENTITY_MIN_REFRESH} (${minRefreshMs}ms) is greater than ${ENV.IDENTITY_MAX_REFRESH} (${maxRefreshMs}ms)`);
  }
  if (!ok || pair.state !== 'ok' || dir === undefined || tokenFile === undefined) return undefined;
  return { kind: 'linkerd', svc: controlClient(pair, ctx), dir, tokenFile, minRefreshMs, maxRefreshMs };
}

function requiredPath(r: EnvReader, variable: string, expected: string): string | undefined {
  const raw = r.raw(variable);
  if (raw === undefined) {
    r.rule(variable, undefined, expected, `${variable} must be set in Linkerd identity mode`);
    return undefined;
  }
  if (raw === '') {
    r.invalid(variable, raw, expected, 'empty path');
    return undefined;
  }
  return raw;
}
