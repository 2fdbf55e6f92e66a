// GET /env.json: the proxy's environment as JSON, or only the names listed in the query.

import { emptyResponse, jsonError, jsonResponse, METHOD_NOT_ALLOWED, type AdminResponse } from './response.js';

const JSON_MIME = 'application/json';

/**
 * `accept` is the first Accept header (upstream reads only one); `query` is the raw text after
 * `?` (undefined when the target has no `?`), used without percent-decoding, as upstream does.
 */
export function envJson(
  method: string,
  query: string | undefined,
  accept: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): AdminResponse {
  if (method !== 'GET') return METHOD_NOT_ALLOWED;
  if (
    accept !== undefined &&
    !(accept.includes(JSON_MIME) || accept.includes('application/*') || accept.includes('*/*'))
  ) {
    return { ...emptyResponse(406), body: JSON_MIME };
  }
  // A null-prototype object, so a variable named `__proto__` is just a key.
  const out: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
  if (query === undefined) {
    for (const name of Object.keys(env)) {
      const value = env[name];
      if (value !== undefined) out[name] = value;
    }
    return jsonResponse(200, out);
  }
  if (query.includes('=')) {
    return jsonError(400, 'env.json query parameters may not contain key-value pairs');
  }
  for (const name of query.split('&')) {
    out[name] = Object.prototype.hasOwnProperty.call(env, name) ? (env[name] ?? null) : null;
  }
  return jsonResponse(200, out);
}
