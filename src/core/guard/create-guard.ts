import { readCookie } from '../browser/cookies.js';
import { CSRF_VARY, csrfVerdict, isUnsafeMethod } from '../browser/csrf.js';
import { clearingCookies, decorate, tokenAnswer } from '../browser/deliver.js';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { headerTokenOf, otherTokenOf, type HeadersLike, type TokenRequest } from '../extract/extract-token.js';
import { mintsStatus, mintTokenResponse, type MintBody, type MintContext } from '../mint/mint-token-response.js';
import { normalizeOptions, type NormalizedOptions } from '../options/normalize-options.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../options/types.js';
import { checkRevocation, verifySync, verifyWith } from '../verify/verify-token.js';
import { errorResponse, type HttpResponse } from './http-response.js';
import { readJsonBody } from './read-json-body.js';
import { createSessionManager, type SessionManager } from '../sessions/session-manager.js';
import { REFRESH_TOKEN_PATTERN } from '../sessions/internal/refresh-token.js';

/**
 * A request as the adapters describe it to the core. `path` is the path the framework routes this
 * request by, as the framework parsed it: the core never parses a request target itself, so the
 * guard cannot decide on one path while the router sends the request to another (an absolute-form
 * target such as `http://x?/api/auth/login` is routed to `/`). `undefined` when the framework
 * routes the request nowhere (Fastify's 404): such a request is never minted nor public.
 */
export interface GuardRequest extends TokenRequest {
  readonly method: string;
  readonly path: string | undefined;
  /**
   * The framework's own request object, untouched by the core and handed back to
   * {@link GuardHooks.ownOrigin} (which only the CSRF check's `Origin` fallback calls).
   */
  readonly raw?: unknown;
}

/**
 * What an adapter tells the core about requests beyond their headers, through functions called
 * only when needed.
 *
 * @example
 * ```ts
 * const guard = createGuard(options, { ownOrigin: (request) => `${(request.raw as Request).protocol}://${request.headers.host}` })
 * ```
 */
export interface GuardHooks {
  /**
   * The request's own origin, `scheme://host[:port]`, as the framework knows it (its scheme
   * behind a proxy follows the framework's proxy-trust setting): the CSRF check compares `Origin`
   * with it when the browser sent no `Sec-Fetch-Site`. `undefined` when unknown. Without this
   * hook: the origin of an absolute `url`, else the `Origin`'s host is compared with `Host`
   * (scheme not compared, as Go's `CrossOriginProtection` does).
   */
  readonly ownOrigin?: (request: GuardRequest) => string | undefined;
}

/**
 * What the guard does with a request: verify its token, mint on the auth path, let it pass (CORS
 * preflight, `publicPaths`), or answer it itself: `refresh` (`POST refresh.path`, no token needed)
 * and `logout` (`POST logoutPath`, after verifying the token).
 */
export type GuardAction = 'verify' | 'mint' | 'pass' | 'refresh' | 'logout';

/**
 * The outcome of {@link Guard.authenticate}. On failure, `response` is ready to send. `payload`
 * and `token` are `undefined` only for an anonymous request under `credentialsRequired: false`.
 */
export type AuthResult =
  | {
      readonly ok: true;
      readonly payload: JwtGuardPayload | undefined;
      readonly token: string | undefined;
      /**
       * Set (to `"Sec-Fetch-Site, Origin"`) when the request passed the CSRF check: adapters add
       * it to the route's answer as `Vary`, which depends on those headers. Absent otherwise.
       */
      readonly vary?: string;
    }
  | { readonly ok: false; readonly error: JwtGuardError; readonly response: HttpResponse };

/**
 * What every adapter's middleware carries besides being a middleware: the sessions handle, for
 * code outside requests (an admin tool, a password change: `revokeSubject(sub)`), and `close()`.
 *
 * @example
 * ```ts
 * const guard = jwtGuard({ secret, authPath: '/login', refresh: { path: '/refresh' } })
 * app.use(guard)
 * await guard.sessions?.revokeSubject('user-1') // log out everywhere
 * ```
 */
export interface JwtGuardHandle {
  /** Sessions (`revokeSession`, `revokeSubject`), when `refresh` is configured. */
  readonly sessions: SessionManager | undefined;
  /** Lets go of the session store subscription (call it when the server stops). */
  close(): Promise<void>;
}

/** The framework-agnostic guard the adapters translate to and from. Built once per middleware. */
export interface Guard {
  /** The validated options. */
  readonly options: NormalizedOptions;
  /**
   * Decides what to do with a request, from its method, routed path and headers alone: a CORS
   * preflight passes (unless `guardPreflight`), `authMethods` on `authPath` mint, `publicPaths`
   * pass, everything else is verified.
   */
  action(request: GuardRequest): GuardAction;
  /**
   * Extracts and verifies the token; on failure waits out `delay` first. Never rejects for a bad
   * token. Returns the result directly when it is known without waiting (a cached or fast-path
   * verdict, no delay), a Promise otherwise: adapters skip a promise hop on the hot path.
   *
   * When cookies carry tokens, an unsafe request (`method` not GET, HEAD or OPTIONS; a request
   * without `method` counts as unsafe) without a token in the header is CSRF-checked first, with or
   * without its cookie: a cross-origin one fails with 403 `csrf_refused`.
   */
  authenticate(request: TokenRequest | GuardRequest): AuthResult | Promise<AuthResult>;
  /**
   * The CSRF check of a request to `authPath` (`action` answered `'mint'`): a failed result to
   * answer instead of running the login route, or `undefined` to run it. Always `undefined` when no
   * cookie carries tokens, and for safe methods.
   */
  checkCsrf(request: GuardRequest): AuthResult | Promise<AuthResult> | undefined;
  /**
   * Whether the auth route's answer with this status will be minted. Adapters ask before
   * reading the body, so a non-2xx answer streams through without being buffered.
   */
  mints(status: number): boolean;
  /**
   * Turns the auth route's status and body into the response to send, or `undefined` to pass it
   * through. A stream body is read here, no further than `mintBodyLimit`; `context` carries the
   * answer's `Content-Encoding` (a compression middleware after the guard). Never rejects.
   */
  mint(status: number, body: MintBody, context?: MintContext): Promise<HttpResponse | undefined>;
  /**
   * Answers `POST refresh.path`: `body` is the request body as the adapter has it (parsed by a body
   * parser that ran first, text, bytes, or the unread request stream). 200 with a new
   * `{ token, refreshToken, expiresIn }`, or the error response. Never rejects.
   *
   * With `refresh.cookie` the refresh token is read from the `request`'s cookie instead (the body
   * is not read), and with cookies the answer sets them (see docs/browser.md); a refused refresh
   * token clears them. When cookies carry tokens, a cross-origin `request` gets 403 `csrf_refused`.
   */
  refresh(body: unknown, request?: GuardRequest): Promise<HttpResponse>;
  /**
   * Answers `POST logoutPath` from the request's {@link Guard.authenticate} result: 204 once its
   * session has ended, also when it had ended already (a revoked token: logout is idempotent), or
   * the failure's response. With cookies, a 204 or 401 answer also clears them. Never rejects.
   */
  logout(result: AuthResult, request?: GuardRequest): Promise<HttpResponse>;
  /** Sessions (`revokeSession`, `revokeSubject`, ...) when `refresh` is configured. */
  readonly sessions: SessionManager | undefined;
  /** Lets go of what the guard holds open (the session store subscription). */
  close(): Promise<void>;
}

function headerPresent(headers: HeadersLike, name: string): boolean {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).has(name);
  return (headers as Record<string, unknown>)[name] !== undefined;
}

/** The answer to a logout: nothing to say, and nothing to cache. */
const NO_CONTENT: HttpResponse = Object.freeze({ status: 204, headers: Object.freeze({ 'cache-control': 'no-store' }), body: '' });

/** An unexpected failure (a bug, a hook that threw something odd) still answers as a JwtGuardError, never as a crash. */
function asGuardError(error: unknown): JwtGuardError {
  return error instanceof JwtGuardError ? error : new JwtGuardError('session_store_unavailable', 'The session could not be processed.', { cause: error });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Builds the framework-agnostic guard from options, validating them once. Adapters call it at
 * construction; applications normally use an adapter (`jwtguard/express`, ...) instead.
 *
 * @throws {JwtGuardError} `invalid_options` when the options are unusable.
 *
 * @example
 * ```ts
 * import { createGuard } from 'jwtguard'
 *
 * const guard = createGuard({ secret, authPath: '/api/auth/login' })
 * const request = { method: req.method, path: routedPath(req), headers: req.headers, url: req.url }
 * if (guard.action(request) === 'verify') {
 *   const result = await guard.authenticate(request)
 *   if (!result.ok) send(result.response)
 * }
 * ```
 */
export function createGuard(options: JwtGuardOptions, hooks: GuardHooks = {}): Guard {
  const config = normalizeOptions(options);
  const { browser } = config;
  const { csrf, refreshCookie } = browser;
  const ownOriginHook = hooks.ownOrigin;
  const sessions = config.sessions === undefined ? undefined : createSessionManager(config.sessions, config);
  // Loads the revocation mirror; until it is in, checks wait for it (and retries run inside).
  if (sessions !== undefined) sessions.open().catch(() => {});
  const issue = sessions === undefined ? undefined : (payload: Record<string, unknown>) => sessions.start(payload);

  function fail(error: JwtGuardError, startedAt: number): AuthResult | Promise<AuthResult> {
    const result: AuthResult = { ok: false, error, response: errorResponse(error) };
    // Answer every failure at the same moment after arrival, so missing, malformed and forged
    // tokens cannot be told apart by response time.
    const wait = config.delayMs > 0 ? startedAt + config.delayMs - Date.now() : 0;
    return wait > 0 ? sleep(wait).then(() => result) : result;
  }

  function settle(token: string, startedAt: number): Promise<AuthResult> {
    return verifyWith(token, config).then(
      (payload) => sessionChecked(payload, token, startedAt),
      (error: unknown) => {
        if (error instanceof JwtGuardError) return fail(error, startedAt);
        throw error;
      },
    );
  }

  function sessionChecked(payload: JwtGuardPayload, token: string, startedAt: number): AuthResult | Promise<AuthResult> {
    // The local revocation mirror: synchronous once loaded, so cache hits stay on the fast path.
    const refused = sessions === undefined ? undefined : sessions.check(payload);
    if (refused === undefined) return { ok: true, payload, token };
    if (refused instanceof Promise) return refused.then((error) => (error === undefined ? { ok: true, payload, token } : fail(error, startedAt)));
    return fail(refused, startedAt);
  }

  function revocationChecked(payload: JwtGuardPayload, token: string, startedAt: number): AuthResult | Promise<AuthResult> {
    if (config.isRevoked === undefined) return sessionChecked(payload, token, startedAt);
    const checked = checkRevocation(payload, token, config);
    const toResult = (verdict: JwtGuardPayload | JwtGuardError): AuthResult | Promise<AuthResult> =>
      verdict instanceof JwtGuardError ? fail(verdict, startedAt) : sessionChecked(verdict, token, startedAt);
    return checked instanceof Promise ? checked.then(toResult) : toResult(checked);
  }

  const anonymous: AuthResult = Object.freeze({ ok: true, payload: undefined, token: undefined });

  /** The verdict on a token, or on its absence. */
  function verdictOn(token: string | undefined, startedAt: number): AuthResult | Promise<AuthResult> {
    if (token === undefined) {
      // credentialsRequired: false lets a request without a token through anonymously; a bad token is still refused.
      return config.credentialsRequired ? fail(new JwtGuardError('token_missing', 'No token was provided.'), startedAt) : anonymous;
    }
    const verdict = verifySync(token, config);
    if (verdict === undefined) return settle(token, startedAt);
    if (verdict instanceof JwtGuardError) return fail(verdict, startedAt);
    return revocationChecked(verdict, token, startedAt);
  }

  // ---- CSRF (cookie-carried tokens) ------------------------------------------------------------

  const varyHeaders = Object.freeze({ vary: CSRF_VARY });

  /** The request's own origin for the `Origin` fallback: the adapter's hook, else an absolute URL's origin. */
  function ownOrigin(request: TokenRequest | GuardRequest): string | undefined {
    if (ownOriginHook !== undefined && 'method' in request) return ownOriginHook(request);
    const { url } = request;
    if (url.startsWith('http://') || url.startsWith('https://')) {
      try {
        return new URL(url).origin;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** The CSRF refusal for this request, if any (the policy is set: cookies carry tokens). */
  function crossOrigin(request: TokenRequest | GuardRequest): JwtGuardError | undefined {
    return csrfVerdict(request.headers, csrf as NonNullable<typeof csrf>, () => ownOrigin(request));
  }

  /** A result that depended on the CSRF headers: a pass carries `vary` for the route's answer, a failure's answer gets the header. */
  function varied(result: AuthResult): AuthResult {
    if (result.ok) return { ok: true, payload: result.payload, token: result.token, vary: CSRF_VARY };
    return { ok: false, error: result.error, response: decorate(result.response, varyHeaders, undefined) };
  }

  /** authenticate() for an unsafe request without a header token while cookies carry tokens: CSRF first, then the cookie or query token. */
  function authenticateChecked(request: TokenRequest | GuardRequest, startedAt: number): AuthResult | Promise<AuthResult> {
    const refused = crossOrigin(request);
    if (refused !== undefined) return fail(refused, startedAt);
    const result = verdictOn(otherTokenOf(request, config), startedAt);
    return result instanceof Promise ? result.then(varied) : varied(result);
  }

  // ---- cookies on the guard's own endpoints ----------------------------------------------------

  /** The refresh token in the refresh cookie; a missing or malformed one is refused like an unknown token (and the cookies cleared). */
  function refreshCookieToken(request: GuardRequest | undefined): { refreshToken: string } {
    const value = refreshCookie === undefined || request === undefined ? undefined : readCookie(request.headers, refreshCookie.name);
    if (value === undefined || !REFRESH_TOKEN_PATTERN.test(value)) {
      throw new JwtGuardError('refresh_token_invalid', 'No valid refresh cookie came with the request (it expired with its session, or was never set): log in again.');
    }
    return { refreshToken: value };
  }

  /** Answers of the guard's endpoints when cookies carry tokens vary on the CSRF headers, which decided them. */
  const endpointVary = csrf === undefined ? undefined : varyHeaders;

  return {
    options: config,

    action(request) {
      const { method, path } = request;
      // A real preflight always carries Origin; OPTIONS with only Access-Control-Request-Method is
      // a plain request to whatever handles OPTIONS there. A preflight is never minted either.
      if (!config.guardPreflight && method === 'OPTIONS' && headerPresent(request.headers, 'origin') && headerPresent(request.headers, 'access-control-request-method')) {
        return 'pass';
      }
      if (path === undefined) return 'verify';
      if (config.sessions !== undefined && method === 'POST') {
        if (path === config.sessions.refreshPath) return 'refresh';
        if (path === config.sessions.logoutPath) return 'logout';
      }
      if (path === config.authPath && config.authMethods.has(method)) return 'mint';
      if (config.isPublic !== undefined && config.isPublic({ method, path })) return 'pass';
      return 'verify';
    },

    authenticate(request) {
      const startedAt = config.delayMs > 0 ? Date.now() : 0;
      const token = headerTokenOf(request, config);
      // A header token is no ambient credential: never CSRF-checked, and this is the only branch it pays.
      if (token !== undefined) return verdictOn(token, startedAt);
      if (csrf !== undefined && isUnsafeMethod((request as Partial<GuardRequest>).method)) return authenticateChecked(request, startedAt);
      return verdictOn(otherTokenOf(request, config), startedAt);
    },

    checkCsrf(request) {
      if (csrf === undefined || !isUnsafeMethod(request.method)) return undefined;
      const refused = crossOrigin(request);
      return refused === undefined ? undefined : fail(refused, config.delayMs > 0 ? Date.now() : 0);
    },

    mints: mintsStatus,

    mint(status, body, context) {
      return mintTokenResponse(status, body, config, context, issue);
    },

    sessions,

    async refresh(body, request) {
      if (csrf !== undefined && request !== undefined && isUnsafeMethod(request.method)) {
        const refused = crossOrigin(request);
        if (refused !== undefined) return errorResponse(refused);
      }
      try {
        if (sessions === undefined) throw new JwtGuardError('invalid_request', 'Sessions are not configured.');
        const input = refreshCookie === undefined ? await readJsonBody(body) : refreshCookieToken(request);
        const { pair, sessionEndsAt } = await sessions.refreshSession(input);
        const now = Date.now();
        return tokenAnswer(200, pair, browser, request?.headers, Math.max(0, (sessionEndsAt - now) / 1000));
      } catch (error) {
        const failure = asGuardError(error);
        // The client's refresh token is dead: drop its cookies too, so the browser stops sending them.
        const dead = failure.code === 'refresh_token_invalid' || failure.code === 'refresh_token_reused';
        return decorate(errorResponse(failure), endpointVary, dead ? clearingCookies(browser, request?.headers) : undefined);
      }
    },

    async logout(result, request) {
      let response: HttpResponse;
      if (!result.ok) response = result.error.code === 'token_revoked' ? NO_CONTENT : result.response;
      else {
        try {
          if (result.payload === undefined) throw new JwtGuardError('token_missing', 'No token was provided.');
          if (sessions === undefined) throw new JwtGuardError('invalid_request', 'Sessions are not configured.');
          await sessions.logout(result.payload);
          response = NO_CONTENT;
        } catch (error) {
          response = errorResponse(asGuardError(error));
        }
      }
      // Logged out, or holding no usable token (401): the cookies go. Never on a refusal (a
      // cross-site page must not log users out) nor a 503 (the session may live on: retry).
      const clears = response.status === 204 || response.status === 401;
      const checked = result.ok ? result.vary !== undefined : result.response.headers.vary !== undefined;
      const vary = checked ? varyHeaders : undefined;
      return decorate(response, vary, clears ? clearingCookies(browser, request?.headers) : undefined);
    },

    async close() {
      await sessions?.close();
    },
  };
}
