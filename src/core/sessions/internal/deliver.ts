import type { StoreEvent } from '../types.js';

/**
 * @internal Calls a subscriber. A listener that throws must not break the store operation that
 * published the event (a logout would otherwise fail after it took effect), nor a Redis
 * connection's message handler, so what it throws is dropped.
 */
export function deliver(listener: (event: StoreEvent) => void, event: StoreEvent): void {
  try {
    listener(event);
  } catch {
    // documented: listeners must not throw
  }
}
