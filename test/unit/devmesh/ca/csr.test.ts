// CSR checks as the Linkerd identity service applies them: DER, signature, exactly one DNS SAN naming the identity.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { CsrProblem, checkCsrNames, parseCsr } from '../../../../src/devmesh/ca/csr.js';
import { buildCsr } from '../../../../src/identity/identity-init.js';

const NAME = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const csrDer = await buildCsr(NAME, privateKey, publicKey);

async function problem(p: Promise<unknown> | (() => void)): Promise<{ kind: string; message: string } | undefined> {
  try {
    if (typeof p === 'function') p();
    else await p;
    return undefined;
  } catch (err) {
    if (err instanceof CsrProblem) return { kind: err.kind, message: err.message };
    throw err;
  }
}

t.test('the proxy\'s CSR parses, is signed by its key, and names the identity', async (t) => {
  const info = await parseCsr(csrDer);
  t.same(info.dnsNames, [NAME]);
  t.equal(info.commonName, NAME);
  t.same(info.publicKeySpki, publicKey.export({ type: 'spki', format: 'der' }));
  t.equal(await problem(() => checkCsrNames(info, NAME)), undefined);
});

t.test('garbage and a tampered signature are malformed', async (t) => {
  t.match(await problem(parseCsr(Buffer.from('not a csr'))), { kind: 'malformed', message: /not valid DER/ });
  const tampered = Buffer.from(csrDer);
  tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 0xff;
  t.match(await problem(parseCsr(tampered)), { kind: 'malformed' });
});

t.test('a CSR for another name is a mismatch', async (t) => {
  const info = await parseCsr(csrDer);
  t.match(await problem(() => checkCsrNames(info, 'other.default.serviceaccount.identity.linkerd.cluster.local')), {
    kind: 'mismatch',
    message: /CSR name does not match requested identity/,
  });
  t.match(await problem(() => checkCsrNames({ ...info, dnsNames: [NAME, 'x'] }, NAME)), { message: 'CSR must have exactly one DNSName' });
  t.match(await problem(() => checkCsrNames({ ...info, commonName: 'evil' }, NAME)), { message: 'invalid CommonName: evil' });
  t.equal(await problem(() => checkCsrNames({ ...info, commonName: undefined }, NAME)), undefined, 'no CN is fine');
  t.match(await problem(() => checkCsrNames({ ...info, uris: ['spiffe://x/y'] }, NAME)), { message: 'cannot validate URIs' });
  t.match(await problem(() => checkCsrNames({ ...info, ipCount: 1 }, NAME)), { message: 'cannot validate IP addresses' });
});
