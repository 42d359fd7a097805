import assert from 'node:assert/strict';
import { verifyToken, type JwtGuardOptions, type JwtGuardPayload } from '../../src/index.js';

/**
 * Verifies `token` until it is in the verified-token cache and returns the cached payload. The
 * cache admits a token on its second verification, so the third call must already be a hit:
 * the same frozen object.
 */
export async function cachedPayload(token: string, options: JwtGuardOptions): Promise<JwtGuardPayload> {
  const first = await verifyToken(token, options);
  const admitted = await verifyToken(token, options);
  assert.notEqual(admitted, first, 'a first verification is not cached');
  assert.equal(await verifyToken(token, options), admitted, 'the second verification was cached');
  return admitted;
}
