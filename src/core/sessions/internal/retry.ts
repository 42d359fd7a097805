/** @internal First retry delay after a failure, in ms; it doubles with each failure in a row. */
export const RETRY_MIN_MS = 100;
/** @internal Longest retry delay, in ms: how late a recovered store is noticed at worst (besides a `resync`). */
export const RETRY_MAX_MS = 5000;

/**
 * @internal The wait before retry number `failures + 1`: 100 ms doubling up to 5 s, each drawn
 * between half and all of that, so that many instances reconnecting to a restarted Redis do not
 * all reload at the same instant.
 */
export function retryDelay(failures: number): number {
  const ceiling = Math.min(RETRY_MIN_MS * 2 ** Math.min(failures, 16), RETRY_MAX_MS);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * @internal Lets the process exit while the timer waits (Node, Bun), so that a retry never keeps
 * an application alive by itself. Runtimes whose timers are plain numbers (Workers, Deno) have no
 * such notion and are left alone.
 */
export function unrefTimer<T>(timer: T): T {
  const handle = timer as { unref?: unknown };
  if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') (handle.unref as () => void).call(handle);
  return timer;
}
