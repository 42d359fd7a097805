/**
 * jwtguard core: framework-agnostic JWT extraction, verification, signing and minting.
 * Framework adapters live at `jwtguard/express`, `jwtguard/fastify`, `jwtguard/koa` and `jwtguard/hono`.
 *
 * @packageDocumentation
 */
export { JwtGuardError, isJwtGuardError, type JwtGuardErrorCode } from './core/errors/jwt-guard-error.js';
export type { HmacAlgorithm, JwsAlgorithm, JwtGuardOptions, JwtGuardPayload, KeyInput, PublicRequest, RefreshOptions } from './core/options/types.js';
export { normalizeOptions, type NormalizedOptions, type NormalizedSessions, type TokenSources } from './core/options/normalize-options.js';
export { extractToken, type HeadersLike, type TokenRequest } from './core/extract/extract-token.js';
export { verifyToken } from './core/verify/verify-token.js';
export { signToken } from './core/sign/sign-token.js';
export { MintBodyCollector, type ContentEncodingHeader, type MintBody, type MintContext, type MintStream } from './core/mint/mint-token-response.js';
export { errorResponse, type HttpResponse } from './core/guard/http-response.js';
export { createGuard, type AuthResult, type Guard, type GuardAction, type GuardHooks, type GuardRequest, type JwtGuardHandle } from './core/guard/create-guard.js';
export type { CsrfOptions, RefreshCookieOptions, TokenCookieOptions } from './core/browser/types.js';
export type { SessionManager, TokenPair } from './core/sessions/session-manager.js';
export type { RefreshLookup, RefreshRecord, Revocations, RotateInput, RotateResult, SessionRecord, StoreEvent, TokenStore } from './core/sessions/types.js';
export { memoryStore, type MemoryStoreOptions } from './core/sessions/memory-store.js';
export { createAuthorizer } from './core/authorize/create-authorizer.js';
export type { AuthorizationRule, AuthorizationVerdict, Authorizer, AuthorizeFunctions, AuthorizeOptions, ClaimCheckFunction, ClaimExpectation, ClaimValue, RequiredClaims } from './core/authorize/types.js';
