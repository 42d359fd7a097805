/**
 * Every stable error code jwtguard produces. Codes never change meaning between releases;
 * messages may be reworded. Clients should branch on `code`, never on `message`.
 */
export type JwtGuardErrorCode =
  /** No token was found in any configured source. */
  | 'token_missing'
  /** The token is not a compact JWS of three base64url segments with JSON header and payload. */
  | 'token_malformed'
  /** The token is longer than `maxTokenLength`; it was rejected before any decoding. */
  | 'token_too_long'
  /** The `alg` header names an algorithm outside the configured allowlist. */
  | 'algorithm_not_allowed'
  /** The signature does not match the token under the configured key. */
  | 'signature_invalid'
  /** The `exp` claim is in the past. */
  | 'token_expired'
  /** The `nbf` claim is in the future. */
  | 'token_not_yet_valid'
  /** A claim check other than `exp`/`nbf` failed; `claim` names which one. */
  | 'claim_invalid'
  /** The token is valid but `isRevoked` says it was revoked. */
  | 'token_revoked'
  /** No configured key (secret, public key, JWKS entry, `getKey` result) can verify this token. */
  | 'key_not_found'
  /** The key source (a remote JWKS, a `getKey` resolver) failed or timed out: the server is at fault. */
  | 'key_source_unavailable'
  /** The `isRevoked` hook failed: the token cannot be cleared, so it is refused (fail closed). */
  | 'revocation_unavailable'
  /** The auth-path route answered 2xx with a body that is not a JSON object, so no token was minted. */
  | 'mint_body_invalid'
  /** Signing a token failed (for example the payload could not be serialised). */
  | 'sign_failed'
  /** The options passed to jwtguard are invalid; thrown at construction. */
  | 'invalid_options'
  /**
   * The presented refresh token cannot be exchanged: unknown, expired, idle too long, or its
   * session has ended. The client must log in again.
   */
  | 'refresh_token_invalid'
  /**
   * The presented refresh token was already used (outside the reuse grace): it may have been
   * stolen, so the whole session (every refresh and access token of it) has been ended.
   */
  | 'refresh_token_reused'
  /**
   * The session store (e.g. Redis) is unreachable or did not answer in time. The operation was
   * not applied, or was applied whole (never half); retrying it is safe.
   */
  | 'session_store_unavailable'
  /** The request itself is malformed (RFC 6750 `invalid_request`): a body that is not JSON, too large, a missing field. */
  | 'invalid_request'
  /**
   * The `refresh.reload` hook threw, rejected, or returned neither claims nor `undefined`: the
   * user's claims could not be re-read, so no tokens were issued. The refresh token was not used
   * up, so retrying is safe once the hook's source is back.
   */
  | 'reload_failed'
  /**
   * Route authorization (`requireScopes`, `requireAnyScope`, `anyOf` over scopes): the token is
   * valid but lacks the scope(s) the route requires (RFC 6750 §3.1). `scopes` lists those that
   * would grant access.
   */
  | 'insufficient_scope'
  /** Route authorization (`requireClaims`, `claimCheck`): the token is valid but its claims do not allow the route. */
  | 'claim_mismatch'
  /**
   * Route authorization: a `claimCheck` function threw, rejected, or returned something other
   * than a boolean. The request is refused (never let through); the thrown error is the `cause`.
   */
  | 'authorization_failed'
  /**
   * CSRF protection: an unsafe request (not GET, HEAD or OPTIONS) that would act with cookie
   * credentials came from another origin (`Sec-Fetch-Site: cross-site` or `same-site`, or an
   * `Origin` that is neither this server's nor trusted). The route did not run.
   */
  | 'csrf_refused';

/**
 * Default HTTP status for each code: 401 for the client's token, 400 for a malformed request,
 * 500 for server-side faults, 503 for a dependency that is down.
 */
const STATUS_BY_CODE: Readonly<Record<JwtGuardErrorCode, number>> = {
  token_missing: 401,
  token_malformed: 401,
  token_too_long: 401,
  algorithm_not_allowed: 401,
  signature_invalid: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  claim_invalid: 401,
  token_revoked: 401,
  key_not_found: 401,
  key_source_unavailable: 503,
  revocation_unavailable: 503,
  mint_body_invalid: 500,
  sign_failed: 500,
  invalid_options: 500,
  refresh_token_invalid: 401,
  refresh_token_reused: 401,
  session_store_unavailable: 503,
  invalid_request: 400,
  reload_failed: 503,
  insufficient_scope: 403,
  claim_mismatch: 403,
  authorization_failed: 500,
  csrf_refused: 403,
};

/**
 * The one error class of jwtguard. Every rejection and every configuration error is a
 * `JwtGuardError` with a stable {@link JwtGuardErrorCode} and the HTTP `status` it maps to.
 * Messages never contain the secret, a key or the token.
 *
 * @example
 * ```ts
 * import { verifyToken, JwtGuardError } from 'jwtguard'
 *
 * try {
 *   await verifyToken(token, { secret })
 * } catch (err) {
 *   if (err instanceof JwtGuardError && err.code === 'token_expired') {
 *     // ask the client to refresh
 *   }
 * }
 * ```
 */
export class JwtGuardError extends Error {
  /** Stable machine-readable code. */
  readonly code: JwtGuardErrorCode;
  /** HTTP status this error maps to (401 for token failures). */
  readonly status: number;
  /** For `claim_invalid`, `token_expired`, `token_not_yet_valid` and `claim_mismatch`: the claim that failed. */
  readonly claim: string | undefined;
  /** For `insufficient_scope`: the scopes that would grant access (the challenge's `scope` attribute). */
  readonly scopes: readonly string[] | undefined;

  /** Alias of `status`, for frameworks that read `statusCode` (Fastify, http-errors). */
  get statusCode(): number {
    return this.status;
  }

  /**
   * The headers a response for this error needs: `Cache-Control: no-store`, and for 401s and 403s
   * the RFC 6750 `WWW-Authenticate` challenge (a 403 `csrf_refused` has `Vary: Sec-Fetch-Site,
   * Origin` instead: no token was at fault). Express (finalhandler), Fastify and Koa apply
   * `err.headers` in their default error handling, so a forwarded error keeps them.
   */
  get headers(): Record<string, string> {
    // Not a token problem, so no challenge; the verdict came from these request headers.
    if (this.code === 'csrf_refused') return { 'cache-control': 'no-store', vary: 'Sec-Fetch-Site, Origin' };
    return this.status === 401 || this.status === 403 ? { 'cache-control': 'no-store', 'www-authenticate': bearerChallenge(this) } : { 'cache-control': 'no-store' };
  }

  /** Whether the message is safe to show clients (Koa's convention): true for 4xx. */
  get expose(): boolean {
    return this.status < 500;
  }

  constructor(code: JwtGuardErrorCode, message: string, options?: { claim?: string; cause?: unknown; scopes?: readonly string[] }) {
    // A rejected token (401) or a refused route (403) is an expected outcome, not a bug: skipping
    // the stack trace makes a flood of them cost no more than good requests. Server-side errors keep their stack.
    const stackTraceLimit = Error.stackTraceLimit;
    const status = STATUS_BY_CODE[code];
    if (status === 401 || status === 403) Error.stackTraceLimit = 0;
    try {
      super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.code = code;
    this.status = status;
    this.claim = options?.claim;
    this.scopes = options?.scopes;
  }
}

/**
 * RFC 6750 §3: no error attribute when the request carried no token; `insufficient_scope` (with
 * the `scope` attribute when scopes would help) for a valid token that does not allow the route
 * (403); `invalid_token` otherwise. `error_description` keeps to the characters §3 allows: a
 * quote or backslash becomes `'`, anything else outside printable ASCII (a description in another
 * script, a control character) becomes `?`, so no message can break or fail the header.
 */
function bearerChallenge(error: JwtGuardError): string {
  if (error.code === 'token_missing') return 'Bearer';
  const description = error.message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
  if (error.status !== 403) return `Bearer error="invalid_token", error_description="${description}"`;
  // Scopes are checked at construction to be RFC 6749 scope tokens, which need no escaping.
  const scope = error.scopes !== undefined && error.scopes.length > 0 ? `, scope="${error.scopes.join(' ')}"` : '';
  return `Bearer error="insufficient_scope", error_description="${description}"${scope}`;
}

Object.defineProperty(JwtGuardError.prototype, 'name', { value: 'JwtGuardError', writable: true, configurable: true });

/**
 * Type guard for {@link JwtGuardError}.
 *
 * @example
 * ```ts
 * if (isJwtGuardError(err)) console.log(err.code)
 * ```
 */
export function isJwtGuardError(value: unknown): value is JwtGuardError {
  return value instanceof JwtGuardError;
}
