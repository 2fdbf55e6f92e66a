// An identity source with fixed credentials: ready at once, never rotates (tests, embedding).
import type { Credentials, IdentitySource } from './types.js';

export function staticIdentity(creds: Credentials): IdentitySource {
  const ready = Promise.resolve(creds);
  return {
    current: () => creds,
    ready: () => ready,
    onUpdate: () => () => undefined,
    close: () => undefined,
  };
}
