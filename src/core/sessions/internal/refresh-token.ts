import type * as NodeBuffer from 'node:buffer';
import type * as NodeCrypto from 'node:crypto';
import { nodeBuiltin } from '../../internal/node-builtin.js';

/** Bytes of randomness in a refresh token: 256 bits, as the issue requires at least. */
const REFRESH_TOKEN_BYTES = 32;
/** Bytes of randomness in a session id: 128 bits, enough that ids never collide and cannot be guessed. */
const SESSION_ID_BYTES = 16;

/** @internal A refresh token as issued: 32 bytes in unpadded base64url are always 43 characters. */
export const REFRESH_TOKEN_LENGTH = 43;
/** @internal The shape of every refresh token we issue; anything else is refused before any lookup. */
export const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// Looked up once: node:crypto hashes synchronously in about 1 µs, Web Crypto's digest is a
// promise and takes about 15 µs; Workers and browsers have only the latter.
const nodeCrypto = nodeBuiltin<typeof NodeCrypto>('node:crypto');
const NodeBufferClass = nodeBuiltin<typeof NodeBuffer>('node:buffer')?.Buffer;
const encoder = new TextEncoder();

/** @internal Unpadded base64url of `bytes`. */
export function base64url(bytes: Uint8Array): string {
  if (NodeBufferClass !== undefined) return NodeBufferClass.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @internal Bytes of unpadded (or padded) base64url text; the caller has checked the alphabet. */
export function fromBase64url(text: string): Uint8Array {
  if (NodeBufferClass !== undefined) return new Uint8Array(NodeBufferClass.from(text, 'base64url'));
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function randomBase64url(length: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(length)));
}

/** @internal A new refresh token: 32 random bytes, base64url (43 characters). */
export function newRefreshToken(): string {
  return randomBase64url(REFRESH_TOKEN_BYTES);
}

/** @internal A new session id: 16 random bytes, base64url (22 characters). */
export function newSessionId(): string {
  return randomBase64url(SESSION_ID_BYTES);
}

/**
 * @internal What the store keeps instead of a refresh token: base64url(SHA-256(token)). A plain
 * hash suffices (no salt, no slow KDF): the token is 256 random bits, so it cannot be guessed
 * from its hash, and an unsalted hash lets every instance find the record by it.
 */
export function hashRefreshToken(token: string): string | Promise<string> {
  if (nodeCrypto !== undefined) return nodeCrypto.createHash('sha256').update(token, 'utf8').digest('base64url');
  return crypto.subtle.digest('SHA-256', encoder.encode(token)).then((digest) => base64url(new Uint8Array(digest)));
}
