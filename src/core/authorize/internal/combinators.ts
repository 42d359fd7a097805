import { JwtGuardError } from '../../errors/jwt-guard-error.js';
import type { JwtGuardPayload } from '../../options/types.js';
import type { AuthorizationVerdict } from '../types.js';
import { invalid, Rule } from './rule.js';

/** @internal Checks the arguments of `anyOf` / `allOf` once: jwtguard rules (or route guards, unwrapped by the caller). */
export function validateRules(fn: 'anyOf' | 'allOf', rules: readonly unknown[]): readonly Rule[] {
  if (rules.length === 0) throw invalid(`${fn}() needs at least one route guard, e.g. ${fn}(requireScopes('admin'), requireClaims({ role: 'admin' })).`);
  return Object.freeze(
    rules.map((rule, index) => {
      if (!(rule instanceof Rule)) {
        const what = typeof rule === 'function' ? 'a function that is not a jwtguard route guard (a plain middleware?)' : rule === null ? 'null' : typeof rule;
        throw invalid(`${fn}(): argument ${index + 1} is ${what}; ${fn} combines what requireScopes, requireAnyScope, requireClaims, claimCheck, anyOf and allOf return.`);
      }
      return rule;
    }),
  );
}

/** Whether a failure ends the evaluation whatever comes next: a check that threw is never skipped over. */
function fatal(verdict: JwtGuardError): boolean {
  return verdict.code === 'authorization_failed';
}

/** @internal `allOf`: in order, the first refusal is the answer (later rules do not run). */
export function allOfRule(rules: readonly Rule[]): Rule {
  const run = (payload: JwtGuardPayload, from: number): AuthorizationVerdict | Promise<AuthorizationVerdict> => {
    for (let i = from; i < rules.length; i++) {
      const verdict = (rules[i] as Rule).check(payload);
      if (verdict instanceof Promise) return verdict.then((settled) => (settled === undefined ? run(payload, i + 1) : settled));
      if (verdict !== undefined) return verdict;
    }
    return undefined;
  };
  return new Rule(`allOf(${rules.map((rule) => rule.description).join(', ')})`, (payload) => run(payload, 0));
}

/**
 * The refusal of an `anyOf` none of whose alternatives passed: `insufficient_scope` with every
 * scope its scope alternatives asked for, when there are any (getting one of those may open the
 * route); `claim_mismatch` otherwise. The message names the scopes, so one message goes with one
 * challenge.
 */
function noneOf(failures: readonly JwtGuardError[]): JwtGuardError {
  // anyOf(x) refuses as x does.
  if (failures.length === 1) return failures[0] as JwtGuardError;
  const scopes = [...new Set(failures.flatMap((failure) => (failure.code === 'insufficient_scope' ? (failure.scopes ?? []) : [])))];
  if (scopes.length > 0) {
    return new JwtGuardError('insufficient_scope', `The token satisfies none of this route's alternatives; scopes that can grant access: ${scopes.join(', ')}.`, { scopes });
  }
  return new JwtGuardError('claim_mismatch', "The token satisfies none of this route's alternatives.");
}

/**
 * @internal `anyOf`: in order, the first pass is the answer (later rules do not run). A check
 * that fails with a 500 ends it too: an error is never skipped over in favour of a later pass.
 */
export function anyOfRule(rules: readonly Rule[]): Rule {
  const run = (payload: JwtGuardPayload, from: number, failures: JwtGuardError[]): AuthorizationVerdict | Promise<AuthorizationVerdict> => {
    for (let i = from; i < rules.length; i++) {
      const verdict = (rules[i] as Rule).check(payload);
      if (verdict instanceof Promise) {
        return verdict.then((settled) => {
          if (settled === undefined || fatal(settled)) return settled;
          failures.push(settled);
          return run(payload, i + 1, failures);
        });
      }
      if (verdict === undefined || fatal(verdict)) return verdict;
      failures.push(verdict);
    }
    return noneOf(failures);
  };
  return new Rule(`anyOf(${rules.map((rule) => rule.description).join(', ')})`, (payload) => run(payload, 0, []));
}
