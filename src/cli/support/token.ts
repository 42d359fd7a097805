import { isCanonicalCompactJws } from '../../core/internal/canonical-jws.js';
import { UsageError } from './command.js';
import type { Io } from './io.js';
import { isoDate, relative, span } from './time.js';

/** The middleware's default `maxTokenLength`: longer tokens are refused before any decoding. */
export const DEFAULT_MAX_TOKEN_LENGTH = 8192;
/** Browsers store at most 4096 bytes per cookie (RFC 6265 §6.1 minimum, and the common maximum). */
const COOKIE_LIMIT = 4096;
/** A lifetime above this earns a warning: a stolen token stays usable that long. */
const ONE_DAY = 86400;
/** NumericDates above this (year 5138) are almost certainly milliseconds by mistake. */
const MILLISECONDS_THRESHOLD = 1e11;

export interface TokenInput {
  readonly token: string;
  /** What was stripped from the pasted text, for the reader: `Authorization:`, `Bearer`, quotes. */
  readonly removed: readonly string[];
}

/**
 * Reads the token argument (`-` for stdin) and strips what a paste brings along: surrounding
 * whitespace, an `Authorization:` header name, the `Bearer` scheme (any case, as the middleware
 * strips it) and surrounding quotes. Whitespace inside is kept: the token then is malformed, as
 * it would be for the middleware, and the report says why.
 */
export async function readToken(argument: string | undefined, io: Io): Promise<TokenInput> {
  if (argument === undefined) throw new UsageError('no token: pass it as an argument, or `-` to read it from stdin (keeps it out of shell history).');
  let raw = argument;
  if (argument === '-') {
    if (io.stdinIsTTY) io.err.line(io.err.paint('dim', 'Reading the token from stdin; end with Ctrl-D.'));
    raw = await io.readStdin();
  }
  return cleanToken(raw);
}

export function cleanToken(raw: string): TokenInput {
  const removed: string[] = [];
  let text = raw.trim();
  const quoted = /^(["'])([\s\S]*)\1$/.exec(text);
  if (quoted !== null) {
    text = (quoted[2] as string).trim();
    removed.push('quotes');
  }
  const header = /^authorization\s*:\s*/i.exec(text);
  if (header !== null) {
    text = text.slice(header[0].length);
    removed.push('Authorization:');
  }
  const bearer = /^bearer\s+/i.exec(text);
  if (bearer !== null) {
    text = text.slice(bearer[0].length).trim();
    removed.push('Bearer');
  }
  return { token: text, removed };
}

export type Json = Record<string, unknown>;
export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export interface Inspection {
  readonly token: string;
  readonly segments: readonly string[];
  /** The decoded header, when the first segment is base64url JSON object text. */
  readonly header: Json | undefined;
  /** The decoded payload when it is JSON (normally an object); `undefined` when it is not. */
  readonly payload: unknown;
  /** The payload as text, when it is not JSON. */
  readonly payloadText: string | undefined;
  /** Five segments: a JWE, whose payload needs the decryption key. */
  readonly encrypted: boolean;
  /** Why the middleware refuses the token as `token_malformed`, most telling first; empty when it is well-formed. */
  readonly problems: readonly string[];
}

const ORDINAL = ['header', 'payload', 'signature'] as const;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Explains why a segment is not the one canonical base64url spelling the middleware accepts. */
function segmentProblem(segment: string, name: string): string | undefined {
  if (segment === '') return name === 'signature' ? 'the signature segment is empty (an unsigned token?)' : `the ${name} segment is empty`;
  if (segment.includes('=')) return `the ${name} segment has base64 padding "=": JWTs use unpadded base64url`;
  if (/[+/]/.test(segment)) return `the ${name} segment uses "+" or "/" (standard base64): JWTs use base64url ("-" and "_")`;
  if (/[^A-Za-z0-9_-]/.test(segment)) return `the ${name} segment has characters outside base64url`;
  const rest = segment.length % 4;
  if (rest === 1) return `the ${name} segment has an impossible length (${segment.length} characters): it was cut`;
  const mask = rest === 2 ? 0x0f : rest === 3 ? 0x03 : 0;
  if ((BASE64URL.indexOf(segment.at(-1) as string) & mask) !== 0) {
    return `the ${name} segment is not the canonical base64url spelling of its bytes (non-zero trailing bits)`;
  }
  return undefined;
}

/** Lenient base64/base64url decoding for display; `undefined` when the text is not base64 at all. */
function decodeSegment(segment: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(segment)) return undefined;
  return Buffer.from(segment, 'base64');
}

function parseJson(bytes: Buffer | undefined): { ok: true; value: unknown } | { ok: false; text: string | undefined } {
  if (bytes === undefined) return { ok: false, text: undefined };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, text: undefined };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, text };
  }
}

/**
 * Decodes a token as far as it goes, without any key. Lenient on purpose (a decoder must show
 * what a broken token holds), while `problems` applies the middleware's strict rule
 * (`isCanonicalCompactJws`) and explains a refusal in words.
 */
export function inspectToken(token: string): Inspection {
  const segments = token.split('.');
  const problems: string[] = [];
  const encrypted = segments.length === 5;
  if (token === '') problems.push('the token is empty');
  else if (/\s/.test(token)) problems.push('it contains whitespace (a line break from copying?)');
  if (encrypted) problems.push('it has 5 segments: an encrypted JWT (JWE), which the middleware does not accept (it verifies signed JWS tokens)');
  else if (token !== '' && segments.length !== 3) problems.push(`it has ${segments.length} segment${segments.length === 1 ? '' : 's'}; a signed JWT has 3 (header.payload.signature)`);
  if (segments.length === 3) {
    segments.forEach((segment, i) => {
      const problem = segmentProblem(segment, ORDINAL[i] as string);
      if (problem !== undefined) problems.push(problem);
    });
  }

  const headerJson = parseJson(decodeSegment(segments[0] ?? ''));
  const header = headerJson.ok && isObject(headerJson.value) ? headerJson.value : undefined;
  if (token !== '' && header === undefined) problems.push('the header is not a base64url JSON object');
  else if (header !== undefined && (typeof header.alg !== 'string' || header.alg === '')) problems.push('the header has no "alg" string');

  let payload: unknown;
  let payloadText: string | undefined;
  if (!encrypted && segments.length >= 2) {
    const payloadJson = parseJson(decodeSegment(segments[1] as string));
    if (payloadJson.ok) payload = payloadJson.value;
    else payloadText = payloadJson.text;
    if (segments.length === 3 && !isObject(payload)) problems.push('the payload is not a JSON object');
  }
  // The library's own rule decides; the explanations above only put it into words.
  if (problems.length === 0 && !isCanonicalCompactJws(token)) problems.push('it is not a canonical compact JWS');
  return { token, segments, header, payload, payloadText, encrypted, problems };
}

export interface TimeClaim {
  readonly value: number;
  readonly date: string | undefined;
  readonly relative: string;
}

/** Registered and OIDC time claims, shown as dates. */
const TIME_CLAIMS = ['iat', 'nbf', 'exp', 'auth_time'] as const;

export function timeClaims(payload: unknown, now: number): Record<string, TimeClaim> {
  const times: Record<string, TimeClaim> = {};
  if (!isObject(payload)) return times;
  for (const claim of TIME_CLAIMS) {
    const value = payload[claim];
    if (typeof value === 'number' && Number.isFinite(value)) times[claim] = { value, date: isoDate(value), relative: relative(claim, value, now) };
  }
  return times;
}

export interface Warning {
  /** Stable, for `--json` consumers. */
  readonly code: string;
  readonly message: string;
}

/** What a reviewer should notice about a token, whatever the key: risky headers, lifetimes, sizes. */
export function warningsFor(inspection: Inspection, now: number): Warning[] {
  const warnings: Warning[] = [];
  const add = (code: string, message: string): void => {
    warnings.push({ code, message });
  };
  const { header, payload, token } = inspection;
  if (inspection.problems.length > 0) add('malformed', `the middleware refuses it unread (token_malformed): ${inspection.problems[0]}.`);
  if (header !== undefined) {
    if (typeof header.alg === 'string' && header.alg.toLowerCase() === 'none') {
      add('alg_none', 'alg is "none": the token is unsigned, so anyone can make one. The middleware never accepts it.');
    }
    if (header.crit !== undefined) {
      add('crit', `crit header ${JSON.stringify(header.crit)}: a verifier must refuse the token unless it understands these extensions.`);
    }
    for (const name of ['jwk', 'jku', 'x5u', 'x5c'] as const) {
      if (header[name] !== undefined) {
        add('embedded_key', `the header carries its own ${name === 'jwk' || name === 'x5c' ? 'key' : 'key URL'} (${name}): a verifier that trusts it accepts anyone's tokens. The middleware ignores it and uses only its configured keys.`);
      }
    }
  }
  if (isObject(payload)) {
    for (const claim of TIME_CLAIMS) {
      const value = payload[claim];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        add('time_claim_invalid', `${claim} is ${JSON.stringify(value)}, not a number of seconds: the middleware refuses the token (claim_invalid).`);
      } else if (value > MILLISECONDS_THRESHOLD) {
        add('time_claim_milliseconds', `${claim} (${value}) looks like milliseconds; JWT times are seconds since the epoch.`);
      }
    }
    const { exp, iat, nbf } = payload;
    if (exp === undefined) add('no_exp', 'no exp: the token never expires. The middleware accepts it forever unless maxTokenAge is set.');
    if (typeof exp === 'number') {
      const from = typeof iat === 'number' ? iat : now;
      const lifetime = exp - from;
      if (lifetime > ONE_DAY) {
        add('long_lifetime', typeof iat === 'number'
          ? `lifetime of ${span(lifetime)} (exp − iat), longer than a day: a stolen token stays usable that long.`
          : `expires in ${span(lifetime)}, more than a day from now: a stolen token stays usable that long.`);
      }
    }
    if (typeof nbf === 'number' && nbf > now) add('nbf_future', `nbf is in the future: not valid for another ${span(nbf - now)}.`);
  }
  if (token.length > DEFAULT_MAX_TOKEN_LENGTH) {
    add('huge_token', `${token.length} characters: longer than the middleware's default maxTokenLength (${DEFAULT_MAX_TOKEN_LENGTH}), so it is refused unread (token_too_long).`);
  } else if (token.length > COOKIE_LIMIT) {
    add('huge_token', `${token.length} characters: too large for a browser cookie (${COOKIE_LIMIT} bytes) and heavy on every request.`);
  }
  return warnings;
}
