// Service-account tokens: one random secret per ns/sa file, stable, private, and mapped back to the Linkerd identity.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TokenStore, serviceAccountIdentity } from '../../../../src/devmesh/identity/tokens.js';
import { SETTINGS } from '../helpers/fake-snapshot.js';

const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-tokens-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const tokens = new TokenStore(path.join(dir, 'tokens'), () => SETTINGS);

t.test('a token file per ServiceAccount: created once, mode 0600, random', async (t) => {
  const file = tokens.ensure('mixed-env', 'legacy-app');
  t.equal(file, path.join(dir, 'tokens', 'mixed-env', 'legacy-app'));
  const token = readFileSync(file, 'utf8');
  t.match(token, /^[A-Za-z0-9_-]{43}$/);
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.equal(tokens.ensure('mixed-env', 'legacy-app'), file);
  t.equal(readFileSync(file, 'utf8'), token, 'not replaced');
  t.not(tokens.read('mixed-env', 'other'), token);
});

t.test('identityOf maps a token to its ServiceAccount identity, and nothing else to anything', async (t) => {
  const token = tokens.read('mixed-env', 'legacy-app');
  t.equal(await tokens.identityOf(Buffer.from(token)), 'legacy-app.mixed-env.serviceaccount.identity.linkerd.cluster.local');
  t.equal(await tokens.identityOf(Buffer.from(`${token}\n`)), 'legacy-app.mixed-env.serviceaccount.identity.linkerd.cluster.local', 'a trailing newline is fine');
  t.equal(await tokens.identityOf(Buffer.from(token.slice(1))), undefined);
  t.equal(await tokens.identityOf(Buffer.from('')), undefined);
  writeFileSync(tokens.ensure('default', 'web'), 'chosen-by-hand\n');
  t.equal(await tokens.identityOf(Buffer.from('chosen-by-hand')), serviceAccountIdentity('default', 'web', SETTINGS), 'files are re-read: edits count');
  t.equal(await new TokenStore(path.join(dir, 'none'), () => SETTINGS).identityOf(Buffer.from(token)), undefined, 'no tokens dir yet');
});

t.test('names that are not Kubernetes names (or escape the dir) are refused', async (t) => {
  t.throws(() => tokens.ensure('../etc', 'x'), /not a valid namespace/);
  t.throws(() => tokens.ensure('ns', '../../x'), /not a valid service account/);
  t.throws(() => tokens.ensure('ns', 'a..b'), /not a valid service account/);
  t.throws(() => tokens.ensure('NS', 'x'), /not a valid namespace/);
  t.ok(tokens.ensure('ns', 'dotted.name'), 'dots are allowed in service account names');
});
