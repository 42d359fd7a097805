import type { StoreEvent } from '../../core/sessions/types.js';

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/**
 * @internal Reads a revocation published on the store's channel (by the scripts, from any
 * process); `undefined` for anything else, so a foreign message on the channel reaches no listener.
 */
export function parseEvent(message: string): StoreEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, sid, sub, before, until } = value as Record<string, unknown>;
  if (type === 'session' && typeof sid === 'string' && isTime(until)) return Object.freeze({ type, sid, until });
  if (type === 'subject' && typeof sub === 'string' && isTime(before) && isTime(until)) return Object.freeze({ type, sub, before, until });
  return undefined;
}
