// Type-only import: erased at build time, so the core stays loadable on Web-standard runtimes.
import type * as NodeBuffer from 'node:buffer';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { nodeBuiltin } from '../internal/node-builtin.js';

/**
 * A login answer that is still to be read: a Node `Readable`, a web `ReadableStream` or any async
 * iterable of string or byte chunks. The core reads it only up to `mintBodyLimit`, then stops and
 * cancels (web stream) or destroys (Node stream) it.
 */
export type MintStream = AsyncIterable<unknown> | ReadableStream<unknown>;

/** @internal Marks a body found to be larger than `mintBodyLimit`; what it held is already dropped. */
export const OVERSIZED: unique symbol = Symbol('jwtguard.oversized');

const encoder = new TextEncoder();

/** @internal A `mint_body_invalid` error: the route answered 2xx but cannot be minted, for `reason`. */
export function invalidBody(reason: string, cause?: unknown): JwtGuardError {
  return new JwtGuardError('mint_body_invalid', `The auth route answered 2xx, but ${reason}; no token was minted.`, cause === undefined ? undefined : { cause });
}

/** @internal The `mint_body_invalid` error for a body over the limit; `what` says which bytes were counted. */
export function tooLarge(limit: number, what = 'its body'): JwtGuardError {
  return invalidBody(`${what} is larger than mintBodyLimit (${limit} bytes): answer less from the login route, or raise mintBodyLimit`);
}

/** @internal Whether `text` encodes to more than `limit` UTF-8 bytes; encodes it only when its length alone cannot tell. */
export function utf8Exceeds(text: string, limit: number): boolean {
  // A UTF-16 code unit takes 1 to 3 UTF-8 bytes (a surrogate pair 4 for 2 units).
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return encoder.encode(text).byteLength > limit;
}

/** Bytes of a chunk that is not a string, without copying; `undefined` for anything else. */
function bytesOf(chunk: unknown): Uint8Array | undefined {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

/** @internal The chunks as one byte array of `size` bytes (the one chunk itself when there is only one). */
export function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const ignore = (): void => {};

/**
 * @internal Reads a stream or async iterable of string (UTF-8) or byte chunks, keeping at most
 * `limit` bytes. As soon as a chunk would take the total over `limit`, reading stops, the source is
 * cancelled (web stream) or returned from (async iterator: destroys a Node `Readable`) without
 * waiting for that to finish, and {@link OVERSIZED} is returned: a source that never ends cannot
 * hold the reader. A failing source or a chunk that is neither text nor bytes rejects with
 * `mint_body_invalid`.
 */
export async function readCapped(source: MintStream, limit: number): Promise<Uint8Array | typeof OVERSIZED> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  /** Keeps a chunk; `false` when it would take the body over the limit. */
  const keep = (chunk: unknown): boolean => {
    if (typeof chunk === 'string') {
      if (chunk.length > limit - size) return false;
      chunk = encoder.encode(chunk);
    }
    const bytes = bytesOf(chunk);
    if (bytes === undefined) throw invalidBody('its body stream yielded something other than text or bytes');
    if (bytes.byteLength > limit - size) return false;
    if (bytes.byteLength > 0) chunks.push(bytes);
    size += bytes.byteLength;
    return true;
  };

  let next: () => Promise<IteratorResult<unknown>>;
  let stop: () => void;
  if (typeof (source as ReadableStream).getReader === 'function') {
    // A web stream is read through its reader: async iteration of ReadableStream is not on every runtime.
    const reader = (source as ReadableStream<unknown>).getReader();
    next = () => reader.read() as Promise<IteratorResult<unknown>>;
    stop = () => void reader.cancel().catch(ignore);
  } else {
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    next = () => iterator.next();
    stop = () => void Promise.resolve(iterator.return?.()).catch(ignore);
  }

  let fits = true;
  try {
    for (;;) {
      const { done, value } = await next();
      if (done === true) break;
      if (!keep(value)) {
        fits = false;
        break;
      }
    }
  } catch (error) {
    stop();
    if (error instanceof JwtGuardError) throw error;
    throw invalidBody('reading its body failed', error);
  }
  if (!fits) {
    stop();
    return OVERSIZED;
  }
  return concat(chunks, size);
}

type NodeBufferClass = typeof NodeBuffer.Buffer;
let nodeBuffer: NodeBufferClass | null | undefined;

/** node:buffer's Buffer for the string encodings Node's `write` accepts, or `null` where there is no node:buffer. */
function bufferClass(): NodeBufferClass | null {
  if (nodeBuffer === undefined) nodeBuffer = nodeBuiltin<typeof NodeBuffer>('node:buffer')?.Buffer ?? null;
  return nodeBuffer;
}

/**
 * Collects a login answer written chunk by chunk — as Express's `res.write` / `res.end` receive
 * it — keeping at most `limit` bytes. Once the chunks add up to more than `limit`, everything
 * kept is dropped and later chunks are ignored, so a route that writes megabytes costs nothing;
 * handing the collector to `guard.mint` then answers 500 `mint_body_invalid` naming
 * `mintBodyLimit`. Byte chunks are copied, so the writer may reuse its buffers.
 *
 * @example
 * ```ts
 * // in an adapter, e.g. src/adapters/express.ts
 * import { MintBodyCollector } from '../core/mint/mint-body.js'
 *
 * const body = new MintBodyCollector(guard.options.mintBodyLimit)
 * body.push('{"userId":')         // UTF-8 unless an encoding is given
 * body.push('313233', 'hex')      // Node's write() encodings, via node:buffer
 * const response = await guard.mint(200, body, { contentEncoding: res.getHeader('content-encoding') })
 * ```
 */
export class MintBodyCollector {
  /** The most bytes kept: `mintBodyLimit`. */
  readonly limit: number;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #oversized = false;

  /** @param limit the most bytes to keep, normally `guard.options.mintBodyLimit`. */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`MintBodyCollector: limit must be a whole number of bytes, at least 1; got ${String(limit)}.`);
    this.limit = limit;
  }

  /** Whether more than `limit` bytes were pushed (nothing is kept then). */
  get oversized(): boolean {
    return this.#oversized;
  }

  /** Bytes kept so far. */
  get byteLength(): number {
    return this.#size;
  }

  /**
   * Adds one written chunk: a string (in `encoding`, one of Node's such as `"latin1"` or `"hex"`;
   * UTF-8 by default or where node:buffer is missing), bytes or an `ArrayBuffer`. `null`,
   * `undefined` and anything else are ignored, as they add no bytes.
   */
  push(chunk: unknown, encoding?: unknown): void {
    if (this.#oversized) return;
    const room = this.limit - this.#size;
    let bytes: Uint8Array | undefined;
    if (typeof chunk === 'string') {
      const Buffer = typeof encoding === 'string' && !/^utf-?8$/i.test(encoding) ? bufferClass() : null;
      if (Buffer !== null && Buffer.isEncoding(encoding as string)) {
        if (Buffer.byteLength(chunk, encoding as BufferEncoding) > room) return this.#overflow();
        bytes = Buffer.from(chunk, encoding as BufferEncoding);
      } else {
        if (chunk.length > room) return this.#overflow();
        bytes = encoder.encode(chunk);
      }
    } else {
      const view = bytesOf(chunk);
      if (view === undefined) return;
      if (view.byteLength > room) return this.#overflow();
      bytes = new Uint8Array(view); // a copy (Buffer#slice would be a view)
    }
    if (bytes.byteLength > room) return this.#overflow();
    if (bytes.byteLength > 0) this.#chunks.push(bytes);
    this.#size += bytes.byteLength;
  }

  /** @internal The bytes pushed, or {@link OVERSIZED}. */
  take(): Uint8Array | typeof OVERSIZED {
    return this.#oversized ? OVERSIZED : concat(this.#chunks, this.#size);
  }

  #overflow(): void {
    this.#oversized = true;
    this.#chunks = [];
    this.#size = 0;
  }
}

/**
 * @internal Lets go of a stream body that will not be read (or was read only in part): cancels an
 * unlocked web stream, destroys a Node stream. Anything else is left to the garbage collector.
 */
export function release(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  try {
    const web = typeof Response === 'function' && body instanceof Response ? body.body : body;
    if (typeof (web as ReadableStream | null)?.getReader === 'function') {
      if (!(web as ReadableStream).locked) void (web as ReadableStream).cancel().catch(ignore);
    } else if (typeof (body as { destroy?: unknown }).destroy === 'function' && typeof (body as { pipe?: unknown }).pipe === 'function') {
      (body as { destroy(): void }).destroy();
    }
  } catch {
    // Best effort only: the answer is decided already.
  }
}
