import { JwtGuardError } from '../../errors/jwt-guard-error.js';
import type { JwtGuardPayload } from '../../options/types.js';
import { invalid, Rule } from './rule.js';

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), i.e. printable ASCII without space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** @internal Checks the scopes a route requires, once, when the rule is made. */
export function validateScopes(fn: string, scopes: readonly unknown[]): readonly string[] {
  if (scopes.length === 0) {
    throw invalid(`${fn}() needs at least one scope, e.g. ${fn}('read:users'). A route that only needs a valid token needs no route guard.`);
  }
  return Object.freeze(
    scopes.map((scope, index) => {
      if (Array.isArray(scope)) throw invalid(`${fn}() takes scopes as separate arguments, not an array: ${fn}(...scopes) or ${fn}('a', 'b').`);
      if (typeof scope !== 'string' || scope === '') throw invalid(`${fn}(): scope ${index + 1} is ${scope === '' ? 'an empty string' : typeof scope}; scopes are non-empty strings such as 'read:users'.`);
      if (/\s/.test(scope)) {
        const parts = scope.split(/\s+/).filter(Boolean).map((part) => `'${part}'`).join(', ');
        throw invalid(`${fn}(): "${scope}" contains whitespace, but a scope is one token (RFC 6749 §3.3) and a scope claim is split on spaces; pass each as its own argument: ${fn}(${parts}).`);
      }
      if (!SCOPE_TOKEN.test(scope)) {
        throw invalid(`${fn}(): "${scope}" is not a scope token: scopes are printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3). To match other values of an array claim (roles in another script, ...), use requireClaims({ roles: '...' }).`);
      }
      return scope;
    }),
  );
}

/** @internal Checks the `scopeClaim` option once, in `authorize()`. */
export function validateScopeClaims(value: unknown): readonly string[] {
  if (value === undefined) return ['scope'];
  const claims = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(claims) || claims.length === 0 || claims.some((claim) => typeof claim !== 'string' || claim === '')) {
    throw invalid("`scopeClaim` must be a claim name such as 'scope', 'scp', 'permissions' or 'roles', or a non-empty list of them (['scp', 'roles']).");
  }
  return Object.freeze([...new Set(claims as string[])]);
}

/** The scope strings a claim value holds: a space-separated string, or the strings of an array. */
function holds(value: unknown, scope: string): boolean {
  if (typeof value === 'string') {
    // Token by token, without splitting (no allocation): 'read:users2' does not hold 'read:users'.
    let from = 0;
    for (;;) {
      const at = value.indexOf(scope, from);
      if (at === -1) return false;
      const end = at + scope.length;
      if ((at === 0 || value.charCodeAt(at - 1) === 32) && (end === value.length || value.charCodeAt(end) === 32)) return true;
      from = at + 1;
    }
  }
  return Array.isArray(value) && value.includes(scope);
}

function granted(payload: JwtGuardPayload, claims: readonly string[], scope: string): boolean {
  for (const claim of claims) if (Object.hasOwn(payload, claim) && holds(payload[claim], scope)) return true;
  return false;
}

function quoted(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

function describe(fn: string, scopes: readonly string[], claims: readonly string[]): string {
  const from = claims.length === 1 && claims[0] === 'scope' ? '' : ` from ${claims.length === 1 ? JSON.stringify(claims[0]) : `[${quoted(claims)}]`}`;
  return `${fn}(${quoted(scopes)})${from}`;
}

/**
 * @internal `requireScopes` / `requireAnyScope`. The message names every scope of the challenge,
 * so one message always goes with one `WWW-Authenticate` (responses are shared by message).
 */
export function scopeRule(mode: 'all' | 'any', scopes: readonly string[], claims: readonly string[]): Rule {
  const list = scopes.join(', ');
  const message =
    mode === 'any'
      ? `The token has none of the scopes this route accepts: ${list}.`
      : scopes.length === 1
        ? `The token lacks the scope this route requires: ${list}.`
        : `The token lacks a scope this route requires; it requires all of: ${list}.`;
  const refuse = (): JwtGuardError => new JwtGuardError('insufficient_scope', message, { scopes });
  const description = describe(mode === 'all' ? 'requireScopes' : 'requireAnyScope', scopes, claims);
  if (mode === 'all') {
    return new Rule(description, (payload) => {
      for (const scope of scopes) if (!granted(payload, claims, scope)) return refuse();
      return undefined;
    });
  }
  return new Rule(description, (payload) => {
    for (const scope of scopes) if (granted(payload, claims, scope)) return undefined;
    return refuse();
  });
}
