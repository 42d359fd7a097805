import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { concat } from '../mint/mint-body.js';


/** The largest request body the guard's own endpoints (refresh) read: `{"refreshToken":"<43 chars>"}` needs about 60 bytes. */
export const JSON_BODY_LIMIT = 4096;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function badRequest(reason: string): JwtGuardError {
  return new JwtGuardError('invalid_request', `The request body ${reason}.`);
}

const encoder = new TextEncoder();

function chunkBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  throw badRequest('could not be read');
}

/**
 * Reads a request stream up to `limit` bytes; `undefined` when it is longer. Unlike a login
 * answer, a request is only left unread past the limit, not destroyed: the server discards the
 * rest, so the client still gets its 400.
 */
async function readRequest(body: object, limit: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const take = (chunk: unknown): boolean => {
    const bytes = chunkBytes(chunk);
    size += bytes.byteLength;
    chunks.push(bytes);
    return size <= limit;
  };
  if (typeof (body as Partial<ReadableStream>).getReader === 'function') {
    const reader = (body as ReadableStream<unknown>).getReader();
    try {
      for (let next = await reader.read(); !next.done; next = await reader.read()) if (!take(next.value)) return undefined;
    } finally {
      reader.releaseLock();
    }
  } else {
    // Not `for await`: leaving that loop early would destroy a Node request, and its socket.
    const iterator = (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) if (!take(next.value)) return undefined;
  }
  return concat(chunks, size);
}

function isStream(body: object): boolean {
  return typeof (body as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function' || typeof (body as Partial<ReadableStream>).getReader === 'function';
}

/**
 * @internal The JSON value of a request body to one of the guard's endpoints, however the adapter
 * has it: already parsed by a body parser that ran before the guard (a plain value), text or bytes
 * (a raw-body parser), or the unread request stream, read here no further than
 * {@link JSON_BODY_LIMIT}. Rejects with a 400 `invalid_request` when it is missing, too large or
 * not JSON; never echoes the body.
 */
export async function readJsonBody(body: unknown): Promise<unknown> {
  if (body === undefined || body === null) throw badRequest('is missing; send JSON');
  let bytes: Uint8Array | undefined;
  let text: string | undefined;
  if (typeof body === 'string') text = body;
  else if (body instanceof Uint8Array) bytes = body;
  else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
  else if (typeof body === 'object' && isStream(body)) {
    let read: Uint8Array | undefined;
    try {
      read = await readRequest(body, JSON_BODY_LIMIT);
    } catch {
      throw badRequest('could not be read');
    }
    if (read === undefined) throw badRequest(`is larger than ${JSON_BODY_LIMIT} bytes`);
    bytes = read;
  } else {
    return body; // parsed by a body parser before the guard
  }
  if (bytes !== undefined) {
    if (bytes.byteLength > JSON_BODY_LIMIT) throw badRequest(`is larger than ${JSON_BODY_LIMIT} bytes`);
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw badRequest('is not valid UTF-8');
    }
  }
  if ((text as string).length > JSON_BODY_LIMIT) throw badRequest(`is larger than ${JSON_BODY_LIMIT} bytes`);
  if ((text as string).trim() === '') throw badRequest('is empty; send JSON');
  try {
    return JSON.parse(text as string) as unknown;
  } catch {
    throw badRequest('is not valid JSON');
  }
}
