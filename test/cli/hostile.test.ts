// `jwtguard verify` and the library's verifyToken (what the middleware runs) agree on a sample of
// the hostile-input battery (test/core/verify/hostile-input.test.ts): the same verdict and the same
// code for each attack, with the same key and options given as flags and as options.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { JwtGuardError, verifyToken, type JwtGuardOptions } from '../../src/index.js';
import { STRONG_SECRET } from '../support/tokens.js';
import { cli, json, scratch, show, transcript } from './support/cli.js';

const SECRET = STRONG_SECRET;
const NOW = 1_750_000_000;
const b64u = (input: string | Uint8Array): string => Buffer.from(input).toString('base64url');
const seg = (value: unknown): string => b64u(JSON.stringify(value));
const mac = (input: string, secret: string | Uint8Array = SECRET, hash = 'sha256'): string => createHmac(hash, secret).update(input).digest('base64url');
const signSegments = (header: string, payload: string, secret: string | Uint8Array = SECRET): string => `${header}.${payload}.${mac(`${header}.${payload}`, secret)}`;
const signRaw = (header: string, payload: string, secret: string | Uint8Array = SECRET): string => signSegments(b64u(header), b64u(payload), secret);
const HS256 = seg({ alg: 'HS256', typ: 'JWT' });
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

interface Case {
  readonly name: string;
  readonly token: string;
  /** `null`: the token must verify. */
  readonly code: string | null;
  /** Which key setup: the HMAC secret, or the two asymmetric ones. */
  readonly keys?: 'secret' | 'confusion' | 'es256';
}

let dir: string;
let rsaPem: string;
let rsaPemPath: string;
let real: { publicKey: CryptoKey };
let realPemPath: string;
let attacker: { privateKey: CryptoKey; publicKey: CryptoKey };
const cases: Case[] = [];

before(async () => {
  dir = scratch();
  const rsa = await generateKeyPair('RS256', { extractable: true });
  rsaPem = await exportSPKI(rsa.publicKey);
  rsaPemPath = join(dir, 'rsa.pub.pem');
  writeFileSync(rsaPemPath, rsaPem);
  real = await generateKeyPair('ES256', { extractable: true });
  realPemPath = join(dir, 'es.pub.pem');
  writeFileSync(realPemPath, await exportSPKI(real.publicKey));
  attacker = await generateKeyPair('ES256', { extractable: true });

  const body = seg({ sub: 'u1', role: 'user', exp: NOW + 600 });
  const good = signSegments(HS256, body);
  const goodMac = createHmac('sha256', SECRET).update(`${HS256}.${body}`).digest();
  const withSignature = (signature: string): string => `${good.slice(0, good.lastIndexOf('.'))}.${signature}`;
  const signature = good.slice(good.lastIndexOf('.') + 1);
  const respelled = `${signature.slice(0, -1)}${BASE64URL[BASE64URL.indexOf(signature.at(-1) as string) | 1]}`;
  cases.push(
    { name: 'control: an untouched token verifies', token: good, code: null },
    { name: 'alg "none", empty signature', token: `${seg({ alg: 'none', typ: 'JWT' })}.${seg({ sub: 'admin' })}.`, code: 'token_malformed' },
    { name: 'alg "none", garbage signature', token: `${seg({ alg: 'none' })}.${seg({ sub: 'admin' })}.AAAA`, code: 'algorithm_not_allowed' },
    { name: 'alg "None" carrying a valid HS256 MAC', token: signSegments(seg({ alg: 'None' }), seg({ sub: 'admin' })), code: 'algorithm_not_allowed' },
    { name: 'alg "hs256" (case)', token: signSegments(seg({ alg: 'hs256' }), seg({ sub: 'admin' })), code: 'algorithm_not_allowed' },
    { name: 'HS512 token with a correct HS512 MAC, HS256 configured', token: `${seg({ alg: 'HS512' })}.${body}.${mac(`${seg({ alg: 'HS512' })}.${body}`, SECRET, 'sha512')}`, code: 'algorithm_not_allowed' },
    { name: 'alg missing', token: signSegments(seg({ typ: 'JWT' }), body), code: 'token_malformed' },
    { name: 'alg not a string', token: signSegments(seg({ alg: ['HS256'] }), body), code: 'token_malformed' },
    { name: 'signature stripped with its dot', token: good.slice(0, good.lastIndexOf('.')), code: 'token_malformed' },
    { name: 'truncated MAC (16 bytes)', token: withSignature(b64u(goodMac.subarray(0, 16))), code: 'signature_invalid' },
    { name: 'MAC with a byte appended', token: withSignature(b64u(Buffer.concat([goodMac, Buffer.from([0])]))), code: 'signature_invalid' },
    { name: 'all-zero MAC', token: withSignature(b64u(new Uint8Array(32))), code: 'signature_invalid' },
    { name: 'MAC under a prefix of the secret', token: signSegments(HS256, body, SECRET.slice(0, 32)), code: 'signature_invalid' },
    { name: 'signature re-spelled with non-zero trailing bits', token: withSignature(respelled), code: 'token_malformed' },
    { name: 'payload segment of impossible length', token: signSegments(HS256, `${body}A`), code: 'token_malformed' },
    { name: 'header that is not JSON', token: signRaw('{"alg":"HS256"', '{"sub":"u1"}'), code: 'token_malformed' },
    { name: 'payload that is a JSON array', token: signRaw('{"alg":"HS256"}', '["admin"]'), code: 'token_malformed' },
    { name: 'exp as a string', token: signRaw('{"alg":"HS256"}', '{"sub":"u1","exp":"9999999999"}'), code: 'claim_invalid' },
    { name: 'exp in the past', token: signRaw('{"alg":"HS256"}', JSON.stringify({ exp: NOW - 1 })), code: 'token_expired' },
    { name: 'exp equal to now', token: signRaw('{"alg":"HS256"}', JSON.stringify({ exp: NOW })), code: 'token_expired' },
    { name: 'nbf in the future', token: signRaw('{"alg":"HS256"}', JSON.stringify({ nbf: NOW + 60 })), code: 'token_not_yet_valid' },
    { name: '__proto__ in the payload (verifies, and pollutes nothing)', token: signRaw('{"alg":"HS256"}', '{"sub":"u1","__proto__":{"admin":true}}'), code: null },
    { name: 'unknown crit extension', token: signSegments(seg({ alg: 'HS256', crit: ['urn:x'], 'urn:x': 1 }), body), code: 'token_malformed' },
    { name: 'longer than maxTokenLength', token: signRaw('{"alg":"HS256"}', JSON.stringify({ pad: 'x'.repeat(7000) })), code: 'token_too_long' },
    { name: 'whitespace inside', token: `${good.slice(0, 20)}\n${good.slice(20)}`, code: 'token_malformed' },
    {
      name: 'RS256→HS256 key confusion: HMAC under the public key PEM, both algorithms allowed',
      token: signRaw('{"alg":"HS256","typ":"JWT"}', JSON.stringify({ sub: 'admin' }), rsaPem),
      code: 'signature_invalid',
      keys: 'confusion',
    },
    {
      name: 'embedded jwk / jku / x5u: the attacker\'s own key is ignored',
      token: await new SignJWT({ sub: 'admin' })
        .setProtectedHeader({ alg: 'ES256', jwk: await exportJWK(attacker.publicKey), jku: 'https://attacker.test/jwks', x5u: 'https://attacker.test/x5u', kid: 'attacker' })
        .sign(attacker.privateKey),
      code: 'signature_invalid',
      keys: 'es256',
    },
  );
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const output of transcript) assert.ok(!output.includes(SECRET), 'the secret appeared in some output');
});

/** The same configuration, as options for verifyToken and as flags for the CLI. */
function setup(keys: Case['keys']): { options: JwtGuardOptions; flags: string[] } {
  const currentDate = new Date(NOW * 1000);
  if (keys === 'confusion') return { options: { secret: SECRET, publicKey: rsaPem, algorithms: ['HS256', 'RS256'], currentDate }, flags: ['--secret', SECRET, '--public-key', rsaPemPath, '--algorithms', 'HS256,RS256'] };
  if (keys === 'es256') return { options: { publicKey: real.publicKey, algorithms: ['ES256'], currentDate }, flags: ['--public-key', realPemPath, '--algorithms', 'ES256'] };
  return { options: { secret: SECRET, currentDate }, flags: ['--secret', SECRET] };
}

async function library(token: string, options: JwtGuardOptions): Promise<string | null> {
  try {
    await verifyToken(token, options);
    return null;
  } catch (error) {
    assert.ok(error instanceof JwtGuardError, String(error));
    return error.code;
  }
}

describe('verify agrees with verifyToken on the hostile-input battery', () => {
  test('every case: same verdict, same code, the expected one', { concurrency: 4 }, async (t) => {
    assert.ok(cases.length >= 25);
    await Promise.all(
      cases.map((c) => t.test(c.name, async () => {
        const { options, flags } = setup(c.keys);
        const expected = await library(c.token, options);
        assert.equal(expected, c.code, `the library's verdict changed for "${c.name}": update the sample`);
        // Through stdin, as the token's bytes are: only surrounding whitespace is stripped, which no case has.
        const run = await cli(['verify', '-', ...flags, '--now', String(NOW), '--json'], { stdin: c.token });
        const out = json<{ valid: boolean; error?: { code: string } }>(run);
        assert.equal(out.valid ? null : (out.error?.code ?? 'no code'), expected, show(run));
        assert.equal(run.code, expected === null ? 0 : 1);
      })),
    );
  });
});
