// grpc-js service definitions for the control-plane APIs, built from the project's protobufjs schemas.
import type * as grpc from '@grpc/grpc-js';
import { TO_OBJECT_OPTIONS } from '../../discovery/wire.js';
import { protoRoot } from '../../proto/load.js';
import type { Wire } from '../model/types.js';

/**
 * Every method of `serviceName` (e.g. `io.linkerd.proxy.destination.Destination`, or
 * `SpiffeWorkloadAPI`, which has no package). Requests decode to plain data as the proxy's own
 * decoders see it (bytes as Buffers, 64-bit integers as strings, absent fields absent); responses
 * are plain data in the shape `Type.fromObject` accepts.
 */
export function serviceDefinition(serviceName: string): grpc.ServiceDefinition {
  const service = protoRoot().lookupService(serviceName);
  const fullName = service.fullName.replace(/^\./, '');
  const definition: Record<string, grpc.MethodDefinition<Wire, Wire>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType;
    const res = method.resolvedResponseType;
    if (!req || !res) throw new Error(`unresolved types for ${fullName}/${method.name}`);
    definition[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (v: Wire) => Buffer.from(req.encode(req.fromObject(v)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), TO_OBJECT_OPTIONS),
      responseSerialize: (v: Wire) => Buffer.from(res.encode(res.fromObject(v)).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), TO_OBJECT_OPTIONS),
    };
  }
  return definition;
}
