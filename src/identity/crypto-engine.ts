// The pkijs crypto engine, backed by Node's WebCrypto, shared by every pkijs call in this folder.
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

let engine: pkijs.ICryptoEngine | undefined;

/**
 * pkijs looks for `self.crypto` by default, which is not there in Node; we build the engine over
 * node's WebCrypto once and also make it pkijs' global engine for code paths that take none.
 */
export function cryptoEngine(): pkijs.ICryptoEngine {
  if (engine) return engine;
  const created = new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto });
  pkijs.setEngine('node-webcrypto', created);
  engine = created;
  return created;
}
