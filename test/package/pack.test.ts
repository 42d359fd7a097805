// The package as a user gets it: `npm pack`, install the tarball into a separate project, then
// import and require() every subpath and type-check a TypeScript consumer.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
// Inside the repo, so the consumer finds the frameworks (devDependencies) by walking up, while
// jwtguard and its dependencies come from the tarball in the consumer's own node_modules.
const consumer = join(root, '.pack-test', 'consumer');
const SUBPATHS = ['jwtguard', 'jwtguard/express', 'jwtguard/fastify', 'jwtguard/koa', 'jwtguard/hono', 'jwtguard/redis'];
/** The subpaths of the framework adapters (each exports `jwtGuard`). */
const ADAPTERS = SUBPATHS.filter((s) => s !== 'jwtguard' && s !== 'jwtguard/redis');
const run = (file: string, args: string[], cwd = consumer) => execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('packed tarball', { timeout: 240_000 }, () => {
  before(() => {
    rmSync(join(root, '.pack-test'), { recursive: true, force: true });
    mkdirSync(consumer, { recursive: true });
    run(process.execPath, ['scripts/build.mjs'], root);
    const [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', '.pack-test'], root)) as [{ filename: string; files: { path: string }[] }];
    assert.ok(packed.files.some((f) => f.path === 'dist/cjs/index.js'));
    assert.ok(!packed.files.some((f) => f.path.startsWith('src/') || f.path.startsWith('test/')), 'sources or tests shipped');
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    run('npm', ['install', join('..', packed.filename), '--no-save', '--no-package-lock', '--prefer-offline', '--no-audit', '--no-fund']);
  });

  test('import: every subpath loads from ESM and the core signs and verifies', () => {
    const script = `
      const subpaths = ${JSON.stringify(SUBPATHS)};
      for (const s of subpaths) await import(s);
      const { signToken, verifyToken, JwtGuardError } = await import('jwtguard');
      const options = { secret: 'x'.repeat(32) };
      const payload = await verifyToken(await signToken({ sub: 'esm' }, options), options);
      const err = await verifyToken('a.b', options).catch((e) => e);
      for (const s of ${JSON.stringify(ADAPTERS)}) if (typeof (await import(s)).jwtGuard !== 'function') throw new Error(s + ' has no jwtGuard');
      const { memoryStore } = await import('jwtguard');
      const { redisStore } = await import('jwtguard/redis');
      const store = memoryStore();
      await store.createSession({ sid: 's', sub: 'u', claims: '{}', createdAt: 1, expiresAt: 1000 }, 'h');
      const rotated = (await store.rotate({ hash: 'h', newHash: 'n', now: 2, reuseIntervalMs: 0, answer: '', revokedUntil: 3 })).kind;
      const redisErr = (() => { try { redisStore({ client: {} }); } catch (e) { return e; } })();
      console.log(JSON.stringify({ sub: payload.sub, typed: err instanceof JwtGuardError, code: err.code, rotated, redis: redisErr instanceof JwtGuardError && redisErr.code }));`;
    writeFileSync(join(consumer, 'esm.mjs'), script);
    assert.deepEqual(JSON.parse(run(process.execPath, ['esm.mjs'])), { sub: 'esm', typed: true, code: 'token_malformed', rotated: 'rotated', redis: 'invalid_options' });
  });

  test('require(): every subpath loads from CommonJS and the core signs and verifies', () => {
    const script = `
      const subpaths = ${JSON.stringify(SUBPATHS)};
      for (const s of subpaths) require(s);
      for (const s of ${JSON.stringify(ADAPTERS)}) if (typeof require(s).jwtGuard !== 'function') throw new Error(s + ' has no jwtGuard');
      const { signToken, verifyToken, JwtGuardError } = require('jwtguard');
      const options = { secret: 'x'.repeat(32) };
      (async () => {
        const payload = await verifyToken(await signToken({ sub: 'cjs' }, options), options);
        const err = await verifyToken('a.b', options).catch((e) => e);
        const store = require('jwtguard').memoryStore();
        await store.createSession({ sid: 's', sub: 'u', claims: '{}', createdAt: 1, expiresAt: 1000 }, 'h');
        const rotated = (await store.rotate({ hash: 'h', newHash: 'n', now: 2, reuseIntervalMs: 0, answer: '', revokedUntil: 3 })).kind;
        const redisErr = (() => { try { require('jwtguard/redis').redisStore({ client: {} }); } catch (e) { return e; } })();
        console.log(JSON.stringify({ sub: payload.sub, typed: err instanceof JwtGuardError, code: err.code, rotated, redis: redisErr instanceof JwtGuardError && redisErr.code }));
      })();`;
    writeFileSync(join(consumer, 'cjs.cjs'), script);
    assert.deepEqual(JSON.parse(run(process.execPath, ['cjs.cjs'])), { sub: 'cjs', typed: true, code: 'token_malformed', rotated: 'rotated', redis: 'invalid_options' });
  });

  test('bin: the installed `jwtguard` command runs (shebang, executable bit) and signs, verifies, decodes with the library', () => {
    const bin = join(consumer, 'node_modules', '.bin', 'jwtguard');
    const env = { ...process.env, NO_COLOR: '1', JWT_PACK_SECRET: 'packed-secret-'.repeat(4) };
    const jwtguard = (args: string[], input = '') => spawnSync(bin, args, { cwd: consumer, env, input, encoding: 'utf8' });
    assert.ok(existsSync(join(consumer, 'node_modules/jwtguard/dist/esm/cli/cli.js')));
    assert.ok(!existsSync(join(consumer, 'node_modules/jwtguard/dist/cjs/cli')), 'the CLI ships as ESM only');
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(jwtguard(['--version']).stdout, `${version}\n`);
    assert.equal(run('npx', ['--no-install', 'jwtguard', '--version']), `${version}\n`);

    const signed = jwtguard(['sign', '-S', 'env:JWT_PACK_SECRET', '-P', 'sub=packed', '--exp', '5m']);
    assert.equal(signed.status, 0, signed.stderr);
    const token = signed.stdout.trim();
    const verified = jwtguard(['verify', '-', '-S', 'env:JWT_PACK_SECRET', '--json'], `Bearer ${token}\n`);
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal((JSON.parse(verified.stdout) as { payload: { sub: string } }).payload.sub, 'packed');
    const refused = jwtguard(['verify', token, '-S', 'env:JWT_PACK_SECRET', '--alg', 'HS512']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /algorithm_not_allowed/);
    assert.equal(jwtguard(['decode', token]).status, 0);
    assert.equal(jwtguard(['verify', token, '--bogus']).status, 2);

    const made = jwtguard(['keygen', '--alg', 'ES256', '--out', 'pack-es256']);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(statSync(join(consumer, 'pack-es256.key.pem')).mode & 0o777, 0o600);
    const es = jwtguard(['sign', '--private-key', 'pack-es256.key.pem', '-P', 'sub=es']).stdout.trim();
    writeFileSync(join(consumer, 'jwks.json'), jwtguard(['jwks', 'pack-es256.pub.pem']).stdout);
    assert.equal(jwtguard(['verify', es, '--jwks', 'jwks.json', '--alg', 'ES256']).status, 0);
    for (const output of [signed, verified, refused].flatMap((r) => [r.stdout, r.stderr])) assert.ok(!output.includes(env.JWT_PACK_SECRET), 'the secret in an output');
  });

  test('types: a TypeScript consumer reads each adapter\'s payload without casts, as ESM and as CommonJS', () => {
    const body = `
      import express from 'express';
      import Fastify from 'fastify';
      import Koa from 'koa';
      import { Hono } from 'hono';
      import { verifyToken, type JwtGuardOptions } from 'jwtguard';
      import { jwtGuard as expressGuard } from 'jwtguard/express';
      import fastifyGuard from 'jwtguard/fastify';
      import { jwtGuard as koaGuard } from 'jwtguard/koa';
      import { jwtGuard as honoGuard } from 'jwtguard/hono';
      import { memoryStore, type TokenStore } from 'jwtguard';
      import { redisStore } from 'jwtguard/redis';
      import { createClient } from 'redis';
      import { Redis } from 'ioredis';

      declare module 'jwtguard' {
        interface JwtGuardPayload { userId: number }
      }

      const options: JwtGuardOptions = { secret: 'x'.repeat(32), authPath: '/login' };
      export async function all(): Promise<number[]> {
        const ids: number[] = [(await verifyToken('t', options)).userId];
        const app = express();
        app.use(expressGuard(options));
        app.get('/me', (req, res) => { const id: number | undefined = req.auth?.userId; res.json({ id }); });
        const fastify = Fastify();
        await fastify.register(fastifyGuard, options);
        fastify.get('/me', async (request) => { const id: number | undefined = request.user?.userId; return { id }; });
        const koa = new Koa();
        koa.use(koaGuard(options));
        koa.use((ctx) => { const id: number | undefined = ctx.state.user?.userId; ctx.body = { id }; });
        const hono = new Hono();
        hono.use('*', honoGuard(options));
        hono.get('/me', (c) => { const id: number = c.get('jwtPayload').userId; return c.json({ id }); });
        const stores: TokenStore[] = [memoryStore(), redisStore({ client: createClient() }), redisStore({ client: new Redis({ lazyConnect: true }), prefix: 'app:' })];
        ids.push(stores.length);
        return ids;
      }`;
    writeFileSync(join(consumer, 'consumer.mts'), body);
    writeFileSync(join(consumer, 'consumer.cts'), body);
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.mts', 'consumer.cts'] }),
    );
    try {
      run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
    } catch (error) {
      assert.fail(`the consumer does not type-check:\n${(error as { stdout?: string }).stdout ?? error}`);
    }
  });
});
