import { decodeJwt } from 'jose';
import { tokenAnswer, type IssuedTokens } from '../browser/deliver.js';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import type { HeadersLike } from '../extract/extract-token.js';
import { errorResponse, type HttpResponse } from '../guard/http-response.js';
import type { NormalizedOptions } from '../options/normalize-options.js';
import { signWith } from '../sign/sign-token.js';
import { decodeContentEncoding, parseContentEncoding, type ContentEncodingHeader } from './content-encoding.js';
import { invalidBody, MintBodyCollector, OVERSIZED, readCapped, release, tooLarge, utf8Exceeds, type MintStream } from './mint-body.js';

/**
 * What a login route can answer with, as the adapters capture it: a JSON-able value (object,
 * array, ...), text, bytes, a {@link MintBodyCollector} filled while the route wrote, a Node or
 * web stream / async iterable of string or byte chunks (read here, only up to `mintBodyLimit`),
 * a `Blob`, or a `Response` (its body is read). Text and bytes are JSON; bytes may be
 * compressed as {@link MintContext.contentEncoding} says.
 *
 * @example
 * ```ts
 * const body: MintBody = '{"userId":123}' // or { userId: 123 }, a Buffer, a Readable, c.res.body, ...
 * ```
 */
export type MintBody = string | Uint8Array | ArrayBuffer | MintBodyCollector | MintStream | Blob | Response | object | null | undefined;

/**
 * What an adapter knows about the login answer besides its status and body.
 *
 * @example
 * ```ts
 * await guard.mint(res.statusCode, body, { contentEncoding: res.getHeader('content-encoding') })
 * ```
 */
export interface MintContext {
  /**
   * The answer's `Content-Encoding` header, e.g. set by a compression middleware that ran after
   * the guard: `gzip`, `x-gzip`, `deflate` and `br` bytes are decoded (a list right to left),
   * `identity` or absent leaves them as they are, anything else is `mint_body_invalid`. It
   * describes bytes, so it is ignored for a body that is a JS value (object, number, ...).
   */
  readonly contentEncoding?: ContentEncodingHeader;
  /**
   * The login request's headers. With `tokenCookie` / `refresh.cookie` its `Host` decides whether
   * `secure: false` may leave `Secure` off (only for `localhost` and loopback addresses).
   */
  readonly requestHeaders?: HeadersLike;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** A body that is a JS value to serialise, rather than text, bytes or something to read them from. */
function isValue(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return typeof body !== 'string';
  return !(
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof MintBodyCollector ||
    (typeof Blob === 'function' && body instanceof Blob) ||
    (typeof Response === 'function' && body instanceof Response) ||
    typeof (body as ReadableStream).getReader === 'function' ||
    typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/** The raw bytes of a body that is not a JS value, read up to `limit`; throws `mint_body_invalid` beyond it. */
async function rawBytes(body: MintBody, limit: number): Promise<Uint8Array> {
  let bytes: Uint8Array | typeof OVERSIZED;
  if (typeof body === 'string') bytes = utf8Exceeds(body, limit) ? OVERSIZED : encoder.encode(body);
  else if (body instanceof Uint8Array) bytes = body;
  else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
  else if (ArrayBuffer.isView(body)) bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  else if (body instanceof MintBodyCollector) bytes = body.take();
  else if (typeof Blob === 'function' && body instanceof Blob) bytes = body.size > limit ? OVERSIZED : new Uint8Array(await body.arrayBuffer());
  else if (typeof Response === 'function' && body instanceof Response) bytes = body.body === null ? new Uint8Array(0) : await readCapped(body.body, limit);
  else bytes = await readCapped(body as MintStream, limit);
  if (bytes === OVERSIZED || bytes.byteLength > limit) throw tooLarge(limit);
  return bytes;
}

/** The body as JSON text: measured against `mintBodyLimit`, decoded as `contentEncoding` says, strict UTF-8. */
async function textOf(body: MintBody, limit: number, contentEncoding: ContentEncodingHeader): Promise<string> {
  const codings = parseContentEncoding(contentEncoding);
  if (typeof body === 'string' && codings.length === 0) {
    if (utf8Exceeds(body, limit)) throw tooLarge(limit);
    return body;
  }
  let bytes = await rawBytes(body, limit);
  if (bytes.byteLength === 0) throw invalidBody('its body is empty');
  if (codings.length > 0) bytes = await decodeContentEncoding(bytes, codings, limit);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw invalidBody('its body is not valid UTF-8');
  }
}

/** Parses and re-serialises the body so only plain JSON data is signed, never more than `mintBodyLimit` bytes of it. */
async function toPayload(body: MintBody, config: NormalizedOptions, context: MintContext | undefined): Promise<Record<string, unknown>> {
  const limit = config.mintBodyLimit;
  let value: unknown;
  if (body === null || body === undefined) throw invalidBody('its body is empty');
  if (isValue(body)) {
    let text: string | undefined;
    try {
      text = JSON.stringify(body) as string | undefined;
    } catch {
      throw invalidBody('its body cannot be serialised as JSON');
    }
    if (text === undefined) throw invalidBody('its body cannot be serialised as JSON');
    if (utf8Exceeds(text, limit)) throw tooLarge(limit);
    value = JSON.parse(text);
  } else {
    const text = await textOf(body, limit, context?.contentEncoding);
    if (text.trim() === '') throw invalidBody('its body is empty');
    try {
      value = JSON.parse(text);
    } catch {
      throw invalidBody('its body is not valid JSON');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidBody('its body is not a JSON object');
  }
  const payload = value as Record<string, unknown>;
  if (payload.exp !== undefined && (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))) {
    throw invalidBody('its "exp" is not a number of seconds since the epoch');
  }
  return payload;
}

/**
 * @internal Turns the login payload into the answer body, instead of signing `{ token }` alone:
 * with sessions, `{ token, refreshToken, expiresIn }`.
 */
export type TokenIssuer = (payload: Record<string, unknown>) => Promise<IssuedTokens>;

/** `{ token }`, and with `tokenCookie` the token's lifetime too: the cookie's `Max-Age` and the body's `expiresIn`. */
async function signedAnswer(payload: Record<string, unknown>, config: NormalizedOptions): Promise<IssuedTokens> {
  const token = await signWith(payload, config);
  if (config.browser.tokenCookie === undefined) return { token };
  const { iat, exp } = decodeJwt(token);
  return { token, expiresIn: typeof exp === 'number' && typeof iat === 'number' ? exp - iat : undefined };
}

/** @internal Whether an answer with this status is minted (2xx) rather than passed through untouched. */
export function mintsStatus(status: number): boolean {
  return status >= 200 && status <= 299;
}

/** Statuses that cannot carry a body, so cannot carry a token either. */
const BODYLESS_2XX = new Set([204, 205]);

/**
 * @internal Turns the auth route's answer into the answer the client gets: `undefined` (pass the
 * original through untouched, body unread) for non-2xx statuses, `{"token": ...}` with the route's
 * status for a 2xx JSON object (with `tokenCookie` the token goes into a `Set-Cookie` and the body
 * is `{"expiresIn": ...}`; see {@link tokenAnswer}), a 500 `mint_body_invalid` for any other 2xx body: one over
 * `mintBodyLimit` (raw or decoded; a stream is read no further than that), one whose
 * `contentEncoding` cannot be decoded, or one whose token would be longer than `maxTokenLength`.
 * A stream body that is not read to its end is cancelled / destroyed. Never rejects.
 */
export async function mintTokenResponse(status: number, body: MintBody, config: NormalizedOptions, context?: MintContext, issue?: TokenIssuer): Promise<HttpResponse | undefined> {
  if (!mintsStatus(status)) return undefined;
  try {
    if (BODYLESS_2XX.has(status)) throw invalidBody(`its status ${status} allows no body`);
    const payload = await toPayload(body, config, context);
    const answer = issue === undefined ? await signedAnswer(payload, config) : await issue(payload);
    const { token } = answer;
    if (token.length > config.maxTokenLength) {
      throw invalidBody(
        `the signed token would be ${token.length} characters, over maxTokenLength (${config.maxTokenLength}), so it could never be verified: answer less from the login route, or raise maxTokenLength`,
      );
    }
    // A session's refresh cookie lives as long as the session: refresh.expiresIn from now.
    const refreshMaxAge = config.sessions === undefined ? undefined : config.sessions.sessionLifetimeMs / 1000;
    return tokenAnswer(status, answer, config.browser, context?.requestHeaders, refreshMaxAge);
  } catch (error) {
    release(body);
    if (error instanceof JwtGuardError) return errorResponse(error);
    return errorResponse(new JwtGuardError('sign_failed', 'The token could not be signed.', { cause: error }));
  }
}

/**
 * @internal Headers that describe the route's original body. When the body is replaced by the
 * token, adapters drop these so a stale Content-Length, ETag or encoding cannot leak.
 */
export const BODY_HEADERS: readonly string[] = Object.freeze([
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'content-range',
  'content-md5',
  'etag',
  'last-modified',
]);

export { MintBodyCollector, type MintStream } from './mint-body.js';
export type { ContentEncodingHeader } from './content-encoding.js';
