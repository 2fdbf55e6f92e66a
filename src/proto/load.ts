// Loads the project's own .proto schemas (this folder) into one protobufjs Root, once.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';

let cached: protobuf.Root | undefined;

/** The folder holding the .proto files, whether running from src/ (ts) or dist/src/ (compiled). */
export function protoDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [here, path.resolve(here, '../../../src/proto')];
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'spiffe-workload.proto'))) return dir;
  }
  throw new Error(`proto schemas not found (looked in ${candidates.join(', ')})`);
}

/**
 * All schemas in one Root. Google well-known types (Duration, Timestamp, Struct) come from
 * protobufjs' bundled definitions, so our files import them by their usual names.
 */
export function protoRoot(): protobuf.Root {
  if (cached) return cached;
  const dir = protoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (target.startsWith('google/protobuf/')) return target;
    return path.join(dir, path.basename(target));
  };
  root.loadSync(PROTO_FILES.map((f) => path.join(dir, f)), { keepCase: false });
  root.resolveAll();
  cached = root;
  return root;
}

/** Every schema file we ship; a file is added here when its first user lands. */
export const PROTO_FILES: readonly string[] = [
  'spiffe-workload.proto',
  'identity.proto',
  'net.proto',
  'meta.proto',
  'http-types.proto',
  'http-route.proto',
  'grpc-route.proto',
  'opaque-route.proto',
  'tls-route.proto',
  'destination.proto',
  'inbound.proto',
  'outbound.proto',
  'transport-header.proto',
];

export function protoType(fullName: string): protobuf.Type {
  return protoRoot().lookupType(fullName);
}
