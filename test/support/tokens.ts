// Test tokens are made with jose directly, independently of jwtguard's own signing, so a bug in
// signToken cannot hide a bug in verifyToken.
import { SignJWT, base64url, type JWTPayload } from 'jose';

export const SEED_SECRET = 'MySuperSecretKeyThatIsVeryLongAndSecure';
export const STRONG_SECRET = 'a-64-byte-test-secret-0123456789abcdef0123456789abcdef0123456789';

export const now = (): number => Math.floor(Date.now() / 1000);

export function hmacToken(payload: JWTPayload, secret: string = STRONG_SECRET, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256'): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/** An unsigned `alg: none` token (header and payload, empty signature). */
export function unsecuredToken(payload: JWTPayload, alg = 'none'): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc({ alg, typ: 'JWT' })}.${enc(payload)}.`;
}

/** The token with one payload claim changed and the original signature kept. */
export function tamper(token: string, change: JWTPayload): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as JWTPayload;
  return `${header}.${base64url.encode(JSON.stringify({ ...claims, ...change }))}.${signature}`;
}

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1] ?? ''))) as Record<string, unknown>;
}
