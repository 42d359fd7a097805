import { jsonResponse, type HttpResponse } from '../guard/http-response.js';
import type { HeadersLike } from '../extract/extract-token.js';
import type { NormalizedBrowser } from './browser-options.js';
import { clearCookie, hostOf, setCookie } from './cookies.js';
import { CSRF_VARY } from './csrf.js';

/** @internal What a login or a refresh issued: an access token, a refresh token with sessions, and the access token's lifetime in seconds. */
export interface IssuedTokens {
  readonly token: string;
  readonly refreshToken?: string;
  /** `exp - iat` of the access token; `undefined` for a token without `exp`. */
  readonly expiresIn?: number | undefined;
}

/**
 * @internal The answer to a successful login or refresh. Each token is either in its cookie or in
 * the JSON body, never both: with `tokenCookie` the body has no `token`, with `refresh.cookie` no
 * `refreshToken`; `expiresIn` is always there (when the token expires). The access-token cookie
 * lives as long as the token (`Max-Age` = `expiresIn`), the refresh cookie as long as the session
 * (`refreshMaxAge` seconds). Answers to an endpoint the CSRF check guards vary on its headers.
 */
export function tokenAnswer(status: number, issued: IssuedTokens, browser: NormalizedBrowser, requestHeaders: HeadersLike | undefined, refreshMaxAge: number | undefined): HttpResponse {
  const { tokenCookie, refreshCookie, csrf } = browser;
  const vary = csrf === undefined ? undefined : { vary: CSRF_VARY };
  if (tokenCookie === undefined && refreshCookie === undefined) return jsonResponse(status, issued, vary);
  const host = hostOf(requestHeaders);
  const cookies: string[] = [];
  const body: { token?: string; refreshToken?: string; expiresIn?: number } = {};
  if (tokenCookie === undefined) body.token = issued.token;
  else cookies.push(setCookie(tokenCookie, issued.token, issued.expiresIn, host));
  if (issued.refreshToken !== undefined) {
    if (refreshCookie === undefined) body.refreshToken = issued.refreshToken;
    else cookies.push(setCookie(refreshCookie, issued.refreshToken, refreshMaxAge, host));
  }
  if (issued.expiresIn !== undefined) body.expiresIn = issued.expiresIn;
  return { ...jsonResponse(status, body, vary), cookies: Object.freeze(cookies) };
}

/** @internal The `Set-Cookie` values that remove every cookie jwtguard sets (none when it sets none). */
export function clearingCookies(browser: NormalizedBrowser, requestHeaders: HeadersLike | undefined): readonly string[] | undefined {
  const { tokenCookie, refreshCookie } = browser;
  if (tokenCookie === undefined && refreshCookie === undefined) return undefined;
  const host = hostOf(requestHeaders);
  const cookies: string[] = [];
  if (tokenCookie !== undefined) cookies.push(clearCookie(tokenCookie, host));
  if (refreshCookie !== undefined) cookies.push(clearCookie(refreshCookie, host));
  return Object.freeze(cookies);
}

/** @internal `response` with more headers and cookies: a new object, the (shared, frozen) original untouched. */
export function decorate(response: HttpResponse, headers: Readonly<Record<string, string>> | undefined, cookies: readonly string[] | undefined): HttpResponse {
  if (headers === undefined && cookies === undefined) return response;
  const merged = cookies === undefined ? response.cookies : [...(response.cookies ?? []), ...cookies];
  return { status: response.status, headers: headers === undefined ? response.headers : { ...response.headers, ...headers }, body: response.body, ...(merged === undefined ? {} : { cookies: merged }) };
}
