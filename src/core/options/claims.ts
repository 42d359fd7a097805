import type { JWTClaimVerificationOptions, JWTHeaderParameters, JWTPayload } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { parseSeconds } from './durations.js';
import type { JwtGuardOptions } from './types.js';

/** Claim checks, prepared once, in the two forms the verification paths need. */
export interface ClaimRules {
  /** jose's options, for jose.jwtVerify. */
  readonly jose: JWTClaimVerificationOptions;
  /** The current time in seconds since the epoch (`currentDate` when fixed). */
  readonly now: () => number;
  /** True only when jose would accept these claims and header at `now`; false means "ask jose". */
  readonly accept: (header: JWTHeaderParameters, payload: JWTPayload, now: number) => boolean;
  /** The time-dependent part of `accept`, re-checked on every cache hit. */
  readonly stillValid: (payload: JWTPayload, now: number) => boolean;
}

function invalid(message: string): JwtGuardError {
  return new JwtGuardError('invalid_options', `jwtguard: ${message}`);
}

function stringOrList(value: unknown, option: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((item) => typeof item !== 'string' || item === '')) {
    throw invalid(`\`${option}\` must be a non-empty string or a non-empty list of strings.`);
  }
  return list as string[];
}

/**
 * RFC 9068 §2.2: the claims every JWT access token carries (`typ` is checked separately); `profile: 'at+jwt'` requires them.
 *
 * @example
 * ```ts
 * AT_JWT_CLAIMS // ['iss', 'aud', 'exp', 'sub', 'client_id', 'iat', 'jti']
 * ```
 */
export const AT_JWT_CLAIMS: readonly string[] = Object.freeze(['iss', 'aud', 'exp', 'sub', 'client_id', 'iat', 'jti']);

/** jose's typ comparison: case-insensitive, `application/` implied when there is no `/`. */
const normalizeTyp = (value: string): string => {
  const lower = value.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
};

/** Validates the claim options once and builds both rule forms. */
export function resolveClaims(options: JwtGuardOptions): ClaimRules {
  // With discovery, tokens must name the issuer its metadata was checked against (keys.ts validated both).
  const issuers = stringOrList(options.issuer ?? options.issuerBaseURL, 'issuer');
  const audiences = stringOrList(options.audience, 'audience');
  const { subject, currentDate, profile } = options;
  let typ = options.typ;
  if (profile !== undefined) {
    if (profile !== 'at+jwt') throw invalid(`\`profile\` must be "at+jwt" (RFC 9068 access tokens); got ${JSON.stringify(profile)}.`);
    if (typ !== undefined && (typeof typ !== 'string' || normalizeTyp(typ) !== 'application/at+jwt')) {
      throw invalid(`\`profile: "at+jwt"\` requires the typ "at+jwt"; drop \`typ\` (got ${JSON.stringify(typ)}).`);
    }
    if (audiences === undefined) throw invalid('`profile: "at+jwt"` needs `audience`: the identifier of this API as the authorization server names it in `aud` (RFC 9068 §4).');
    if (issuers === undefined) throw invalid('`profile: "at+jwt"` needs `issuer` or `issuerBaseURL`: the authorization server whose tokens this API accepts (RFC 9068 §4).');
    typ = 'at+jwt';
  }
  if (subject !== undefined && (typeof subject !== 'string' || subject === '')) throw invalid('`subject` must be a non-empty string.');
  if (typ !== undefined && (typeof typ !== 'string' || typ === '')) throw invalid('`typ` must be a non-empty string such as "JWT" or "at+jwt".');
  if (currentDate !== undefined && (!(currentDate instanceof Date) || Number.isNaN(currentDate.getTime()))) throw invalid('`currentDate` must be a valid Date.');
  const tolerance = options.clockTolerance === undefined ? 0 : parseSeconds(options.clockTolerance, 'clockTolerance', { allowZero: true });
  const maxTokenAge = options.maxTokenAge === undefined ? undefined : parseSeconds(options.maxTokenAge, 'maxTokenAge');
  const requiredClaims = options.requiredClaims;
  if (requiredClaims !== undefined && (!Array.isArray(requiredClaims) || requiredClaims.some((c) => typeof c !== 'string'))) {
    throw invalid('`requiredClaims` must be a list of claim names, e.g. ["sub", "exp"].');
  }

  const required = profile === 'at+jwt' ? [...new Set([...(requiredClaims ?? []), ...AT_JWT_CLAIMS])] : requiredClaims;
  const present = [...(required ?? [])];
  if (maxTokenAge !== undefined) present.push('iat');
  if (audiences !== undefined) present.push('aud');
  if (subject !== undefined) present.push('sub');
  if (issuers !== undefined) present.push('iss');
  const expectedTyp = typ === undefined ? undefined : normalizeTyp(typ);

  const jose: JWTClaimVerificationOptions = {
    ...(issuers && { issuer: issuers }),
    ...(audiences && { audience: audiences }),
    ...(subject !== undefined && { subject }),
    ...(typ !== undefined && { typ }),
    ...(maxTokenAge !== undefined && { maxTokenAge }),
    ...(tolerance !== 0 && { clockTolerance: tolerance }),
    ...(required && { requiredClaims: [...required] }),
    ...(currentDate && { currentDate }),
  };

  const fixedNow = currentDate === undefined ? undefined : Math.floor(currentDate.getTime() / 1000);
  const now = fixedNow === undefined ? () => Math.floor(Date.now() / 1000) : () => fixedNow;

  const stillValid = (payload: JWTPayload, at: number): boolean => {
    const { exp, nbf, iat } = payload;
    if (iat !== undefined && typeof iat !== 'number') return false;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > at + tolerance)) return false;
    if (exp !== undefined && (typeof exp !== 'number' || exp <= at - tolerance)) return false;
    if (maxTokenAge !== undefined) {
      if (typeof iat !== 'number') return false;
      const age = at - iat; // computed as jose does, so float rounding decides identically
      if (age - tolerance > maxTokenAge || age < -tolerance) return false;
    }
    return true;
  };

  const accept = (header: JWTHeaderParameters, payload: JWTPayload, at: number): boolean => {
    if (expectedTyp !== undefined && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== expectedTyp)) return false;
    for (const claim of present) if (!Object.hasOwn(payload, claim)) return false;
    if (issuers !== undefined && !issuers.includes(payload.iss as string)) return false;
    if (subject !== undefined && payload.sub !== subject) return false;
    if (audiences !== undefined) {
      const aud = payload.aud;
      const ok = typeof aud === 'string' ? audiences.includes(aud) : Array.isArray(aud) ? audiences.some((a) => aud.includes(a)) : false;
      if (!ok) return false;
    }
    return stillValid(payload, at);
  };

  return { jose, now, accept, stillValid };
}
