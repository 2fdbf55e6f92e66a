// Certify as the Linkerd identity service answers it: good token → a leaf the proxy accepts; anything else → its status.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DevCa } from '../../../../src/devmesh/ca/dev-ca.js';
import { generateTrustAnchor } from '../../../../src/devmesh/ca/trust-anchor.js';
import { certify } from '../../../../src/devmesh/identity/certify-service.js';
import { TokenStore } from '../../../../src/devmesh/identity/tokens.js';
import { buildCsr } from '../../../../src/identity/identity-init.js';
import { verifyCredentials } from '../../../../src/identity/verify-credentials.js';
import { systemClock } from '../../../../src/core/clock.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { SETTINGS } from '../helpers/fake-snapshot.js';

const NAME = 'legacy-app.mixed-env.serviceaccount.identity.linkerd.cluster.local';
const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-certify-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const tokens = new TokenStore(dir, () => SETTINGS);
const ca = await DevCa.create((await generateTrustAnchor(Date.now())).anchor, Date.now());
const deps = { ca, tokens, clock: systemClock, logger: silentLogger };
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const csr = await buildCsr(NAME, privateKey, publicKey);
const good = Buffer.from(tokens.read('mixed-env', 'legacy-app'));

async function status(req: Record<string, unknown>): Promise<{ code: number; details: string } | 'ok'> {
  try {
    await certify(req, deps);
    return 'ok';
  } catch (err) {
    const e = err as { code: number; details: string };
    return { code: e.code, details: e.details };
  }
}

t.test('the right token: a 24h leaf plus the issuer, valid_until = notAfter, accepted by the proxy verifier', async (t) => {
  const res = await certify({ identity: NAME, token: good, certificateSigningRequest: csr }, deps);
  const leaf = res.leafCertificate as Buffer;
  const intermediates = res.intermediateCertificates as Buffer[];
  t.equal(intermediates.length, 1);
  const vu = res.validUntil as { seconds: number; nanos: number };
  t.ok(Math.abs(vu.seconds * 1000 - (Date.now() + 86_400_000)) < 5000);
  const ok = await verifyCredentials({ chainDer: [leaf, ...intermediates], keyDer: privateKey.export({ type: 'pkcs8', format: 'der' }), serverId: NAME, trustAnchorsPem: ca.trustAnchorPem, nowMs: Date.now() });
  t.same(ok.ok ? 'ok' : ok.reason, 'ok');
});

t.test('tokens that prove nothing, or prove someone else, are FAILED_PRECONDITION', async (t) => {
  t.same(await status({ identity: NAME, token: Buffer.from('made-up'), certificateSigningRequest: csr }), {
    code: grpc.status.FAILED_PRECONDITION,
    details: 'authentication token could not be authenticated',
  });
  const other = Buffer.from(tokens.read('mixed-env', 'client'));
  t.same(await status({ identity: NAME, token: other, certificateSigningRequest: csr }), {
    code: grpc.status.FAILED_PRECONDITION,
    details: `requested identity did not match provided token: requested=${NAME}; found=client.mixed-env.serviceaccount.identity.linkerd.cluster.local`,
  });
});

t.test('bad requests: missing fields and undecodable CSRs are INVALID_ARGUMENT, a CSR for another name FAILED_PRECONDITION', async (t) => {
  t.same(await status({ token: good, certificateSigningRequest: csr }), { code: grpc.status.INVALID_ARGUMENT, details: 'missing identity' });
  t.same(await status({ identity: NAME, certificateSigningRequest: csr }), { code: grpc.status.INVALID_ARGUMENT, details: 'missing token' });
  t.same(await status({ identity: NAME, token: good }), { code: grpc.status.INVALID_ARGUMENT, details: 'missing certificate signing request' });
  t.match(await status({ identity: NAME, token: good, certificateSigningRequest: Buffer.from('xx') }), { code: grpc.status.INVALID_ARGUMENT });
  const client = 'client.mixed-env.serviceaccount.identity.linkerd.cluster.local';
  t.match(await status({ identity: client, token: Buffer.from(tokens.read('mixed-env', 'client')), certificateSigningRequest: csr }), {
    code: grpc.status.FAILED_PRECONDITION,
    details: /CSR name does not match requested identity/,
  }, 'a token for the identity does not help a CSR for another one');
});
