import type { CryptoKey, JWK, JWTHeaderParameters, JWTPayload, KeyObject, RemoteJWKSetOptions } from 'jose';
import type { TokenStore } from '../sessions/types.js';
import type { CsrfOptions, RefreshCookieOptions, TokenCookieOptions } from '../browser/types.js';

/** HMAC algorithms (RFC 7518 §3.2): verified with `secret`. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';
/** Every JWS algorithm jwtguard signs and verifies with. */
export type JwsAlgorithm = HmacAlgorithm | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** A key in any form jose accepts: PEM text, JWK, Node KeyObject, Web CryptoKey, or raw bytes. */
export type KeyInput = string | JWK | KeyObject | CryptoKey | Uint8Array;

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
 * The `refresh` option: refresh tokens and the endpoint that rotates them.
 *
 * @example
 * ```ts
 * const refresh: RefreshOptions = { path: '/api/auth/refresh', expiresIn: '30d', idleTimeout: '7d', reuseInterval: '10s' }
 * ```
 */
export interface RefreshOptions {
  /** Path of the refresh endpoint (`POST`, JSON `{ "refreshToken": "..." }`); it needs no access token. */
  path: string;
  /** Absolute lifetime of a session, from login; rotation never extends it. Default `"30d"`. */
  expiresIn?: string | number;
  /** A refresh token unused this long is dead, and so is its session. Default: no idle limit. */
  idleTimeout?: string | number;
  /**
   * Grace for concurrent refreshes (two tabs): the token just rotated, presented again this soon,
   * gets the same new pair instead of ending the session. Default `"10s"`; `0` turns it off.
   */
  reuseInterval?: string | number;
  /**
   * Re-reads the user's claims at each refresh (a role changed, an account disabled); returning
   * `undefined` ends the session. Default: the login claims are kept.
   */
  reload?: (claims: JwtGuardPayload) => JwtGuardPayload | undefined | Promise<JwtGuardPayload | undefined>;
  /**
   * The refresh token as an HttpOnly cookie scoped to `path` (`__Secure-jwtguard-refresh` by
   * default) instead of a field of the JSON bodies: login and refresh answers set it, refresh
   * requests are read from it (their body is ignored), logout and a refused refresh clear it.
   * `true` for the defaults. See docs/browser.md.
   */
  cookie?: boolean | RefreshCookieOptions;
}

/** What the guard knows about a request when deciding whether it is public. */
export interface PublicRequest {
  readonly method: string;
  /** The path, without query string. */
  readonly path: string;
}

/**
 * Options shared by the guard middleware, {@link verifyToken}, {@link signToken} and
 * {@link extractToken}. Names follow the Pingap `jwt` plugin in camelCase, and jose where jose has one.
 */
export interface JwtGuardOptions {
  // --- keys -------------------------------------------------------------------------------------
  /** HMAC secret for HS256/384/512: a UTF-8 string, bytes, a secret KeyObject or an `oct` JWK. Use at least as many bytes as the hash output (32 for HS256). */
  secret?: string | Uint8Array | KeyObject | JWK;
  /** Public key for RS/PS/ES/EdDSA verification: SPKI or X.509 PEM, JWK, KeyObject or CryptoKey. */
  publicKey?: string | JWK | KeyObject | CryptoKey;
  /** Private key to sign with RS/PS/ES/EdDSA on the auth path and in `signToken`: PKCS#8 PEM, JWK, KeyObject or CryptoKey. */
  privateKey?: string | JWK | KeyObject | CryptoKey;
  /** `kid` header for tokens this guard signs. */
  kid?: string;
  /** A JSON Web Key Set: an https URL (fetched, cached, rotated by jose) or a local `{ keys: [...] }`. Requires `algorithms`. */
  jwks?: string | URL | { keys: JWK[] };
  /** Options for a remote `jwks`: `timeoutDuration`, `cooldownDuration`, `cacheMaxAge`, `headers` (jose's names). */
  jwksOptions?: RemoteJWKSetOptions;
  /** Resolves the verification key per token (multi-tenant setups); `payload` is not verified yet. Requires `algorithms`. */
  getKey?: (header: JWTHeaderParameters, payload: JWTPayload) => KeyInput | undefined | Promise<KeyInput | undefined>;
  /**
   * The identity provider's issuer identifier, exactly as its tokens write `iss` (trailing `/`
   * included: Auth0's ends with one, Keycloak's does not). jwtguard reads
   * `<issuerBaseURL>/.well-known/openid-configuration` (or the RFC 8414
   * `/.well-known/oauth-authorization-server` document) at the first verification, requires its
   * `issuer` to be identical, verifies with the keys of its `jwks_uri`, and checks every token's
   * `iss` against it (or against `issuer`, when set: then the document must name that one).
   * The metadata is read again with the key set: after `cacheMaxAge`, and when a token names an
   * unknown `kid` (at most once per `cooldownDuration`). While it cannot be read, requests get 503
   * `key_source_unavailable`. https only (plain http for localhost); not with `jwks` or `getKey`.
   * Without `algorithms`, the allowlist is what the provider advertises (RS/PS/ES/EdDSA only, never
   * HMAC or `none`); see docs/identity-providers.md.
   *
   * @example
   * ```ts
   * jwtGuard({ issuerBaseURL: 'https://tenant.eu.auth0.com/', audience: 'https://api.example.com', algorithms: ['RS256'] })
   * ```
   */
  issuerBaseURL?: string;

  // --- algorithms -------------------------------------------------------------------------------
  /** Algorithm to sign with; also the only one accepted when `algorithms` is not set. Default: HS256 for a secret, inferred from the key otherwise. */
  algorithm?: JwsAlgorithm;
  /** The allowlist of accepted algorithms: the only source of truth, never the token's header. */
  algorithms?: JwsAlgorithm[];

  // --- where the token is -----------------------------------------------------------------------
  /** Request header carrying the token, e.g. `"Authorization"` (a `Bearer` scheme is stripped) or `"X-Token"`. */
  header?: string;
  /** URL query parameter carrying the token. */
  query?: string;
  /** Cookie carrying the token. */
  cookie?: string;
  /** Longest token accepted, in characters; checked before any decoding. Default 8192. */
  maxTokenLength?: number;

  // --- claims (jose's names and units: numbers are seconds, strings like "30s") ---------------------
  /** Accepted `iss` value(s). */
  issuer?: string | string[];
  /** Accepted `aud` value(s): the token must name at least one. */
  audience?: string | string[];
  /** Required `sub` value. */
  subject?: string;
  /** Required `typ` header, e.g. `"at+jwt"` (RFC 9068). */
  typ?: string;
  /**
   * A token profile. `"at+jwt"`: OAuth 2.0 access tokens as RFC 9068 defines them — the `typ`
   * header must be `at+jwt` (or `application/at+jwt`), and `iss`, `aud`, `exp`, `sub`,
   * `client_id`, `iat` and `jti` must be present. Needs `audience` (this API's identifier) and
   * `issuer` or `issuerBaseURL`, which RFC 9068 §4 requires the resource server to check.
   *
   * @example
   * ```ts
   * jwtGuard({ issuerBaseURL: 'https://sso.example.com/realms/main', audience: 'orders-api', profile: 'at+jwt' })
   * ```
   */
  profile?: 'at+jwt';
  /** Maximum age since `iat` (which becomes required). */
  maxTokenAge?: string | number;
  /** Leeway for `exp`, `nbf` and `iat` checks. Default 0. */
  clockTolerance?: string | number;
  /** Claims that must be present. */
  requiredClaims?: string[];
  /** A fixed "now" (tests, replaying recorded tokens). */
  currentDate?: Date;

  // --- guard behaviour --------------------------------------------------------------------------
  /**
   * Exact path of the login route whose 2xx JSON answer is turned into a token, compared with the
   * path the framework routes (Express `req.baseUrl + req.path`, Koa `ctx.path`, Hono
   * `c.req.path`, on Fastify the path the matched route was registered with).
   */
  authPath?: string;
  /** Methods that mint on `authPath`. Default `["POST"]`; any other method there is guarded like every route. */
  authMethods?: string[];
  /** Delay before any failed-validation answer, as an `ms` string (`"100ms"`) or a number of milliseconds. */
  delay?: string | number;
  /**
   * `false`: a request without a token passes anonymously (no payload), while a present but
   * invalid token is still refused. Default `true`.
   */
  credentialsRequired?: boolean;
  /**
   * Routes that need no token: exact paths (`"/health"`), path prefixes ending in `/*`
   * (`"/static/*"`), regular expressions, or a predicate `({ method, path }) => boolean`.
   */
  publicPaths?: (string | RegExp)[] | ((request: PublicRequest) => boolean);
  /** Called for every verified token; resolving `true` refuses it with `token_revoked`. */
  isRevoked?: (payload: JwtGuardPayload, token: string) => boolean | Promise<boolean>;
  /**
   * Hand failures to the framework's own error path (Express `next(err)`, Fastify's error
   * handler, a Koa throw, Hono's `HTTPException`) instead of answering them. Default `false`.
   */
  forwardErrors?: boolean;
  /**
   * Also guard CORS preflight requests (`OPTIONS` with `Access-Control-Request-Method`).
   * Default `false`: browsers never send credentials on a preflight, so guarding it breaks CORS.
   */
  guardPreflight?: boolean;

  // --- signing ----------------------------------------------------------------------------------
  /**
   * Lifetime given to signed and minted tokens whose payload has no `exp`: an `ms` string
   * (`"15m"`, `"1h"`) or a number of seconds. Default `"1h"`. `false` mints tokens without expiry.
   */
  expiresIn?: string | number | false;
  /**
   * Longest lifetime of any signed or minted token, as `expiresIn`: an `ms` string or seconds.
   * Default: unset (no cap). An `exp` in the payload later than `iat + maxExpiresIn` is lowered to
   * it, a token that would have no `exp` (`expiresIn: false`) gets `iat + maxExpiresIn`, and the
   * default `expiresIn` shrinks to fit; an explicit `expiresIn` longer than this is refused.
   */
  maxExpiresIn?: string | number;
  /** `nbf` for signed tokens, relative to now (`"10s"` or seconds). */
  notBefore?: string | number;
  /** Add a random `jti` (UUID) to every signed token. Default `false`. */
  jti?: boolean;
  /**
   * Largest login answer on `authPath` that is turned into a token, in bytes, both as sent and
   * once a `Content-Encoding` is decoded. Default `65536` (64 KiB). A larger answer gets a 500
   * `mint_body_invalid`, and no more than about this much of it is ever read or inflated.
   */
  mintBodyLimit?: number;

  // --- sessions (refresh tokens, logout, revocation) ---------------------------------------------
  /**
   * Turns logins into sessions: the login answer becomes `{ token, refreshToken, expiresIn }`,
   * access tokens carry `sid` and `jti`, and `POST refresh.path` with `{ "refreshToken": "..." }`
   * exchanges a refresh token for a new pair (rotation with reuse detection). Needs `authPath`.
   * See docs/sessions.md.
   */
  refresh?: RefreshOptions;
  /** `POST` here with a valid access token ends its session (204). Needs `refresh`. */
  logoutPath?: string;
  /** Where sessions and revocations live. Default: `memoryStore()` (one process); `redisStore` from `jwtguard/redis` for several. */
  store?: TokenStore;

  // --- browsers (cookies, CSRF) -------------------------------------------------------------------
  /**
   * Deliver the access token as an HttpOnly cookie (`__Host-jwtguard`, `Secure`, `SameSite=Lax`,
   * `Path=/`, `Max-Age` = the token's remaining life) instead of in the login answer's body, which
   * becomes `{ "expiresIn": ... }`; the guard reads the cookie (no `cookie` option needed), after
   * the `Authorization` header. `true` for the defaults. Needs `authPath`. See docs/browser.md.
   */
  tokenCookie?: boolean | TokenCookieOptions;
  /**
   * CSRF protection of cookie-carried tokens, on whenever a cookie carries them (`cookie`,
   * `tokenCookie`, `refresh.cookie`): an unsafe request (not GET, HEAD or OPTIONS) without a token
   * in the header must come from the app's own origin (Fetch Metadata, else `Origin`), or it gets
   * 403 `csrf_refused`. `{ trustedOrigins, allowSameSite }` widens it; `false` turns it off (with a
   * warning). See docs/browser.md.
   */
  csrf?: boolean | CsrfOptions;
  /**
   * How long verification keeps trusting the last known revocations while the store is
   * unreachable, before it fails closed with 503 `session_store_unavailable`. Default `"30s"`.
   */
  maxStaleness?: string | number;

  // --- operations -------------------------------------------------------------------------------
  /**
   * How many verified tokens to remember (by token string) so a repeated token skips the
   * signature check. Default `10000`; `0` turns the cache off. Only successes are cached, from a
   * token's second verification on (single-use tokens are never stored), and every hit re-checks
   * the time claims, so the cache never extends a token's life.
   */
  cacheSize?: number;
  /**
   * Receives configuration warnings (such as a short secret). Default: `process.emitWarning`
   * where it exists, else `console.warn`. Warnings never contain the secret.
   */
  onWarning?: (message: string) => void;
}
