// The policy controller's two APIs served from the snapshot: inbound per workload port, outbound per target.
import * as grpc from '@grpc/grpc-js';
import { decodeTcpAddress } from '../../discovery/net-decode.js';
import { messageOf } from '../../core/errors.js';
import type { Logger } from '../../log/logger.js';
import type { MeshSnapshot, TrafficTarget, Wire } from '../model/types.js';
import type { OpenCalls } from '../grpc/open-calls.js';
import { serviceDefinition } from '../grpc/service-definition.js';
import type { SnapshotHolder } from '../snapshot/snapshot-holder.js';
import { answerOnce, serveReplacements } from './live-answer.js';
import type { Answer, Refusal } from './live-answer.js';

type Call = grpc.ServerWritableStream<Wire, Wire>;
type UnaryCall = grpc.ServerUnaryCall<Wire, Wire>;

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function invalid(message: string): Refusal {
  return { kind: 'refused', code: 'INVALID_ARGUMENT', message };
}

/** PortSpec → the model's inbound query; ports outside 1..65535 are refused as the policy controller does. */
function portOf(req: Wire): number {
  return typeof req.port === 'number' ? req.port : 0;
}

function inboundQuery(req: Wire): (s: MeshSnapshot) => Answer<ReturnType<MeshSnapshot['inboundServer']>> {
  const workload = text(req.workload);
  const port = portOf(req);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return () => invalid(`invalid port ${port}`);
  return (s) => s.inboundServer(workload, port);
}

/** TrafficSpec.target → TrafficTarget, or why it is unusable. */
export function trafficTarget(req: Wire): TrafficTarget | Refusal {
  if (req.addr !== undefined && req.addr !== null) {
    try {
      const addr = decodeTcpAddress(req.addr, 'target.addr');
      return { kind: 'addr', ip: addr.host, port: addr.port };
    } catch (err) {
      return invalid(messageOf(err));
    }
  }
  if (typeof req.authority === 'string') return { kind: 'authority', authority: req.authority };
  return invalid('target is required');
}

function outboundQuery(req: Wire): (s: MeshSnapshot) => Answer<ReturnType<MeshSnapshot['outboundPolicy']>> {
  const target = trafficTarget(req);
  if (target.kind === 'refused') return () => target;
  const source = text(req.sourceWorkload);
  return (s) => s.outboundPolicy(target, source);
}

export function addPolicyServices(server: grpc.Server, holder: SnapshotHolder, calls: OpenCalls, logger: Logger): void {
  server.addService(serviceDefinition('io.linkerd.proxy.inbound.InboundServerPolicies'), {
    WatchPort: (call: Call) => {
      logger.debug('InboundServerPolicies.WatchPort', { workload: text(call.request.workload), port: portOf(call.request) });
      serveReplacements(call, calls, holder, inboundQuery(call.request), (a) => a.server);
    },
    GetPort: (call: UnaryCall, callback: grpc.sendUnaryData<Wire>) => {
      answerOnce(holder, inboundQuery(call.request), (a) => a.server, callback);
    },
  });
  server.addService(serviceDefinition('io.linkerd.proxy.outbound.OutboundPolicies'), {
    Watch: (call: Call) => {
      logger.debug('OutboundPolicies.Watch', { source: text(call.request.sourceWorkload) });
      serveReplacements(call, calls, holder, outboundQuery(call.request), (a) => a.policy);
    },
    Get: (call: UnaryCall, callback: grpc.sendUnaryData<Wire>) => {
      answerOnce(holder, outboundQuery(call.request), (a) => a.policy, callback);
    },
  });
}
