// Typed proxy errors with stable codes, and helpers to find a cause in an error chain.

export type ErrorSource = 'upstream' | 'downstream' | 'internal';

export class ProxyError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly source: ErrorSource = 'internal',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Walks err.cause links and returns the first error that is an instance of cls. */
export function findCause<T extends Error>(
  err: unknown,
  cls: abstract new (...args: never[]) => T,
): T | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 16; depth++) {
    if (cur instanceof cls) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The errno-style code of a Node system error (e.g. ECONNRESET), if any in the chain. */
export function errnoOf(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 16; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
