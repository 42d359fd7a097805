import { UsageError } from './command.js';

/** JWT times are whole seconds since the epoch (RFC 7519 §2, NumericDate). */
export const toSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * `--now`: an ISO 8601 date (`2025-01-31T12:00:00Z`) or seconds since the epoch. Only these two,
 * because `Date.parse` guesses at anything else and a wrong guess would silently change a verdict.
 */
export function parseNow(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = /^\d+(?:\.\d+)?$/.test(value) ? new Date(Number(value) * 1000) : /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--now must be an ISO 8601 date such as 2025-01-31T12:00:00Z, or seconds since the epoch; got ${JSON.stringify(value)}.`);
  return date;
}

/**
 * A duration flag as the library's option takes it: digits alone are seconds (the CLI cannot
 * pass a number otherwise, and the library refuses unit-less strings), anything else is passed
 * on unchanged for the library to validate (`"15m"`, `"1h"`, `"7d"`).
 */
export const durationFlag = (value: string): string | number => (/^\d+$/.test(value) ? Number(value) : value);

/** A span of seconds in the largest unit that keeps it readable: "45 s", "12 min", "3 h", "40 d", "2 y". */
export function span(seconds: number): string {
  const s = Math.abs(seconds);
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)} h`;
  if (s < 730 * 86400) return `${Math.floor(s / 86400)} d`;
  return `${Math.floor(s / (365.25 * 86400))} y`;
}

/** ISO date of a NumericDate, or `undefined` when no Date can hold it. */
export function isoDate(seconds: number): string | undefined {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** How a time claim reads relative to `now`: "expires in 12 min", "expired 3 h ago", "issued 5 s ago". */
export function relative(claim: string, value: number, now: number): string {
  const delta = value - now;
  const past = `${span(delta)} ago`;
  const future = `in ${span(delta)}`;
  switch (claim) {
    case 'exp':
      // The middleware treats `exp` equal to now as expired (RFC 7519 §4.1.4: "on or after").
      return delta > 0 ? `expires ${future}` : delta === 0 ? 'expired just now' : `expired ${past}`;
    case 'nbf':
      return delta > 0 ? `valid ${future}` : `valid since ${past}`;
    case 'iat':
      return delta > 0 ? `issued ${future} (in the future)` : `issued ${past}`;
    default:
      return delta > 0 ? future : past;
  }
}
