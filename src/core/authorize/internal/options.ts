import type { AuthorizeOptions } from '../types.js';
import { invalid } from './rule.js';
import { validateScopeClaims } from './scopes.js';

const OPTION_NAMES: readonly string[] = ['scopeClaim', 'forwardErrors'];

/** @internal The options of `authorize()` / `createAuthorizer()`, checked once. */
export interface NormalizedAuthorizeOptions {
  readonly scopeClaims: readonly string[];
  readonly forwardErrors: boolean;
}

/** @internal Validates {@link AuthorizeOptions}; throws `invalid_options` with what to change. */
export function normalizeAuthorizeOptions(options: unknown): NormalizedAuthorizeOptions {
  if (options === undefined) return { scopeClaims: ['scope'], forwardErrors: false };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid("authorize() takes an options object, e.g. authorize({ scopeClaim: 'permissions' }), or nothing.");
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) {
      throw invalid(`authorize() has no option \`${name}\`; its options are \`scopeClaim\` and \`forwardErrors\` (the guard's own options go to jwtGuard()).`);
    }
  }
  const { scopeClaim, forwardErrors } = options as AuthorizeOptions;
  if (forwardErrors !== undefined && typeof forwardErrors !== 'boolean') throw invalid('`forwardErrors` of authorize() must be true or false.');
  return { scopeClaims: validateScopeClaims(scopeClaim), forwardErrors: forwardErrors ?? false };
}
