import type { JWTPayload } from 'jose';
import { JwtGuardError } from '../../core/errors/jwt-guard-error.js';
import { isAlgorithm, isHmac, keyFamilyOf } from '../../core/options/keys.js';
import { normalizeOptions } from '../../core/options/normalize-options.js';
import type { JwsAlgorithm, JwtGuardOptions } from '../../core/options/types.js';
import { signToken } from '../../core/sign/sign-token.js';
import { EXIT, UsageError, flag, list, singlePositional, str, type Command } from '../support/command.js';
import { pretty, type Io } from '../support/io.js';
import { readKeyFile, readSecret, withFlags } from '../support/keys.js';
import { durationFlag } from '../support/time.js';
import { inspectToken, isObject } from '../support/token.js';

const HELP = `Usage: jwtguard sign [PAYLOAD_JSON | -] --secret S | --private-key FILE [options]

Signs a token with the library's signToken: the same rules as tokens the middleware mints
(iat set to now; exp = now + --exp unless the payload has its own; nbf, kid, jti as asked).

Keys (one is needed):
  -S, --secret S          HMAC secret: VALUE, @FILE, env:NAME or b64:BASE64
  --private-key FILE      PKCS#8 PEM or private JWK file for RS/PS/ES/EdDSA
                          (a JWK's own kid is used unless --kid is given)

Token:
  --alg ALG               HS256 (default for a secret), RS256, PS256, ES256, EdDSA, ...
                          (default for a key: inferred from it, e.g. ES256 for a P-256 key)
  -P, --claim KEY=VALUE   a claim; VALUE is parsed as JSON when it is JSON (5, true, ["a"]),
                          else taken as text. Repeatable. Quote text that looks like JSON: -P 'sub="123"'
  --exp DURATION          lifetime: 15m, 1h, 7d or seconds (default 1h); "never" for no exp
  --nbf DURATION          not valid before now + DURATION (0 for now)
  --iss ISSUER            iss claim
  --aud AUDIENCE          aud claim; repeatable for several
  --sub SUBJECT           sub claim
  --jti                   a random jti (UUID), as the middleware's jti option adds
  --kid KID               kid header (e.g. the kid \`jwtguard jwks\` publishes the key under)
  --typ TYP               typ header (default JWT), e.g. at+jwt
  --no-iat                refused: the library always sets iat (see docs/cli.md)

Flags win over the same claims in PAYLOAD_JSON.

Output:
  the token on stdout; --json gives {"token":"...","header":{...},"payload":{...}}

Examples:
  jwtguard sign -S env:JWT_SECRET --alg HS512 -P sub=user-1 -P role=admin --exp 15m
  jwtguard sign '{"sub":"user-1","scope":"read write"}' --private-key es.key.pem --kid "$KID"
  echo '{"sub":"svc"}' | jwtguard sign - -S @secret.txt --aud api --aud admin --jti --json

Exit codes: 0 signed, 1 signing failed, 2 bad usage (invalid JSON payload, unreadable key file,
a key that does not fit --alg, an unusable --exp).
`;

const NO_IAT = 'signToken always sets iat to the time of signing (as the middleware does for every token it mints), so --no-iat cannot be honoured. Tokens without iat cannot be checked with maxTokenAge.';

/** `-P key=value`: JSON when the value parses as JSON, text otherwise (jwt-cli's rule). */
function claimFlag(entry: string): [string, unknown] {
  const eq = entry.indexOf('=');
  if (eq <= 0) throw new UsageError(`-P expects KEY=VALUE; got ${JSON.stringify(entry)}.`);
  const value = entry.slice(eq + 1);
  try {
    return [entry.slice(0, eq), JSON.parse(value)];
  } catch {
    return [entry.slice(0, eq), value];
  }
}

async function payloadFrom(argument: string | undefined, io: Io): Promise<JWTPayload> {
  if (argument === undefined) return {};
  const text = argument === '-' ? await io.readStdin() : argument;
  if (text.trim() === '') return {};
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the payload is not valid JSON: ${(error as Error).message}.`);
  }
  if (!isObject(payload)) throw new UsageError(`the payload must be a JSON object such as {"sub":"user-1"}; got ${Array.isArray(payload) ? 'an array' : JSON.stringify(payload)}.`);
  return payload as JWTPayload;
}

export const sign: Command = {
  name: 'sign',
  summary: 'sign a token with the same rules as the middleware (signToken)',
  help: HELP,
  options: {
    secret: { type: 'string', short: 'S' },
    'private-key': { type: 'string' },
    alg: { type: 'string' },
    claim: { type: 'string', short: 'P', multiple: true },
    exp: { type: 'string' },
    nbf: { type: 'string' },
    iss: { type: 'string' },
    aud: { type: 'string', multiple: true },
    sub: { type: 'string' },
    jti: { type: 'boolean' },
    kid: { type: 'string' },
    typ: { type: 'string' },
    'no-iat': { type: 'boolean' },
  },
  async run({ values, positionals, json }, io) {
    if (flag(values, 'no-iat')) throw new UsageError(NO_IAT);
    const secret = str(values, 'secret');
    const privateKey = str(values, 'private-key');
    if (secret === undefined && privateKey === undefined) throw new UsageError('sign needs a key: --secret for HS256/384/512, --private-key for RS/PS/ES/EdDSA.');
    const payload = await payloadFrom(singlePositional(positionals, 'payload'), io);
    for (const entry of list(values, 'claim')) {
      const [key, value] = claimFlag(entry);
      // defineProperty, not assignment: `-P __proto__=...` must become a claim (as it does in
      // PAYLOAD_JSON), not the payload object's prototype, which JSON would silently drop.
      Object.defineProperty(payload, key, { value, enumerable: true, writable: true, configurable: true });
    }
    const iss = str(values, 'iss');
    const aud = list(values, 'aud');
    const sub = str(values, 'sub');
    if (iss !== undefined) payload.iss = iss;
    if (aud.length > 0) payload.aud = aud.length === 1 ? aud[0] : aud;
    if (sub !== undefined) payload.sub = sub;

    const warnings: string[] = [];
    const options: JwtGuardOptions = { onWarning: (message) => warnings.push(message) };
    if (secret !== undefined) options.secret = await readSecret(secret, io.env);
    if (privateKey !== undefined) options.privateKey = await readKeyFile(privateKey, '--private-key');
    const alg = str(values, 'alg');
    if (alg !== undefined) options.algorithm = alg as JwsAlgorithm; // validated by the library
    const kid = str(values, 'kid') ?? (isObject(options.privateKey) && typeof options.privateKey.kid === 'string' ? options.privateKey.kid : undefined);
    if (kid !== undefined) options.kid = kid;
    const typ = str(values, 'typ');
    if (typ !== undefined) options.typ = typ;
    // Time claims go through the library's options so its rules apply: a flag replaces the payload's own claim.
    const exp = str(values, 'exp');
    if (exp !== undefined) {
      delete payload.exp;
      options.expiresIn = exp === 'never' ? false : durationFlag(exp);
    }
    const nbf = str(values, 'nbf');
    if (nbf !== undefined) {
      delete payload.nbf;
      options.notBefore = durationFlag(nbf);
    }
    if (flag(values, 'jti')) options.jti = true;
    if (payload.iat !== undefined) warnings.push('the payload\'s iat is replaced with the time of signing (signToken always sets iat).');

    try {
      normalizeOptions(options);
    } catch (error) {
      if (!(error instanceof JwtGuardError) || error.code !== 'invalid_options') throw error;
      // The library speaks of verification keys too; for signing, say which flag the algorithm needs.
      const needs = alg !== undefined && isAlgorithm(alg) ? ` To sign ${alg}, pass ${isHmac(alg) ? '--secret' : `--private-key with a ${keyFamilyOf(alg)} key`}.` : '';
      throw new UsageError(`${withFlags(error.message)}${needs}`, error.code);
    }
    let token: string;
    try {
      token = await signToken(payload, options);
    } catch (error) {
      if (!(error instanceof JwtGuardError)) throw error;
      // A payload claim the library cannot sign (a non-numeric exp) is the input's fault.
      if (error.claim !== undefined || error.code === 'invalid_options') throw new UsageError(withFlags(error.message), error.code);
      throw error;
    } finally {
      for (const warning of warnings) io.err.line(`${io.err.paint('yellow', 'warning:')} ${withFlags(warning)}`);
    }
    if (json) {
      const { header, payload: signed } = inspectToken(token);
      io.out.line(pretty({ token, header, payload: signed }));
    } else {
      io.out.line(token);
    }
    return EXIT.ok;
  },
};
