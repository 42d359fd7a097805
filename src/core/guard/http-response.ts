import type { JwtGuardError } from '../errors/jwt-guard-error.js';

/** A framework-neutral response the adapters write as they are: status, headers, body. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const encoder = new TextEncoder();

/** @internal A JSON response with an exact Content-Length and `Cache-Control: no-store` (tokens and auth errors must not be cached). */
export function jsonResponse(status: number, value: unknown, extraHeaders?: Record<string, string>): HttpResponse {
  const body = JSON.stringify(value);
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(encoder.encode(body).byteLength),
      'cache-control': 'no-store',
      ...extraHeaders,
    },
    body,
  };
}

/**
 * The response every adapter sends for a failure: `{ "error": code, "message": ... }` with the
 * error's status and, for 401s, an RFC 6750 `WWW-Authenticate` challenge.
 *
 * @example
 * ```ts
 * const { status, headers, body } = errorResponse(new JwtGuardError('token_missing', 'No token was provided.'))
 * ```
 */
export function errorResponse(error: JwtGuardError): HttpResponse {
  return jsonResponse(error.status, { error: error.code, message: error.message }, error.headers);
}
