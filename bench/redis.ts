/**
 * The Redis the sessions benchmarks run on: a throwaway `redis-server` on a free port of
 * 127.0.0.1 in a temporary directory, without persistence (as test/redis/support/redis-server.ts
 * starts one for the tests), or REDIS_URL when redis-server is not on PATH. Without either, the
 * sessions rows and the refresh benchmark are skipped with the reason.
 *
 * Every key the benchmark writes is under a prefix of its own (`jwtguard-bench:<random>:`); on an
 * outside Redis (REDIS_URL) they are deleted at the end (and expire within 2 h anyway).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { log } from './common.js';

const BINARY = 'redis-server';

export type RedisClient = ReturnType<typeof createClient>;

export interface BenchRedis {
  readonly url: string;
  /** Key prefix of this run's redisStore instances (and of their events channel). */
  readonly prefix: string;
  /** For RESULTS.md: which Redis, where, and how it was started. */
  readonly description: string;
  /** The bench process's own connection (the fresh-mode sessions, INFO, clean-up). */
  readonly client: RedisClient;
  /** CPU time the Redis server has used so far, in µs (INFO cpu: user + sys, main thread and children excluded). */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when something on the port answers PING with PONG. */
async function waitForPong(port: number, child: ChildProcess, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${BINARY} exited at start (code ${child.exitCode}, signal ${child.signalCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(500);
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => (socket.destroy(), resolve(false)));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${BINARY} on port ${port} did not answer PING within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface OwnServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function startOwn(): Promise<OwnServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jwtguard-bench-redis-'));
  const child = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A crashed run must not leave a server behind.
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPong(port, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/**
 * The Redis to benchmark sessions on, or the reason there is none. A redis-server that is on
 * PATH but does not start (or a REDIS_URL that does not answer) is an error, not a skip.
 */
export async function openRedis(): Promise<BenchRedis | { readonly skip: string }> {
  let own: OwnServer | undefined;
  let url: string;
  if (spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).error === undefined) {
    own = await startOwn();
    url = own.url;
  } else {
    const fromEnv = process.env.REDIS_URL?.trim();
    if (fromEnv === undefined || fromEnv === '') return { skip: `${BINARY} not found on PATH and REDIS_URL not set (install the Debian package redis-server)` };
    url = fromEnv;
  }
  const client: RedisClient = createClient({ url });
  client.on('error', (error: Error) => log(`bench redis client: ${error.message}`));
  try {
    await client.connect();
  } catch (error) {
    await own?.stop();
    throw new Error(`cannot connect to Redis at ${url}: ${(error as Error).message}`, { cause: error });
  }
  const prefix = `jwtguard-bench:${randomBytes(6).toString('hex')}:`;
  const server = await client.info('server');
  const version = infoField(server, 'redis_version') ?? '?';
  const description = own
    ? `redis-server ${version} started by the bench on 127.0.0.1:${own.port} (\`--save '' --appendonly no\`, empty), node-redis client`
    : `Redis ${version} at REDIS_URL (an outside server: its other load counts), node-redis client`;
  return {
    url,
    prefix,
    description,
    client,
    async cpuMicros() {
      const info = await client.info('cpu');
      const seconds = Number(infoField(info, 'used_cpu_user') ?? NaN) + Number(infoField(info, 'used_cpu_sys') ?? NaN);
      return seconds * 1e6;
    },
    async stop() {
      try {
        if (own === undefined && client.isOpen) {
          // An outside Redis: delete this run's keys (they would expire within 2 h anyway).
          let deleted = 0;
          for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
            const batch = ([] as string[]).concat(keys);
            if (batch.length > 0) deleted += await client.unlink(batch);
          }
          log(`bench redis: deleted ${deleted} keys under ${prefix}`);
        }
      } finally {
        if (client.isOpen) client.destroy();
        await own?.stop();
      }
    },
  };
}
