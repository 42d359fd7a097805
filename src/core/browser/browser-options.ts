import { JwtGuardError } from '../errors/jwt-guard-error.js';
import type { JwtGuardOptions } from '../options/types.js';
import type { CsrfOptions, RefreshCookieOptions, TokenCookieOptions } from './types.js';

/** `SameSite` values, as the `cookie` package writes them. */
export type SameSite = 'lax' | 'strict' | 'none';

/** @internal One cookie jwtguard sets: everything but its value and `Max-Age`, fixed at construction. */
export interface CookieSpec {
  readonly name: string;
  /** `/` for the access token, `refresh.path` for the refresh token. */
  readonly path: string;
  readonly sameSite: SameSite;
  /** `false` only under `secure: false`: `Secure` is then left out on answers to local hosts only. */
  readonly secure: boolean;
}

/** @internal The CSRF policy for unsafe requests that may carry cookie credentials. */
export interface CsrfPolicy {
  /** `csrf.trustedOrigins`, each as its serialised origin (`https://admin.example.com`). */
  readonly trustedOrigins: ReadonlySet<string>;
  readonly allowSameSite: boolean;
}

/**
 * @internal The browser options after validation: the cookies jwtguard sets, and the CSRF policy.
 * `csrf` is `undefined` when no cookie carries tokens (nothing to protect) or under `csrf: false`.
 */
export interface NormalizedBrowser {
  readonly tokenCookie: CookieSpec | undefined;
  readonly refreshCookie: CookieSpec | undefined;
  readonly csrf: CsrfPolicy | undefined;
}

/** What the browser options depend on among the other options, already validated. */
export interface BrowserContext {
  readonly authPath: string | undefined;
  /** `refresh.path`, when sessions are configured. */
  readonly refreshPath: string | undefined;
  /** The `cookie` option (the name of a cookie carrying the token), trimmed. */
  readonly cookieSource: string | undefined;
  readonly warn: (message: string) => void;
}

const DEFAULT_TOKEN_COOKIE = '__Host-jwtguard';
const DEFAULT_REFRESH_COOKIE = '__Secure-jwtguard-refresh';
/** A cookie-name token (RFC 6265 §4.1.1 / RFC 9110 §5.6.2). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SAME_SITE: readonly SameSite[] = ['lax', 'strict', 'none'];

function invalid(message: string): JwtGuardError {
  return new JwtGuardError('invalid_options', `jwtguard: ${message}`);
}

function hasPrefix(name: string, prefix: string): boolean {
  // RFC 6265bis §4.1.3: prefixes are matched case-insensitively.
  return name.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase();
}

function checkKeys(value: object, option: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw invalid(`\`${option}\` has no option \`${key}\`; it takes ${known.map((k) => `\`${k}\``).join(', ')}.`);
  }
}

/** `true` → `{}`, `false` / `undefined` → `undefined`, an object as it is; anything else refused. */
function optionObject<T extends object>(value: unknown, option: string, example: string): T | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`\`${option}\` must be \`true\` or an object such as ${example}; got ${JSON.stringify(value)}.`);
  return value as T;
}

function cookieSpec(given: TokenCookieOptions | RefreshCookieOptions, option: string, path: string, defaults: { name: string; insecureName: string; sameSite: SameSite }): CookieSpec {
  checkKeys(given, option, ['name', 'sameSite', 'secure']);
  const { name, sameSite = defaults.sameSite, secure = true } = given;
  if (typeof secure !== 'boolean') throw invalid(`\`${option}.secure\` must be a boolean (\`false\` only for http://localhost development); got ${JSON.stringify(secure)}.`);
  if (name !== undefined && (typeof name !== 'string' || !COOKIE_NAME.test(name))) {
    throw invalid(`\`${option}.name\` must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~), e.g. "${defaults.name}"; got ${JSON.stringify(name)}.`);
  }
  if (!SAME_SITE.includes(sameSite)) throw invalid(`\`${option}.sameSite\` must be "lax", "strict" or "none"; got ${JSON.stringify(sameSite)}.`);
  const resolved = name ?? (secure ? defaults.name : defaults.insecureName);
  if (!secure && (hasPrefix(resolved, '__Host-') || hasPrefix(resolved, '__Secure-'))) {
    throw invalid(`\`${option}.name\` "${resolved}" has a prefix that browsers accept only on \`Secure\` cookies, and \`secure\` is false: drop the prefix (e.g. "${defaults.insecureName}") or keep \`secure\`.`);
  }
  if (!secure && sameSite === 'none') throw invalid(`\`${option}.sameSite: "none"\` needs \`Secure\` (browsers drop such cookies otherwise): keep \`secure\`.`);
  if (hasPrefix(resolved, '__Host-') && path !== '/') {
    throw invalid(`\`${option}.name\` "${resolved}" cannot be used: a \`__Host-\` cookie must have \`Path=/\`, and this cookie is scoped to ${path}; use a \`__Secure-\` name such as "${defaults.name}".`);
  }
  return Object.freeze({ name: resolved, path, sameSite, secure });
}

/** A trusted origin as browsers serialise it in `Origin`: `scheme://host[:port]`, lower case, no default port. */
function serialisedOrigin(entry: unknown): string {
  const example = 'e.g. "https://admin.example.com"';
  if (typeof entry !== 'string') throw invalid(`\`csrf.trustedOrigins\` entries must be origins as strings, ${example}; got ${JSON.stringify(entry)}.`);
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw invalid(`\`csrf.trustedOrigins\` entry ${JSON.stringify(entry)} is not an origin (scheme://host[:port]), ${example}.`);
  }
  const bare = (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  // A `*` parses as part of a host name, but would only ever match itself: wildcards are refused.
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !bare || url.hostname.includes('*') || !/^https?:\/\/[^/?#]+\/?$/i.test(entry)) {
    throw invalid(`\`csrf.trustedOrigins\` entry ${JSON.stringify(entry)} must be an http(s) origin alone (scheme://host[:port], no path, query or wildcard), ${example}.`);
  }
  return url.origin;
}

function csrfPolicy(value: unknown): CsrfPolicy | undefined {
  const given = optionObject<CsrfOptions>(value, 'csrf', '`{ trustedOrigins: ["https://admin.example.com"] }`, or `false`');
  if (given === undefined) return undefined;
  checkKeys(given, 'csrf', ['trustedOrigins', 'allowSameSite']);
  const { trustedOrigins = [], allowSameSite = false } = given;
  if (!Array.isArray(trustedOrigins)) throw invalid(`\`csrf.trustedOrigins\` must be a list of origins, e.g. ["https://admin.example.com"]; got ${JSON.stringify(trustedOrigins)}.`);
  if (typeof allowSameSite !== 'boolean') throw invalid(`\`csrf.allowSameSite\` must be a boolean; got ${JSON.stringify(allowSameSite)}.`);
  return Object.freeze({ trustedOrigins: new Set(trustedOrigins.map(serialisedOrigin)), allowSameSite });
}

/**
 * @internal Validates `tokenCookie`, `refresh.cookie` and `csrf`, and warns (once, here) about
 * `secure: false` and about `csrf: false` while cookies carry tokens.
 *
 * @throws {JwtGuardError} `invalid_options` with a message that says how to fix it.
 */
export function normalizeBrowser(options: JwtGuardOptions, context: BrowserContext): NormalizedBrowser {
  const tokenGiven = optionObject<TokenCookieOptions>(options.tokenCookie, 'tokenCookie', '`{ name: "__Host-jwtguard", sameSite: "lax" }`');
  const refreshOption = (options.refresh as { cookie?: unknown } | undefined)?.cookie;
  const refreshGiven = optionObject<RefreshCookieOptions>(refreshOption, 'refresh.cookie', '`{ name: "__Secure-jwtguard-refresh" }`');

  let tokenCookie: CookieSpec | undefined;
  if (tokenGiven !== undefined) {
    if (context.authPath === undefined) {
      throw invalid('`tokenCookie` is set by the login answer, so it needs `authPath`; to only read a token cookie set elsewhere, use `cookie: "<its name>"`.');
    }
    tokenCookie = cookieSpec(tokenGiven, 'tokenCookie', '/', { name: DEFAULT_TOKEN_COOKIE, insecureName: 'jwtguard', sameSite: 'lax' });
    if (context.cookieSource !== undefined && context.cookieSource !== tokenCookie.name) {
      throw invalid(`\`cookie\` ("${context.cookieSource}") and \`tokenCookie\` ("${tokenCookie.name}") name different cookies: the guard reads the token cookie by itself, so drop \`cookie\`.`);
    }
  }
  let refreshCookie: CookieSpec | undefined;
  if (refreshGiven !== undefined) {
    // refresh.cookie lives inside `refresh`, so sessions (and refresh.path) are configured.
    refreshCookie = cookieSpec(refreshGiven, 'refresh.cookie', context.refreshPath ?? '/', { name: DEFAULT_REFRESH_COOKIE, insecureName: 'jwtguard-refresh', sameSite: 'strict' });
    if (tokenCookie !== undefined && tokenCookie.name === refreshCookie.name) {
      throw invalid(`\`tokenCookie\` and \`refresh.cookie\` must have different names; both are "${tokenCookie.name}".`);
    }
  }

  const cookiesCarryTokens = context.cookieSource !== undefined || tokenCookie !== undefined || refreshCookie !== undefined;
  const csrf = options.csrf === false ? undefined : csrfPolicy(options.csrf ?? true);
  if (options.csrf === false && cookiesCarryTokens) {
    context.warn('jwtguard: `csrf: false` turns off CSRF protection although cookies carry tokens: any site can make a browser send requests with your users\' cookies. Keep it on unless another layer checks every unsafe request.');
  }
  if ((tokenCookie !== undefined && !tokenCookie.secure) || (refreshCookie !== undefined && !refreshCookie.secure)) {
    context.warn('jwtguard: `secure: false` leaves `Secure` off the token cookies, for http://localhost development only; answers to any other host still get `Secure`. Do not use it in production.');
  }
  return Object.freeze({ tokenCookie, refreshCookie, csrf: cookiesCarryTokens ? csrf : undefined });
}
