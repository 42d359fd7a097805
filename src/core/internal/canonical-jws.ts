const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Bits the last character of a segment may carry, by segment length mod 4 (1 is never valid). */
const UNUSED_BIT_MASK = [0, -1, 0x0f, 0x03] as const;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function canonicalSegment(token: string, start: number, end: number): boolean {
  const mask = UNUSED_BIT_MASK[(end - start) % 4] as number;
  if (mask === -1) return false;
  return mask === 0 || (BASE64URL.indexOf(token.charAt(end - 1)) & mask) === 0;
}

/**
 * @internal True when `token` is the one canonical spelling of a compact JWS: three non-empty
 * base64url segments, no padding or whitespace, and zero unused trailing bits. Lenient decoders
 * (atob, Buffer) accept several spellings of the same bytes; rejecting all but one means a
 * denylist or cache keyed on the token string cannot be dodged by re-spelling a token.
 */
export function isCanonicalCompactJws(token: string): boolean {
  if (!COMPACT_JWS.test(token)) return false;
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  return canonicalSegment(token, 0, dot1) && canonicalSegment(token, dot1 + 1, dot2) && canonicalSegment(token, dot2 + 1, token.length);
}
