/**
 * The `tokenCookie` option: the access token travels in an HttpOnly cookie that the login (and
 * refresh) answer sets, instead of in the JSON body, and the guard reads it from there.
 *
 * @example
 * ```ts
 * const tokenCookie: TokenCookieOptions = { name: '__Host-jwtguard', sameSite: 'lax' }
 * jwtGuard({ secret, authPath: '/api/auth/login', tokenCookie })
 * ```
 */
export interface TokenCookieOptions {
  /**
   * Cookie name. Default `"__Host-jwtguard"` (`"jwtguard"` with `secure: false`, since a prefixed
   * cookie must be `Secure`). A `__Host-` name is always `Secure`, `Path=/` and without `Domain`
   * (RFC 6265bis §4.1.3), which is exactly what this cookie is.
   */
  name?: string;
  /** `SameSite` attribute. Default `"lax"`; `"none"` needs `Secure` (and CSRF protection, which stays on). */
  sameSite?: 'lax' | 'strict' | 'none';
  /**
   * `false` leaves out the `Secure` attribute, for `http://localhost` development only: the
   * attribute is still set on answers to any request whose `Host` is not `localhost`, a
   * `*.localhost` name or a loopback address, and the guard warns once when it is built. Default `true`.
   */
  secure?: boolean;
}

/**
 * The `refresh.cookie` option: the refresh token travels in an HttpOnly cookie scoped to the
 * refresh path, which refresh requests read instead of a JSON body.
 *
 * @example
 * ```ts
 * jwtGuard({ secret, authPath: '/api/auth/login', tokenCookie: true, refresh: { path: '/api/auth/refresh', cookie: true } })
 * ```
 */
export interface RefreshCookieOptions {
  /**
   * Cookie name. Default `"__Secure-jwtguard-refresh"` (`"jwtguard-refresh"` with `secure: false`).
   * `__Host-` is refused: it forbids the narrower `Path` this cookie has (`refresh.path`).
   */
  name?: string;
  /** `SameSite` attribute. Default `"strict"`: only the app's own pages ever call the refresh endpoint. */
  sameSite?: 'lax' | 'strict' | 'none';
  /** As {@link TokenCookieOptions.secure}: `false` for `http://localhost` development only. Default `true`. */
  secure?: boolean;
}

/**
 * The `csrf` option: how far the protection of cookie-carried credentials is widened. The check
 * itself is on whenever a cookie carries tokens (`cookie`, `tokenCookie`, `refresh.cookie`);
 * `csrf: false` turns it off (with a warning).
 *
 * @example
 * ```ts
 * jwtGuard({ secret, authPath: '/api/auth/login', tokenCookie: true, csrf: { trustedOrigins: ['https://admin.example.com'] } })
 * ```
 */
export interface CsrfOptions {
  /**
   * Origins (`scheme://host[:port]`, nothing else) whose unsafe requests pass although they are
   * cross-origin, compared with the request's `Origin` header. Default: none.
   */
  trustedOrigins?: string[];
  /**
   * `true` also lets through requests the browser marks `Sec-Fetch-Site: same-site` (another
   * origin of the same site, e.g. a sibling subdomain). Default `false`: a compromised sibling
   * must not be able to act with your users' cookies.
   */
  allowSameSite?: boolean;
}
