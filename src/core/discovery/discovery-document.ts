// Reading an issuer's metadata: OpenID Connect Discovery 1.0 §4 (`<issuer>/.well-known/openid-configuration`)
// and OAuth 2.0 Authorization Server Metadata, RFC 8414 §3 (`/.well-known/oauth-authorization-server<path>`).
// Web-standard only (fetch, URL, AbortSignal): the core runs on every runtime Hono supports.
import { customFetch, type RemoteJWKSetOptions } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import type { JwsAlgorithm, JwtGuardOptions } from '../options/types.js';

/**
 * The asymmetric algorithms jwtguard verifies; the only ones a discovery document can ever add to the allowlist.
 *
 * @example
 * ```ts
 * ASYMMETRIC_ALGORITHMS.includes('HS256') // false: HMAC never comes from a provider's metadata
 * ```
 */
export const ASYMMETRIC_ALGORITHMS: readonly JwsAlgorithm[] = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

/**
 * A discovery document larger than this is refused, and no more of it is read (real ones are a few KiB).
 *
 * @example
 * ```ts
 * MAX_DOCUMENT_BYTES // 1048576
 * ```
 */
export const MAX_DOCUMENT_BYTES = 1_048_576;

/**
 * `issuerBaseURL` after validation: the exact issuer identifier expected in the metadata and in
 * every token's `iss`, and the two places its metadata may be published.
 *
 * @example
 * ```ts
 * const discovery = discoveryOptionsOf({ issuerBaseURL: 'https://idp.example/realms/shop', audience: 'orders' })
 * discovery?.documentURLs.map(String)
 * // ['https://idp.example/realms/shop/.well-known/openid-configuration',
 * //  'https://idp.example/.well-known/oauth-authorization-server/realms/shop']
 * ```
 */
export interface DiscoveryOptions {
  /** The issuer identifier the metadata's `issuer` must equal, character for character (`issuer` when given, else `issuerBaseURL`). */
  readonly issuer: string;
  /** The OpenID Connect discovery URL, then the RFC 8414 one. */
  readonly documentURLs: readonly [openid: URL, oauth: URL];
  /** True when the issuer is plain http on this machine (development): only then may its `jwks_uri` be plain http. */
  readonly localHttp: boolean;
}

function invalid(message: string): JwtGuardError {
  return new JwtGuardError('invalid_options', `jwtguard: ${message}`);
}

/**
 * Hosts where plain http cannot be intercepted on the network: the same rule as the `jwks` option.
 *
 * @example
 * ```ts
 * isLocalHost(new URL('http://127.0.0.1:3000')) // true
 * isLocalHost(new URL('http://idp.example.com')) // false
 * ```
 */
export function isLocalHost(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}

/**
 * Validates `issuerBaseURL` (and how `issuer`, `jwks` and `getKey` combine with it) once, at
 * construction. Returns `undefined` when the option is not set.
 *
 * @throws {JwtGuardError} `invalid_options`, saying what to change.
 *
 * @example
 * ```ts
 * discoveryOptionsOf({ issuerBaseURL: 'https://tenant.eu.auth0.com/' })?.issuer // 'https://tenant.eu.auth0.com/'
 * discoveryOptionsOf({ issuerBaseURL: 'http://idp.example' })                   // throws invalid_options (https only)
 * ```
 */
export function discoveryOptionsOf(options: JwtGuardOptions): DiscoveryOptions | undefined {
  const { issuerBaseURL, issuer, jwks, getKey } = options;
  if (issuerBaseURL === undefined) return undefined;
  const example = 'e.g. "https://tenant.eu.auth0.com/" or "https://sso.example.com/realms/main"';
  if (typeof issuerBaseURL !== 'string' || issuerBaseURL === '') {
    throw invalid(`\`issuerBaseURL\` must be the issuer identifier as a string, exactly as the provider writes it in \`iss\`, ${example}.`);
  }
  let url: URL;
  try {
    url = new URL(issuerBaseURL);
  } catch {
    throw invalid(`\`issuerBaseURL\` must be an absolute URL, ${example}; got ${JSON.stringify(issuerBaseURL)}.`);
  }
  const localHttp = url.protocol === 'http:' && isLocalHost(url);
  if (url.protocol !== 'https:' && !localHttp) {
    throw invalid(`\`issuerBaseURL\` must be an https URL (plain http is allowed only for localhost): metadata fetched in clear text could name anyone's keys; got ${url.protocol}//${url.host}.`);
  }
  if (url.search !== '' || url.hash !== '' || issuerBaseURL.includes('?') || issuerBaseURL.includes('#')) {
    throw invalid('`issuerBaseURL` must have no query or fragment: an issuer identifier has none (RFC 8414 §2).');
  }
  if (url.username !== '' || url.password !== '') throw invalid('`issuerBaseURL` must not contain credentials; pass them as `jwksOptions.headers`.');
  if (url.pathname.includes('/.well-known/')) {
    throw invalid(`\`issuerBaseURL\` is the issuer, not its discovery document: drop "${url.pathname.slice(url.pathname.indexOf('/.well-known/'))}" (jwtguard appends it).`);
  }
  if (jwks !== undefined) {
    throw invalid('`issuerBaseURL` and `jwks` are both set: discovery finds the key set itself (its `jwks_uri`). Drop `jwks`, or drop `issuerBaseURL` and set `jwks` with `issuer`.');
  }
  if (getKey !== undefined) throw invalid('`issuerBaseURL` and `getKey` are both set: `getKey` would choose every key and discovery would never be used. Keep one.');
  if (issuer !== undefined && (typeof issuer !== 'string' || issuer === '')) {
    throw invalid('with `issuerBaseURL`, `issuer` must be one string: the exact issuer identifier of that provider (its metadata and its tokens must name it), or leave it out to use `issuerBaseURL`.');
  }

  // OpenID Connect Discovery §4: remove one terminating "/", then append the well-known path.
  const base = issuerBaseURL.endsWith('/') ? issuerBaseURL.slice(0, -1) : issuerBaseURL;
  const openid = new URL(`${base}/.well-known/openid-configuration`);
  // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const oauth = new URL(`/.well-known/oauth-authorization-server${path}`, url.origin);
  return Object.freeze({ issuer: issuer ?? issuerBaseURL, documentURLs: Object.freeze([openid, oauth] as const), localHttp });
}

/**
 * What jwtguard takes from an issuer's metadata.
 *
 * @example
 * ```ts
 * const { issuer, jwksUri, advertisedAlgorithms } = await discoverIssuer(discovery, undefined, 5000)
 * // 'https://idp.example', URL('https://idp.example/jwks'), ['RS256', 'ES256']
 * ```
 */
export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwksUri: URL;
  /**
   * `id_token_signing_alg_values_supported` restricted to RS/PS/ES/EdDSA (HMAC, `none` and names
   * jwtguard does not verify dropped); `undefined` when the document has no such list.
   */
  readonly advertisedAlgorithms: readonly JwsAlgorithm[] | undefined;
  /** Where the document was read (the OpenID or the RFC 8414 URL). */
  readonly documentURL: URL;
}

/**
 * Why reading the metadata failed. `answered` failures (an HTTP status other than 2xx, a body
 * that is not a metadata document) let the RFC 8414 location be tried; a network failure, a
 * timeout or a document that names another issuer do not. It is the `cause` of the 503
 * `key_source_unavailable` errors verification gives meanwhile.
 *
 * @example
 * ```ts
 * try {
 *   await verifyToken(token, options)
 * } catch (err) {
 *   if (err instanceof JwtGuardError && err.cause instanceof Error && err.cause.name === 'DiscoveryFailure') log.warn(err.cause.message)
 * }
 * ```
 */
export class DiscoveryFailure extends Error {
  override readonly name = 'DiscoveryFailure';
  constructor(
    message: string,
    readonly kind: 'network' | 'answered' | 'issuer' | 'jwks_uri',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type FetchImpl = (url: string, init: RequestInit) => Promise<Response>;

async function readCapped(response: Response, url: URL): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_DOCUMENT_BYTES) throw new DiscoveryFailure(`${url.href} answered ${declared} bytes, more than a discovery document's ${MAX_DOCUMENT_BYTES}.`, 'answered');
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new DiscoveryFailure(`${url.href} answered more than a discovery document's ${MAX_DOCUMENT_BYTES} bytes.`, 'answered');
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

/** Fetches and parses one metadata document; every failure is a {@link DiscoveryFailure}. */
async function fetchDocument(url: URL, jwksOptions: RemoteJWKSetOptions | undefined, timeoutMs: number): Promise<Record<string, unknown>> {
  const headers = new Headers(jwksOptions?.headers);
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  const fetchImpl = (jwksOptions?.[customFetch] as FetchImpl | undefined) ?? ((input: string, init: RequestInit) => fetch(input, init));
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    // No redirects: a 3xx is an answer like a 404 (jose fetches the JWKS the same way).
    response = await fetchImpl(url.href, { method: 'GET', headers, redirect: 'manual', signal });
  } catch (cause) {
    throw new DiscoveryFailure(signal.aborted ? `${url.href} did not answer within ${timeoutMs} ms.` : `${url.href} could not be reached.`, 'network', { cause });
  }
  let text: string;
  try {
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel().catch(() => undefined);
      throw new DiscoveryFailure(`${url.href} answered HTTP ${response.status}.`, 'answered');
    }
    text = await readCapped(response, url);
  } catch (cause) {
    if (cause instanceof DiscoveryFailure) throw cause;
    if (signal.aborted) throw new DiscoveryFailure(`${url.href} did not finish its answer within ${timeoutMs} ms.`, 'network', { cause });
    throw new DiscoveryFailure(`${url.href} answered a body that could not be read as UTF-8.`, 'answered', { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new DiscoveryFailure(`${url.href} answered something that is not JSON.`, 'answered', { cause });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new DiscoveryFailure(`${url.href} answered JSON that is not an object.`, 'answered');
  return json as Record<string, unknown>;
}

/** Checks a fetched document against the configured issuer and reads what jwtguard uses from it. */
function metadataOf(document: Record<string, unknown>, discovery: DiscoveryOptions, documentURL: URL): IssuerMetadata {
  const { issuer, jwks_uri: jwksUri, id_token_signing_alg_values_supported: advertised } = document;
  if (typeof issuer !== 'string' || typeof jwksUri !== 'string') {
    throw new DiscoveryFailure(`${documentURL.href} is not issuer metadata: it needs string \`issuer\` and \`jwks_uri\` members.`, 'answered');
  }
  // OpenID Connect Discovery §4.3, RFC 8414 §3.3: identical, or the document is someone else's (mix-up).
  if (issuer !== discovery.issuer) {
    throw new DiscoveryFailure(
      `${documentURL.href} names issuer ${JSON.stringify(issuer)}, but jwtguard expects ${JSON.stringify(discovery.issuer)} (exactly, trailing "/" included). ` +
        `If the provider is right, set \`issuerBaseURL\` (or \`issuer\`) to ${JSON.stringify(issuer)}.`,
      'issuer',
    );
  }
  let jwksURL: URL;
  try {
    jwksURL = new URL(jwksUri);
  } catch {
    throw new DiscoveryFailure(`${documentURL.href} has a \`jwks_uri\` that is not an absolute URL.`, 'jwks_uri');
  }
  if (jwksURL.protocol !== 'https:' && !(jwksURL.protocol === 'http:' && discovery.localHttp && isLocalHost(jwksURL))) {
    throw new DiscoveryFailure(`${documentURL.href} has a \`jwks_uri\` that is not https (${jwksURL.protocol}//${jwksURL.host}); keys fetched in clear text could be swapped.`, 'jwks_uri');
  }
  const advertisedAlgorithms = Array.isArray(advertised) ? ASYMMETRIC_ALGORITHMS.filter((alg) => advertised.includes(alg)) : undefined;
  return { issuer, jwksUri: jwksURL, advertisedAlgorithms, documentURL };
}

/**
 * Reads the issuer's metadata: the OpenID Connect document first, then, if that location answered
 * with something other than a metadata document (a 404, HTML, ...), the RFC 8414 one. A network
 * failure or timeout does not try the second location (same host), and a document naming another
 * issuer is final.
 *
 * @throws {DiscoveryFailure} always with a message that names the URL and what was wrong.
 *
 * @example
 * ```ts
 * const metadata = await discoverIssuer(discoveryOptionsOf({ issuerBaseURL: 'https://idp.example' })!, undefined, 5000)
 * metadata.jwksUri.href // e.g. 'https://idp.example/jwks'
 * ```
 */
export async function discoverIssuer(discovery: DiscoveryOptions, jwksOptions: RemoteJWKSetOptions | undefined, timeoutMs: number): Promise<IssuerMetadata> {
  const [openid, oauth] = discovery.documentURLs;
  let first: DiscoveryFailure;
  try {
    return metadataOf(await fetchDocument(openid, jwksOptions, timeoutMs), discovery, openid);
  } catch (error) {
    if (!(error instanceof DiscoveryFailure) || error.kind !== 'answered') throw error;
    first = error;
  }
  try {
    return metadataOf(await fetchDocument(oauth, jwksOptions, timeoutMs), discovery, oauth);
  } catch (error) {
    if (error instanceof DiscoveryFailure && error.kind === 'answered') {
      throw new DiscoveryFailure(`no issuer metadata: ${first.message} ${error.message}`, 'answered', { cause: error });
    }
    throw error;
  }
}
