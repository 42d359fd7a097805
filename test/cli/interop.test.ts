// Tokens made by jose, fast-jwt and jsonwebtoken decode and verify with the CLI, and the CLI's
// tokens verify with all three: the CLI reads and writes plain JWTs, not a dialect of its own.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSigner, createVerifier } from 'fast-jwt';
import { SignJWT, importPKCS8 } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { STRONG_SECRET } from '../support/tokens.js';
import { cli, json, scratch, show, transcript } from './support/cli.js';

type Alg = 'HS256' | 'HS512' | 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';
type PemPair = { publicKey: string; privateKey: string };
const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
const PAIRS: Record<'RSA' | 'P-256' | 'P-384' | 'Ed25519', PemPair> = {
  RSA: generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding }),
  'P-256': generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding }),
  'P-384': generateKeyPairSync('ec', { namedCurve: 'P-384', publicKeyEncoding, privateKeyEncoding }),
  Ed25519: generateKeyPairSync('ed25519', { publicKeyEncoding, privateKeyEncoding }),
};
const PAIR_OF: Record<Alg, keyof typeof PAIRS | undefined> = { HS256: undefined, HS512: undefined, RS256: 'RSA', PS256: 'RSA', ES256: 'P-256', ES384: 'P-384', EdDSA: 'Ed25519' };
const SECRET = STRONG_SECRET;

type Library = 'jose' | 'fast-jwt' | 'jsonwebtoken';
/** What each library signs here (jsonwebtoken 9 has no EdDSA). */
const SUPPORTED: Record<Library, readonly Alg[]> = {
  jose: ['HS256', 'HS512', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
  'fast-jwt': ['HS256', 'HS512', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
  jsonwebtoken: ['HS256', 'HS512', 'RS256', 'PS256', 'ES256', 'ES384'],
};

let dir: string;
const publicFile = (alg: Alg): string => join(dir, `${PAIR_OF[alg]}.pub.pem`);
const privateFile = (alg: Alg): string => join(dir, `${PAIR_OF[alg]}.key.pem`);
const signingKey = (alg: Alg): string => (PAIR_OF[alg] === undefined ? SECRET : PAIRS[PAIR_OF[alg]].privateKey);
const verifyingKey = (alg: Alg): string => (PAIR_OF[alg] === undefined ? SECRET : PAIRS[PAIR_OF[alg]].publicKey);

before(() => {
  dir = scratch();
  for (const [name, pair] of Object.entries(PAIRS)) {
    writeFileSync(join(dir, `${name}.pub.pem`), pair.publicKey);
    writeFileSync(join(dir, `${name}.key.pem`), pair.privateKey, { mode: 0o600 });
  }
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const output of transcript) {
    assert.ok(!output.includes(SECRET), 'the secret appeared in some output');
    assert.doesNotMatch(output, /PRIVATE KEY/);
  }
});

const exp = (): number => Math.floor(Date.now() / 1000) + 600;

async function tokenFrom(library: Library, alg: Alg): Promise<string> {
  const payload = { sub: `${library}-${alg}`, scope: 'read write', n: 42, exp: exp() };
  if (library === 'jose') {
    const key = PAIR_OF[alg] === undefined ? new TextEncoder().encode(SECRET) : await importPKCS8(signingKey(alg), alg);
    return new SignJWT(payload).setProtectedHeader({ alg, kid: 'k1' }).setIssuedAt().sign(key);
  }
  if (library === 'fast-jwt') return createSigner({ key: signingKey(alg), algorithm: alg, kid: 'k1' })(payload);
  return jsonwebtoken.sign(payload, signingKey(alg), { algorithm: alg as jsonwebtoken.Algorithm, keyid: 'k1' });
}

const keyFlags = (alg: Alg, use: 'sign' | 'verify'): string[] =>
  PAIR_OF[alg] === undefined ? ['--secret', SECRET] : use === 'sign' ? ['--private-key', privateFile(alg)] : ['--public-key', publicFile(alg)];

describe('tokens from other libraries decode and verify with the CLI', { concurrency: 4 }, () => {
  for (const library of ['jose', 'fast-jwt', 'jsonwebtoken'] as const) {
    for (const alg of SUPPORTED[library]) {
      test(`${library} ${alg}`, async () => {
        const token = await tokenFrom(library, alg);
        const decoded = await cli(['decode', token, '--json']);
        assert.equal(decoded.code, 0, show(decoded));
        const d = json<{ header: { alg: string; kid: string }; payload: { sub: string; n: number }; warnings: unknown[] }>(decoded);
        assert.deepEqual([d.header.alg, d.header.kid, d.payload.sub, d.payload.n], [alg, 'k1', `${library}-${alg}`, 42]);
        assert.deepEqual(d.warnings, []);
        const verified = await cli(['verify', token, ...keyFlags(alg, 'verify'), '--alg', alg, '--json']);
        assert.equal(verified.code, 0, show(verified));
        assert.equal(json<{ payload: { sub: string } }>(verified).payload.sub, `${library}-${alg}`);
      });
    }
  }
});

describe('tokens from the CLI verify with jose\'s peers fast-jwt and jsonwebtoken', { concurrency: 4 }, () => {
  for (const alg of ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const) {
    test(alg, async () => {
      const run = await cli(['sign', ...keyFlags(alg, 'sign'), '--alg', alg, '-P', 'sub=cli', '--aud', 'api']);
      assert.equal(run.code, 0, show(run));
      const token = run.stdout.trim();
      assert.equal((createVerifier({ key: verifyingKey(alg), algorithms: [alg], allowedAud: 'api' })(token) as { sub: string }).sub, 'cli');
      if (alg !== 'EdDSA') {
        assert.equal((jsonwebtoken.verify(token, verifyingKey(alg), { algorithms: [alg as jsonwebtoken.Algorithm], audience: 'api' }) as { sub: string }).sub, 'cli');
      }
    });
  }
});
