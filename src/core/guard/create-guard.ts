import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { extractWith, type HeadersLike, type TokenRequest } from '../extract/extract-token.js';
import { mintsStatus, mintTokenResponse, type MintBody, type MintContext } from '../mint/mint-token-response.js';
import { normalizeOptions, type NormalizedOptions } from '../options/normalize-options.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../options/types.js';
import { checkRevocation, verifySync, verifyWith } from '../verify/verify-token.js';
import { errorResponse, type HttpResponse } from './http-response.js';

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
}

/** What the guard does with a request: verify its token, mint on the auth path, or let it pass (CORS preflight, `publicPaths`). */
export type GuardAction = 'verify' | 'mint' | 'pass';

/**
 * The outcome of {@link Guard.authenticate}. On failure, `response` is ready to send. `payload`
 * and `token` are `undefined` only for an anonymous request under `credentialsRequired: false`.
 */
export type AuthResult =
  | { readonly ok: true; readonly payload: JwtGuardPayload | undefined; readonly token: string | undefined }
  | { readonly ok: false; readonly error: JwtGuardError; readonly response: HttpResponse };

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
   */
  authenticate(request: TokenRequest): AuthResult | Promise<AuthResult>;
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
}

function headerPresent(headers: HeadersLike, name: string): boolean {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).has(name);
  return (headers as Record<string, unknown>)[name] !== undefined;
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
export function createGuard(options: JwtGuardOptions): Guard {
  const config = normalizeOptions(options);

  function fail(error: JwtGuardError, startedAt: number): AuthResult | Promise<AuthResult> {
    const result: AuthResult = { ok: false, error, response: errorResponse(error) };
    // Answer every failure at the same moment after arrival, so missing, malformed and forged
    // tokens cannot be told apart by response time.
    const wait = config.delayMs > 0 ? startedAt + config.delayMs - Date.now() : 0;
    return wait > 0 ? sleep(wait).then(() => result) : result;
  }

  function settle(token: string, startedAt: number): Promise<AuthResult> {
    return verifyWith(token, config).then(
      (payload): AuthResult => ({ ok: true, payload, token }),
      (error: unknown) => {
        if (error instanceof JwtGuardError) return fail(error, startedAt);
        throw error;
      },
    );
  }

  function revocationChecked(payload: JwtGuardPayload, token: string, startedAt: number): AuthResult | Promise<AuthResult> {
    if (config.isRevoked === undefined) return { ok: true, payload, token };
    const checked = checkRevocation(payload, token, config);
    const toResult = (verdict: JwtGuardPayload | JwtGuardError): AuthResult | Promise<AuthResult> =>
      verdict instanceof JwtGuardError ? fail(verdict, startedAt) : { ok: true, payload: verdict, token };
    return checked instanceof Promise ? checked.then(toResult) : toResult(checked);
  }

  const anonymous: AuthResult = Object.freeze({ ok: true, payload: undefined, token: undefined });

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
      if (path === config.authPath && config.authMethods.has(method)) return 'mint';
      if (config.isPublic !== undefined && config.isPublic({ method, path })) return 'pass';
      return 'verify';
    },

    authenticate(request) {
      const startedAt = config.delayMs > 0 ? Date.now() : 0;
      const token = extractWith(request, config);
      if (token === undefined) {
        // credentialsRequired: false lets a request without a token through anonymously; a bad token is still refused.
        return config.credentialsRequired ? fail(new JwtGuardError('token_missing', 'No token was provided.'), startedAt) : anonymous;
      }
      const verdict = verifySync(token, config);
      if (verdict === undefined) return settle(token, startedAt);
      if (verdict instanceof JwtGuardError) return fail(verdict, startedAt);
      return revocationChecked(verdict, token, startedAt);
    },

    mints: mintsStatus,

    mint(status, body, context) {
      return mintTokenResponse(status, body, config, context);
    },
  };
}
