import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { JwtGuardError, verifyToken, type JwtGuardOptions } from '../../../src/index.js';
import {
  decodeContentEncoding,
  parseContentEncoding,
  type ContentCoding,
  type DecodeRuntime,
  type DecompressionStreamLike,
  type ZlibLike,
} from '../../../src/core/mint/content-encoding.js';
import { mintTokenResponse, type MintBody } from '../../../src/core/mint/mint-token-response.js';
import type { ContentEncodingHeader } from '../../../src/core/mint/mint-token-response.js';
import { normalizeOptions } from '../../../src/core/options/normalize-options.js';
import { STRONG_SECRET } from '../../support/tokens.js';

const LIMIT = 1024;
const options: JwtGuardOptions = { secret: STRONG_SECRET, authPath: '/login', mintBodyLimit: LIMIT };
const config = normalizeOptions(options);
const JSON_BODY = JSON.stringify({ userId: 7, role: 'admin' });

type Outcome = { status: number; error?: string; message?: string; token?: string };

/** Fails the test if anything rejects unhandled while `run` and the ticks after it go on. */
async function withoutUnhandledRejections<T>(run: () => Promise<T>): Promise<T> {
  const unhandled: unknown[] = [];
  const record = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    const settled = await run().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    // Unhandled rejections are reported once the microtask queue drains; give it two turns.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
    if (!settled.ok) throw settled.error;
    return settled.value;
  } finally {
    process.off('unhandledRejection', record);
  }
}

async function mint(body: MintBody, contentEncoding: ContentEncodingHeader): Promise<Outcome> {
  return withoutUnhandledRejections(async () => {
    const response = await mintTokenResponse(201, body, config, { contentEncoding });
    assert.ok(response);
    return { status: response.status, ...(JSON.parse(response.body) as Omit<Outcome, 'status'>) };
  });
}

async function assertDecoded(body: MintBody, contentEncoding: ContentEncodingHeader, label: string): Promise<void> {
  const outcome = await mint(body, contentEncoding);
  assert.equal(outcome.status, 201, `${label}: ${outcome.message}`);
  assert.equal((await verifyToken(outcome.token ?? '', options)).userId, 7, label);
}

async function assertRefused(body: MintBody, contentEncoding: ContentEncodingHeader, message: RegExp, label = String(contentEncoding)): Promise<void> {
  const outcome = await mint(body, contentEncoding);
  assert.equal(outcome.status, 500, label);
  assert.equal(outcome.error, 'mint_body_invalid', label);
  assert.equal(outcome.token, undefined, label);
  assert.match(outcome.message ?? '', message, label);
}

const gzip = (data: string | Uint8Array): Buffer => zlib.gzipSync(data);
const deflate = (data: string | Uint8Array): Buffer => zlib.deflateSync(data);
const br = (data: string | Uint8Array): Buffer => zlib.brotliCompressSync(data);

describe('Content-Encoding of the login answer', () => {
  test('gzip, x-gzip, deflate and br bodies are decoded before parsing, as bytes or as a stream', async () => {
    for (const [encoding, encode] of [
      ['gzip', gzip],
      ['x-gzip', gzip],
      ['deflate', deflate],
      ['br', br],
      ['GZip', gzip],
    ] as const) {
      const bytes = encode(JSON_BODY);
      await assertDecoded(bytes, encoding, `${encoding} bytes`);
      await assertDecoded(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]), encoding, `${encoding} stream`);
      await assertDecoded(new Response(bytes).body, encoding, `${encoding} web stream`);
    }
  });

  test('a list is undone right to left; identity, blanks and absent headers change nothing', async () => {
    await assertDecoded(gzip(deflate(JSON_BODY)), 'deflate, gzip', 'deflate then gzip');
    await assertDecoded(gzip(deflate(JSON_BODY)), ['deflate', 'gzip'], 'the same as a header list');
    await assertRefused(gzip(deflate(JSON_BODY)), 'gzip, deflate', /deflate-encoded body could not be decoded/, 'the wrong order');
    await assertDecoded(gzip(JSON_BODY), 'identity, gzip ,', 'identity and an empty element');
    for (const none of ['identity', '', undefined, null]) await assertDecoded(Buffer.from(JSON_BODY), none, `encoding ${String(none)}`);
    assert.deepEqual(parseContentEncoding('gzip, identity, br'), ['br', 'gzip']);
  });

  test('an unknown coding is refused by name', async () => {
    await assertRefused(Buffer.from(JSON_BODY), 'compress', /Content-Encoding "compress" cannot be decoded/);
    await assertRefused(gzip(JSON_BODY), 'gzip, zstd', /"zstd"/);
    assert.throws(() => parseContentEncoding('__proto__'), JwtGuardError);
  });

  test('a JS value is not bytes: its Content-Encoding is ignored', async () => {
    const outcome = await mint({ userId: 7 }, 'gzip');
    assert.equal(outcome.status, 201);
  });

  test('corrupt or truncated compressed bodies → mint_body_invalid, never a crash or unhandled rejection', async () => {
    const good = gzip(JSON_BODY);
    await assertRefused(Buffer.from('not gzip at all'), 'gzip', /gzip-encoded body could not be decoded/);
    await assertRefused(good.subarray(0, good.length - 6), 'gzip', /could not be decoded/, 'truncated gzip');
    await assertRefused(Readable.from([good.subarray(0, 10)]), 'gzip', /could not be decoded/, 'truncated gzip stream');
    await assertRefused(Buffer.from('{"a":1}'), 'br', /br-encoded body could not be decoded/);
    await assertRefused(Buffer.from('{"a":1}'), 'deflate', /could not be decoded/);
    await assertRefused(Buffer.alloc(0), 'gzip', /its body is empty/);
  });

  test('the decoded body is held to mintBodyLimit too: exactly the limit decodes, one byte more is refused', async () => {
    const exactly = (bytes: number): string => `{"userId":7,"p":"${'x'.repeat(bytes - '{"userId":7,"p":""}'.length)}"}`;
    assert.equal(exactly(LIMIT).length, LIMIT);
    for (const encode of [gzip, deflate, br]) {
      await assertDecoded(encode(exactly(LIMIT)), encode === gzip ? 'gzip' : encode === deflate ? 'deflate' : 'br', 'at the limit');
    }
    await assertRefused(gzip(exactly(LIMIT + 1)), 'gzip', /its gzip-decoded body is larger than mintBodyLimit \(1024 bytes\)/);
    await assertRefused(br(exactly(LIMIT + 1)), 'br', /its br-decoded body is larger than mintBodyLimit/);
  });

  test('the raw compressed body is held to the limit as well', async () => {
    const incompressible = gzip(crypto.getRandomValues(new Uint8Array(2 * LIMIT)));
    await assertRefused(incompressible, 'gzip', /its body is larger than mintBodyLimit/);
  });
});

describe('decompression bombs', () => {
  const ZEROS = 50_000_000;
  const gzipBomb = zlib.gzipSync(Buffer.alloc(ZEROS));
  const brBomb = zlib.brotliCompressSync(Buffer.alloc(ZEROS));

  /** node:zlib with every call and its outcome recorded. */
  function spiedZlib(): { zlib: ZlibLike; calls: { fn: string; maxOutputLength: unknown; error?: string; output?: number }[] } {
    const calls: { fn: string; maxOutputLength: unknown; error?: string; output?: number }[] = [];
    const spy =
      (fn: keyof ZlibLike) =>
      (input: unknown, opts: { maxOutputLength?: number }, cb: (error: Error | null, out: Buffer) => void): void => {
        const call: (typeof calls)[number] = { fn, maxOutputLength: opts.maxOutputLength };
        calls.push(call);
        (zlib[fn] as (i: unknown, o: unknown, c: (error: Error | null, out: Buffer) => void) => void)(input, opts, (error, out) => {
          if (error) call.error = (error as { code?: string }).code;
          else call.output = out.byteLength;
          cb(error, out);
        });
      };
    return { zlib: { gunzip: spy('gunzip'), inflate: spy('inflate'), brotliDecompress: spy('brotliDecompress') } as unknown as ZlibLike, calls };
  }

  test('50 MB of zeros, gzip or br compressed, is refused and never inflated past the limit', async () => {
    assert.ok(gzipBomb.byteLength < LIMIT * 64 && brBomb.byteLength < LIMIT);
    for (const [coding, bomb] of [
      ['gzip', gzipBomb],
      ['br', brBomb],
    ] as const) {
      const { zlib: spy, calls } = spiedZlib();
      await assert.rejects(
        decodeContentEncoding(bomb, [coding], 64 * LIMIT, { zlib: spy, DecompressionStream: null }),
        (error: unknown) => error instanceof JwtGuardError && error.code === 'mint_body_invalid' && /decoded body is larger than mintBodyLimit/.test(error.message),
      );
      // zlib itself stopped at the cap: no output buffer of the inflated size ever existed.
      assert.deepEqual(calls, [{ fn: coding === 'gzip' ? 'gunzip' : 'brotliDecompress', maxOutputLength: 64 * LIMIT, error: 'ERR_BUFFER_TOO_LARGE' }]);
    }
  });

  test('through mint as well: a 500 naming mintBodyLimit', async () => {
    const bigLimit = normalizeOptions({ ...options, mintBodyLimit: 64 * LIMIT });
    const response = await mintTokenResponse(200, gzipBomb, bigLimit, { contentEncoding: 'gzip' });
    assert.equal(response?.status, 500);
    assert.match(response?.body ?? '', /gzip-decoded body is larger than mintBodyLimit \(65536 bytes\)/);
  });
});

describe('without node:zlib: the web DecompressionStream', () => {
  const web = (limit = LIMIT): [number, DecodeRuntime] => [limit, { zlib: null, DecompressionStream: DecompressionStream as unknown as DecompressionStreamLike }];
  const decode = async (bytes: Uint8Array, codings: ContentCoding[], [limit, runtime] = web()): Promise<string> =>
    new TextDecoder().decode(await withoutUnhandledRejections(() => decodeContentEncoding(bytes, codings, limit, runtime)));
  const refused = (pattern: RegExp) => (error: unknown) => error instanceof JwtGuardError && error.code === 'mint_body_invalid' && pattern.test(error.message);

  test('decodes gzip and deflate, and lists of them', async () => {
    assert.equal(await decode(gzip(JSON_BODY), ['gzip']), JSON_BODY);
    assert.equal(await decode(deflate(JSON_BODY), ['deflate']), JSON_BODY);
    assert.equal(await decode(gzip(deflate(JSON_BODY)), parseContentEncoding('deflate, x-gzip')), JSON_BODY);
  });

  test('caps the output: a bomb is read only to the limit, then the decoder is cancelled', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50_000_000));
    let produced = 0;
    // The real DecompressionStream, with what comes out of it counted.
    const Counting = class {
      readonly writable: WritableStream<Uint8Array>;
      readonly readable: ReadableStream<Uint8Array>;
      constructor(format: 'gzip' | 'deflate') {
        const inner = new DecompressionStream(format);
        this.writable = inner.writable as WritableStream<Uint8Array>;
        this.readable = (inner.readable as ReadableStream<Uint8Array>).pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              produced += chunk.byteLength;
              controller.enqueue(chunk);
            },
          }),
        );
      }
    };
    await assert.rejects(
      withoutUnhandledRejections(() => decodeContentEncoding(bomb, ['gzip'], LIMIT, { zlib: null, DecompressionStream: Counting })),
      refused(/gzip-decoded body is larger than mintBodyLimit \(1024 bytes\)/),
    );
    assert.ok(produced < 1_000_000, `the decoder produced ${produced} bytes for a 1024-byte limit`);
  });

  test('at the limit decodes, one byte over is refused', async () => {
    assert.equal((await decode(gzip('x'.repeat(LIMIT)), ['gzip'])).length, LIMIT);
    await assert.rejects(decode(gzip('x'.repeat(LIMIT + 1)), ['gzip']), refused(/larger than mintBodyLimit/));
  });

  test('corrupt data → mint_body_invalid, never an unhandled rejection', async () => {
    await assert.rejects(decode(Buffer.from('garbage'), ['gzip']), refused(/gzip-encoded body could not be decoded/));
    const good = gzip(JSON_BODY);
    await assert.rejects(decode(good.subarray(0, good.length - 6), ['gzip']), refused(/could not be decoded/));
  });

  test('br needs node:zlib, and without any decoder nothing is decoded: both say so', async () => {
    await assert.rejects(decode(br(JSON_BODY), ['br']), refused(/br \(Brotli\) encoded, which only node:zlib decodes/));
    await assert.rejects(decodeContentEncoding(gzip(JSON_BODY), ['gzip'], LIMIT, { zlib: null, DecompressionStream: null }), refused(/neither node:zlib nor DecompressionStream/));
  });
});
