// Request targets that a guard parsing the target itself may read differently from the framework
// that routes it, the methods to send them with, a fast-check grammar of more such targets, and
// the oracle: what no tokenless request may ever get.
import fc from 'fast-check';
import { HANDLER_HEADER } from '../harness.js';
import type { RawRequest, RawResponse } from './raw-http.js';

export const AUTH_PATH = '/api/auth/login';
export const PUBLIC_PATH = '/api/health';

/**
 * A method as sent, with its extra headers. `preflight` marks a real CORS preflight (`OPTIONS` with
 * `Origin` and `Access-Control-Request-Method`), which passes unguarded by design. An `OPTIONS` with
 * `Access-Control-Request-Method` but no `Origin` is no preflight (browsers always send `Origin`):
 * it is held to the full safety properties.
 */
export interface MethodVariant {
  readonly label: string;
  readonly method: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly preflight?: boolean;
}

export const METHODS: readonly MethodVariant[] = [
  { label: 'GET', method: 'GET' },
  { label: 'POST', method: 'POST' },
  { label: 'PUT', method: 'PUT' },
  { label: 'DELETE', method: 'DELETE' },
  { label: 'OPTIONS', method: 'OPTIONS' },
  { label: 'OPTIONS+ACRM+Origin', method: 'OPTIONS', headers: { 'Access-Control-Request-Method': 'GET', Origin: 'http://example.test' }, preflight: true },
  { label: 'HEAD', method: 'HEAD' },
];

/**
 * `OPTIONS` with `Access-Control-Request-Method` but without `Origin`: no preflight, so held to the
 * full properties. Tested on its own, so that its failures and those of the target parsing never hide each other.
 */
export const ORIGINLESS_PREFLIGHT: MethodVariant = { label: 'OPTIONS+ACRM(no Origin)', method: 'OPTIONS', headers: { 'Access-Control-Request-Method': 'GET' } };

/** `path` with `mark` inserted before each of its characters and at its end. */
function markedEverywhere(path: string, mark: string): string[] {
  return Array.from({ length: path.length + 1 }, (_, at) => `${path.slice(0, at)}${mark}${path.slice(at)}`);
}

/** Absolute-form authorities: scheme case, port, userinfo. */
const AUTHORITIES = ['http://x', 'http://x:80', 'https://x', 'HTTP://X', 'hTtPs://x:443', 'http://user@x', 'http://x:'];

/** Paths that are not the auth or public path, or are only to a router that normalises them. */
const ORIGIN_FORM = [
  // dot segments, plain and percent-encoded
  '/api/x/../auth/login',
  '/api/x/%2e%2e/auth/login',
  '/api/x/%2E%2E/auth/login',
  '/api/x/.%2e/auth/login',
  '/api/./auth/login',
  '/api/%2e/auth/login',
  '/api/./health',
  '/api/%2e/health',
  '/api/x/../health',
  '/api/%2e%2e/api/health',
  '/api/me/../health',
  '/api/me/%2e%2e/health',
  '/api/health/../me',
  '/api/health/%2e%2e/me',
  '/api/auth/login/..',
  '/api/auth/login/.',
  '/api/auth/login/%2e%2e',
  '/api/health/..',
  '/api/auth/login/../../me',
  '/../api/auth/login',
  '/%2e%2e/api/health',
  // doubled and trailing slashes
  '//api/auth/login',
  '//api/health',
  '/api//auth/login',
  '/api//health',
  '///api/health',
  '/api/auth/login/',
  '/api/health/',
  '/api/health//',
  // matrix parameters
  '/api/auth/login;x',
  '/api/health;x',
  '/api;/health',
  '/;/api/health',
  '/api/auth;/login',
  // encoded slashes and letters
  '/api%2Fauth%2Flogin',
  '/api%2fhealth',
  '/api/auth%2Flogin',
  '/api/auth/log%69n',
  '/api/he%61lth',
  '/%61pi/health',
  '/api/health%00',
  '/api/health%20',
  // case
  '/API/AUTH/LOGIN',
  '/API/HEALTH',
  '/Api/Health',
  '/api/auth/LOGIN',
  // backslashes (URL parsers turn them into slashes)
  '/api\\health',
  '\\api\\health',
  '/api\\auth\\login',
  // the plain routes themselves, and others
  AUTH_PATH,
  PUBLIC_PATH,
  '/api/me',
  '/',
  '/api/me?/api/health',
  '/api/health?x=1',
  '/api/auth/login?x=1',
  '/?/api/health',
  '/#/api/auth/login',
  '*',
  '*?/api/health',
  '?/api/health',
  '',
];

/** Every target of the corpus, without duplicates. */
export function corpusTargets(): string[] {
  const targets = new Set<string>(ORIGIN_FORM);
  for (const path of [AUTH_PATH, PUBLIC_PATH]) {
    // `?` and `#` in every position, in origin-form and after an authority
    for (const mark of ['?', '#']) {
      for (const marked of markedEverywhere(path, mark)) {
        targets.add(marked);
        targets.add(`http://x${marked}`);
      }
    }
    for (const authority of AUTHORITIES) {
      // right after the authority, where the framework sees the path `/`
      targets.add(`${authority}?${path}`);
      targets.add(`${authority}?a=${path}`);
      targets.add(`${authority}#${path}`);
      targets.add(`${authority}/?${path}`);
      targets.add(`${authority}/#${path}`);
      targets.add(`${authority}?${path}#`);
      targets.add(`${authority}#?${path}`);
      // the legitimate absolute form of the path
      targets.add(`${authority}${path}`);
      targets.add(`${authority}${path}?/x`);
    }
    targets.add(`//x?${path}`);
    targets.add(`http:/x?${path}`);
    targets.add(`http://x/api/me?${path}`);
    targets.add(`http://x/api/x/..?${path}`);
  }
  for (const path of ORIGIN_FORM) if (path.startsWith('/')) targets.add(`http://x${path}`);
  return [...targets];
}

// --- the grammar -------------------------------------------------------------------------------

const WORDS = ['api', 'auth', 'login', 'health', 'me'] as const;
const SEGMENTS = ['api', 'auth', 'login', 'health', 'me', '.', '..', '%2e', '%2E%2E', '.%2e', '%2F', '%2f', '%69', 'log%69n', 'he%61lth', ''];

const authorityArb = fc
  .tuple(fc.mixedCase(fc.constantFrom('http', 'https')), fc.constantFrom('x', 'X', 'localhost', '127.0.0.1', 'user@x'), fc.constantFrom('', ':80', ':443', ':8080', ':'))
  .map(([scheme, host, port]) => `${scheme}://${host}${port}`);

const segmentArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SEGMENTS) },
  { weight: 1, arbitrary: fc.mixedCase(fc.constantFrom(...WORDS)) },
  { weight: 1, arbitrary: fc.constantFrom(...WORDS).map((word) => word.toUpperCase()) },
);
const separatorArb = fc.constantFrom('/', '/', '/', ';');
const randomPathArb = fc.array(fc.tuple(separatorArb, segmentArb), { maxLength: 6 }).map((parts) => parts.map(([separator, segment]) => separator + segment).join(''));
/** The routes themselves, often: a mark right before them is what splits guard and router. */
const knownPathArb = fc.constantFrom(AUTH_PATH, AUTH_PATH, PUBLIC_PATH, PUBLIC_PATH, '/api/me', '/');
const pathArb = fc.oneof({ weight: 2, arbitrary: knownPathArb }, { weight: 1, arbitrary: randomPathArb });

/** A query or fragment mark, at the start of the path (right after an authority) or anywhere in it. */
const markArb = fc.option(
  fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat() }), fc.constantFrom('?', '#', '?a=', '?/', '#/', '#?', '??')),
  { freq: 4 },
);

export const targetArb: fc.Arbitrary<string> = fc
  .tuple(fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 3, arbitrary: authorityArb }), pathArb, markArb, fc.constantFrom('', '', '', '/', '?x', '#x'))
  .map(([prefix, path, mark, suffix]) => {
    if (mark === null) return `${prefix}${path}${suffix}`;
    const at = mark[0] % (path.length + 1);
    return `${prefix}${path.slice(0, at)}${mark[1]}${path.slice(at)}${suffix}`;
  });

export const methodArb: fc.Arbitrary<MethodVariant> = fc.constantFrom(...METHODS);

// --- the oracle --------------------------------------------------------------------------------

export function rawRequestOf(variant: MethodVariant, target: string): RawRequest {
  return { method: variant.method, target, headers: variant.headers };
}

function jsonOf(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function excerpt(response: RawResponse): string {
  const handler = response.headers[HANDLER_HEADER];
  return `${response.status}${handler === undefined ? '' : ` ${HANDLER_HEADER}: ${handler}`} ${JSON.stringify(response.body.slice(0, 100))}`;
}

/**
 * What is wrong with the answer to a request that carried no token, or `undefined`:
 * - a token was minted (a `"token"` field in the body);
 * - a 2xx came from a handler other than the public `/api/health` one (`root`, `catchall`,
 *   `/api/me`'s `{ user }`, or any 2xx that does not name itself `health`). The login route has
 *   no valid credentials here, so it never answers 2xx either. Real CORS preflights (`OPTIONS`
 *   with `Origin` and `Access-Control-Request-Method`) pass unguarded by design
 *   (`guardPreflight: false`) and may reach a handler, so for them only the token is checked.
 */
export function violationOf(variant: MethodVariant, response: RawResponse | string): string | undefined {
  if (typeof response === 'string') return `no HTTP answer: ${response}`;
  const body = jsonOf(response.body);
  const object = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  if ((object !== undefined && 'token' in object) || /"token"\s*:/.test(response.body)) return `a token was minted: ${excerpt(response)}`;
  if (variant.preflight === true || response.status < 200 || response.status > 299) return undefined;
  const handler = response.headers[HANDLER_HEADER] ?? object?.handler;
  if (handler === 'health') return undefined;
  return `a guarded handler answered ${handler === undefined ? (object !== undefined && 'user' in object ? '(/api/me)' : '(unnamed)') : `(${String(handler)})`}: ${excerpt(response)}`;
}

/** `adapter METHOD target: what went wrong`, with the target quoted so `?`, `#` and spaces show. */
export function describeViolation(adapter: string, variant: MethodVariant, target: string, violation: string): string {
  return `${adapter} ${variant.label} ${JSON.stringify(target)}: ${violation}`;
}
