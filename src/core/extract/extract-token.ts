import { parse as parseCookie } from 'cookie';
import { normalizeOptions, type NormalizedOptions } from '../options/normalize-options.js';
import type { JwtGuardOptions } from '../options/types.js';

/** Node's `IncomingHttpHeaders` (lower-case keys) or a Web `Headers`. */
export type HeadersLike = Readonly<Record<string, string | string[] | undefined>> | Headers;

/** The parts of a request the token can come from. `url` is a path (`/a?b=c`) or an absolute URL. */
export interface TokenRequest {
  readonly headers: HeadersLike;
  readonly url: string;
}

/** @internal The first value of header `name` (lower case) in Node or Web headers. */
export function headerValue(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `Bearer <token>` → token; a value without a scheme is the bare token; any other scheme carries no JWT. */
function tokenFromHeader(value: string): string | undefined {
  // The overwhelmingly common spelling, without regex or case folding.
  if (value.startsWith('Bearer ') && value.charCodeAt(7) > 32 && value.indexOf(' ', 7) === -1) return value.slice(7).trimEnd();
  const trimmed = value.trim();
  const space = trimmed.search(/\s/);
  // A lone "Bearer" is a scheme with no credentials, not a token.
  if (space === -1) return trimmed.toLowerCase() === 'bearer' ? undefined : trimmed;
  if (trimmed.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  return trimmed.slice(space).trim();
}

function tokenFromQuery(url: string, name: string): string | undefined {
  const start = url.indexOf('?');
  if (start === -1) return undefined;
  const hash = url.indexOf('#', start);
  const search = url.slice(start + 1, hash === -1 ? undefined : hash);
  return new URLSearchParams(search).get(name) ?? undefined;
}

function tokenFromCookie(headers: HeadersLike, name: string): string | undefined {
  const header = headerValue(headers, 'cookie');
  if (header === undefined || header === '') return undefined;
  return parseCookie(header)[name];
}

/**
 * @internal The token in the configured header (`Authorization` by default), or `undefined`. A
 * header token is no ambient credential: the guard checks CSRF only when there is none.
 */
export function headerTokenOf(request: TokenRequest, config: NormalizedOptions): string | undefined {
  const { header } = config.sources;
  if (header === undefined) return undefined;
  const value = headerValue(request.headers, header);
  return value === undefined ? undefined : tokenFromHeader(value) || undefined;
}

/** @internal The hot-path form of {@link extractToken}, working from normalised options. */
export function extractWith(request: TokenRequest, config: NormalizedOptions): string | undefined {
  return headerTokenOf(request, config) ?? otherTokenOf(request, config);
}

/** @internal The token in the sources after the header, in their order: cookie, then query. */
export function otherTokenOf(request: TokenRequest, config: NormalizedOptions): string | undefined {
  const { cookie, query } = config.sources;
  if (cookie !== undefined) {
    const token = tokenFromCookie(request.headers, cookie);
    if (token) return token;
  }
  if (query !== undefined) {
    const token = tokenFromQuery(request.url, query);
    if (token) return token;
  }
  return undefined;
}

/**
 * Finds the token in a request, looking at the configured sources in the order header, cookie,
 * query. A `Bearer` scheme is stripped (case-insensitively); a header value without a scheme is
 * taken as the bare token; an empty value counts as missing.
 *
 * @returns the token, or `undefined` when none of the sources carries one.
 *
 * @example
 * ```ts
 * import { extractToken } from 'jwtguard'
 *
 * const token = extractToken(
 *   { headers: { authorization: 'Bearer eyJ...' }, url: '/api/me' },
 *   { secret, header: 'Authorization' },
 * )
 * ```
 */
export function extractToken(request: TokenRequest, options: JwtGuardOptions): string | undefined {
  return extractWith(request, normalizeOptions(options));
}
