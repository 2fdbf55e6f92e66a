// identity init: a P-256 key and a CSR that openssl accepts, file modes, overwrite refusal, CLI.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { identityInit } from '../../../src/identity/identity-init.js';
import { EXIT_USAGE, runIdentityCli } from '../../../src/identity/identity-cli.js';

const NAME = 'web.default.serviceaccount.identity.linkerd.cluster.local';

function scratch(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-init-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function collect() {
  let text = '';
  return { out: { write: (s: string) => { text += s; } }, text: () => text };
}

t.test('writes key.p8 (0600, PKCS#8 P-256) and a CSR openssl verifies', async (t) => {
  const dir = path.join(scratch(t), 'identity');
  const r = await identityInit({ name: NAME, dir });
  t.equal(r.keyPath, path.join(dir, 'key.p8'));
  t.equal(statSync(r.keyPath).mode & 0o777, 0o600, 'key mode 0600');

  const key = createPrivateKey({ key: readFileSync(r.keyPath), format: 'der', type: 'pkcs8' });
  t.equal(key.asymmetricKeyType, 'ec');
  t.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  const text = execFileSync('openssl', ['req', '-inform', 'DER', '-in', r.csrPath, '-verify', '-text', '-noout'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.match(text, `Subject: CN = ${NAME}`);
  t.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  t.match(text, /NIST CURVE: P-256/);
  const sans = /X509v3 Subject Alternative Name:\s*\n\s*(.+)\n/.exec(text)?.[1]?.trim();
  t.equal(sans, `DNS:${NAME}`, 'exactly one DNS SAN equal to the name');

  // The CSR's public key is the one in key.p8.
  const csrPub = execFileSync('openssl', ['req', '-inform', 'DER', '-in', r.csrPath, '-pubkey', '-noout'], { encoding: 'utf8' });
  const keyPub = execFileSync('openssl', ['pkey', '-inform', 'DER', '-in', r.keyPath, '-pubout'], { encoding: 'utf8' });
  t.equal(csrPub, keyPub);
});

t.test('refuses to overwrite unless forced', async (t) => {
  const dir = scratch(t);
  writeFileSync(path.join(dir, 'csr.der'), 'old');
  await t.rejects(identityInit({ name: NAME, dir }), { message: /csr\.der already exists; refusing to overwrite/ });
  t.equal(readFileSync(path.join(dir, 'csr.der'), 'utf8'), 'old');
  writeFileSync(path.join(dir, 'key.p8'), 'old');
  chmodSync(path.join(dir, 'key.p8'), 0o644);
  await identityInit({ name: NAME, dir, force: true });
  t.not(readFileSync(path.join(dir, 'csr.der'), 'utf8'), 'old');
  t.equal(statSync(path.join(dir, 'key.p8')).mode & 0o777, 0o600, 'an overwritten key is 0600 too');
});

t.test('CLI: identity init', async (t) => {
  const dir = scratch(t);
  const ok = collect();
  t.equal(await runIdentityCli(['init', '--name', NAME, '--dir', dir], ok.out), 0);
  t.match(ok.text(), /wrote .*key\.p8 and .*csr\.der/);

  const again = collect();
  t.equal(await runIdentityCli(['init', '--name', NAME, '--dir', dir], again.out), 1);
  t.match(again.text(), /refusing to overwrite/);
  t.equal(await runIdentityCli(['init', '--name', NAME, '--dir', dir, '--force'], collect().out), 0);

  for (const argv of [[], ['init'], ['init', '--name', NAME], ['init', '--dir', dir], ['init', '--bogus'], ['frobnicate'], ['init', '--name', NAME, '--dir', dir, 'extra']]) {
    const u = collect();
    t.equal(await runIdentityCli(argv, u.out), EXIT_USAGE, `usage error: ${argv.join(' ') || '(nothing)'}`);
    t.match(u.text(), /usage: linkerd2-proxy-ts identity init/);
  }
  const help = collect();
  t.equal(await runIdentityCli(['init', '--help'], help.out), 0);
  t.match(help.text(), /usage:/);
});
