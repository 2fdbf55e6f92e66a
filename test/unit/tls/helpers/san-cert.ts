// Self-signed certificates whose subjectAltName lists exactly the given entries, in order (via openssl).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * DER of a self-signed certificate with these SAN entries, each `TYPE:value` as openssl's
 * config section syntax takes them (DNS, URI, email, IP, RID, otherName); values may hold
 * commas, which the one-line `subjectAltName=` form cannot express.
 */
export function certWithSans(sans: readonly string[]): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-san-'));
  try {
    const lines = sans.map((entry, i) => {
      const colon = entry.indexOf(':');
      return `${entry.slice(0, colon)}.${i + 1} = ${entry.slice(colon + 1)}`;
    });
    const cfg = path.join(dir, 'req.cnf');
    writeFileSync(cfg, ['[req]', 'distinguished_name=dn', 'prompt=no', '[dn]', 'CN=san-test', '[v3]',
      'basicConstraints=critical,CA:FALSE', ...(sans.length > 0 ? ['subjectAltName=@alt'] : []), '[alt]', ...lines, ''].join('\n'));
    const out = path.join(dir, 'cert.der');
    execFileSync('openssl', ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-config', cfg, '-extensions', 'v3', '-days', '1', '-outform', 'DER', '-out', out],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
