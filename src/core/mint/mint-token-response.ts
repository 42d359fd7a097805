import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { errorResponse, jsonResponse, type HttpResponse } from '../guard/http-response.js';
import type { NormalizedOptions } from '../options/normalize-options.js';
import { signWith } from '../sign/sign-token.js';

/** What a login route can answer with, as the adapters capture it. */
export type MintBody = string | Uint8Array | ArrayBuffer | object | null | undefined;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function invalidBody(reason: string): JwtGuardError {
  return new JwtGuardError('mint_body_invalid', `The auth route answered 2xx, but ${reason}; no token was minted.`);
}

/** Parses and re-serialises the body so only plain JSON data is signed. */
function toPayload(body: MintBody): Record<string, unknown> {
  let value: unknown;
  if (body === null || body === undefined) throw invalidBody('its body is empty');
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer) {
    let text: string;
    try {
      text = typeof body === 'string' ? body : strictUtf8.decode(body);
    } catch {
      throw invalidBody('its body is not valid UTF-8');
    }
    if (text.trim() === '') throw invalidBody('its body is empty');
    try {
      value = JSON.parse(text);
    } catch {
      throw invalidBody('its body is not valid JSON');
    }
  } else {
    try {
      value = JSON.parse(JSON.stringify(body));
    } catch {
      throw invalidBody('its body cannot be serialised as JSON');
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

/** @internal Whether an answer with this status is minted (2xx) rather than passed through untouched. */
export function mintsStatus(status: number): boolean {
  return status >= 200 && status <= 299;
}

/** Statuses that cannot carry a body, so cannot carry a token either. */
const BODYLESS_2XX = new Set([204, 205]);

/**
 * @internal Turns the auth route's answer into the answer the client gets: `undefined` (pass the
 * original through untouched) for non-2xx statuses, `{"token": ...}` with the route's status for a
 * 2xx JSON object, a 500 `mint_body_invalid` for any other 2xx body. Never rejects.
 */
export async function mintTokenResponse(status: number, body: MintBody, config: NormalizedOptions): Promise<HttpResponse | undefined> {
  if (!mintsStatus(status)) return undefined;
  try {
    if (BODYLESS_2XX.has(status)) throw invalidBody(`its status ${status} allows no body`);
    const token = await signWith(toPayload(body), config);
    return jsonResponse(status, { token });
  } catch (error) {
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
