import { JwtGuardError } from '../../core/errors/jwt-guard-error.js';
import { normalizeOptions, type NormalizedOptions } from '../../core/options/normalize-options.js';
import type { JwsAlgorithm, JwtGuardOptions } from '../../core/options/types.js';
import { verifyToken } from '../../core/verify/verify-token.js';
import { EXIT, UsageError, list, singlePositional, str, type Command } from '../support/command.js';
import { pretty, type Io } from '../support/io.js';
import { readJwks, readKeyFile, readSecret, safeUrl, withFlags } from '../support/keys.js';
import { durationFlag, isoDate, parseNow, relative, span } from '../support/time.js';
import { inspectToken, isObject, readToken, type Inspection } from '../support/token.js';

const HELP = `Usage: jwtguard verify [TOKEN | -] --secret S | --public-key FILE | --jwks URL|FILE [options]

Verifies a token exactly as the middleware does (the library's verifyToken with these options)
and, when it is refused, says why with the middleware's own error code.

Keys (one is needed):
  -S, --secret S          HMAC secret: VALUE, @FILE, env:NAME or b64:BASE64
                          (a VALUE lands in shell history: prefer env:NAME or @FILE)
  --public-key FILE       PEM (SPKI "PUBLIC KEY" or certificate) or JWK file, for RS/PS/ES/EdDSA
  --jwks URL|FILE         a JSON Web Key Set: https URL (http only for localhost) or local file;
                          needs --alg or --algorithms
  --issuer-base-url URL   OpenID / RFC 8414 discovery: the issuer's metadata names its keys, and
                          tokens must carry iss = URL (option: issuerBaseURL)

Checks (the middleware's options):
  --alg ALG               the one algorithm accepted (option: algorithm)
  --algorithms A,B        the allowlist (option: algorithms); repeatable. Never taken from the token
  --iss ISSUER            accepted iss (option: issuer); repeatable
  --aud AUDIENCE          accepted aud (option: audience); repeatable
  --sub SUBJECT           required sub (option: subject)
  --typ TYP               required typ header, e.g. at+jwt (option: typ)
  --max-age DURATION      maximum age since iat: 15m, 1h, or seconds (option: maxTokenAge)
  --clock-tolerance DUR   leeway for exp, nbf, iat: 30s (option: clockTolerance)
  --now DATE              verify as of DATE: ISO 8601 or seconds since the epoch (option: currentDate)

Output:
  --json                  {"valid":true,"header":{...},"payload":{...}} or {"valid":false,"error":{...},"hint":"..."}
  -h, --help              this help

Examples:
  jwtguard verify "$TOKEN" --secret env:JWT_SECRET --alg HS512
  pbpaste | jwtguard verify - --public-key key.pub.pem --iss https://auth.example.com --aud api
  jwtguard verify - --jwks https://auth.example.com/.well-known/jwks.json --alg RS256 < token.txt
  jwtguard verify "$TOKEN" -S @secret.txt --now 2025-01-31T12:00:00Z --json
  jwtguard verify - --issuer-base-url https://tenant.eu.auth0.com/ --aud https://api.example.com < token.txt

On success the payload is printed on stdout (the verdict line on stderr), so
\`jwtguard verify ... | jq .sub\` works.

Exit codes: 0 valid, 1 refused (the middleware's code: token_expired, signature_invalid, ...),
2 bad usage (unknown flag, unreadable file, options the middleware would reject).
`;

interface Flags {
  readonly alg: string | undefined;
  readonly algorithms: string[];
  readonly jwks: string | undefined;
  readonly issuerBaseUrl: string | undefined;
}

/** The options as the middleware would get them, from the flags. */
async function optionsFrom(values: Parameters<Command['run']>[0]['values'], io: Io, warnings: string[]): Promise<{ options: JwtGuardOptions; flags: Flags }> {
  const options: JwtGuardOptions = { onWarning: (message) => warnings.push(message) };
  const secret = str(values, 'secret');
  const publicKey = str(values, 'public-key');
  const jwks = str(values, 'jwks');
  if (secret !== undefined) options.secret = await readSecret(secret, io.env);
  if (publicKey !== undefined) options.publicKey = await readKeyFile(publicKey, '--public-key');
  if (jwks !== undefined) options.jwks = await readJwks(jwks);
  const issuerBaseUrl = str(values, 'issuer-base-url');
  if (issuerBaseUrl !== undefined) options.issuerBaseURL = issuerBaseUrl;
  const alg = str(values, 'alg');
  const algorithms = list(values, 'algorithms').flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== '');
  // The library validates names and fit with the keys; the casts only pass the strings on.
  if (alg !== undefined) options.algorithm = alg as JwsAlgorithm;
  if (algorithms.length > 0) options.algorithms = algorithms as JwsAlgorithm[];
  const iss = list(values, 'iss');
  const aud = list(values, 'aud');
  if (iss.length > 0) options.issuer = iss.length === 1 ? (iss[0] as string) : iss;
  if (aud.length > 0) options.audience = aud.length === 1 ? (aud[0] as string) : aud;
  const sub = str(values, 'sub');
  const typ = str(values, 'typ');
  const maxAge = str(values, 'max-age');
  const tolerance = str(values, 'clock-tolerance');
  if (sub !== undefined) options.subject = sub;
  if (typ !== undefined) options.typ = typ;
  if (maxAge !== undefined) options.maxTokenAge = durationFlag(maxAge);
  if (tolerance !== undefined) options.clockTolerance = durationFlag(tolerance);
  const now = parseNow(str(values, 'now'));
  if (now !== undefined) options.currentDate = now;
  return { options, flags: { alg, algorithms, jwks, issuerBaseUrl } };
}

const quote = (value: unknown): string => (value === undefined ? '(none)' : JSON.stringify(value));
const expected = (value: string | string[] | undefined): string => (Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join(' or ') : JSON.stringify(value));

/** The kids of a local key set, to say which one a token could have meant. */
function localKids(options: JwtGuardOptions): string[] | undefined {
  const { jwks } = options;
  if (jwks === undefined || typeof jwks === 'string' || jwks instanceof URL) return undefined;
  return jwks.keys.map((key) => (typeof key.kid === 'string' ? key.kid : '(no kid)'));
}

/**
 * One sentence that turns the middleware's code into the reason for this token: which claim,
 * which value, how long ago. Built from the decoded token and the options, never from a key.
 */
function hintFor(error: JwtGuardError, inspection: Inspection, config: NormalizedOptions, options: JwtGuardOptions, flags: Flags, now: number): string | undefined {
  const header = inspection.header ?? {};
  const payload = isObject(inspection.payload) ? inspection.payload : {};
  const alg = typeof header.alg === 'string' ? header.alg : undefined;
  const claims = config.claims.jose;
  switch (error.code) {
    case 'token_missing':
      return 'the input was empty: pass the token as an argument, or pipe it into `-`.';
    case 'token_too_long':
      return `the token has ${inspection.token.length} characters; the middleware refuses more than maxTokenLength (${config.maxTokenLength}) unread.`;
    case 'token_malformed':
      return inspection.problems.length > 0 ? `${inspection.problems[0]}.` : 'the header or payload is not what a JWS needs (jose could not parse it).';
    case 'algorithm_not_allowed': {
      if (alg?.toLowerCase() === 'none') return 'alg "none" means an unsigned token: anyone can make one, so it is never accepted.';
      const allowed = config.algorithms.join(',');
      const source =
        flags.algorithms.length > 0 ? `--algorithms ${allowed}`
        : flags.alg !== undefined ? `--alg ${allowed}`
        : flags.issuerBaseUrl !== undefined ? 'the algorithms the issuer advertises (never HMAC or none); pass --alg or --algorithms to choose'
        : `the algorithm inferred from the key (${allowed}); pass --alg or --algorithms to accept another`;
      return `the token's alg ${alg ?? '(none)'} is not in ${source}.`;
    }
    case 'signature_invalid': {
      const kid = typeof header.kid === 'string' ? ` (the token names kid ${JSON.stringify(header.kid)})` : '';
      const base64 = alg?.startsWith('HS') ? '; if your secret is base64-encoded, pass it as --secret b64:<the base64 text>' : '';
      return `the token was signed with another key, or changed after signing${kid}${base64}.`;
    }
    case 'token_expired': {
      if (error.claim === 'iat' && typeof payload.iat === 'number') {
        const maxAge = typeof claims.maxTokenAge === 'number' ? span(claims.maxTokenAge) : String(claims.maxTokenAge);
        return `issued ${span(now - payload.iat)} ago at ${isoDate(payload.iat)}; --max-age allows ${maxAge}.`;
      }
      if (typeof payload.exp !== 'number') return undefined;
      const leeway = claims.clockTolerance === undefined ? '; --clock-tolerance allows for clock skew between machines' : '';
      return `${relative('exp', payload.exp, now)} at ${isoDate(payload.exp)} (exp ${payload.exp})${leeway}.`;
    }
    case 'token_not_yet_valid':
      return typeof payload.nbf === 'number' ? `not valid before ${isoDate(payload.nbf)} (${relative('nbf', payload.nbf, now)}, nbf ${payload.nbf}).` : undefined;
    case 'claim_invalid': {
      const claim = error.claim ?? '';
      if (claim === 'iss') {
        const source = options.issuer === undefined && flags.issuerBaseUrl !== undefined ? '--issuer-base-url' : '--iss';
        return `the token's iss is ${quote(payload.iss)}; ${source} expects ${expected(claims.issuer)}.`;
      }
      if (claim === 'aud') return `the token's aud is ${quote(payload.aud)}; --aud expects ${expected(claims.audience)}.`;
      if (claim === 'sub') return `the token's sub is ${quote(payload.sub)}; --sub expects ${expected(claims.subject)}.`;
      if (claim === 'typ') return `the token's typ header is ${quote(header.typ)}; --typ expects ${expected(claims.typ)}.`;
      const value = claim === '' ? undefined : payload[claim];
      if (['exp', 'nbf', 'iat'].includes(claim) && value !== undefined && typeof value !== 'number') return `${claim} is ${JSON.stringify(value)}, not a number of seconds.`;
      if (claim === 'iat' && typeof value === 'number' && value > now) return `iat is in the future (${relative('iat', value, now)}); --max-age refuses tokens issued after now.`;
      if (claim !== '' && value === undefined) return `the token has no ${claim} claim, which the options require.`;
      return claim === '' ? undefined : `the ${claim} claim failed its check.`;
    }
    case 'key_not_found': {
      const kid = typeof header.kid === 'string' ? `kid ${JSON.stringify(header.kid)}` : 'no kid';
      const kids = localKids(options);
      if (kids !== undefined) return `no key in the --jwks set fits the token (${kid}, alg ${alg ?? '(none)'}); the set holds ${kids.length === 0 ? 'no keys' : `kid ${kids.join(', ')}`}.`;
      return `no configured key fits the token (${kid}, alg ${alg ?? '(none)'}).`;
    }
    case 'key_source_unavailable': {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      if (flags.issuerBaseUrl !== undefined) return `the metadata or key set of --issuer-base-url ${safeUrl(flags.issuerBaseUrl)} could not be fetched${cause}.`;
      return `the key set at ${flags.jwks === undefined ? 'the configured URL' : safeUrl(flags.jwks)} could not be fetched${cause}.`;
    }
    default:
      return undefined;
  }
}

export const verify: Command = {
  name: 'verify',
  summary: "verify a token with the middleware's rules; on refusal, its error code and why",
  help: HELP,
  options: {
    secret: { type: 'string', short: 'S' },
    'public-key': { type: 'string' },
    jwks: { type: 'string' },
    'issuer-base-url': { type: 'string' },
    alg: { type: 'string' },
    algorithms: { type: 'string', multiple: true },
    iss: { type: 'string', multiple: true },
    aud: { type: 'string', multiple: true },
    sub: { type: 'string' },
    typ: { type: 'string' },
    'max-age': { type: 'string' },
    'clock-tolerance': { type: 'string' },
    now: { type: 'string' },
  },
  async run({ values, positionals, json }, io) {
    const tokenArgument = singlePositional(positionals, 'token');
    const warnings: string[] = [];
    const { options, flags } = await optionsFrom(values, io, warnings);
    let config: NormalizedOptions;
    try {
      config = normalizeOptions(options);
    } catch (error) {
      if (error instanceof JwtGuardError && error.code === 'invalid_options') throw new UsageError(withFlags(error.message), error.code);
      throw error;
    }
    for (const warning of warnings) io.err.line(`${io.err.paint('yellow', 'warning:')} ${withFlags(warning)}`);
    const input = await readToken(tokenArgument, io);
    const now = config.claims.now();
    const inspection = inspectToken(input.token);
    try {
      // The library's verifyToken with the same options object: the middleware's verdict, by construction.
      const payload = await verifyToken(input.token, options);
      const header = inspection.header ?? {};
      if (json) {
        io.out.line(pretty({ valid: true, header, payload }));
      } else {
        const exp = typeof payload.exp === 'number' ? relative('exp', payload.exp, now) : 'no exp: never expires';
        io.err.line(`${io.err.paint(['bold', 'green'], '✔ valid')}  ${String(header.alg)} signature and claims pass the middleware's checks; ${exp}`);
        io.out.line(pretty(payload));
      }
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof JwtGuardError)) throw error;
      const hint = hintFor(error, inspection, config, options, flags, now);
      if (json) {
        const detail = { code: error.code, status: error.status, message: error.message, ...(error.claim !== undefined && { claim: error.claim }) };
        io.out.line(pretty({ valid: false, error: detail, ...(hint !== undefined && { hint }) }));
      } else {
        io.err.line(`${io.err.paint(['bold', 'red'], `✖ ${error.code}`)}  ${error.message}`);
        if (hint !== undefined) io.err.line(`  ${io.err.paint('dim', 'hint:')} ${hint}`);
      }
      return EXIT.refused;
    }
  },
};
