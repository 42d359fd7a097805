import ms from 'ms';
import { JwtGuardError } from '../errors/jwt-guard-error.js';

/**
 * A duration option in jose's units: a number of seconds, or an `ms` string such as `"30s"` or
 * `"1h"`. Returns whole or fractional seconds; throws `invalid_options` for anything else.
 */
export function parseSeconds(value: unknown, option: string, { allowZero = false } = {}): number {
  // "3600" would be read by ms as milliseconds; jose refuses unit-less strings, and so do we.
  const unitless = typeof value === 'string' && /^\s*[-+]?[\d.]+\s*$/.test(value);
  const seconds =
    unitless ? Number.NaN
    : typeof value === 'number' ? value
    : typeof value === 'string' ? ((ms(value as ms.StringValue) as number | undefined) ?? Number.NaN) / 1000
    : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 0 || (!allowZero && seconds === 0)) {
    throw new JwtGuardError(
      'invalid_options',
      `jwtguard: \`${option}\` must be a ${allowZero ? 'non-negative' : 'positive'} duration: a number of seconds or a string such as "30s" or "1h"; got ${JSON.stringify(value)}.`,
    );
  }
  return seconds;
}
