import type { JwtGuardError } from '../errors/jwt-guard-error.js';

/**
 * A framework-neutral response the adapters write as they are: status, headers, body, and the
 * cookies it sets.
 */
export interface HttpResponse {
  readonly status: number;
  /** Headers that replace any of the same name the response already has. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /**
   * `Set-Cookie` values (`tokenCookie`, `refresh.cookie`), each its own header line, added to the
   * cookies the response already has (those the login route set are kept).
   */
  readonly cookies?: readonly string[];
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

/** Responses by error message (with the code confirmed): a handful of distinct ones in practice, bounded regardless. */
const errorResponses = new Map<string, { readonly code: string; readonly response: HttpResponse }>();
const ERROR_RESPONSES_MAX = 64;

/**
 * The response every adapter sends for a failure: `{ "error": code, "message": ... }` with the
 * error's status and, for 401s, an RFC 6750 `WWW-Authenticate` challenge. The response is frozen
 * and shared by every error with the same code and message, so a flood of rejected tokens does
 * not serialise the same answer over and over.
 *
 * @example
 * ```ts
 * const { status, headers, body } = errorResponse(new JwtGuardError('token_missing', 'No token was provided.'))
 * ```
 */
export function errorResponse(error: JwtGuardError): HttpResponse {
  // Status and headers follow from code and message alone, so those two identify the response.
  const known = errorResponses.get(error.message);
  if (known !== undefined && known.code === error.code) return known.response;
  const response = jsonResponse(error.status, { error: error.code, message: error.message }, error.headers);
  Object.freeze(response.headers);
  Object.freeze(response);
  if (errorResponses.size >= ERROR_RESPONSES_MAX) errorResponses.clear();
  errorResponses.set(error.message, { code: error.code, response });
  return response;
}
