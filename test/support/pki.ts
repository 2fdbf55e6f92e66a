// Test PKI built with the real openssl CLI: CAs, intermediates and leaves with chosen SANs and validity.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';

export interface Issuer {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** PEM of the issuer's own chain up to (not including) the root; empty for a root. */
  readonly chainPem: string;
}

export interface Leaf {
  readonly certPem: string;
  /** PKCS#8 PEM */
  readonly keyPem: string;
  readonly certDer: Buffer;
  /** PKCS#8 DER */
  readonly keyDer: Buffer;
  /** leaf PEM followed by the intermediates */
  readonly chainPem: string;
  /** leaf DER followed by the intermediates' DER, concatenated (the SPIFFE x509_svid form) */
  readonly chainDer: Buffer;
  readonly certPath: string;
  readonly keyPath: string;
  readonly chainPath: string;
}

export interface LeafOptions {
  readonly dns?: readonly string[];
  readonly uris?: readonly string[];
  readonly cn?: string;
  /** validity window relative to now, in seconds (defaults: -60 .. +86400) */
  readonly notBeforeSec?: number;
  readonly notAfterSec?: number;
  readonly keyType?: 'ec-p256' | 'ec-p384' | 'rsa2048';
  /** extended key usages, default serverAuth,clientAuth */
  readonly eku?: string;
  /** Mark the certificate as a CA (basicConstraints CA:TRUE, keyCertSign); default false. */
  readonly ca?: boolean;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function asn1Time(offsetSec: number): string {
  const d = new Date(Date.now() + offsetSec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(new X509Certificate(pem).raw);
}

function keyArgs(keyType: LeafOptions['keyType']): string[] {
  switch (keyType ?? 'ec-p256') {
    case 'ec-p256':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    case 'ec-p384':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'];
    case 'rsa2048':
      return ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
  }
}

/** A scratch folder of certificates; remove it with `cleanup()` (e.g. in t.teardown). */
export class TestPki {
  readonly dir: string;
  private serial = 1;

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'l5dts-pki-'));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private newKey(name: string, keyType?: LeafOptions['keyType']): string {
    const keyPath = path.join(this.dir, `${name}.key`);
    openssl(['genpkey', ...keyArgs(keyType), '-out', keyPath], this.dir);
    return keyPath;
  }

  /** A self-signed root CA (ECDSA P-256 unless told otherwise). */
  root(cn = 'root.linkerd.cluster.local', opts: { keyType?: LeafOptions['keyType']; notAfterSec?: number } = {}): Issuer {
    const name = `ca-${this.serial++}`;
    const keyPath = this.newKey(name, opts.keyType);
    const certPath = path.join(this.dir, `${name}.crt`);
    openssl(
      ['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-days', String(Math.max(1, Math.ceil((opts.notAfterSec ?? 86400 * 30) / 86400))),
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', certPath],
      this.dir,
    );
    return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8'), certPath, keyPath, chainPem: '' };
  }

  /** An intermediate CA signed by `parent`. */
  intermediate(parent: Issuer, cn = 'identity.linkerd.cluster.local'): Issuer {
    const name = `int-${this.serial++}`;
    const keyPath = this.newKey(name);
    const certPath = this.sign(parent, name, keyPath, `/CN=${cn}`, [
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      'keyUsage=critical,keyCertSign,cRLSign',
    ], -60, 86400 * 7);
    const certPem = readFileSync(certPath, 'utf8');
    return { certPem, keyPem: readFileSync(keyPath, 'utf8'), certPath, keyPath, chainPem: certPem + parent.chainPem };
  }

  /** A leaf signed by `issuer`, with the given SANs and validity. */
  leaf(issuer: Issuer, opts: LeafOptions): Leaf {
    const name = `leaf-${this.serial++}`;
    const keyPath = this.newKey(name, opts.keyType);
    const sans = [...(opts.dns ?? []).map((d) => `DNS:${d}`), ...(opts.uris ?? []).map((u) => `URI:${u}`)];
    const ext = [
      opts.ca ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature' + (opts.keyType === 'rsa2048' ? ',keyEncipherment' : '') + (opts.ca ? ',keyCertSign' : ''),
      `extendedKeyUsage=${opts.eku ?? 'serverAuth,clientAuth'}`,
    ];
    if (sans.length > 0) ext.push(`subjectAltName=${sans.join(',')}`);
    const certPath = this.sign(issuer, name, keyPath, opts.cn ? `/CN=${opts.cn}` : '/', ext, opts.notBeforeSec ?? -60, opts.notAfterSec ?? 86400);
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyPath], this.dir);
    const keyDer = execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', keyPath, '-outform', 'DER'], { cwd: this.dir });
    const chainPem = certPem + issuer.chainPem;
    const chainPath = path.join(this.dir, `${name}.chain.pem`);
    writeFileSync(chainPath, chainPem);
    const intermediatesDer = splitPem(issuer.chainPem).map(pemToDer);
    const certDer = pemToDer(certPem);
    return { certPem, keyPem, certDer, keyDer, chainPem, chainDer: Buffer.concat([certDer, ...intermediatesDer]), certPath, keyPath, chainPath };
  }

  /** Signs a CSR for `keyPath` with `issuer` via `openssl ca`, which allows arbitrary start/end dates. */
  private sign(issuer: Issuer, name: string, keyPath: string, subj: string, ext: string[], notBeforeSec: number, notAfterSec: number): string {
    const { work, cfg } = this.caWorkspace(name);
    const csrPath = path.join(work, 'req.csr');
    openssl(['req', '-new', '-key', keyPath, '-subj', subj, '-config', cfg, '-out', csrPath], work);
    return this.runCa(issuer, name, work, cfg, csrPath, ext, notBeforeSec, notAfterSec);
  }

  /** A scratch `openssl ca` database and config for one signing. */
  private caWorkspace(name: string): { work: string; cfg: string } {
    const work = path.join(this.dir, `${name}.ca`);
    mkdirSync(work);
    writeFileSync(path.join(work, 'index.txt'), '');
    // openssl wants an even number of hex digits in the serial file.
    const serialHex = (this.serial * 7919).toString(16);
    writeFileSync(path.join(work, 'serial'), `${serialHex.padStart(serialHex.length + (serialHex.length % 2), '0').padStart(4, '0')}\n`);
    const cfg = path.join(work, 'ca.cnf');
    writeFileSync(cfg, [
      '[ca]', 'default_ca=d', '[d]', `dir=${work}`, 'database=$dir/index.txt', 'serial=$dir/serial',
      'new_certs_dir=$dir', 'default_md=sha256', 'policy=p', 'unique_subject=no', 'copy_extensions=none',
      'email_in_dn=no', '[p]', 'commonName=optional', '[req]', 'distinguished_name=dn', '[dn]', '',
    ].join('\n'));
    return { work, cfg };
  }

  private runCa(issuer: Issuer, name: string, work: string, cfg: string, csrPath: string, ext: string[], notBeforeSec: number, notAfterSec: number): string {
    const extPath = path.join(work, 'ext.cnf');
    writeFileSync(extPath, ext.join('\n') + '\n');
    const certPath = path.join(this.dir, `${name}.crt`);
    openssl(['ca', '-batch', '-config', cfg, '-cert', issuer.certPath, '-keyfile', issuer.keyPath, '-in', csrPath,
      '-out', certPath, '-notext', '-startdate', asn1Time(notBeforeSec), '-enddate', asn1Time(notAfterSec), '-extfile', extPath], work);
    return certPath;
  }

  /**
   * Signs someone else's DER PKCS#10 request (as an identity service does): the subject is kept,
   * SANs are the ones given here (not copied from the request). Returns the leaf, DER and PEM.
   */
  signCsr(issuer: Issuer, csrDer: Uint8Array, opts: { dns?: readonly string[]; uris?: readonly string[]; notBeforeSec?: number; notAfterSec?: number } = {}): { certDer: Buffer; certPem: string } {
    const name = `csr-${this.serial++}`;
    const { work, cfg } = this.caWorkspace(name);
    const derPath = path.join(work, 'req.der');
    writeFileSync(derPath, csrDer);
    const csrPath = path.join(work, 'req.csr');
    openssl(['req', '-inform', 'DER', '-in', derPath, '-out', csrPath], work);
    const sans = [...(opts.dns ?? []).map((d) => `DNS:${d}`), ...(opts.uris ?? []).map((u) => `URI:${u}`)];
    const ext = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth'];
    if (sans.length > 0) ext.push(`subjectAltName=${sans.join(',')}`);
    const certPath = this.runCa(issuer, name, work, cfg, csrPath, ext, opts.notBeforeSec ?? -60, opts.notAfterSec ?? 86400);
    const certPem = readFileSync(certPath, 'utf8');
    return { certPem, certDer: pemToDer(certPem) };
  }
}

/** Splits a PEM bundle into its certificate blocks. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
