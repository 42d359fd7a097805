// Type-only import: erased at build time, so the core stays loadable on Web-standard runtimes.
import type * as NodeBuffer from 'node:buffer';

/** jose's notion of a JSON object: a plain object, not an array or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * @internal A decoder for the header and payload segments of a canonical compact JWS: the JSON
 * object they hold, or `undefined` whenever jose's decoding might see it differently (bytes that
 * are not UTF-8, a BOM, which jose's TextDecoder strips and JSON.parse refuses, JSON that is not
 * an object). `undefined` sends the token to jose, which then gives the verdict.
 */
export function segmentJsonDecoder(buffer: typeof NodeBuffer): (segment: string) => Record<string, unknown> | undefined {
  const { Buffer, isUtf8 } = buffer;
  return (segment) => {
    const bytes = Buffer.from(segment, 'base64url');
    if (!isUtf8(bytes)) return undefined;
    try {
      const value: unknown = JSON.parse(bytes.toString('utf8'));
      return isPlainObject(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };
}
