import { parse as parseCookie, serialize } from 'cookie';
import { headerValue, type HeadersLike } from '../extract/extract-token.js';
import type { CookieSpec } from './browser-options.js';

/**
 * @internal Whether a `Host` header names this machine: `localhost`, a `*.localhost` name, an
 * IPv4 loopback address or `[::1]`, with or without a port. Only answers to such hosts may leave
 * `Secure` off under `secure: false`.
 */
export function isLocalHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const lower = host.trim().toLowerCase();
  let name: string;
  if (lower.startsWith('[')) name = lower.slice(0, lower.indexOf(']') + 1);
  else {
    const colon = lower.indexOf(':');
    name = colon === -1 ? lower : lower.slice(0, colon);
  }
  return name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** The request's `Host` header, if any. */
export function hostOf(headers: HeadersLike | undefined): string | undefined {
  return headers === undefined ? undefined : headerValue(headers, 'host');
}

function attributes(spec: CookieSpec, host: string | undefined, maxAge: number | undefined): Parameters<typeof serialize>[2] {
  return {
    httpOnly: true,
    // secure: false is for http://localhost development only: any other host still gets Secure.
    secure: spec.secure || !isLocalHost(host),
    sameSite: spec.sameSite,
    path: spec.path,
    maxAge,
  };
}

/**
 * @internal The `Set-Cookie` value delivering `value` in the cookie `spec` describes: HttpOnly,
 * `Secure` (see {@link isLocalHost}), its `SameSite` and `Path`, and `Max-Age` = `maxAge` seconds
 * (a whole number, never negative), or a session cookie when `maxAge` is `undefined`.
 */
export function setCookie(spec: CookieSpec, value: string, maxAge: number | undefined, host: string | undefined): string {
  return serialize(spec.name, value, attributes(spec, host, maxAge === undefined ? undefined : Math.max(0, Math.floor(maxAge))));
}

/** @internal The `Set-Cookie` value that removes the cookie: same name, path and attributes, empty, `Max-Age=0`. */
export function clearCookie(spec: CookieSpec, host: string | undefined): string {
  return serialize(spec.name, '', attributes(spec, host, 0));
}

/** @internal The value of cookie `name` in the request's `Cookie` header; `undefined` when absent or empty. */
export function readCookie(headers: HeadersLike | undefined, name: string): string | undefined {
  const header = headers === undefined ? undefined : headerValue(headers, 'cookie');
  if (header === undefined || header === '') return undefined;
  return parseCookie(header)[name] || undefined;
}
