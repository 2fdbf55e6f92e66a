// Mesh TLS parameters and the per-certificate SecureContext cache.
import t from 'tap';
import tls from 'node:tls';
import type { Credentials } from '../../../src/identity/types.js';
import { MESH_CIPHER_SUITES, MeshTlsContexts, createMeshSecureContext, meshKeyExchangeGroups } from '../../../src/tls/contexts.js';
import { TestPki } from '../../support/pki.js';
import { credentialsFor } from './helpers/creds.js';

t.test('key exchange groups: what spec §6.1 asks for that this OpenSSL supports', async (t) => {
  const groups = meshKeyExchangeGroups().split(':');
  t.same(groups.filter((g) => g !== 'X25519MLKEM768'), ['X25519', 'P-256', 'P-384']);
  t.equal(groups.includes('X25519MLKEM768'), (() => {
    try {
      tls.createSecureContext({ ecdhCurve: 'X25519MLKEM768' });
      return true;
    } catch {
      return false;
    }
  })(), 'the hybrid group is used exactly when OpenSSL has it');
  t.same(MESH_CIPHER_SUITES, ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
});

t.test('one context per installed certificate', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const ca = pki.root();
  const a = credentialsFor(pki.leaf(ca, { dns: ['a.example'] }), ca, 'a.example');
  const b = credentialsFor(pki.leaf(ca, { dns: ['a.example'] }), ca, 'a.example');
  let builds = 0;
  const contexts = new MeshTlsContexts((c: Credentials) => {
    builds++;
    return createMeshSecureContext(c);
  });
  const ctxA = contexts.get(a);
  t.equal(contexts.get(a), ctxA, 'same credentials, same context');
  t.equal(contexts.get({ ...a }), ctxA, 'a copy of the same generation and PEMs reuses it');
  const ctxB = contexts.get(b);
  t.not(ctxB, ctxA, 'a rotation builds a new one');
  t.equal(contexts.get(a), ctxA, 'connections still on the old certificate keep theirs');
  t.equal(builds, 2);
  t.equal(contexts.get({ ...b, generation: b.generation + 1, keyPem: a.keyPem, certChainPem: a.certChainPem }) === ctxB, false,
    'different PEMs are never confused');
});
