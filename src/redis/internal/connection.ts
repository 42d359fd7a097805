import { JwtGuardError } from '../../core/errors/jwt-guard-error.js';

/** @internal What a subscriber connection reports to the store. */
export interface SubscriberHandlers {
  /** A message on the channel. */
  message(text: string): void;
  /** Subscribed: first, and again after every reconnection (once resubscribed). */
  live(): void;
  /** The connection was lost; messages may be missed until the next `live`. */
  offline(): void;
}

/**
 * @internal The two things the store needs from a Redis client, whichever library made it: send a
 * command (failing fast when the connection is known to be down, and within `timeout` otherwise),
 * and open a subscriber connection of its own.
 */
export interface Connection {
  send(args: readonly string[]): Promise<unknown>;
  subscribe(channel: string, handlers: SubscriberHandlers): Promise<() => Promise<void>>;
}

type Listener = (...args: never[]) => void;

/** The members of a node-redis client (v5, v6) used here. */
interface NodeRedisClient {
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): NodeRedisClient;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  /** v5+; older clients have `disconnect` only. */
  destroy?(): void;
  disconnect(): Promise<unknown>;
  on(event: string, listener: Listener): unknown;
}

/** The members of an ioredis client (v5, v6) used here. */
interface IoRedisClient {
  readonly status: string;
  readonly isCluster?: boolean;
  call(command: string, ...args: string[]): Promise<unknown>;
  duplicate(): IoRedisClient;
  connect(): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

const noop = (): void => {};

/** @internal The error of every store call that the backend could not answer. */
export function unavailable(cause: unknown): JwtGuardError {
  return new JwtGuardError('session_store_unavailable', 'The session store is unavailable.', { cause });
}

/**
 * Settles like `promise`, or rejects with `session_store_unavailable` after `ms`. The late
 * outcome of `promise` is then dropped (no unhandled rejection); `onTimeout` may cancel it.
 */
function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void = noop): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(unavailable(new Error(`No answer from Redis within ${ms} ms.`)));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * @internal Wraps a node-redis or an ioredis client, told apart by their shape (neither library
 * is imported: both are optional peers). `undefined` for anything else.
 */
export function connectionOf(client: unknown, timeout: number): Connection | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const shape = client as Record<string, unknown>;
  // ioredis first: it also has a `sendCommand`, taking a Command object.
  if (typeof shape.status === 'string' && typeof shape.call === 'function' && typeof shape.duplicate === 'function') {
    return shape.isCluster === true ? undefined : ioRedis(client as IoRedisClient, timeout);
  }
  if (typeof shape.isReady === 'boolean' && typeof shape.sendCommand === 'function' && typeof shape.duplicate === 'function') {
    return nodeRedis(client as NodeRedisClient, timeout);
  }
  return undefined;
}

/**
 * node-redis queues commands while it reconnects (its offline queue) and sends them once back:
 * a call made during an outage would wait, and could run long after its caller gave up. So a
 * client that is not ready fails at once; a ready one gets `timeout` for the answer.
 * It resubscribes by itself after a reconnection and emits `ready` only once that is done.
 */
function nodeRedis(client: NodeRedisClient, timeout: number): Connection {
  return {
    send(args) {
      if (!client.isReady) return Promise.reject(unavailable(new Error('The Redis client is not connected.')));
      return withTimeout(client.sendCommand([...args]), timeout);
    },
    async subscribe(channel, handlers) {
      const subscriber = client.duplicate();
      const destroy = (): void => {
        try {
          if (typeof subscriber.destroy === 'function') subscriber.destroy();
          else subscriber.disconnect().catch(noop);
        } catch {
          // already closed
        }
      };
      const state = { started: false, closed: false, online: false };
      const offline = (): void => {
        if (state.started && state.online && !state.closed) {
          state.online = false;
          handlers.offline();
        }
      };
      // Without an 'error' listener, node-redis would crash the process at the first outage. A
      // dropped connection is reported by 'reconnecting' (or 'end' when it gives up).
      subscriber.on('error', noop);
      subscriber.on('reconnecting', offline);
      subscriber.on('end', offline);
      subscriber.on('ready', () => {
        if (state.started && !state.closed && !state.online) {
          state.online = true;
          handlers.live();
        }
      });
      try {
        await withTimeout(subscriber.connect(), timeout, destroy);
        await withTimeout(
          subscriber.subscribe(channel, (message) => {
            if (!state.closed) handlers.message(message);
          }),
          timeout,
          destroy,
        );
      } catch (error) {
        state.closed = true;
        destroy();
        throw error instanceof JwtGuardError ? error : unavailable(error);
      }
      state.started = state.online = true;
      handlers.live();
      return async () => {
        state.closed = true;
        destroy();
      };
    },
  };
}

/**
 * ioredis also queues commands while disconnected (`enableOfflineQueue`, on by default), so here
 * too a call fails at once while the client is known to be down (`reconnecting`, `close`,
 * `end`). While it is still connecting (`wait`, `connecting`, `connect`: typically just after
 * creation) the call waits for `ready` without being queued, all within `timeout`.
 */
function ioRedis(client: IoRedisClient, timeout: number): Connection {
  return {
    send(args) {
      const [command, ...rest] = args as [string, ...string[]];
      if (client.status === 'ready') return withTimeout(client.call(command, ...rest), timeout);
      const started = Date.now();
      return whenReady(client, timeout).then(() => withTimeout(client.call(command, ...rest), Math.max(1, timeout - (Date.now() - started))));
    },
    async subscribe(channel, handlers) {
      const subscriber = client.duplicate();
      const state = { started: false, closed: false, online: false };
      subscriber.on('error', noop); // reported through 'close'; ioredis would log it otherwise
      subscriber.on('close', () => {
        if (state.started && state.online && !state.closed) {
          state.online = false;
          handlers.offline();
        }
      });
      subscriber.on('message', (from: string, message: string) => {
        if (from === channel && !state.closed) handlers.message(message);
      });
      // ioredis emits 'ready' just before it resubscribes by itself; subscribing again (harmless)
      // tells when the subscription is back.
      subscriber.on('ready', () => {
        if (!state.started || state.closed) return;
        subscriber.subscribe(channel).then(() => {
          if (!state.closed && !state.online) {
            state.online = true;
            handlers.live();
          }
        }, noop);
      });
      try {
        const started = Date.now();
        await whenReady(subscriber, timeout);
        await withTimeout(subscriber.subscribe(channel), Math.max(1, timeout - (Date.now() - started)));
      } catch (error) {
        state.closed = true;
        subscriber.disconnect();
        throw error instanceof JwtGuardError ? error : unavailable(error);
      }
      state.started = state.online = true;
      handlers.live();
      return async () => {
        state.closed = true;
        subscriber.disconnect();
      };
    },
  };
}

/** Resolves when an ioredis client is ready, at once when it is known to be down, within `timeout`. */
function whenReady(client: IoRedisClient, timeout: number): Promise<void> {
  const status = client.status;
  if (status === 'ready') return Promise.resolve();
  if (status === 'reconnecting' || status === 'close' || status === 'end') {
    return Promise.reject(unavailable(new Error(`The Redis client is not connected (${status}).`)));
  }
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('close', done);
      client.off('end', done);
      if (client.status === 'ready') resolve();
      else reject(unavailable(new Error(`The Redis client is not connected (${client.status}).`)));
    };
    const timer = setTimeout(done, timeout);
    client.once('ready', done);
    // A connection attempt that fails closes: fail now rather than at the timeout, as the
    // 'reconnecting' status above does between attempts.
    client.once('close', done);
    client.once('end', done);
    if (status === 'wait') client.connect().catch(noop); // lazyConnect: nothing connects until asked
  });
}
