// Type-only imports: erased at build time, so the core stays loadable on Web-standard runtimes.
import type * as NodeBuffer from 'node:buffer';
import type * as NodeCrypto from 'node:crypto';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { nodeBuiltin } from './node-builtin.js';
import type { JWTHeaderParameters } from 'jose';
import type { ClaimRules } from '../options/claims.js';
import type { HmacAlgorithm, JwtGuardPayload } from '../options/types.js';

const NODE_HASH: Readonly<Record<HmacAlgorithm, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const HEADER_CACHE_MAX = 64;

/**
 * @internal Synchronous HMAC verification of a canonical compact JWS.
 * Returns the payload when jose.jwtVerify would accept the token, a `signature_invalid` error when
 * it would reject it for its signature, and `undefined` for everything else, which then goes to
 * jose for the exact verdict. It therefore never decides differently from jose, only faster.
 */
export type HmacFastPath = (token: string, now: number) => JwtGuardPayload | JwtGuardError | undefined;

interface NodeBuiltins {
  readonly crypto: typeof NodeCrypto;
  readonly buffer: typeof NodeBuffer;
}

function nodeBuiltins(): NodeBuiltins | undefined {
  const crypto = nodeBuiltin<typeof NodeCrypto>('node:crypto');
  const buffer = nodeBuiltin<typeof NodeBuffer>('node:buffer');
  return typeof crypto?.createHmac === 'function' && typeof buffer?.isUtf8 === 'function' ? { crypto, buffer } : undefined;
}

/** jose's notion of a JSON object: a plain object, not an array or a class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/** @internal Builds the fast path for a secret and allowlist, or `undefined` where node:crypto is missing. */
export function createHmacFastPath(secret: Uint8Array, algorithms: readonly HmacAlgorithm[], claims: ClaimRules): HmacFastPath | undefined {
  const node = nodeBuiltins();
  if (node === undefined) return undefined;
  const { createHmac, createSecretKey, timingSafeEqual } = node.crypto;
  const { Buffer, isUtf8 } = node.buffer;
  const key = createSecretKey(secret);
  const allowed = new Set<string>(algorithms);

  const parseJson = (segment: string): Record<string, unknown> | undefined => {
    const bytes = Buffer.from(segment, 'base64url');
    if (!isUtf8(bytes)) return undefined;
    try {
      const value: unknown = JSON.parse(bytes.toString('utf8'));
      return isPlainObject(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };

  // The parsed header when it names an allowed HMAC alg and has no `crit`; null when jose must judge it.
  // A deployment sees a handful of distinct headers, so each is parsed once.
  const headers = new Map<string, JWTHeaderParameters | null>();
  const headerOf = (encodedHeader: string): JWTHeaderParameters | null => {
    let header = headers.get(encodedHeader);
    if (header === undefined) {
      const parsed = parseJson(encodedHeader);
      header = parsed !== undefined && parsed.crit === undefined && typeof parsed.alg === 'string' && allowed.has(parsed.alg) ? (parsed as JWTHeaderParameters) : null;
      if (headers.size >= HEADER_CACHE_MAX) headers.clear();
      headers.set(encodedHeader, header);
    }
    return header;
  };

  return (token, now) => {
    const dot1 = token.indexOf('.');
    const dot2 = token.indexOf('.', dot1 + 1);
    const header = headerOf(token.slice(0, dot1));
    if (header === null) return undefined;
    const expected = createHmac(NODE_HASH[header.alg as HmacAlgorithm], key).update(token.slice(0, dot2)).digest();
    const actual = Buffer.from(token.slice(dot2 + 1), 'base64url');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      return new JwtGuardError('signature_invalid', 'The token signature is invalid.');
    }
    const payload = parseJson(token.slice(dot1 + 1, dot2));
    if (payload === undefined) return undefined;
    // Accept only what jose's claim checks would accept; anything else gets jose's own verdict.
    return claims.accept(header, payload, now) ? (payload as JwtGuardPayload) : undefined;
  };
}
