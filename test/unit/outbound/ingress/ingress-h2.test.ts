// Per-stream target choice of an ingress-mode HTTP/2 connection: override header, else the
// original destination; the errors that reset a stream; targets held for the connection's life.
import t from 'tap';
import type { OutboundPolicy } from '../../../../src/discovery/outbound-policy-types.js';
import { FALLBACK_META } from '../../../../src/discovery/outbound-fallback.js';
import type { OutboundTarget } from '../../../../src/outbound/context.js';
import type { H2StreamTarget } from '../../../../src/outbound/h2/serve-h2.js';
import { IngressHttp2Streams } from '../../../../src/outbound/ingress/ingress-h2.js';
import type { TargetName } from '../../../../src/outbound/target/outbound-target.js';
import { socketAddr } from '../../../../src/transport/index.js';

const HTTP_POLICY = { meta: { kind: 'default', name: 'x' }, protocol: { kind: 'detect' } } as unknown as OutboundPolicy;
const OPAQUE_POLICY = { meta: { kind: 'default', name: 'x' }, protocol: { kind: 'opaque' } } as unknown as OutboundPolicy;
const FALLBACK_POLICY = { meta: FALLBACK_META, protocol: { kind: 'detect' } } as unknown as OutboundPolicy;

class FakeTarget {
  holds = 0;
  constructor(
    readonly id: string,
    private policy: OutboundPolicy | undefined,
    private readonly failure?: Error,
  ) {}

  readonly origDst = socketAddr('10.43.0.10', 80);
  current(): OutboundPolicy | undefined {
    return this.policy;
  }
  ready(): Promise<OutboundPolicy> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.policy ??= HTTP_POLICY;
    return Promise.resolve(this.policy);
  }
  hold(): () => void {
    this.holds++;
    let done = false;
    return () => {
      if (!done) this.holds--;
      done = true;
    };
  }
}

function setup(orig = new FakeTarget('orig', HTTP_POLICY), namedPolicy: (n: TargetName) => FakeTarget = (n) => new FakeTarget(`${n.name}:${n.port}`, HTTP_POLICY)) {
  const made = new Map<string, FakeTarget>();
  const streams = new IngressHttp2Streams((n) => {
    const k = `${n.name}:${n.port}`;
    let f = made.get(k);
    if (f === undefined) {
      f = namedPolicy(n);
      made.set(k, f);
    }
    return f as unknown as OutboundTarget;
  }, orig as unknown as OutboundTarget);
  return { streams, made, orig };
}

async function choose(s: IngressHttp2Streams, override?: string): Promise<H2StreamTarget | Error> {
  return s.select(override === undefined ? {} : { 'l5d-dst-override': override });
}

t.test('the header names a target (default port 80, the default authority without :80); none ⇒ the original destination', async (t) => {
  const { streams, made, orig } = setup();
  t.equal(streams.strip, 'l5d-dst-override', 'the header is stripped from every stream');
  const a = await choose(streams, 'Web.Test.svc.cluster.local');
  t.notOk(a instanceof Error);
  t.equal((a as H2StreamTarget).authority, 'web.test.svc.cluster.local');
  t.equal((a as H2StreamTarget).target, made.get('web.test.svc.cluster.local:80') as unknown as OutboundTarget);
  const b = (await choose(streams, 'web.test.svc.cluster.local:8080')) as H2StreamTarget;
  t.equal(b.authority, 'web.test.svc.cluster.local:8080');
  const o = (await choose(streams)) as H2StreamTarget;
  t.equal(o.target, orig as unknown as OutboundTarget);
  t.equal(o.authority, '10.43.0.10:80');
  const junk = (await choose(streams, 'not an authority')) as H2StreamTarget;
  t.equal(junk.target, orig as unknown as OutboundTarget, 'a value that is no authority counts as no header');
  t.equal(made.get('web.test.svc.cluster.local:80')?.holds, 1, 'held once by the connection, however many streams');
  streams.clientClosed();
  t.equal(made.get('web.test.svc.cluster.local:80')?.holds, 0, 'released with the connection');
});

t.test('streams that cannot be routed get an error (their stream is reset)', async (t) => {
  const invalid = await choose(setup().streams, '10.1.2.3:80');
  t.ok(invalid instanceof Error);
  t.equal((invalid as Error).message, 'l5d-dst-override is not a valid host:port');

  const fallback = await choose(setup(new FakeTarget('orig', FALLBACK_POLICY)).streams);
  t.equal((fallback as Error).message, 'ingress-mode fallback routing requires an HTTP policy for 10.43.0.10:80');

  const opaqueNamed = await choose(setup(undefined, (n) => new FakeTarget(n.name, OPAQUE_POLICY)).streams, 'db.test.svc.cluster.local:5432');
  t.equal((opaqueNamed as Error).message, 'ingress-mode routing requires discovery: db.test.svc.cluster.local:5432');

  const refused = new Error('ingress-mode routing requires discovery: nope.test:80');
  const unknown = await choose(setup(undefined, (n) => new FakeTarget(n.name, undefined, refused)).streams, 'nope.test');
  t.equal(unknown, refused, 'discovery refusing the name');
});

t.test('a policy not yet known: the choice waits for discovery', async (t) => {
  const { streams } = setup(undefined, (n) => new FakeTarget(n.name, undefined));
  const pending = streams.select({ 'l5d-dst-override': 'web.test' });
  t.ok(pending instanceof Promise);
  const c = (await pending) as H2StreamTarget;
  t.equal(c.authority, 'web.test');
});
