import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { JwtGuardError } from '../../core/errors/jwt-guard-error.js';
import { normalizeOptions } from '../../core/options/normalize-options.js';
import type { JwsAlgorithm } from '../../core/options/types.js';
import { EXIT, UsageError, list, str, type Command } from '../support/command.js';
import { pretty } from '../support/io.js';
import { isObject } from '../support/token.js';

const HELP = `Usage: jwtguard jwks PUBLIC_KEY_FILE... [--alg ALG] [--kid KID]...

Prints a JSON Web Key Set ({"keys":[...]}) to publish, e.g. at /.well-known/jwks.json, from
PEM (SPKI, certificate) or JWK files. A private key file is accepted: only its public half is
published. Each key gets use "sig" and a kid: the file's own (JWK), the --kid given for it, or
its RFC 7638 thumbprint. Every key is checked with the middleware's rules (RSA >= 2048 bits, a
signature key fitting its alg).

  --alg ALG     alg for every key (needed to tell RS256 from PS256; EC and Ed25519 keys get theirs)
  --kid KID     kid for the key at the same position; repeat once per key
  --json        accepted for symmetry: the output is JSON anyway
  -h, --help    this help

Examples:
  jwtguard jwks es256.pub.pem > jwks.json
  jwtguard jwks old.pub.pem new.pub.pem --alg RS256 --kid 2024-01 --kid 2025-01
  # the middleware, with the published set: jwtGuard({ jwks: 'https://.../jwks.json', algorithms: ['ES256'] })

Exit codes: 0 printed, 2 bad usage (unreadable file, not a public key, a key the middleware would refuse).
`;

/** The public half of whatever key a file holds; private material never leaves this function. */
function publicKeyOf(text: string, path: string): { key: KeyObject; meta: JWK }[] {
  const fail = (why: string): never => {
    throw new UsageError(`${path}: ${why}`);
  };
  if (text.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return fail('starts like JSON but is not valid JSON.');
    }
    const jwks = isObject(json) && Array.isArray(json.keys) ? (json.keys as unknown[]) : [json];
    return jwks.map((jwk) => {
      if (!isObject(jwk) || typeof jwk.kty !== 'string') return fail('is JSON but not a JWK (no "kty").');
      if (jwk.kty === 'oct') return fail('is a symmetric (oct) key: HMAC secrets are never published.');
      try {
        return { key: createPublicKey({ key: jwk as never, format: 'jwk' }), meta: { kid: jwk.kid as string | undefined, alg: jwk.alg as string | undefined } };
      } catch {
        return fail('is not a usable JWK.');
      }
    });
  }
  if (!text.includes('-----BEGIN')) return fail('is neither PEM nor JWK.');
  try {
    const key = text.includes('BEGIN CERTIFICATE') ? new X509Certificate(text).publicKey : createPublicKey(text);
    return [{ key, meta: {} }];
  } catch {
    return fail('could not be parsed as a PEM public key, private key or certificate.');
  }
}

export const jwks: Command = {
  name: 'jwks',
  summary: 'build a JWKS to publish from public key files (kid = RFC 7638 thumbprint)',
  help: HELP,
  options: {
    alg: { type: 'string' },
    kid: { type: 'string', multiple: true },
  },
  async run({ values, positionals }, io) {
    if (positionals.length === 0) throw new UsageError('name at least one public key file, e.g. jwtguard jwks key.pub.pem.');
    const alg = str(values, 'alg');
    const kids = list(values, 'kid');
    const found: { key: KeyObject; meta: JWK; path: string }[] = [];
    for (const path of positionals) {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${JSON.stringify(path)} (${(error as { code?: string }).code ?? 'error'}).`);
      }
      for (const entry of publicKeyOf(text, path)) found.push({ ...entry, path });
    }
    if (kids.length > 0 && kids.length !== found.length) throw new UsageError(`--kid was given ${kids.length} times for ${found.length} keys: give one per key, in order, or none.`);

    const keys: JWK[] = [];
    for (const [i, { key, meta, path }] of found.entries()) {
      // export({ format: 'jwk' }) of a public KeyObject holds public members only.
      const jwk = key.export({ format: 'jwk' }) as JWK;
      const keyAlg = alg ?? meta.alg;
      try {
        // The middleware's own key checks: RSA size, family against alg.
        normalizeOptions({ publicKey: { ...jwk }, ...(keyAlg !== undefined && { algorithms: [keyAlg as JwsAlgorithm] }) });
      } catch (error) {
        if (error instanceof JwtGuardError) {
          // The library's words, minus its option names (this command has no --public-key).
          const family = jwk.kty === 'RSA' ? 'RSA' : `${jwk.kty} ${jwk.crv}`;
          const fit = keyAlg === undefined ? '' : `a ${family} key cannot serve ${alg === undefined ? `its alg ${keyAlg}` : `--alg ${keyAlg}`} (`;
          throw new UsageError(`${path}: ${fit}${error.message.replace(/^jwtguard: /, '')}${fit === '' ? '' : ')'}`, error.code);
        }
        throw error;
      }
      const inferred = jwk.kty === 'OKP' ? 'EdDSA' : jwk.kty === 'EC' ? ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''] : undefined;
      const kid = kids[i] ?? meta.kid ?? (await calculateJwkThumbprint(jwk));
      keys.push({ ...jwk, kid, use: 'sig', ...((keyAlg ?? inferred) !== undefined && { alg: keyAlg ?? inferred }) });
    }
    const seen = new Set<string>();
    for (const key of keys) {
      if (seen.has(key.kid as string)) throw new UsageError(`two keys share kid ${JSON.stringify(key.kid)}: a verifier could not tell them apart. Give distinct --kid values.`);
      seen.add(key.kid as string);
    }
    io.out.line(pretty({ keys }));
    return EXIT.ok;
  },
};
