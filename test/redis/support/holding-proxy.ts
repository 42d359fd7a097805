// A TCP proxy in front of Redis that can hold back what Redis sends on subscriber connections (those
// on which the client sent SUBSCRIBE): published events then reach the client late, while its
// commands are answered at once. It plays a lagging pub/sub connection, to see what an instance
// does with only the answers of its own calls.
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  subscriber: boolean;
  held: Buffer[] | undefined;
}

export class HoldingProxy {
  readonly #target: number;
  readonly #links = new Set<Link>();
  #server: Server | undefined;
  #holding = false;
  port = 0;

  constructor(target: number) {
    this.#target = target;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** How many subscriber connections are open. */
  get subscribers(): number {
    return [...this.#links].filter((link) => link.subscriber).length;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target, '127.0.0.1');
      const link: Link = { client, upstream, subscriber: false, held: undefined };
      this.#links.add(link);
      for (const socket of [client, upstream]) {
        socket.on('error', () => {});
        socket.on('close', () => {
          this.#links.delete(link);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (data: Buffer) => {
        if (!link.subscriber && /subscribe/i.test(data.toString('latin1'))) {
          link.subscriber = true;
          if (this.#holding) link.held = [];
        }
        upstream.write(data);
      });
      upstream.on('data', (data: Buffer) => {
        if (link.held !== undefined) link.held.push(data);
        else client.write(data);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    this.#server = server;
  }

  /** From now on, what Redis sends on subscriber connections waits until {@link release}. */
  hold(): void {
    this.#holding = true;
    for (const link of this.#links) if (link.subscriber) link.held ??= [];
  }

  /** Delivers what was held, in order, and stops holding. */
  release(): void {
    this.#holding = false;
    for (const link of this.#links) {
      const held = link.held;
      link.held = undefined;
      for (const data of held ?? []) link.client.write(data);
    }
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = server && new Promise((resolve) => server.close(resolve));
    for (const link of this.#links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await closed;
  }
}
