import { JwtGuardError } from '../../errors/jwt-guard-error.js';
import type { JwtGuardPayload } from '../../options/types.js';
import type { ClaimValue } from '../types.js';
import { invalid, Rule } from './rule.js';

function isClaimValue(value: unknown): value is ClaimValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

interface Requirement {
  readonly name: string;
  readonly accepted: readonly ClaimValue[];
  readonly missing: string;
  readonly mismatch: string;
}

/** @internal Checks `requireClaims`' argument once, when the rule is made. */
function requirements(claims: unknown): readonly Requirement[] {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw invalid("requireClaims() takes an object of claim names to values, e.g. requireClaims({ role: 'admin', tenant: ['acme', 'globex'] }).");
  }
  const names = Object.keys(claims);
  if (names.length === 0) throw invalid("requireClaims({}) requires nothing; name at least one claim, e.g. requireClaims({ role: 'admin' }).");
  return names.map((name) => {
    const expected = (claims as Record<string, unknown>)[name];
    const accepted = Array.isArray(expected) ? expected : [expected];
    if (Array.isArray(expected) && expected.length === 0) {
      throw invalid(`requireClaims(): the list for "${name}" is empty, so no token could pass; list the accepted values, e.g. { ${name}: ['a', 'b'] }.`);
    }
    for (const value of accepted) {
      if (!isClaimValue(value)) {
        const what = value === null ? 'null' : Array.isArray(value) ? 'a nested list' : typeof value === 'number' ? String(value) : typeof value;
        throw invalid(`requireClaims(): "${name}" is given ${what}; values are strings, finite numbers or booleans, or a list of them. Check other shapes (objects, ranges) with claimCheck(payload => ..., 'description').`);
      }
    }
    return Object.freeze({
      name,
      accepted: Object.freeze([...accepted] as ClaimValue[]),
      missing: `The token has no ${name} claim, which this route requires.`,
      mismatch: `The token's ${name} claim does not have a value this route accepts.`,
    });
  });
}

/** Whether the claim has one of the accepted values; an array claim has each of its elements. */
function matches(actual: unknown, accepted: readonly ClaimValue[]): boolean {
  if (Array.isArray(actual)) {
    for (const element of actual) if (accepted.includes(element as ClaimValue)) return true;
    return false;
  }
  return accepted.includes(actual as ClaimValue);
}

/**
 * @internal `requireClaims`: every named claim must be present and have one of its accepted
 * values, compared with `===` (`NaN` is never accepted; `includes` would take it, but values are
 * finite numbers by construction).
 */
export function claimsRule(claims: unknown): Rule {
  const required = requirements(claims);
  const description = `requireClaims(${JSON.stringify(claims)})`;
  return new Rule(description, (payload: JwtGuardPayload) => {
    for (const { name, accepted, missing, mismatch } of required) {
      // Own claims only: `constructor` or `__proto__` never reach the prototype.
      if (!Object.hasOwn(payload, name) || payload[name] === undefined || payload[name] === null) return new JwtGuardError('claim_mismatch', missing, { claim: name });
      if (!matches(payload[name], accepted)) return new JwtGuardError('claim_mismatch', mismatch, { claim: name });
    }
    return undefined;
  });
}
