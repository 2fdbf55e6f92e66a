// A Linkerd identity service (Certify) for tests: checks token and CSR, signs with a TestPki issuer.
import * as grpc from '@grpc/grpc-js';
import * as pkijs from 'pkijs';
import { protoType } from '../../src/proto/load.js';
import { splitPem } from './pki.js';
import type { Issuer, TestPki } from './pki.js';
import { pemToDer } from '../../src/identity/x509.js';

export interface CertifyRecord {
  readonly identity: string;
  readonly token: Buffer;
  readonly csr: Buffer;
}

export interface FakeIdentityOptions {
  readonly pki: TestPki;
  readonly issuer: Issuer;
  /** When set, any other token fails FailedPrecondition, as an unauthenticated token does. */
  readonly expectedToken?: string;
  /** Leaf lifetime (default one day). */
  readonly lifetimeSec?: number;
  /** Serve TLS with this certificate (leaf first, then intermediates) instead of plaintext. */
  readonly tls?: { readonly certChainPem: string; readonly keyPem: string };
}

interface WireCertifyRequest {
  identity: string;
  token: Buffer;
  certificateSigningRequest: Buffer;
}

interface WireCertifyResponse {
  leafCertificate: Buffer;
  intermediateCertificates: Buffer[];
  validUntil?: { seconds: number; nanos: number };
}

export class FakeIdentity {
  readonly requests: CertifyRecord[] = [];
  lifetimeSec: number;
  /** Replaces valid_until in responses: a Date, or null to leave it out. */
  validUntil: Date | null | undefined;
  private failures: { code: grpc.status; details: string }[] = [];
  private readonly waiters: { n: number; resolve: () => void }[] = [];
  port = 0;
  readonly host = '127.0.0.1';

  private constructor(private readonly server: grpc.Server, private readonly opts: FakeIdentityOptions) {
    this.lifetimeSec = opts.lifetimeSec ?? 86400;
  }

  static async start(opts: FakeIdentityOptions): Promise<FakeIdentity> {
    const server = new grpc.Server();
    const fake = new FakeIdentity(server, opts);
    const requestType = protoType('io.linkerd.proxy.identity.CertifyRequest');
    const responseType = protoType('io.linkerd.proxy.identity.CertifyResponse');
    const definition: grpc.ServiceDefinition = {
      Certify: {
        path: '/io.linkerd.proxy.identity.Identity/Certify',
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: WireCertifyRequest) => Buffer.from(requestType.encode(requestType.fromObject(v)).finish()),
        requestDeserialize: (b: Buffer) => requestType.toObject(requestType.decode(b), { defaults: true }) as WireCertifyRequest,
        responseSerialize: (v: WireCertifyResponse) => Buffer.from(responseType.encode(responseType.fromObject(v)).finish()),
        responseDeserialize: (b: Buffer) => responseType.decode(b),
      },
    };
    server.addService(definition, {
      Certify: (call: grpc.ServerUnaryCall<WireCertifyRequest, WireCertifyResponse>, callback: grpc.sendUnaryData<WireCertifyResponse>) => {
        try {
          callback(null, fake.certify(call.request));
        } catch (err) {
          callback(err as grpc.ServiceError);
        }
      },
    });
    const creds = opts.tls
      ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(opts.tls.certChainPem), private_key: Buffer.from(opts.tls.keyPem) }], false)
      : grpc.ServerCredentials.createInsecure();
    fake.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port)));
    });
    return fake;
  }

  get calls(): number {
    return this.requests.length;
  }

  /** The next `count` calls fail with this status. */
  failNext(code: grpc.status, details: string, count = 1): void {
    for (let i = 0; i < count; i++) this.failures.push({ code, details });
  }

  waitForCalls(n: number): Promise<void> {
    if (this.calls >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  private certify(req: WireCertifyRequest): WireCertifyResponse {
    this.requests.push({ identity: req.identity, token: Buffer.from(req.token), csr: Buffer.from(req.certificateSigningRequest) });
    for (const w of [...this.waiters]) {
      if (this.calls >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    const failure = this.failures.shift();
    if (failure) throw statusError(failure.code, failure.details);
    if (this.opts.expectedToken !== undefined && req.token.toString() !== this.opts.expectedToken) {
      throw statusError(grpc.status.FAILED_PRECONDITION, 'token not authenticated');
    }
    const dns = csrDnsNames(req.certificateSigningRequest);
    if (dns.length !== 1 || dns[0] !== req.identity) {
      throw statusError(grpc.status.FAILED_PRECONDITION, `CSR names ${dns.join(',') || 'nothing'}, not ${req.identity}`);
    }
    const { certDer } = this.opts.pki.signCsr(this.opts.issuer, req.certificateSigningRequest, {
      dns: [req.identity],
      notAfterSec: this.lifetimeSec,
    });
    const notAfterMs = pkijs.Certificate.fromBER(certDer).notAfter.value.getTime();
    const response: WireCertifyResponse = {
      leafCertificate: certDer,
      intermediateCertificates: splitPem(this.opts.issuer.chainPem).map((p) => pemToDer(p)),
    };
    const validUntil = this.validUntil === undefined ? new Date(notAfterMs) : this.validUntil;
    if (validUntil !== null) response.validUntil = { seconds: Math.floor(validUntil.getTime() / 1000), nanos: (validUntil.getTime() % 1000) * 1e6 };
    return response;
  }

  async close(): Promise<void> {
    this.server.forceShutdown();
  }
}

function statusError(code: grpc.status, details: string): Error & Partial<grpc.ServiceError> {
  return Object.assign(new Error(details), { code, details });
}

/** DNS SANs requested in a DER PKCS#10 CSR (via its extensionRequest attribute). */
function csrDnsNames(csrDer: Buffer): string[] {
  let csr: pkijs.CertificationRequest;
  try {
    csr = pkijs.CertificationRequest.fromBER(csrDer);
  } catch {
    throw statusError(grpc.status.INVALID_ARGUMENT, 'CSR is not valid DER');
  }
  const out: string[] = [];
  for (const attr of csr.attributes ?? []) {
    if (attr.type !== '1.2.840.113549.1.9.14') continue;
    for (const value of attr.values) {
      const exts = new pkijs.Extensions({ schema: value });
      for (const ext of exts.extensions) {
        if (ext.extnID !== '2.5.29.17') continue;
        const names = pkijs.GeneralNames.fromBER(ext.extnValue.valueBlock.valueHexView).names;
        for (const n of names) if (n.type === 2 && typeof n.value === 'string') out.push(n.value);
      }
    }
  }
  return out;
}
