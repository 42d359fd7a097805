// The Redis clients redisStore supports, each in its current and previous major version
// (devDependencies `redis`/`ioredis` are v5, `redis6`/`ioredis6` aliases are v6), made the way an
// application makes them, with a short reconnection delay so that fault tests stay fast.
import { once } from 'node:events';
import { Redis as IoRedis5 } from 'ioredis';
import { Redis as IoRedis6 } from 'ioredis6';
import { createClient as createNodeRedis5 } from 'redis';
import { createClient as createNodeRedis6 } from 'redis6';
import type { IoRedisClientLike, NodeRedisClientLike } from '../../../src/redis.js';

export interface TestClient {
  /** The client, typed as the application has it (no casts: the store must accept it as is). */
  readonly client: NodeRedisClientLike | IoRedisClientLike;
  /** A raw command, for the tests' own checks (KEYS, PTTL, PUBLISH, SCRIPT FLUSH). */
  command(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

export interface ClientKind {
  readonly name: string;
  connect(url: string): Promise<TestClient>;
}

const reconnectDelay = (attempt: number): number => Math.min(25 * 2 ** attempt, 200);

type NodeRedis = ReturnType<typeof createNodeRedis5> | ReturnType<typeof createNodeRedis6>;

function nodeRedis(name: string, create: (url: string) => NodeRedis): ClientKind {
  return {
    name,
    async connect(url) {
      const client = create(url);
      client.on('error', () => {}); // an application logs it; node-redis throws without a listener
      await client.connect();
      const typed: NodeRedisClientLike = client;
      return {
        client: typed,
        command: (...args) => client.sendCommand(args),
        close: async () => {
          if (client.isOpen) client.destroy();
        },
      };
    },
  };
}

function ioRedis(name: string, create: (url: string) => IoRedis5 | IoRedis6): ClientKind {
  return {
    name,
    async connect(url) {
      const client = create(url);
      client.on('error', () => {});
      if (client.status !== 'ready') await once(client, 'ready');
      const typed: IoRedisClientLike = client;
      return {
        client: typed,
        command: (command, ...args) => client.call(command as string, ...args),
        close: async () => client.disconnect(),
      };
    },
  };
}

export const CLIENT_KINDS: readonly ClientKind[] = [
  nodeRedis('node-redis 5', (url) => createNodeRedis5({ url, socket: { reconnectStrategy: reconnectDelay } })),
  ioRedis('ioredis 5', (url) => new IoRedis5(url, { retryStrategy: reconnectDelay })),
  nodeRedis('node-redis 6', (url) => createNodeRedis6({ url, socket: { reconnectStrategy: reconnectDelay } })),
  ioRedis('ioredis 6', (url) => new IoRedis6(url, { retryStrategy: reconnectDelay })),
];
