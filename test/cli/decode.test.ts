// `jwtguard decode`, run as a user runs it. Times are judged against a fixed --now, so every
// relative phrase is exact and no assertion depends on the clock.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { SignJWT, base64url } from 'jose';
import { STRONG_SECRET } from '../support/tokens.js';
import { cli, json, show, transcript } from './support/cli.js';

const NOW = 1_750_000_000; // 2025-06-15T15:06:40.000Z
const KEY = new TextEncoder().encode(STRONG_SECRET);
const enc = (value: unknown): string => base64url.encode(JSON.stringify(value));

function token(payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(KEY);
}

interface Decoded {
  header: Record<string, unknown> | null;
  payload: unknown;
  signature?: string;
  times: Record<string, { value: number; date: string; relative: string }>;
  warnings: { code: string; message: string }[];
  verified: boolean;
  stripped: string[];
  encrypted?: boolean;
  error?: { code: string; message: string };
}

const decodeJson = async (input: string, stdin?: string) => {
  const run = await cli(['decode', input, '--json', '--now', String(NOW)], stdin === undefined ? {} : { stdin });
  return { run, out: json<Decoded>(run) };
};
const codes = (decoded: Decoded): string[] => decoded.warnings.map((w) => w.code);

after(() => {
  for (const output of transcript) assert.ok(!output.includes(STRONG_SECRET), 'the signing secret appeared in some output');
});

describe('jwtguard decode', { concurrency: 4 }, () => {
  test('shows header, payload and each time claim as an ISO date and relative to --now', async () => {
    const t = await token({ sub: 'user-1', iat: NOW - 3 * 3600, nbf: NOW - 3 * 3600, exp: NOW + 12 * 60 + 5 });
    const run = await cli(['decode', t, '--now', String(NOW)]);
    assert.equal(run.code, 0, show(run));
    assert.match(run.stdout, /"sub": "user-1"/);
    assert.match(run.stdout, /"alg": "HS256"/);
    assert.match(run.stdout, /exp\s+1750000725\s+2025-06-15T15:18:45\.000Z\s+expires in 12 min/);
    assert.match(run.stdout, /iat\s+1749989200\s+2025-06-15T12:06:40\.000Z\s+issued 3 h ago/);
    assert.match(run.stdout, /nbf .* valid since 3 h ago/);
    assert.match(run.stdout, /HS256, 32 bytes/);
  });

  test('an expired token reads "expired 3 h ago"', async () => {
    const { run, out } = await decodeJson(await token({ iat: NOW - 4 * 3600, exp: NOW - 3 * 3600 - 59 }));
    assert.equal(run.code, 0, show(run));
    assert.equal(out.times.exp?.relative, 'expired 3 h ago');
    assert.equal(out.times.exp?.date, '2025-06-15T12:05:41.000Z');
  });

  test('--json: header, payload, signature, times, warnings, and verified: false', async () => {
    const t = await token({ sub: 'u', iat: NOW, exp: NOW + 900 });
    const { run, out } = await decodeJson(t);
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(out.header, { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(out.payload, { sub: 'u', iat: NOW, exp: NOW + 900 });
    assert.equal(out.signature, t.split('.')[2]);
    assert.deepEqual(Object.keys(out.times).sort(), ['exp', 'iat']);
    assert.equal(out.times.exp?.relative, 'expires in 15 min');
    assert.deepEqual(out.warnings, []);
    assert.equal(out.verified, false);
    assert.equal(run.stderr, '');
  });

  test('never claims validity: the human report says it checked nothing, even for a good token', async () => {
    const run = await cli(['decode', await token({ sub: 'u', iat: NOW, exp: NOW + 60 }), '--now', String(NOW)]);
    assert.equal(run.code, 0, show(run));
    assert.match(run.stdout, /Not verified: decoding checks nothing/);
    assert.doesNotMatch(run.stdout + run.stderr, /✔|\bis valid\b|verified ok/i);
  });

  test('strips a pasted "Bearer ", "Authorization: Bearer ", quotes and surrounding whitespace', async () => {
    const t = await token({ sub: 'pasted', exp: NOW + 60 });
    for (const [input, stripped] of [
      [`Bearer ${t}`, ['Bearer']],
      [`bearer   ${t}`, ['Bearer']],
      [`Authorization: Bearer ${t}`, ['Authorization:', 'Bearer']],
      [`  authorization:Bearer ${t}\n`, ['Authorization:', 'Bearer']],
      [`\n\t${t}  \r\n`, []],
      [`"${t}"`, ['quotes']],
    ] as const) {
      const { run, out } = await decodeJson(input);
      assert.equal(run.code, 0, show(run));
      assert.deepEqual(out.payload, { sub: 'pasted', exp: NOW + 60 }, JSON.stringify(input));
      assert.deepEqual(out.stripped, stripped);
      assert.ok(!codes(out).includes('malformed'), JSON.stringify(out.warnings));
    }
  });

  test('reads the token from stdin with "-", prefix and trailing newline included', async () => {
    const t = await token({ sub: 'stdin', exp: NOW + 60 });
    const { run, out } = await decodeJson('-', `Authorization: Bearer ${t}\n`);
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(out.payload, { sub: 'stdin', exp: NOW + 60 });
  });

  describe('warnings', { concurrency: 4 }, () => {
    test('alg "none" (and the middleware refuses its empty signature as malformed)', async () => {
      const { run, out } = await decodeJson(`${enc({ alg: 'none' })}.${enc({ sub: 'admin', exp: NOW + 60 })}.`);
      assert.equal(run.code, 0, show(run));
      assert.deepEqual(codes(out), ['malformed', 'alg_none']);
      assert.match(out.warnings[0]?.message ?? '', /token_malformed.*signature segment is empty/);
    });

    test('no exp', async () => {
      const { out } = await decodeJson(await token({ sub: 'forever', iat: NOW }));
      assert.deepEqual(codes(out), ['no_exp']);
    });

    test('lifetime over a day (exp − iat), and exactly one day is not warned about', async () => {
      assert.deepEqual(codes((await decodeJson(await token({ iat: NOW, exp: NOW + 30 * 86400 }))).out), ['long_lifetime']);
      assert.match((await decodeJson(await token({ iat: NOW, exp: NOW + 30 * 86400 }))).out.warnings[0]?.message ?? '', /lifetime of 30 d/);
      assert.deepEqual(codes((await decodeJson(await token({ iat: NOW, exp: NOW + 86400 }))).out), []);
      assert.deepEqual(codes((await decodeJson(await token({ exp: NOW + 2 * 86400 }))).out), ['long_lifetime'], 'without iat, from now');
    });

    test('nbf in the future', async () => {
      const { out } = await decodeJson(await token({ iat: NOW, nbf: NOW + 600, exp: NOW + 900 }));
      assert.deepEqual(codes(out), ['nbf_future']);
      assert.equal(out.times.nbf?.relative, 'valid in 10 min');
    });

    test('crit header', async () => {
      const t = `${enc({ alg: 'HS256', crit: ['b64'], b64: true })}.${enc({ exp: NOW + 60 })}.AAAA`;
      assert.deepEqual(codes((await decodeJson(t)).out), ['crit']);
    });

    test('embedded jwk, jku, x5u and x5c', async () => {
      const header = { alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }, jku: 'https://attacker.test/jwks', x5u: 'https://attacker.test/x5u', x5c: ['AA=='] };
      const { out } = await decodeJson(`${enc(header)}.${enc({ exp: NOW + 60 })}.AAAA`);
      assert.deepEqual(codes(out), ['embedded_key', 'embedded_key', 'embedded_key', 'embedded_key']);
      assert.match(out.warnings.map((w) => w.message).join('\n'), /\(jwk\)[\s\S]*\(jku\)[\s\S]*\(x5u\)[\s\S]*\(x5c\)/);
    });

    test('huge token: over a cookie (4096) and over the middleware\'s maxTokenLength (8192)', async () => {
      const cookieSized = await decodeJson(await token({ exp: NOW + 60, pad: 'x'.repeat(4000) }));
      assert.deepEqual(codes(cookieSized.out), ['huge_token']);
      assert.match(cookieSized.out.warnings[0]?.message ?? '', /browser cookie/);
      const tooLong = await decodeJson(await token({ exp: NOW + 60, pad: 'x'.repeat(7000) }));
      assert.deepEqual(codes(tooLong.out), ['huge_token']);
      assert.match(tooLong.out.warnings[0]?.message ?? '', /token_too_long/);
    });

    test('exp in milliseconds, and exp that is not a number', async () => {
      // Read as seconds, a millisecond exp is also a lifetime of millennia.
      assert.deepEqual(codes((await decodeJson(await token({ exp: (NOW + 60) * 1000 }))).out), ['time_claim_milliseconds', 'long_lifetime']);
      const text = await decodeJson(await token({ exp: '2025-06-15' }));
      assert.deepEqual(codes(text.out), ['time_claim_invalid']);
      assert.match(text.out.warnings[0]?.message ?? '', /claim_invalid/);
    });

    test('non-canonical spelling: explained as the middleware\'s token_malformed, contents still shown', async () => {
      const t = await token({ sub: 'u', exp: NOW + 60 });
      const { run, out } = await decodeJson(`${t}==`);
      assert.equal(run.code, 0, show(run));
      assert.deepEqual(out.payload, { sub: 'u', exp: NOW + 60 });
      assert.deepEqual(codes(out), ['malformed']);
      assert.match(out.warnings[0]?.message ?? '', /padding "="/);
    });

    test('the human report lists the warnings', async () => {
      const run = await cli(['decode', `${enc({ alg: 'none' })}.${enc({ sub: 'admin' })}.`, '--now', String(NOW)]);
      assert.equal(run.code, 0, show(run));
      assert.match(run.stdout, /Warnings\n[\s\S]*alg is "none"[\s\S]*no exp/);
    });
  });

  describe('exit codes', () => {
    test('1 (token_malformed) when header and payload cannot be decoded', async () => {
      for (const input of ['not-a-token', 'a.b.c', '%%%.%%%.%%%']) {
        const { run, out } = await decodeJson(input);
        assert.equal(run.code, 1, show(run));
        assert.equal(out.error?.code, 'token_malformed');
      }
      const human = await cli(['decode', 'not-a-token']);
      assert.equal(human.code, 1);
      assert.match(human.stderr, /token_malformed.*1 segment/);
    });

    test('1 for an encrypted JWT (JWE): the header is shown, the payload cannot be', async () => {
      const { run, out } = await decodeJson(`${enc({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`);
      assert.equal(run.code, 1, show(run));
      assert.equal(out.encrypted, true);
      assert.deepEqual(out.header, { alg: 'RSA-OAEP', enc: 'A256GCM' });
      assert.equal(out.payload, null);
    });

    test('2 without a token, with an empty one, with two, and with a bad --now; the arguments are not echoed', async () => {
      const t = await token({ sub: 'u' });
      for (const args of [['decode'], ['decode', '   '], ['decode', t, t], ['decode', t, '--now', 'yesterday']]) {
        const run = await cli(args);
        assert.equal(run.code, 2, `${args.join(' ')}\n${show(run)}`);
        assert.match(run.stderr, /jwtguard decode: /);
        assert.ok(!run.stderr.includes(t), 'the token was echoed');
      }
    });
  });
});
