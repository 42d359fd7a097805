import type * as NodeCrypto from 'node:crypto';
import type { CryptoKey } from 'jose';
import { nodeBuiltin } from '../../internal/node-builtin.js';
import { base64url, fromBase64url } from './refresh-token.js';

// The answer a rotation keeps for the grace window is encrypted under a key only the holder of the
// presented refresh token can derive, so the store (and whoever reads it) holds nothing usable:
//   key    = HKDF-SHA-256(ikm = UTF-8 of the refresh token, salt = 32 zero bytes, info = INFO), 32 bytes
//   sealed = base64url(iv (12 random bytes) || AES-256-GCM ciphertext || tag (16 bytes))
// node:crypto and Web Crypto produce the same format, so instances on different runtimes sharing
// one store can open each other's answers. node:crypto is used where it exists: it is synchronous
// and about five times faster (about 20 µs against 110 µs per seal on Node 22).

const INFO = new TextEncoder().encode('jwtguard refresh grace');
/** RFC 5869's default salt (HashLen zero bytes), spelled out because some Web Crypto builds refuse an empty one. */
const SALT = new Uint8Array(32);
const IV_BYTES = 12;
const TAG_BYTES = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const nodeCrypto = nodeBuiltin<typeof NodeCrypto>('node:crypto');

/** @internal Which implementation to use; tests pass `'web'` to prove both formats agree. */
export type CryptoEngine = 'node' | 'web';

/** @internal node:crypto where the runtime has it, Web Crypto elsewhere. */
export const DEFAULT_ENGINE: CryptoEngine = nodeCrypto === undefined ? 'web' : 'node';

function nodeKey(node: typeof NodeCrypto, token: string): Uint8Array {
  return new Uint8Array(node.hkdfSync('sha256', encoder.encode(token), SALT, INFO, 32));
}

async function webKey(token: string, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(token), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: SALT, info: INFO }, ikm, { name: 'AES-GCM', length: 256 }, false, [usage]);
}

/** @internal Encrypts `text` under the key derived from `refreshToken`; see the format above. */
export async function sealAnswer(refreshToken: string, text: string, engine: CryptoEngine = DEFAULT_ENGINE): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const plain = encoder.encode(text);
  let sealed: Uint8Array;
  if (engine === 'node' && nodeCrypto !== undefined) {
    const cipher = nodeCrypto.createCipheriv('aes-256-gcm', nodeKey(nodeCrypto, refreshToken), iv);
    const head = cipher.update(plain);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    sealed = new Uint8Array(IV_BYTES + head.byteLength + tail.byteLength + TAG_BYTES);
    sealed.set(head, IV_BYTES);
    sealed.set(tail, IV_BYTES + head.byteLength);
    sealed.set(tag, IV_BYTES + head.byteLength + tail.byteLength);
  } else {
    const encrypted = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await webKey(refreshToken, 'encrypt'), plain));
    sealed = new Uint8Array(IV_BYTES + encrypted.byteLength);
    sealed.set(encrypted, IV_BYTES);
  }
  sealed.set(iv, 0);
  return base64url(sealed);
}

/**
 * @internal Decrypts what {@link sealAnswer} made with the same refresh token; `undefined` when it
 * cannot (another token's answer, a corrupted or tampered value): never throws.
 */
export async function openAnswer(refreshToken: string, sealed: string, engine: CryptoEngine = DEFAULT_ENGINE): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]*$/.test(sealed)) return undefined;
  const bytes = fromBase64url(sealed);
  if (bytes.byteLength < IV_BYTES + TAG_BYTES) return undefined;
  const iv = bytes.subarray(0, IV_BYTES);
  try {
    if (engine === 'node' && nodeCrypto !== undefined) {
      const decipher = nodeCrypto.createDecipheriv('aes-256-gcm', nodeKey(nodeCrypto, refreshToken), iv);
      decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES));
      const head = decipher.update(bytes.subarray(IV_BYTES, bytes.byteLength - TAG_BYTES));
      const tail = decipher.final();
      const plain = new Uint8Array(head.byteLength + tail.byteLength);
      plain.set(head, 0);
      plain.set(tail, head.byteLength);
      return decoder.decode(plain);
    }
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, await webKey(refreshToken, 'decrypt'), bytes.subarray(IV_BYTES));
    return decoder.decode(plain);
  } catch {
    // A wrong key or altered bytes fail the GCM tag: the caller refuses the refresh.
    return undefined;
  }
}
