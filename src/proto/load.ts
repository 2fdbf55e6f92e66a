// Loads the project's own .proto schemas (this folder) into one protobufjs Root, once.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';
import { embeddedText } from '../sea-assets.js';

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

/** A schema's text: embedded in the single-file binary (asset `proto/<file>`), else from disk. */
function schemaSource(file: string, dir: () => string): string {
  return embeddedText(`proto/${file}`) ?? readFileSync(path.join(dir(), file), 'utf8');
}

/**
 * All schemas in one Root. Google well-known types (Duration, Timestamp, Struct) come from
 * protobufjs' bundled definitions, so our files import them by their usual names; our own
 * imports name files of PROTO_FILES, which are all parsed into the same Root anyway.
 */
export function protoRoot(): protobuf.Root {
  if (cached) return cached;
  let dir: string | undefined;
  const lazyDir = () => (dir ??= protoDir());
  const root = new protobuf.Root();
  const wellKnown = new Set<string>();
  for (const file of PROTO_FILES) {
    // protobufjs stamps definitions and syntax errors with this module-level name, as loadSync does.
    (protobuf.parse as unknown as { filename: string | null }).filename = file;
    const parsed = protobuf.parse(schemaSource(file, lazyDir), root, { keepCase: false });
    for (const imported of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      if (imported.startsWith('google/protobuf/')) wellKnown.add(imported);
      else if (!PROTO_FILES.includes(path.basename(imported))) throw new Error(`${file} imports ${imported}, which is not in PROTO_FILES`);
    }
  }
  for (const name of wellKnown) {
    const common = protobuf.common.get(name);
    if (common === null) throw new Error(`protobufjs has no bundled ${name}`);
    root.addJSON(common.nested ?? {});
  }
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
