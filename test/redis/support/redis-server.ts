// A real Redis for the tests: a throwaway redis-server on a free port with a temporary directory
// (no persistence), or REDIS_URL. Without either, the Redis tests are skipped with the reason,
// unless JWTGUARD_REQUIRE_REDIS=1 (CI), which turns the absence into a failure.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const BINARY = 'redis-server';

/** A redis-server this test file started and may kill and restart (same port, empty data). */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the connections drop at once, without a goodbye. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: the tests run without persistence). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open but nothing answers (a network partition, a stuck server). */
  freeze(): void;
  thaw(): void;
}

export type TestRedis =
  | { readonly url: string; readonly own: OwnRedis | undefined; readonly skip?: undefined }
  | { readonly url?: undefined; readonly own?: undefined; readonly skip: string };

const required = process.env.JWTGUARD_REQUIRE_REDIS === '1';

/** Whether the Redis tests can run here, and against what. Call once per file, at the top level. */
export async function testRedis(): Promise<TestRedis> {
  if (spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).error === undefined) {
    const own = await startOwn();
    after(() => own.stop());
    return { url: own.url, own };
  }
  const url = process.env.REDIS_URL;
  if (url !== undefined && url !== '') return { url, own: undefined };
  const skip = `${BINARY} not found on PATH and REDIS_URL not set (install the Debian package redis-server)`;
  if (required) {
    test('Redis is available (JWTGUARD_REQUIRE_REDIS=1)', () => assert.fail(skip));
  }
  return { skip };
}

/** A test that needs a redis-server of its own (to kill it): its skip reason, or undefined when it can run. */
export function needsOwnServer(redis: TestRedis): string | undefined {
  if (redis.skip !== undefined) return redis.skip;
  if (redis.own !== undefined) return undefined;
  const reason = `${BINARY} not found on PATH: REDIS_URL is an outside server, which this test cannot kill`;
  if (required) test('redis-server is available to kill and restart (JWTGUARD_REQUIRE_REDIS=1)', () => assert.fail(reason));
  return reason;
}

export function freePort(): Promise<number> {
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
async function waitForPong(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
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
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startOwn(): Promise<OwnRedis & { stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jwtguard-redis-'));
  let child: ChildProcess | undefined;
  const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || (running.signalCode !== null && running.signalCode !== 'SIGSTOP')) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGCONT');
    running.kill(signal);
    await exited;
  };
  const start = async (): Promise<void> => {
    child = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    await waitForPong(port);
  };
  // A crashed test run must not leave a server behind.
  const onExit = (): void => {
    child?.kill('SIGCONT');
    child?.kill('SIGKILL');
  };
  process.once('exit', onExit);
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => stopChild('SIGKILL'),
    restart: start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async stop() {
      await stopChild('SIGKILL');
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy in front of Redis, to cut one client off while the others keep talking to the
 * server: `cut()` drops its connections and refuses new ones, `restore()` lets them in again.
 */
export class CuttableProxy {
  readonly #target: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(target: number) {
    this.#target = target;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const server = createServer((client) => {
      const upstream = connect(this.#target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          this.#sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = server && new Promise((resolve) => server.close(resolve));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  restore(): Promise<void> {
    return this.start();
  }
}
