import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { headerValue, type HeadersLike } from '../extract/extract-token.js';
import type { CsrfPolicy } from './browser-options.js';

/** @internal What every answer that depended on the CSRF check varies on. */
export const CSRF_VARY = 'Sec-Fetch-Site, Origin';

/** Methods that never change anything (RFC 9110 §9.2.1, as Go's CrossOriginProtection counts them). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * @internal Whether the CSRF check applies to this method: anything but GET, HEAD and OPTIONS.
 * An unknown method (a core caller that gave none) counts as unsafe.
 */
export function isUnsafeMethod(method: string | undefined): boolean {
  if (method === undefined) return true;
  return !SAFE_METHODS.has(method) && !SAFE_METHODS.has(method.toUpperCase());
}

const refusals = {
  crossSite: 'Cross-site request refused: a page on another site sent this request, and the credentials it would act with are cookies (CSRF). Send it from this app\'s own pages, or list the page\'s origin in csrf.trustedOrigins.',
  sameSite: 'Cross-origin request refused: a page on another origin of this site (Sec-Fetch-Site: same-site) sent this request, and the credentials it would act with are cookies (CSRF). Allow it with csrf.trustedOrigins or csrf.allowSameSite.',
  unknownSite: 'Cross-origin request refused: its Sec-Fetch-Site header is not one this server can trust, and the credentials it would act with are cookies (CSRF).',
  origin: 'Cross-origin request refused: its Origin is not this server\'s own origin, and the credentials it would act with are cookies (CSRF). List that origin in csrf.trustedOrigins if it is yours.',
} as const;

function refused(reason: keyof typeof refusals): JwtGuardError {
  return new JwtGuardError('csrf_refused', refusals[reason]);
}

/** `https://Example.com:443` → `https://example.com`; `undefined` when it is not an http(s) origin. */
function serialised(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Go's rule when the scheme is unknown: the Origin's `host[:port]` equals the `Host` header. */
function sameHost(origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  try {
    return new URL(origin).host === host.trim().toLowerCase();
  } catch {
    return false;
  }
}

/**
 * @internal The CSRF verdict for an unsafe request that may carry cookie credentials, after
 * Go 1.25's `CrossOriginProtection`: `undefined` to let it through, else the 403 `csrf_refused`.
 *
 * 1. `Sec-Fetch-Site: same-origin` or `none` (typed by the user) passes; `same-site` passes under
 *    `allowSameSite`; any other value (`cross-site`, `same-site`, garbage) passes only when
 *    `Origin` is one of `trustedOrigins`.
 * 2. Without Fetch Metadata (an older browser), `Origin` must be a trusted origin or the
 *    request's own origin: `ownOrigin()` (`scheme://host[:port]` as the framework knows it), or,
 *    when that is unknown, an Origin whose host equals the `Host` header.
 * 3. With neither header the request is not a browser's cross-origin request: it passes.
 *
 * `ownOrigin` is only called for step 2, which current browsers never reach.
 */
export function csrfVerdict(headers: HeadersLike, policy: CsrfPolicy, ownOrigin: () => string | undefined): JwtGuardError | undefined {
  const site = headerValue(headers, 'sec-fetch-site');
  const origin = headerValue(headers, 'origin');
  if (site !== undefined && site !== '') {
    if (site === 'same-origin' || site === 'none') return undefined;
    if (site === 'same-site' && policy.allowSameSite) return undefined;
    if (origin !== undefined && policy.trustedOrigins.has(origin)) return undefined;
    return refused(site === 'cross-site' ? 'crossSite' : site === 'same-site' ? 'sameSite' : 'unknownSite');
  }
  if (origin === undefined || origin === '') return undefined;
  if (policy.trustedOrigins.has(origin)) return undefined;
  const own = ownOrigin();
  if (own !== undefined) {
    const mine = serialised(own);
    if (mine !== undefined && origin === mine) return undefined;
  } else if (sameHost(origin, headerValue(headers, 'host'))) {
    return undefined;
  }
  return refused('origin');
}
