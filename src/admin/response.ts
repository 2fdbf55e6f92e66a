// The admin server's response value: handlers build these, server.ts writes them.

export interface AdminResponse {
  readonly status: number;
  /** Header name → value; an array sends the header once per value (e.g. two `allow` lines). */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string | Buffer;
}

const TEXT_PLAIN = { 'content-type': 'text/plain' } as const;

export function textResponse(status: number, body: string): AdminResponse {
  return { status, headers: TEXT_PLAIN, body };
}

export function emptyResponse(status: number): AdminResponse {
  return { status };
}

export function jsonResponse(status: number, value: unknown): AdminResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

/** `{"error": …, "status": …}`, as the Rust admin server's JSON endpoints report errors. */
export function jsonError(status: number, error: string): AdminResponse {
  return jsonResponse(status, { error, status });
}

export const FORBIDDEN_NOT_LOCALHOST = textResponse(403, 'Requests are only permitted from localhost.');
export const NOT_FOUND = emptyResponse(404);
export const METHOD_NOT_ALLOWED = emptyResponse(405);
