import type { JwtGuardOptions } from '../../src/index.js';
import { STRONG_SECRET } from './tokens.js';

/**
 * forwardErrors with an async revocation store: subject `revoked-user` is revoked (401
 * `token_revoked`) and subject `store-down` makes the store throw (503 `revocation_unavailable`).
 */
export const FORWARDING_OPTIONS: JwtGuardOptions = {
  secret: STRONG_SECRET,
  forwardErrors: true,
  isRevoked: async (payload) => {
    if (payload.sub === 'store-down') throw new Error('store down');
    return payload.sub === 'revoked-user';
  },
};
