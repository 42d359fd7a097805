// Type-only import: erased at build time, so the core stays loadable on Web-standard runtimes.
import type * as NodeZlib from 'node:zlib';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { nodeBuiltin } from '../internal/node-builtin.js';
import { invalidBody, OVERSIZED, readCapped, tooLarge } from './mint-body.js';

/**
 * A `Content-Encoding` header value as the frameworks hand it over: a string (Hono's
 * `headers.get`, Koa's `ctx.response.get`, where `""` means absent), or whatever Node's
 * `getHeader` returns (a string, a number or a list of strings).
 *
 * @example
 * ```ts
 * const contentEncoding: ContentEncodingHeader = res.getHeader('content-encoding') // 'gzip' | undefined | ...
 * ```
 */
export type ContentEncodingHeader = string | number | readonly string[] | null | undefined;

/** A content coding jwtguard can undo (RFC 9110 §8.4.1), by its canonical name. */
export type ContentCoding = 'gzip' | 'deflate' | 'br';

const CODINGS: ReadonlyMap<string, ContentCoding | 'identity'> = new Map([
  ['gzip', 'gzip'],
  ['x-gzip', 'gzip'],
  ['deflate', 'deflate'],
  ['br', 'br'],
  ['identity', 'identity'],
]);

/**
 * @internal The codings a `Content-Encoding` header lists, in the order to undo them: the last one
 * applied comes first (RFC 9110 §8.4). `identity` and empty list elements are dropped; names are
 * case-insensitive. An unknown coding throws `mint_body_invalid`.
 */
export function parseContentEncoding(header: ContentEncodingHeader): ContentCoding[] {
  if (header === undefined || header === null) return [];
  const list = typeof header === 'object' ? header.join(',') : String(header);
  const codings: ContentCoding[] = [];
  for (const element of list.split(',')) {
    const name = element.trim();
    if (name === '') continue;
    const coding = CODINGS.get(name.toLowerCase());
    if (coding === undefined) {
      throw invalidBody(`its Content-Encoding ${JSON.stringify(name)} cannot be decoded (jwtguard decodes gzip, x-gzip, deflate, br and identity)`);
    }
    if (coding !== 'identity') codings.unshift(coding);
  }
  return codings;
}

/** The part of node:zlib the decoder uses. */
export type ZlibLike = Pick<typeof NodeZlib, 'gunzip' | 'inflate' | 'brotliDecompress'>;

/** A web `DecompressionStream` constructor, for the formats used here. */
export type DecompressionStreamLike = new (format: 'gzip' | 'deflate') => {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
};

/** What the decoder decodes with: node:zlib where the runtime has it, else the web `DecompressionStream`. */
export interface DecodeRuntime {
  readonly zlib: ZlibLike | null;
  readonly DecompressionStream: DecompressionStreamLike | null;
}

let runtime: DecodeRuntime | undefined;

/** @internal node:zlib and `DecompressionStream` as this runtime offers them, looked up once. */
export function decodeRuntime(): DecodeRuntime {
  runtime ??= {
    zlib: nodeBuiltin<ZlibLike>('node:zlib') ?? null,
    DecompressionStream: (globalThis as { DecompressionStream?: DecompressionStreamLike }).DecompressionStream ?? null,
  };
  return runtime;
}

/** `mint_body_invalid` for bytes the decoder refused: over the limit once decoded, or corrupt. */
function decodeFailure(coding: ContentCoding, limit: number, error: unknown): JwtGuardError {
  if ((error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(limit, `its ${coding}-decoded body`);
  return invalidBody(`its ${coding}-encoded body could not be decoded`, error);
}

/** One coding undone by node:zlib, which stops (and frees what it made) past `maxOutputLength`. */
function withZlib(zlib: ZlibLike, coding: ContentCoding, bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, result: Uint8Array): void => (error === null ? resolve(result) : reject(decodeFailure(coding, limit, error)));
    const options = { maxOutputLength: limit };
    try {
      if (coding === 'gzip') zlib.gunzip(bytes, options, done);
      else if (coding === 'deflate') zlib.inflate(bytes, options, done);
      else zlib.brotliDecompress(bytes, options, done);
    } catch (error) {
      reject(decodeFailure(coding, limit, error));
    }
  });
}

/** One coding undone by a web `DecompressionStream`, read only up to the limit (then cancelled). */
async function withWebStreams(Decompressor: DecompressionStreamLike | null, coding: ContentCoding, bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  if (coding === 'br') {
    throw invalidBody('its body is br (Brotli) encoded, which only node:zlib decodes and this runtime has no node:zlib: keep the compression middleware off the auth route, or let it use gzip');
  }
  if (Decompressor === null) throw invalidBody(`its body is ${coding} encoded, and this runtime has neither node:zlib nor DecompressionStream to decode it`);
  let decoded: Uint8Array | typeof OVERSIZED;
  try {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    decoded = await readCapped(source.pipeThrough(new Decompressor(coding)), limit);
  } catch (error) {
    // readCapped wraps what the stream threw; report the decoder's own error.
    throw decodeFailure(coding, limit, error instanceof JwtGuardError && error.cause !== undefined ? error.cause : error);
  }
  if (decoded === OVERSIZED) throw tooLarge(limit, `its ${coding}-decoded body`);
  return decoded;
}

/**
 * @internal Undoes `codings` (from {@link parseContentEncoding}) one after the other, each output
 * capped at `limit` bytes so a decompression bomb is refused before it is inflated: node:zlib
 * with `maxOutputLength` where the runtime has it, else the web `DecompressionStream` (gzip and
 * deflate only). Rejects with `mint_body_invalid` for corrupt data, an output over `limit`, or a
 * coding the runtime cannot decode. `deflate` is the zlib format (RFC 9110 §8.4.1.2).
 */
export async function decodeContentEncoding(bytes: Uint8Array, codings: readonly ContentCoding[], limit: number, using: DecodeRuntime = decodeRuntime()): Promise<Uint8Array> {
  let body = bytes;
  for (const coding of codings) {
    body = using.zlib !== null ? await withZlib(using.zlib, coding, body, limit) : await withWebStreams(using.DecompressionStream, coding, body, limit);
  }
  return body;
}
