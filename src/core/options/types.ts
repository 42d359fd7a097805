import type { JWTPayload } from 'jose';

/** HMAC algorithms jwtguard signs and verifies with (RFC 7518 §3.2). */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/**
 * The payload of a verified token, as put on `req.auth`, `request.user`, `ctx.state.user` and
 * `c.get('jwtPayload')`. Augment it to type your own claims everywhere at once:
 *
 * @example
 * ```ts
 * declare module 'jwtguard' {
 *   interface JwtGuardPayload {
 *     userId: number
 *     role: 'admin' | 'user'
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- an interface so users can augment it
export interface JwtGuardPayload extends JWTPayload {}

/**
 * Options shared by the guard middleware, {@link verifyToken}, {@link signToken} and
 * {@link extractToken}. Names follow the Pingap `jwt` plugin, in camelCase.
 */
export interface JwtGuardOptions {
  /** HMAC secret (UTF-8 string or raw bytes). Required. Use at least as many bytes as the hash output (32 for HS256). */
  secret: string | Uint8Array;
  /** Request header carrying the token, e.g. `"Authorization"` (a `Bearer` scheme is stripped) or `"X-Token"`. */
  header?: string;
  /** URL query parameter carrying the token. */
  query?: string;
  /** Cookie carrying the token. */
  cookie?: string;
  /** Exact path (query string ignored) of the login route whose 2xx JSON answer is turned into a token. */
  authPath?: string;
  /** Algorithm to sign with and the only one accepted when verifying. Default `"HS256"`. */
  algorithm?: HmacAlgorithm;
  /** Delay before any failed-validation answer, as an `ms` string (`"100ms"`) or a number of milliseconds. */
  delay?: string | number;
  /**
   * Lifetime given to signed and minted tokens whose payload has no `exp`: an `ms` string
   * (`"15m"`, `"1h"`) or a number of seconds. Default `"1h"`. `false` mints tokens without expiry.
   */
  expiresIn?: string | number | false;
  /**
   * Also guard CORS preflight requests (`OPTIONS` with `Access-Control-Request-Method`).
   * Default `false`: browsers never send credentials on a preflight, so guarding it breaks CORS.
   */
  guardPreflight?: boolean;
  /**
   * How many verified tokens to remember (by token string) so a repeated token skips the
   * signature check. Default `10000`; `0` turns the cache off. Only successes are cached, and
   * every hit re-checks `exp`, so the cache never extends a token's life.
   */
  cacheSize?: number;
  /**
   * Receives configuration warnings (such as a short secret). Default: `process.emitWarning`
   * where it exists, else `console.warn`. Warnings never contain the secret.
   */
  onWarning?: (message: string) => void;
}
