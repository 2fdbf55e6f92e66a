// An attempt's classification into response_total and failure accrual: HTTP by status, gRPC by the
// grpc-status it carried, so a gRPC failure inside an HTTP 200 trips the consecutive-failures breaker.
import t from 'tap';
import { Endpoint } from '../../../../src/balance/index.js';
import { systemClock } from '../../../../src/core/clock.js';
import type { DestinationEndpoint } from '../../../../src/discovery/destination-types.js';
import { createMetrics } from '../../../../src/metrics/index.js';
import { A_NONE, A_RESET, A_RESPONSE, A_TIMEOUT, Attempt } from '../../../../src/outbound/http/attempt.js';
import { EndpointHttpMetrics, httpFamilies } from '../../../../src/outbound/http/metrics.js';

function setup(maxFailures = 3) {
  const metrics = createMetrics({ buildInfo: { version: 'test', gitSha: '', profile: '', vendor: '', date: '' }, processMetrics: false });
  const m = new EndpointHttpMetrics(httpFamilies(metrics), { direction: 'outbound', target_addr: '10.0.0.1:80' });
  const ep = new Endpoint<DestinationEndpoint>('10.0.0.1:80', {} as DestinationEndpoint, {
    clock: systemClock,
    random: () => 0.5,
    peakEwma: { defaultRttMs: 30, decayMs: 10_000 },
    failureAccrual: { kind: 'consecutive-failures', maxFailures, backoff: { minMs: 60_000, maxMs: 60_000, jitter: 0 } },
    connected: true,
    readinessChanged: () => undefined,
  });
  t.teardown(() => ep.markRemoved());
  /** One attempt with `status` and (for gRPC) `code`, ended as `how`. */
  const run = (grpc: boolean, status: number, code: number | undefined, how: 0 | 1 | 2 | 3 = A_RESPONSE): void => {
    const a = new Attempt(ep, ep.start(0), m, undefined, 0, grpc);
    a.head(status, 5);
    a.grpcStatus = code;
    a.end(how, 10);
  };
  const value = async (labels: string): Promise<number | undefined> => {
    const text = await metrics.render();
    const line = text.split('\n').find((l) => l.startsWith(`response_total{direction="outbound",target_addr="10.0.0.1:80",${labels}} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return { ep, run, value };
}

t.test('gRPC attempts are counted by their code, HTTP ones by status', async (t) => {
  const { run, value } = setup(100);
  run(true, 200, 0);
  run(true, 200, 0);
  run(true, 200, 14);
  run(true, 200, 5);
  run(true, 200, undefined);
  run(true, 503, undefined);
  run(false, 200, 14);
  run(false, 503, undefined);
  t.equal(await value('status_code="200",classification="success",grpc_status="0",error=""'), 2);
  t.equal(await value('status_code="200",classification="failure",grpc_status="14",error=""'), 1);
  t.equal(await value('status_code="200",classification="success",grpc_status="5",error=""'), 1, 'NOT_FOUND succeeds');
  t.equal(await value('status_code="200",classification="success",grpc_status="2",error=""'), 1, 'no grpc-status: Unknown, a success');
  t.equal(await value('status_code="503",classification="success",grpc_status="2",error=""'), 1, 'a gRPC request ignores the HTTP status');
  t.equal(await value('status_code="200",classification="success",grpc_status="",error=""'), 1, 'a non-gRPC request ignores grpc-status');
  t.equal(await value('status_code="503",classification="failure",grpc_status="",error=""'), 1);
});

t.test('resets and timeouts stay errors for gRPC too', async (t) => {
  const { run, value } = setup(100);
  run(true, 200, 0, A_RESET);
  run(true, 200, undefined, A_TIMEOUT);
  t.equal(await value('status_code="200",classification="failure",grpc_status="",error="unclassified"'), 1);
  t.equal(await value('classification="failure",grpc_status="",error="timeout"'), 1);
  t.equal(await value('status_code="200",classification="success",grpc_status="0",error=""'), undefined, 'not counted as a response');
});

t.test('a client that went away mid-response is classified by what it had seen', async (t) => {
  const { run, value } = setup(100);
  run(true, 200, 13, A_NONE);
  run(true, 200, undefined, A_NONE);
  t.equal(await value('status_code="200",classification="failure",grpc_status="13",error=""'), 1, 'a status in the headers decides');
  t.equal(await value('status_code="200",classification="success",grpc_status="2",error=""'), 1);
});

t.test('failure accrual: gRPC failures inside HTTP 200 eject the endpoint; successes reset the count', async (t) => {
  const grpcFailures = setup(3);
  grpcFailures.run(true, 200, 14);
  grpcFailures.run(true, 200, 13);
  grpcFailures.run(true, 200, 0);
  t.equal(grpcFailures.ep.ejected, false, 'an OK call breaks the run of failures');
  grpcFailures.run(true, 200, 14);
  grpcFailures.run(true, 200, 4);
  t.equal(grpcFailures.ep.ejected, false);
  grpcFailures.run(true, 200, 15);
  t.equal(grpcFailures.ep.ejected, true, 'three failing codes in a row eject it');
  t.equal(grpcFailures.ep.ready, false);

  const answers = setup(3);
  for (let i = 0; i < 5; i++) answers.run(true, 200, 5);
  for (let i = 0; i < 5; i++) answers.run(true, 200, undefined);
  t.equal(answers.ep.ejected, false, 'NOT_FOUND and a missing status are successes');

  const http = setup(3);
  for (let i = 0; i < 5; i++) http.run(false, 200, 14);
  t.equal(http.ep.ejected, false, 'grpc-status on a non-gRPC request is not consulted');
  for (let i = 0; i < 3; i++) http.run(false, 502, undefined);
  t.equal(http.ep.ejected, true, '5xx fails');
});
