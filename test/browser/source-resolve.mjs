// Module resolution hook (see source-hooks.mjs): `jwtguard` and its subpaths → src/*.ts, which
// tsx's own hooks then load.
const root = new URL('../../', import.meta.url);

const SOURCES = {
  jwtguard: 'src/index.ts',
  'jwtguard/express': 'src/adapters/express.ts',
  'jwtguard/fastify': 'src/adapters/fastify.ts',
  'jwtguard/koa': 'src/adapters/koa.ts',
  'jwtguard/hono': 'src/adapters/hono.ts',
  'jwtguard/redis': 'src/redis.ts',
};

export async function resolve(specifier, context, nextResolve) {
  const source = SOURCES[specifier];
  // Handed on as a file URL, so tsx's own resolution marks it as TypeScript.
  if (source !== undefined) return nextResolve(new URL(source, root).href, context);
  return nextResolve(specifier, context);
}
