// An identity source whose first certificate arrives when the test says so.
import type { Credentials, IdentitySource } from '../../src/identity/types.js';

export interface DeferredIdentity extends IdentitySource {
  install(creds: Credentials): void;
}

export function deferredIdentity(): DeferredIdentity {
  let current: Credentials | undefined;
  let resolveReady!: (c: Credentials) => void;
  const ready = new Promise<Credentials>((r) => (resolveReady = r));
  const listeners = new Set<(c: Credentials) => void>();
  return {
    current: () => current,
    ready: () => ready,
    onUpdate(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close: () => undefined,
    install(creds) {
      current = creds;
      resolveReady(creds);
      for (const l of listeners) l(creds);
    },
  };
}
