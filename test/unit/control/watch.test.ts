// watchStream over real gRPC: stream limits reopen silent or old streams, refusals stop it, values survive reconnects.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { FakeDestination } from '../../support/fake-destination.js';
import { tcpAddress } from '../../support/control-plane-codec.js';
import { deferredIdentity } from '../../support/deferred-identity.js';
import type { StreamLimits } from '../../../src/config/types.js';
import { ExpBackoff } from '../../../src/core/backoff.js';
import { controlChannelFactory } from '../../../src/control/channel.js';
import { ControlChannel } from '../../../src/control/control-channel.js';
import { destinationRetryable } from '../../../src/control/retry-policies.js';
import { watchStream, type StreamEvent, type WatchFailure } from '../../../src/control/watch.js';
import { messageCodec, type Obj } from '../../../src/discovery/wire.js';
import { silentLogger } from '../../../src/log/logger.js';
import { BACKOFF, NO_LIMITS, controlClient } from './helpers/control-client.js';
import { TestClock, driveUntil, until } from './helpers/test-clock.js';

const PATH = '/io.linkerd.proxy.destination.Destination/Get';
const AUTH = 'web.default.svc.cluster.local:80';
const request = messageCodec('io.linkerd.proxy.destination.GetDestination');
const update = messageCodec('io.linkerd.proxy.destination.Update');
const ADD = { add: { addrs: [{ addr: tcpAddress('10.0.0.1', 80) }] } };

interface Opts {
  limits?: StreamLimits;
  retryable?: (code: grpc.status) => boolean;
  decode?: (bytes: Buffer) => Obj;
}

async function setup(t: Test, o: Opts = {}) {
  const fake = await FakeDestination.start();
  const clock = new TestClock();
  const channel = new ControlChannel(controlChannelFactory(controlClient(fake.port), deferredIdentity()));
  const messages: [Obj, StreamEvent][] = [];
  const failures: WatchFailure[] = [];
  const watch = watchStream<Buffer, Obj>({
    channel,
    path: PATH,
    request: request.encode({ path: AUTH }),
    encode: (b) => b,
    decode: o.decode ?? ((b) => update.decode(b)),
    onMessage: (m, e) => messages.push([m, e]),
    onError: (f) => failures.push(f),
    backoff: new ExpBackoff(BACKOFF),
    retryable: o.retryable ?? destinationRetryable,
    streamLimits: o.limits ?? NO_LIMITS,
    clock,
    logger: silentLogger,
  });
  t.teardown(async () => {
    watch.close();
    channel.close();
    await fake.stop();
  });
  return { fake, clock, watch, messages, failures, sender: fake.getSender(AUTH) };
}

t.test('no message within the initial timeout: the stream is cancelled and reopened', async (t) => {
  const { clock, failures, sender, watch } = await setup(t, { limits: { initialTimeoutMs: 3000, idleTimeoutMs: undefined, lifetimeMs: undefined } });
  await sender.waitForStreams(1);
  t.equal(watch.state, 'connecting');
  t.same(clock.pending, [3000]);
  clock.advance(3000);
  await until(() => failures.length === 1, 'the limit to end the stream');
  t.match(failures[0], { code: grpc.status.DEADLINE_EXCEEDED, limit: 'initial', final: false, retryInMs: 100 });
  await until(() => sender.openStreams === 0, 'the silent stream to be cancelled at the server');
  clock.advance(100);
  await sender.waitForStreams(2);
  t.pass('a second stream was opened');
});

t.test('the idle limit restarts on every message; the value is kept across the reopen', async (t) => {
  const { clock, failures, messages, sender, watch } = await setup(t, { limits: { initialTimeoutMs: 1000, idleTimeoutMs: 5000, lifetimeMs: undefined } });
  await sender.waitForStreams(1);
  sender.push(ADD);
  await until(() => messages.length === 1, 'the first message');
  t.same(clock.pending, [5000], 'the initial timer gave way to the idle timer');
  clock.advance(4000);
  sender.push(ADD);
  await until(() => messages.length === 2, 'the second message');
  clock.advance(4000);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(failures.length, 0, 'a message pushed the idle deadline back');
  clock.advance(1000);
  await until(() => failures.length === 1, 'the idle limit');
  t.match(failures[0], { limit: 'idle', code: grpc.status.DEADLINE_EXCEEDED });
  t.match(watch.latest(), ADD, 'the last value survives while reconnecting');
  sender.initial = [ADD];
  clock.fireNext();
  await until(() => messages.length === 3, 'the message on the new stream');
  t.same(messages.map(([, e]) => e), [
    { first: true, stream: 1 },
    { first: false, stream: 1 },
    { first: true, stream: 2 },
  ]);
});

t.test('a stream older than its lifetime is ended and reopened, even while busy', async (t) => {
  const { clock, failures, messages, sender } = await setup(t, { limits: { initialTimeoutMs: undefined, idleTimeoutMs: undefined, lifetimeMs: 60_000 } });
  sender.initial = [ADD];
  await until(() => messages.length === 1, 'the first message');
  clock.advance(60_000);
  await until(() => failures.length === 1, 'the lifetime limit');
  t.match(failures[0], { limit: 'lifetime', code: grpc.status.OK, final: false, retryInMs: 100 });
  clock.advance(100);
  await until(() => messages.length === 2, 'the reopened stream');
  t.equal(sender.opened, 2);
});

t.test('a status the policy refuses to retry stops the watch and keeps the last value', async (t) => {
  const { clock, failures, messages, sender, watch } = await setup(t);
  sender.initial = [ADD];
  await until(() => messages.length === 1, 'a message');
  sender.fail(grpc.status.FAILED_PRECONDITION, 'multicluster service without a remote name');
  await until(() => failures.length === 1, 'the refusal');
  t.match(failures[0], { code: grpc.status.FAILED_PRECONDITION, final: true, retryInMs: undefined, details: 'multicluster service without a remote name' });
  t.equal(watch.state, 'stopped');
  t.same(clock.pending, [], 'no retry is scheduled');
  t.match(watch.latest(), ADD);
});

t.test('a clean end and a message the decoder rejects are retried', async (t) => {
  let reject = true;
  const { clock, failures, sender } = await setup(t, {
    decode: (b) => {
      if (reject) throw new Error('not what I expected');
      return update.decode(b);
    },
  });
  sender.initial = [ADD];
  await until(() => failures.length === 1, 'the decode failure');
  t.match(failures[0], { code: grpc.status.INTERNAL, final: false });
  t.match(failures[0]?.details, /not what I expected/);
  reject = false;
  await driveUntil(clock, () => sender.opened >= 2 && sender.openStreams === 1, 'a second stream');
  sender.end();
  await until(() => failures.length === 2, 'the clean end');
  t.match(failures[1], { code: grpc.status.OK, final: false, details: 'stream ended by the server' });
});

t.test('close() cancels the stream and the pending retry', async (t) => {
  const { clock, sender, watch, failures } = await setup(t);
  await sender.waitForStreams(1);
  await until(() => sender.openStreams === 1, 'the open stream');
  watch.close();
  await until(() => sender.openStreams === 0, 'the cancelled stream');
  t.equal(watch.state, 'closed');
  t.same(failures, [], 'closing is not a failure');
  t.same(clock.pending, []);
});
