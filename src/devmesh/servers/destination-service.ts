// Destination (Get, GetProfile) served from the snapshot: endpoint sets become add/remove diffs, profiles replacements.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../log/logger.js';
import type { DestinationAnswer, Wire } from '../model/types.js';
import type { OpenCalls } from '../grpc/open-calls.js';
import { serviceDefinition } from '../grpc/service-definition.js';
import type { SnapshotHolder } from '../snapshot/snapshot-holder.js';
import { endpointUpdates } from './endpoint-diff.js';
import type { EndpointSet } from './endpoint-diff.js';
import { isRefusal, refusalStatus, serveLive, serveReplacements } from './live-answer.js';
import type { Answer } from './live-answer.js';

type Call = grpc.ServerWritableStream<Wire, Wire>;

function pathOf(call: Call): string {
  return typeof call.request.path === 'string' ? call.request.path : '';
}

/**
 * Get: the first answer with endpoints is one `add` of the whole set (silence while it is empty);
 * later answers are diffs. A refusal ends the stream with its status, after removing whatever the
 * client was sent (a deleted Service looks like its endpoints going away, then NotFound).
 */
function serveGet(call: Call, calls: OpenCalls, holder: SnapshotHolder): void {
  const path = pathOf(call);
  let sent: EndpointSet | undefined;
  serveLive<DestinationAnswer>(call, calls, holder, (s) => s.destinationGet(path), (a: Answer<DestinationAnswer>) => {
    if (isRefusal(a)) {
      if (sent) for (const u of endpointUpdates(sent, { setLabels: sent.setLabels, endpoints: [] })) call.write(u);
      calls.end(call, refusalStatus(a), a.message);
      return;
    }
    const next: EndpointSet = { setLabels: a.setLabels, endpoints: a.endpoints };
    for (const u of endpointUpdates(sent, next)) call.write(u);
    sent = next;
  });
}

export function addDestinationService(server: grpc.Server, holder: SnapshotHolder, calls: OpenCalls, logger: Logger): void {
  server.addService(serviceDefinition('io.linkerd.proxy.destination.Destination'), {
    Get: (call: Call) => {
      logger.debug('Destination.Get', { path: pathOf(call) });
      serveGet(call, calls, holder);
    },
    GetProfile: (call: Call) => {
      const path = pathOf(call);
      logger.debug('Destination.GetProfile', { path });
      serveReplacements(call, calls, holder, (s) => s.destinationProfile(path), (a) => a.profile);
    },
  });
}
