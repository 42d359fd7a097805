/**
 * @internal A Node built-in module found at run time (`process.getBuiltinModule`: Node >= 20.16,
 * Bun, Deno), or `undefined` where there is none (Workers, browsers). No static `node:` import,
 * so the core stays loadable on every runtime Hono supports.
 */
export function nodeBuiltin<T>(id: 'node:crypto' | 'node:buffer' | 'node:zlib'): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (proc?.getBuiltinModule?.(id) as T | undefined) ?? undefined;
  } catch {
    return undefined;
  }
}
