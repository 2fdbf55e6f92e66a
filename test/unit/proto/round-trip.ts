// Shared assertion for the schema tests: a decoded-shape message encodes and decodes back to itself.
import type { Test } from 'tap';
import { decodeMessage, encodeMessage } from '../../support/control-plane-codec.js';
import type { Wire } from '../../support/control-plane-codec.js';

/**
 * `decoded` is written in the shape the proxy's decoders see (DECODE_OPTIONS): oneof arm names
 * present, int64 as decimal strings, default-valued fields absent. Encoding it and decoding the
 * bytes must give back exactly that object, so no field is dropped or altered.
 */
export function roundTrip(t: Test, typeName: string, decoded: Wire): Wire {
  const back = decodeMessage(typeName, encodeMessage(typeName, decoded));
  t.same(back, decoded, `${typeName.split('.').pop() ?? typeName} round-trips`);
  return back;
}
