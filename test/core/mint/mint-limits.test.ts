import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { signToken, verifyToken, type JwtGuardOptions } from '../../../src/index.js';
import { MintBodyCollector } from '../../../src/core/mint/mint-body.js';
import { mintTokenResponse, type MintBody } from '../../../src/core/mint/mint-token-response.js';
import { normalizeOptions } from '../../../src/core/options/normalize-options.js';
import { decodePayload, now, STRONG_SECRET } from '../../support/tokens.js';

const LIMIT = 100;
const options: JwtGuardOptions = { secret: STRONG_SECRET, authPath: '/login', mintBodyLimit: LIMIT };
const config = normalizeOptions(options);

/** A JSON object of exactly `bytes` UTF-8 bytes, padded with `fill` (1 or 2 bytes each). */
function jsonOf(bytes: number, fill = 'x'): string {
  const width = Buffer.byteLength(fill);
  const room = bytes - '{"p":""}'.length;
  assert.equal(room % width, 0);
  const text = `{"p":"${fill.repeat(room / width)}"}`;
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

type Outcome = { status: number; error?: string; message?: string; token?: string };

async function mint(body: MintBody, config_ = config): Promise<Outcome> {
  const response = await mintTokenResponse(200, body, config_);
  assert.ok(response, 'a 2xx answer always gets a response');
  return { status: response.status, ...(JSON.parse(response.body) as Omit<Outcome, 'status'>) };
}

async function assertMinted(body: MintBody, label: string): Promise<void> {
  const outcome = await mint(body);
  assert.equal(outcome.status, 200, `${label}: ${outcome.message}`);
  assert.ok(outcome.token, label);
  await verifyToken(outcome.token, options);
}

async function assertTooLarge(body: MintBody, label: string, what = /its body is larger than mintBodyLimit \(100 bytes\)/): Promise<void> {
  const outcome = await mint(body);
  assert.equal(outcome.status, 500, label);
  assert.equal(outcome.error, 'mint_body_invalid', label);
  assert.equal(outcome.token, undefined, label);
  assert.match(outcome.message ?? '', what, label);
}

describe('mintBodyLimit', () => {
  test('string bodies: exactly the limit mints, one byte more is refused, counted in UTF-8 bytes', async () => {
    await assertMinted(jsonOf(LIMIT), 'ASCII at the limit');
    await assertTooLarge(jsonOf(LIMIT + 1), 'ASCII one over');
    await assertMinted(jsonOf(LIMIT, 'é'), 'two-byte characters at the limit');
    // 55 characters but 102 bytes: a length in UTF-16 units would let it through.
    await assertTooLarge(jsonOf(LIMIT + 2, 'é'), 'two-byte characters over');
  });

  test('byte bodies (Uint8Array, Buffer, ArrayBuffer, Blob): at the limit mints, over is refused', async () => {
    const at = new TextEncoder().encode(jsonOf(LIMIT));
    const over = new TextEncoder().encode(jsonOf(LIMIT + 1));
    for (const [label, make] of [
      ['Uint8Array', (b: Uint8Array) => b],
      ['Buffer', (b: Uint8Array) => Buffer.from(b)],
      ['ArrayBuffer', (b: Uint8Array) => b.slice().buffer],
      ['Blob', (b: Uint8Array) => new Blob([b])],
    ] as const) {
      await assertMinted(make(at), `${label} at the limit`);
      await assertTooLarge(make(over), `${label} over`);
    }
  });

  test('object bodies are measured as their JSON: at the limit mints, over is refused', async () => {
    await assertMinted(JSON.parse(jsonOf(LIMIT)) as object, 'object at the limit');
    await assertTooLarge(JSON.parse(jsonOf(LIMIT + 1)) as object, 'object over');
    await assertTooLarge({ p: 'x'.repeat(10_000_000) }, 'a 10 MB object');
  });

  test('Node streams, web streams, async iterables and Responses: at the limit mints, over is refused', async () => {
    const chunked = (text: string): string[] => text.match(/.{1,7}/gs) ?? [];
    const makers: [string, (text: string) => MintBody][] = [
      ['Readable of strings', (text) => Readable.from(chunked(text))],
      ['Readable of Buffers', (text) => Readable.from(chunked(text).map((c) => Buffer.from(c)))],
      ['ReadableStream', (text) => new Blob([text]).stream()],
      ['async generator', (text) => (async function* () { yield* chunked(text); })()],
      ['Response', (text) => new Response(text)],
    ];
    for (const [label, make] of makers) {
      await assertMinted(make(jsonOf(LIMIT)), `${label} at the limit`);
      await assertTooLarge(make(jsonOf(LIMIT + 1)), `${label} over`);
    }
  });

  test('a Node stream that never ends is read only past the limit, then destroyed', async () => {
    let reads = 0;
    const endless = new Readable({
      read() {
        reads++;
        this.push(Buffer.alloc(16, 0x20));
      },
    });
    await assertTooLarge(endless, 'endless Readable');
    assert.equal(endless.destroyed, true);
    assert.ok(reads < 64, `read ${reads} chunks of 16 bytes for a 100-byte limit`);
  });

  test('a web stream that never ends is cancelled once over the limit', async () => {
    let pulls = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(16).fill(0x20));
      },
      cancel() {
        cancelled = true;
        return new Promise(() => {}); // a cancel that never settles must not hold the answer either
      },
    });
    await assertTooLarge(endless, 'endless ReadableStream');
    assert.equal(cancelled, true);
    assert.ok(pulls < 64, `pulled ${pulls} chunks`);
  });

  test('an async generator that never ends is returned from (its finally runs)', async () => {
    let yielded = 0;
    let finished = false;
    const endless = (async function* () {
      try {
        for (;;) {
          yielded++;
          yield 'x'.repeat(30);
        }
      } finally {
        finished = true;
      }
    })();
    await assertTooLarge(endless, 'endless generator');
    assert.equal(finished, true);
    assert.equal(yielded, 4); // 30 + 30 + 30 fit in 100, the fourth chunk does not
  });

  test('one huge chunk is refused without being kept', async () => {
    await assertTooLarge(Readable.from([Buffer.alloc(50_000_000, 0x20)]), 'a 50 MB chunk');
    await assertTooLarge(Readable.from(['x'.repeat(50_000_000)], { objectMode: true }), 'a 50 M-character string chunk');
  });

  test('a failing stream or one that yields neither text nor bytes → mint_body_invalid, never a rejection', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    const failed = await mint(failing);
    assert.equal(failed.status, 500);
    assert.equal(failed.error, 'mint_body_invalid');
    assert.match(failed.message ?? '', /reading its body failed/);

    const objects = await mint(Readable.from([{ userId: 1 }]));
    assert.equal(objects.error, 'mint_body_invalid');
    assert.match(objects.message ?? '', /something other than text or bytes/);
  });

  test('an unread stream is released when the answer cannot be minted (204)', async () => {
    const stream = Readable.from(['{"a":1}']);
    const response = await mintTokenResponse(204, stream, config);
    assert.equal(response?.status, 500);
    assert.equal(stream.destroyed, true);
  });
});

describe('MintBodyCollector', () => {
  test('chunks up to the limit are kept and minted; one byte more drops everything', async () => {
    const text = jsonOf(LIMIT);
    const at = new MintBodyCollector(LIMIT);
    at.push(text.slice(0, 40));
    at.push(Buffer.from(text.slice(40)));
    at.push(undefined);
    assert.equal(at.byteLength, LIMIT);
    assert.equal(at.oversized, false);
    await assertMinted(at, 'collector at the limit');

    const over = new MintBodyCollector(LIMIT);
    over.push(text);
    over.push('x');
    assert.equal(over.oversized, true);
    assert.equal(over.byteLength, 0);
    over.push('{}'); // ignored from now on
    assert.equal(over.byteLength, 0);
    await assertTooLarge(over, 'collector one over');
  });

  test('a chunk far over the limit is refused at once (string or bytes)', () => {
    const strings = new MintBodyCollector(LIMIT);
    strings.push('x'.repeat(10_000_000));
    assert.equal(strings.oversized, true);
    const bytes = new MintBodyCollector(LIMIT);
    bytes.push(new Uint8Array(10_000_000));
    assert.equal(bytes.oversized, true);
    // 60 characters, 120 bytes: measured in bytes, not characters.
    const multibyte = new MintBodyCollector(LIMIT);
    multibyte.push('é'.repeat(60));
    assert.equal(multibyte.oversized, true);
  });

  test("Node's write() encodings are honoured; byte chunks are copied, so the writer may reuse them", async () => {
    const collector = new MintBodyCollector(LIMIT);
    collector.push('{"a":', 'latin1');
    collector.push(Buffer.from('"é"').toString('hex'), 'hex');
    const reused = Buffer.from('}');
    collector.push(reused);
    reused.write('!');
    const { token } = await mint(collector);
    assert.ok(token);
    assert.equal(decodePayload(token).a, 'é');
  });

  test('the limit must be a positive whole number', () => {
    for (const limit of [0, -1, 1.5, Number.NaN, Infinity]) assert.throws(() => new MintBodyCollector(limit), RangeError);
  });
});

describe('maxTokenLength on minting', () => {
  test('a token longer than maxTokenLength is never minted; one that fits is', async () => {
    const short = normalizeOptions({ secret: STRONG_SECRET, authPath: '/login', maxTokenLength: 300 });
    const fits = await mint({ userId: 1 }, short);
    assert.equal(fits.status, 200);
    assert.ok((fits.token ?? '').length <= 300);

    const tooLong = await mint({ p: 'x'.repeat(300) }, short);
    assert.equal(tooLong.status, 500);
    assert.equal(tooLong.error, 'mint_body_invalid');
    assert.equal(tooLong.token, undefined);
    assert.match(tooLong.message ?? '', /the signed token would be \d+ characters, over maxTokenLength \(300\)/);
  });

  test('the default limits agree: a token the guard mints is one it accepts', async () => {
    const defaults = normalizeOptions({ secret: STRONG_SECRET, authPath: '/login' });
    const outcome = await mint({ p: 'x'.repeat(7000) }, defaults);
    assert.equal(outcome.error, 'mint_body_invalid');
    assert.match(outcome.message ?? '', /over maxTokenLength \(8192\)/);
  });
});

describe('maxExpiresIn', () => {
  const capped = { secret: STRONG_SECRET, authPath: '/login', maxExpiresIn: '1h' };

  async function claimsOf(body: MintBody, opts: JwtGuardOptions): Promise<Record<string, unknown>> {
    const outcome = await mint(body, normalizeOptions(opts));
    assert.ok(outcome.token, outcome.message);
    return decodePayload(outcome.token);
  }

  test("a login body's exp beyond iat + maxExpiresIn is lowered to it; an earlier one is kept", async () => {
    const far = await claimsOf({ userId: 1, exp: 1e12 }, capped);
    assert.equal(far.exp, (far.iat as number) + 3600);
    const near = now() + 60;
    assert.equal((await claimsOf({ exp: near }, capped)).exp, near);
  });

  test('without maxExpiresIn a far exp is kept (the cap is what lowers it)', async () => {
    assert.equal((await claimsOf({ exp: 1e12 }, { secret: STRONG_SECRET, authPath: '/login' })).exp, 1e12);
  });

  test('expiresIn: false gets iat + maxExpiresIn; the default expiresIn shrinks to fit', async () => {
    const noExpiry = await claimsOf({ userId: 1 }, { ...capped, maxExpiresIn: '2h', expiresIn: false });
    assert.equal(noExpiry.exp, (noExpiry.iat as number) + 7200);
    const shrunk = await claimsOf({ userId: 1 }, { ...capped, maxExpiresIn: '10m' });
    assert.equal(shrunk.exp, (shrunk.iat as number) + 600);
    const within = await claimsOf({ userId: 1 }, { ...capped, expiresIn: '15m' });
    assert.equal(within.exp, (within.iat as number) + 900);
  });

  test('signToken applies the same cap', async () => {
    const far = decodePayload(await signToken({ sub: 'u', exp: 1e12 }, { secret: STRONG_SECRET, maxExpiresIn: 120 }));
    assert.equal(far.exp, (far.iat as number) + 120);
    const unbounded = decodePayload(await signToken({ sub: 'u' }, { secret: STRONG_SECRET, expiresIn: false, maxExpiresIn: '1d' }));
    assert.equal(unbounded.exp, (unbounded.iat as number) + 86_400);
  });
});
