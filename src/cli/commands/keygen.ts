import { randomBytes } from 'node:crypto';
import { lstat, open, rm } from 'node:fs/promises';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK } from 'jose';
import { HASH_BYTES, isAlgorithm, isHmac, keyFamilyOf } from '../../core/options/keys.js';
import { EXIT, UsageError, flag, str, type Command } from '../support/command.js';
import { pretty, type Io } from '../support/io.js';

const HELP = `Usage: jwtguard keygen --alg ALG [--kid KID] [--format pem|jwk] [--out PREFIX] [options]

Generates a key pair for RS/PS/ES/EdDSA, or a random HMAC secret for HS256/384/512.

  --alg ALG           HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA
  --format pem|jwk    pem (default): PKCS#8 private + SPKI public PEM; for HMAC, the secret as text
                      jwk: JSON Web Keys with kid, alg and use; for HMAC, an "oct" JWK
  --kid KID           key id (default for key pairs: the RFC 7638 thumbprint, as \`jwtguard jwks\` uses)
  --bits N            RSA modulus size (default 2048, at least 2048)
  --out PREFIX        write PREFIX.key.pem + PREFIX.pub.pem (jwk: PREFIX.key.json + PREFIX.pub.json;
                      HMAC: PREFIX.secret or PREFIX.key.json) instead of printing; private files are
                      created with mode 0600 and nothing secret is printed
  --force             replace existing files
  --json              {"alg","kid","privateKey","publicKey"} (or "files" with --out)
  -h, --help          this help

The HMAC secret has as many random bytes as the hash output (32, 48, 64; RFC 7518 §3.2). As text
it is those bytes in base64url, to be used as is (JWT_SECRET=...; --secret @PREFIX.secret); as a
JWK, "k" holds the bytes themselves (--secret @PREFIX.key.json).

Examples:
  jwtguard keygen --alg ES256 --out keys/es256        # keys/es256.key.pem (0600), keys/es256.pub.pem
  jwtguard keygen --alg RS256 --format jwk --out rsa  # rsa.key.json, rsa.pub.json, kid = thumbprint
  jwtguard keygen --alg HS512 --out jwt               # jwt.secret (0600)
  JWT_SECRET=$(jwtguard keygen --alg HS256)

Exit codes: 0 written, 2 bad usage (unknown --alg, existing file without --force, unwritable PREFIX).
`;

interface Material {
  readonly alg: string;
  readonly kid: string | undefined;
  /** Private key or secret: PEM / secret text, or a JWK. */
  readonly secret: string | JWK;
  /** Public key, for key pairs. */
  readonly public: string | JWK | undefined;
}

async function generate(alg: string, format: 'pem' | 'jwk', kid: string | undefined, bits: number): Promise<Material> {
  if (isAlgorithm(alg) && isHmac(alg)) {
    // As many bytes as the hash output: fewer weakens the MAC, more adds nothing (RFC 7518 §3.2).
    const bytes = randomBytes(HASH_BYTES[alg] as number);
    const secret = format === 'jwk' ? { kty: 'oct', k: bytes.toString('base64url'), alg, ...(kid !== undefined && { kid }) } : bytes.toString('base64url');
    return { alg, kid, secret, public: undefined };
  }
  const rsa = isAlgorithm(alg) && keyFamilyOf(alg) === 'RSA';
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(rsa && { modulusLength: bits }) });
  const publicJwk = await exportJWK(publicKey);
  const id = kid ?? (await calculateJwkThumbprint(publicJwk));
  if (format === 'jwk') {
    const meta = { kid: id, alg, use: 'sig' };
    return { alg, kid: id, secret: { ...(await exportJWK(privateKey)), ...meta }, public: { ...publicJwk, ...meta } };
  }
  return { alg, kid: id, secret: await exportPKCS8(privateKey), public: await exportSPKI(publicKey) };
}

const text = (value: string | JWK): string => (typeof value === 'string' ? (value.endsWith('\n') ? value : `${value}\n`) : `${pretty(value)}\n`);

/**
 * Creates `path` with `mode` and writes it. `wx` never follows or reuses an existing file, so a
 * private key never inherits a looser mode from one; `chmod` pins the mode whatever the umask.
 */
async function writeNew(path: string, content: string, mode: number, force: boolean): Promise<void> {
  if (force) await rm(path, { force: true });
  let handle;
  try {
    handle = await open(path, 'wx', mode);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EEXIST') throw new UsageError(`${path} exists; pass --force to replace it.`);
    throw new UsageError(`cannot create ${path} (${code ?? 'error'}).`);
  }
  try {
    await handle.chmod(mode);
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

async function writeFiles(material: Material, format: 'pem' | 'jwk', prefix: string, force: boolean): Promise<Record<string, string>> {
  const ext = format === 'jwk' ? 'json' : 'pem';
  const files: Record<string, string> =
    material.public === undefined
      ? { secret: format === 'jwk' ? `${prefix}.key.json` : `${prefix}.secret` }
      : { privateKey: `${prefix}.key.${ext}`, publicKey: `${prefix}.pub.${ext}` };
  // Check every target first, so a refusal leaves no half-written pair behind.
  if (!force) {
    for (const path of Object.values(files)) {
      const exists = await lstat(path).then(() => true, () => false);
      if (exists) throw new UsageError(`${path} exists; pass --force to replace it.`);
    }
  }
  if (files.secret !== undefined) await writeNew(files.secret, text(material.secret), 0o600, force);
  if (files.privateKey !== undefined) await writeNew(files.privateKey, text(material.secret), 0o600, force);
  if (files.publicKey !== undefined && material.public !== undefined) await writeNew(files.publicKey, text(material.public), 0o644, force);
  return files;
}

function report(io: Io, material: Material, files: Record<string, string>): void {
  const { out } = io;
  const what = material.public === undefined ? `${material.alg} secret` : `${material.alg} key pair`;
  out.line(`${out.paint('green', '✔')} ${what}${material.kid === undefined ? '' : `, kid ${material.kid}`}`);
  for (const [role, path] of Object.entries(files)) {
    const label = role === 'publicKey' ? 'public key ' : role === 'privateKey' ? 'private key' : 'secret     ';
    out.line(`  ${label}  ${path}${role === 'publicKey' ? '' : out.paint('dim', '  (mode 0600: keep it secret)')}`);
  }
  if (files.publicKey !== undefined) out.line(out.paint('dim', `Publish it: jwtguard jwks ${files.publicKey} > jwks.json`));
}

export const keygen: Command = {
  name: 'keygen',
  summary: 'generate a key pair (RS/PS/ES/EdDSA) or an HMAC secret (HS*)',
  help: HELP,
  options: {
    alg: { type: 'string' },
    kid: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    bits: { type: 'string' },
    force: { type: 'boolean' },
  },
  async run({ values, positionals, json }, io) {
    if (positionals.length > 0) throw new UsageError('keygen takes no arguments; name the algorithm with --alg.');
    const alg = str(values, 'alg');
    if (alg === undefined) throw new UsageError('--alg is required, e.g. --alg ES256, --alg RS256, --alg EdDSA or --alg HS256.');
    if (!isAlgorithm(alg)) throw new UsageError(`--alg ${JSON.stringify(alg)} is not a JWS algorithm jwtguard signs with (HS256, RS256, PS256, ES256, EdDSA, ...).`);
    const format = str(values, 'format') ?? 'pem';
    if (format !== 'pem' && format !== 'jwk') throw new UsageError(`--format must be pem or jwk; got ${JSON.stringify(format)}.`);
    const kid = str(values, 'kid');
    if (kid === '') throw new UsageError('--kid must not be empty.');
    const bitsFlag = str(values, 'bits');
    if (bitsFlag !== undefined && keyFamilyOf(alg) !== 'RSA') throw new UsageError('--bits applies to RSA keys (RS*, PS*) only.');
    const bits = bitsFlag === undefined ? 2048 : Number(bitsFlag);
    // The library refuses RSA keys under 2048 bits, so generating one would only make a useless key.
    if (!Number.isInteger(bits) || bits < 2048 || bits > 16384 || bits % 8 !== 0) throw new UsageError('--bits must be a multiple of 8 from 2048 to 16384.');

    const material = await generate(alg, format, kid, bits);
    const prefix = str(values, 'out');
    if (prefix !== undefined) {
      if (prefix === '') throw new UsageError('--out needs a path prefix such as keys/es256.');
      const files = await writeFiles(material, format, prefix, flag(values, 'force'));
      if (json) io.out.line(pretty({ alg, ...(material.kid !== undefined && { kid: material.kid }), files }));
      else report(io, material, files);
      return EXIT.ok;
    }
    if (json) {
      const keys = material.public === undefined ? { secret: material.secret } : { privateKey: material.secret, publicKey: material.public };
      io.out.line(pretty({ alg, ...(material.kid !== undefined && { kid: material.kid }), ...keys }));
    } else {
      io.out.line(text(material.secret).trimEnd());
      if (material.public !== undefined) io.out.line(text(material.public).trimEnd());
      if (material.kid !== undefined) io.err.line(io.err.paint('dim', `kid ${material.kid}`));
    }
    return EXIT.ok;
  },
};
