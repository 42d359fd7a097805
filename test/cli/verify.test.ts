// `jwtguard verify`: every flag maps to the middleware's option of the same meaning, success
// prints the payload, refusals give the middleware's code and a hint, bad usage exits 2, and no
// secret ever reaches an output. Tokens are made with jose, never with the CLI under test.
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { STRONG_SECRET } from '../support/tokens.js';
import { cli, json, scratch, show, transcript } from './support/cli.js';

const NOW = 1_750_000_000; // 2025-06-15T15:06:40.000Z
const SECRET = STRONG_SECRET;
const KEY = new TextEncoder().encode(SECRET);
const RAW_SECRET = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'hex'); // 32 raw bytes
const at = ['--now', String(NOW)];

const hs = (payload: Record<string, unknown>, alg = 'HS256', key: Uint8Array = KEY, header: Record<string, unknown> = {}): Promise<string> =>
  new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key);

interface Verdict {
  valid: boolean;
  header?: Record<string, unknown>;
  payload?: Record<string, unknown>;
  error?: { code: string; status: number; message: string; claim?: string };
  hint?: string;
}

let dir: string;
let es: { privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK };
let pemPath: string;
let jwkPath: string;
let privatePemPath: string;
let jwksPath: string;
let secretPath: string;
let server: Server;
let jwksUrl: string;
/** The issuer the test server describes at /realms/main/.well-known/openid-configuration. */
const issuer = (): string => jwksUrl.replace('/jwks.json', '/realms/main');

before(async () => {
  dir = scratch();
  const pair = await generateKeyPair('ES256', { extractable: true });
  es = { ...pair, jwk: await exportJWK(pair.publicKey) };
  pemPath = join(dir, 'es.pub.pem');
  jwkPath = join(dir, 'es.pub.json');
  privatePemPath = join(dir, 'es.key.pem');
  jwksPath = join(dir, 'jwks.json');
  secretPath = join(dir, 'secret.txt');
  writeFileSync(pemPath, await exportSPKI(pair.publicKey));
  writeFileSync(jwkPath, JSON.stringify(es.jwk));
  writeFileSync(privatePemPath, await exportPKCS8(pair.privateKey), { mode: 0o600 });
  writeFileSync(jwksPath, JSON.stringify({ keys: [{ ...es.jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  writeFileSync(secretPath, `${SECRET}\n`); // as `echo "$SECRET" > secret.txt` writes it
  server = createServer((req, res) => {
    if (req.url === '/realms/main/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: issuer(), jwks_uri: jwksUrl, id_token_signing_alg_values_supported: ['ES256'] }));
    } else if (req.url === '/jwks.json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [{ ...es.jwk, kid: 'remote-1', alg: 'ES256', use: 'sig' }] }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
  for (const output of transcript) {
    assert.ok(!output.includes(SECRET), 'the secret appeared in some output');
    assert.ok(!output.includes(RAW_SECRET.toString('base64')), 'the b64 secret appeared in some output');
  }
});

async function verdict(args: string[], stdin?: string): Promise<{ run: Awaited<ReturnType<typeof cli>>; out: Verdict }> {
  const run = await cli(['verify', ...args, '--json'], stdin === undefined ? {} : { stdin });
  return { run, out: json<Verdict>(run) };
}

async function refused(args: string[], code: string, hint?: RegExp): Promise<Verdict> {
  const { run, out } = await verdict(args);
  assert.equal(run.code, 1, show(run));
  assert.equal(out.valid, false);
  assert.equal(out.error?.code, code, show(run));
  if (hint !== undefined) assert.match(out.hint ?? '', hint);
  return out;
}

describe('jwtguard verify: success', { concurrency: 4 }, () => {
  test('exit 0, the payload on stdout as JSON, the verdict on stderr', async () => {
    const t = await hs({ sub: 'user-1', iat: NOW, exp: NOW + 720 });
    const run = await cli(['verify', t, '--secret', SECRET, ...at]);
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(JSON.parse(run.stdout), { sub: 'user-1', iat: NOW, exp: NOW + 720 });
    assert.match(run.stderr, /✔ valid\s+HS256 .*expires in 12 min/);
  });

  test('--json: {valid, header, payload}', async () => {
    const t = await hs({ sub: 'u', exp: NOW + 60 });
    const { run, out } = await verdict([t, '-S', SECRET, ...at]);
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(out, { valid: true, header: { alg: 'HS256', typ: 'JWT' }, payload: { sub: 'u', exp: NOW + 60 } });
  });

  test('the token from stdin, with a pasted "Authorization: Bearer " prefix', async () => {
    const t = await hs({ sub: 'stdin', exp: NOW + 60 });
    const { run, out } = await verdict(['-', '-S', SECRET, ...at], `Authorization: Bearer ${t}\n`);
    assert.equal(run.code, 0, show(run));
    assert.equal(out.payload?.sub, 'stdin');
  });
});

describe('jwtguard verify: --secret forms', { concurrency: 4 }, () => {
  test('VALUE, @FILE (one trailing newline dropped), env:NAME and b64:', async () => {
    const t = await hs({ sub: 'u', exp: NOW + 60 });
    for (const [spec, env] of [[SECRET, {}], [`@${secretPath}`, {}], ['env:JWT_TEST_SECRET', { JWT_TEST_SECRET: SECRET }]] as const) {
      const run = await cli(['verify', t, '--secret', spec, ...at], { env });
      assert.equal(run.code, 0, `${spec}\n${show(run)}`);
    }
    const raw = await hs({ sub: 'raw', exp: NOW + 60 }, 'HS256', new Uint8Array(RAW_SECRET));
    for (const encoding of ['base64', 'base64url'] as const) {
      const run = await cli(['verify', raw, '--secret', `b64:${RAW_SECRET.toString(encoding)}`, ...at]);
      assert.equal(run.code, 0, show(run));
    }
    // The same bytes as text are another key: the hint suggests b64:.
    await refused([raw, '--secret', RAW_SECRET.toString('base64'), ...at], 'signature_invalid', /--secret b64:/);
  });

  test('a missing variable, an unreadable file and bad base64 are usage errors naming the form, not the value', async () => {
    const t = await hs({ sub: 'u' });
    for (const [spec, pattern] of [
      ['env:JWT_TEST_UNSET', /environment variable "JWT_TEST_UNSET" is not set/],
      [`@${join(dir, 'missing.txt')}`, /cannot read the --secret file .*missing\.txt.*ENOENT/],
      ['b64:***not base64***', /b64:\.\.\.: the value is not base64/],
    ] as const) {
      const run = await cli(['verify', t, '--secret', spec]);
      assert.equal(run.code, 2, show(run));
      assert.match(run.stderr, pattern);
      assert.ok(!run.stderr.includes('***not base64***'));
    }
  });

  test('a short secret: the library\'s warning on stderr, without the secret', async () => {
    const short = 'short-secret-1';
    const t = await hs({ sub: 'u', exp: NOW + 60 }, 'HS256', new TextEncoder().encode(short));
    const run = await cli(['verify', t, '--secret', short, ...at]);
    assert.equal(run.code, 0, show(run));
    assert.match(run.stderr, /warning: the secret is 14 bytes, shorter than the 32-byte output of HS256/);
    assert.ok(!(run.stdout + run.stderr).includes(short));
  });
});

describe('jwtguard verify: asymmetric keys', { concurrency: 4 }, () => {
  test('--public-key as SPKI PEM and as JWK', async () => {
    const t = await new SignJWT({ sub: 'es', exp: NOW + 60 }).setProtectedHeader({ alg: 'ES256' }).sign(es.privateKey);
    for (const path of [pemPath, jwkPath]) {
      const { run, out } = await verdict([t, '--public-key', path, ...at]);
      assert.equal(run.code, 0, show(run));
      assert.equal(out.payload?.sub, 'es');
    }
  });

  test('--public-key with a private key file: the library refuses it (exit 2)', async () => {
    const run = await cli(['verify', 'a.b.c', '--public-key', privatePemPath]);
    assert.equal(run.code, 2, show(run));
    assert.match(run.stderr, /`publicKey` \(--public-key\) holds a private key/);
    assert.doesNotMatch(run.stdout + run.stderr, /PRIVATE KEY-----/);
  });

  test('--jwks FILE selects by kid; an unknown kid is key_not_found with the set\'s kids in the hint', async () => {
    const good = await new SignJWT({ sub: 'jwks', exp: NOW + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(es.privateKey);
    const { run, out } = await verdict([good, '--jwks', jwksPath, '--alg', 'ES256', ...at]);
    assert.equal(run.code, 0, show(run));
    assert.equal(out.payload?.sub, 'jwks');
    const other = await new SignJWT({ exp: NOW + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'k9' }).sign(es.privateKey);
    await refused([other, '--jwks', jwksPath, '--alg', 'ES256', ...at], 'key_not_found', /kid "k9".*holds kid k1/);
  });

  test('--jwks URL: fetched like the middleware fetches it', async () => {
    const t = await new SignJWT({ sub: 'remote', exp: NOW + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'remote-1' }).sign(es.privateKey);
    const { run, out } = await verdict([t, '--jwks', jwksUrl, '--algorithms', 'ES256', ...at]);
    assert.equal(run.code, 0, show(run));
    assert.equal(out.payload?.sub, 'remote');
  });

  test('--jwks URL that cannot be fetched: key_source_unavailable (exit 1), naming the URL', async () => {
    const t = await new SignJWT({ exp: NOW + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'remote-1' }).sign(es.privateKey);
    const missing = jwksUrl.replace('/jwks.json', '/nothing.json');
    await refused([t, '--jwks', missing, '--alg', 'ES256', ...at], 'key_source_unavailable', /nothing\.json could not be fetched/);
  });

  test('--issuer-base-url: the issuer\'s metadata names the key set, and iss must be the issuer (option issuerBaseURL)', async () => {
    const sign = (payload: Record<string, unknown>): Promise<string> => new SignJWT({ exp: NOW + 60, ...payload }).setProtectedHeader({ alg: 'ES256', kid: 'remote-1' }).sign(es.privateKey);
    const { run, out } = await verdict([await sign({ sub: 'discovered', iss: issuer() }), '--issuer-base-url', issuer(), ...at]);
    assert.equal(run.code, 0, show(run));
    assert.equal(out.payload?.sub, 'discovered');
    await refused([await sign({ iss: 'https://other.example' }), '--issuer-base-url', issuer(), ...at], 'claim_invalid', /iss is "https:\/\/other\.example"; --issuer-base-url expects "http:\/\/127\.0\.0\.1:\d+\/realms\/main"/);
    await refused([await hs({ iss: issuer(), exp: NOW + 60 }), '--issuer-base-url', issuer(), ...at], 'algorithm_not_allowed', /the algorithms the issuer advertises/);
    const nowhere = issuer().replace('/realms/main', '/realms/none');
    await refused([await sign({ iss: nowhere }), '--issuer-base-url', nowhere, ...at], 'key_source_unavailable', /metadata or key set of --issuer-base-url http:\/\/127\.0\.0\.1:\d+\/realms\/none could not be fetched/);
  });

  test('--jwks needs --alg or --algorithms, and plain http only for localhost (the library\'s rules, exit 2)', async () => {
    const noAlg = await cli(['verify', 'a.b.c', '--jwks', jwksPath]);
    assert.equal(noAlg.code, 2, show(noAlg));
    assert.match(noAlg.stderr, /explicit allowlist.*\(--algorithms\)/);
    const http = await cli(['verify', 'a.b.c', '--jwks', 'http://keys.example.com/jwks.json', '--alg', 'ES256']);
    assert.equal(http.code, 2, show(http));
    assert.match(http.stderr, /must be an https URL/);
  });
});

describe('jwtguard verify: refusals carry the middleware\'s code and a hint', { concurrency: 4 }, () => {
  test('token_expired: "expired 3 h ago at ..."', async () => {
    const out = await refused([await hs({ exp: NOW - 3 * 3600 - 10 }), '-S', SECRET, ...at], 'token_expired', /^expired 3 h ago at 2025-06-15T12:06:30\.000Z \(exp 1749989190\)/);
    assert.equal(out.error?.status, 401);
    assert.equal(out.error?.message, 'The token has expired.');
  });

  test('--clock-tolerance accepts a token expired within it', async () => {
    const t = await hs({ exp: NOW - 20 });
    await refused([t, '-S', SECRET, ...at], 'token_expired');
    assert.equal((await cli(['verify', t, '-S', SECRET, '--clock-tolerance', '30s', ...at])).code, 0);
    assert.equal((await cli(['verify', t, '-S', SECRET, '--clock-tolerance', '30', ...at])).code, 0, 'digits are seconds');
  });

  test('token_not_yet_valid: when it becomes valid', async () => {
    await refused([await hs({ nbf: NOW + 600 }), '-S', SECRET, ...at], 'token_not_yet_valid', /not valid before 2025-06-15T15:16:40\.000Z \(valid in 10 min/);
  });

  test('algorithm_not_allowed: "the token\'s alg HS256 is not in --algorithms HS512"', async () => {
    const t = await hs({ exp: NOW + 60 });
    await refused([t, '-S', SECRET, '--algorithms', 'HS512', ...at], 'algorithm_not_allowed', /^the token's alg HS256 is not in --algorithms HS512\.$/);
    await refused([t, '-S', SECRET, '--alg', 'HS384', ...at], 'algorithm_not_allowed', /not in --alg HS384/);
    await refused([await hs({ exp: NOW + 60 }, 'HS512'), '-S', SECRET, ...at], 'algorithm_not_allowed', /inferred from the key \(HS256\)/);
    assert.equal((await cli(['verify', t, '-S', SECRET, '--algorithms', 'HS512,HS256', ...at])).code, 0);
    assert.equal((await cli(['verify', t, '-S', SECRET, '--algorithms', 'HS512', '--algorithms', 'HS256', ...at])).code, 0);
  });

  test('signature_invalid: another key', async () => {
    await refused([await hs({ exp: NOW + 60 }, 'HS256', new TextEncoder().encode('another-secret-another-secret-another-secret!')), '-S', SECRET, ...at], 'signature_invalid', /signed with another key/);
  });

  test('--iss, --aud (each repeatable), --sub, --typ: claim_invalid naming the claim and both values', async () => {
    const t = await hs({ iss: 'https://a.example', aud: ['api'], sub: 'user-1', exp: NOW + 60 }, 'HS256', KEY, { typ: 'at+jwt' });
    assert.equal((await cli(['verify', t, '-S', SECRET, '--iss', 'https://a.example', '--aud', 'api', '--sub', 'user-1', '--typ', 'at+jwt', ...at])).code, 0);
    assert.equal((await cli(['verify', t, '-S', SECRET, '--iss', 'https://b.example', '--iss', 'https://a.example', '--aud', 'web', '--aud', 'api', ...at])).code, 0);
    let out = await refused([t, '-S', SECRET, '--iss', 'https://b.example', ...at], 'claim_invalid', /iss is "https:\/\/a\.example"; --iss expects "https:\/\/b\.example"/);
    assert.equal(out.error?.claim, 'iss');
    out = await refused([t, '-S', SECRET, '--aud', 'web', ...at], 'claim_invalid', /aud is \["api"\]; --aud expects "web"/);
    assert.equal(out.error?.claim, 'aud');
    await refused([t, '-S', SECRET, '--sub', 'user-2', ...at], 'claim_invalid', /sub is "user-1"; --sub expects "user-2"/);
    await refused([t, '-S', SECRET, '--typ', 'JWT', ...at], 'claim_invalid', /typ header is "at\+jwt"; --typ expects "JWT"/);
    await refused([await hs({ exp: NOW + 60 }), '-S', SECRET, '--iss', 'https://a.example', ...at], 'claim_invalid', /iss is \(none\)/);
  });

  test('--max-age: issued too long ago', async () => {
    const t = await hs({ iat: NOW - 7200, exp: NOW + 60 });
    await refused([t, '-S', SECRET, '--max-age', '1h', ...at], 'token_expired', /issued 2 h ago .*--max-age allows 1 h/);
    assert.equal((await cli(['verify', t, '-S', SECRET, '--max-age', '3h', ...at])).code, 0);
    assert.equal((await cli(['verify', t, '-S', SECRET, '--max-age', '10800', ...at])).code, 0, 'digits are seconds');
  });

  test('--now accepts ISO 8601 and epoch seconds, and decides the verdict', async () => {
    const t = await hs({ exp: NOW + 60 });
    assert.equal((await cli(['verify', t, '-S', SECRET, '--now', '2025-06-15T15:06:40Z'])).code, 0);
    assert.equal((await cli(['verify', t, '-S', SECRET, '--now', String(NOW + 61)])).code, 1);
  });

  test('token_malformed and token_missing: why, in words', async () => {
    await refused([`${await hs({ exp: NOW + 60 })}=`, '-S', SECRET, ...at], 'token_malformed', /padding "="/);
    await refused(['a.b', '-S', SECRET, ...at], 'token_malformed', /2 segments/);
    const { run, out } = await verdict(['-', '-S', SECRET, ...at], '  \n');
    assert.equal(run.code, 1, show(run));
    assert.equal(out.error?.code, 'token_missing');
  });

  test('the human form: "✖ code  message" and "hint:" on stderr, nothing on stdout', async () => {
    const run = await cli(['verify', await hs({ exp: NOW - 3 * 3600 }), '-S', SECRET, ...at]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^✖ token_expired {2}The token has expired\.\n {2}hint: expired 3 h ago/);
  });
});

describe('jwtguard verify: bad usage exits 2', { concurrency: 4 }, () => {
  test('no key, unknown flag, misspelt flag with a secret after it, unreadable key file, bad --now, bad --alg', async () => {
    const t = await hs({ exp: NOW + 60 });
    for (const [args, pattern] of [
      [[t], /a key is required/],
      [[t, '-S', SECRET, '--audience', 'api'], /unknown option --audience/],
      [[t, '--sekret', SECRET], /unknown option --sekret/],
      [[t, '--public-key', join(dir, 'nope.pem')], /cannot read the --public-key file/],
      [[t, '-S', SECRET, '--now', 'tomorrow'], /--now must be an ISO 8601 date/],
      [[t, '-S', SECRET, '--alg', 'HS999'], /`algorithm` \(--alg\) must be one of/],
      [[t, '-S', SECRET, '--max-age', '5x'], /`maxTokenAge` \(--max-age\) must be a positive duration/],
      [[t, '-S', SECRET, '--public-key', pemPath, '--alg', 'ES256'], /fits none of the allowed algorithms/],
      [[t, t, '-S', SECRET], /expected one token argument, got 2/],
      [['-S', SECRET], /no token/],
    ] as const) {
      const run = await cli(['verify', ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}\n${show(run)}`);
      assert.match(run.stderr, pattern);
      assert.match(run.stderr, /Run "jwtguard verify --help"/);
      assert.ok(!run.stderr.includes(t), 'the token was echoed');
    }
  });

  test('--json: a usage error is JSON on stdout too', async () => {
    const run = await cli(['verify', 'a.b.c', '--json']);
    assert.equal(run.code, 2);
    assert.deepEqual(Object.keys(json<{ error: object }>(run).error), ['code', 'message']);
    assert.equal(json<{ error: { code: string } }>(run).error.code, 'invalid_options');
  });
});
