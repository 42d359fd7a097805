// `jwtguard keygen`, and the round trip a user makes with it: keygen → sign → verify, for every
// algorithm, in both formats, through files. The keys are also checked with jose directly.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, importSPKI, type JWK } from 'jose';
import { cli, json, scratch, show, transcript } from './support/cli.js';

const ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const HASH_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };
const mode = (path: string): number => statSync(path).mode & 0o777;

let dir: string;
/** Private material written to files: none of it may appear in any output of these tests. */
const secrets: string[] = [];

before(() => {
  dir = scratch();
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.ok(secrets.length > 0);
  for (const output of transcript) for (const secret of secrets) assert.ok(!output.includes(secret), 'private key material written to a file appeared in some output');
});

/** What must stay secret in a private key or secret file: the secret text, a JWK's private members, a PEM's base64 body lines. */
function remember(path: string): void {
  const text = readFileSync(path, 'utf8').trim();
  if (text.startsWith('{')) {
    const jwk = JSON.parse(text) as Record<string, unknown>;
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) if (typeof jwk[member] === 'string') secrets.push(jwk[member] as string);
  } else if (text.includes('-----BEGIN')) {
    secrets.push(...text.split('\n').filter((line) => !line.startsWith('-----') && line.length > 20));
  } else {
    secrets.push(text);
  }
}

describe('keygen → sign → verify, every algorithm, both formats', { concurrency: 4 }, () => {
  for (const alg of ALGORITHMS) {
    for (const format of ['pem', 'jwk'] as const) {
      test(`${alg} ${format}`, async () => {
        const prefix = join(dir, `${alg}-${format}`);
        const made = await cli(['keygen', '--alg', alg, '--format', format, '--out', prefix, '--json']);
        assert.equal(made.code, 0, show(made));
        const out = json<{ alg: string; kid?: string; files: Record<string, string> }>(made);
        assert.equal(out.alg, alg);
        const hmac = alg.startsWith('HS');
        let signKey: string[];
        let verifyKey: string[];
        if (hmac) {
          const file = out.files.secret as string;
          assert.equal(file, `${prefix}.${format === 'jwk' ? 'key.json' : 'secret'}`);
          assert.equal(mode(file), 0o600);
          remember(file);
          const text = readFileSync(file, 'utf8');
          // The right length: as many random bytes as the hash output (RFC 7518 §3.2).
          const bytes = format === 'jwk' ? Buffer.from((JSON.parse(text) as JWK).k as string, 'base64url') : Buffer.from(text.trim(), 'base64url');
          assert.equal(bytes.length, HASH_BYTES[alg]);
          if (format === 'pem') assert.equal(text, `${bytes.toString('base64url')}\n`);
          else assert.deepEqual({ ...(JSON.parse(text) as JWK), k: '' }, { kty: 'oct', k: '', alg });
          signKey = verifyKey = ['--secret', `@${file}`];
        } else {
          const { privateKey, publicKey } = out.files as { privateKey: string; publicKey: string };
          const ext = format === 'jwk' ? 'json' : 'pem';
          assert.deepEqual([privateKey, publicKey], [`${prefix}.key.${ext}`, `${prefix}.pub.${ext}`]);
          assert.equal(mode(privateKey), 0o600, 'private key mode');
          assert.equal(mode(publicKey) & 0o022, 0, 'public key writable by its owner only');
          remember(privateKey);
          // The kid is the RFC 7638 thumbprint of the public key.
          const pub = format === 'jwk' ? (JSON.parse(readFileSync(publicKey, 'utf8')) as JWK) : await exportJWK(await importSPKI(readFileSync(publicKey, 'utf8'), alg, { extractable: true }));
          assert.equal(out.kid, await calculateJwkThumbprint(pub));
          if (format === 'jwk') {
            assert.equal(pub.kid, out.kid);
            assert.equal(pub.alg, alg);
            assert.equal(pub.use, 'sig');
            assert.equal(pub.d, undefined, 'the public JWK has no private member');
          }
          signKey = ['--private-key', privateKey];
          verifyKey = ['--public-key', publicKey];
        }
        const signed = await cli(['sign', ...signKey, '--alg', alg, '-P', `sub=${alg}`, '--exp', '5m']);
        assert.equal(signed.code, 0, show(signed));
        const verified = await cli(['verify', signed.stdout.trim(), ...verifyKey, '--alg', alg, '--json']);
        assert.equal(verified.code, 0, show(verified));
        const result = json<{ valid: boolean; header: { alg: string; kid?: string }; payload: { sub: string } }>(verified);
        assert.equal(result.payload.sub, alg);
        assert.equal(result.header.alg, alg);
        // A JWK private key carries its kid into the token.
        assert.equal(result.header.kid, format === 'jwk' && !hmac ? out.kid : undefined);
      });
    }
  }
});

describe('jwtguard keygen', () => {
  test('without --out: PEM private + public key on stdout, the kid on stderr', async () => {
    const run = await cli(['keygen', '--alg', 'ES256']);
    assert.equal(run.code, 0, show(run));
    assert.match(run.stdout, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    assert.match(run.stderr, /^kid [A-Za-z0-9_-]{43}\n$/);
  });

  test('without --out: an HMAC secret is one line, usable as JWT_SECRET=$(jwtguard keygen --alg HS512)', async () => {
    const run = await cli(['keygen', '--alg', 'HS512']);
    assert.equal(run.code, 0, show(run));
    assert.match(run.stdout, /^[A-Za-z0-9_-]{86}\n$/);
    assert.equal(Buffer.from(run.stdout.trim(), 'base64url').length, 64);
  });

  test('--json without --out: keys as JWKs, with --kid', async () => {
    const run = await cli(['keygen', '--alg', 'EdDSA', '--format', 'jwk', '--kid', 'ed-1', '--json']);
    assert.equal(run.code, 0, show(run));
    const out = json<{ kid: string; privateKey: JWK; publicKey: JWK }>(run);
    assert.equal(out.kid, 'ed-1');
    assert.deepEqual([out.privateKey.kty, out.privateKey.crv, typeof out.privateKey.d, out.privateKey.kid], ['OKP', 'Ed25519', 'string', 'ed-1']);
    assert.equal(out.publicKey.d, undefined);
  });

  test('--bits sets the RSA size', async () => {
    const run = await cli(['keygen', '--alg', 'RS256', '--bits', '3072', '--format', 'jwk', '--json']);
    assert.equal(run.code, 0, show(run));
    assert.equal(Buffer.from(json<{ publicKey: JWK }>(run).publicKey.n as string, 'base64url').length * 8, 3072);
  });

  test('the human summary with --out names the files and no key material', async () => {
    const run = await cli(['keygen', '--alg', 'ES384', '--out', join(dir, 'summary')]);
    assert.equal(run.code, 0, show(run));
    assert.match(run.stdout, /✔ ES384 key pair, kid \S+\n {2}private key {2}\S+summary\.key\.pem {2}\(mode 0600: keep it secret\)\n {2}public key {3}\S+summary\.pub\.pem\n/);
    remember(join(dir, 'summary.key.pem'));
  });

  test('an existing file is refused (exit 2, nothing written); --force replaces it with mode 0600', async () => {
    const prefix = join(dir, 'existing');
    writeFileSync(`${prefix}.key.pem`, 'old', { mode: 0o644 });
    const refused = await cli(['keygen', '--alg', 'ES256', '--out', prefix]);
    assert.equal(refused.code, 2, show(refused));
    assert.match(refused.stderr, /existing\.key\.pem exists; pass --force/);
    assert.equal(readFileSync(`${prefix}.key.pem`, 'utf8'), 'old');
    assert.throws(() => statSync(`${prefix}.pub.pem`), /ENOENT/, 'no half-written pair');
    const forced = await cli(['keygen', '--alg', 'ES256', '--out', prefix, '--force']);
    assert.equal(forced.code, 0, show(forced));
    assert.equal(mode(`${prefix}.key.pem`), 0o600, 'the old file\'s 0644 was not inherited');
    assert.match(readFileSync(`${prefix}.key.pem`, 'utf8'), /BEGIN PRIVATE KEY/);
    remember(`${prefix}.key.pem`);
  });

  for (const [name, args, pattern] of [
    ['no --alg', [], /--alg is required/],
    ['an unknown --alg', ['--alg', 'RS1024'], /not a JWS algorithm/],
    ['an unknown --format', ['--alg', 'ES256', '--format', 'der'], /--format must be pem or jwk/],
    ['--bits under 2048', ['--alg', 'RS256', '--bits', '1024'], /--bits must be a multiple of 8 from 2048/],
    ['--bits for a non-RSA key', ['--alg', 'ES256', '--bits', '4096'], /--bits applies to RSA keys/],
    ['a positional argument', ['ES256'], /takes no arguments/],
    ['a directory that does not exist', ['--alg', 'ES256', '--out', '/nonexistent/dir/key'], /cannot create \/nonexistent\/dir\/key\.key\.pem \(ENOENT\)/],
  ] as const) {
    test(`bad usage exits 2: ${name}`, async () => {
      const run = await cli(['keygen', ...args]);
      assert.equal(run.code, 2, show(run));
      assert.match(run.stderr, pattern);
    });
  }
});
