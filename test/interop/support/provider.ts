// A real OpenID provider for the interop tests: panva's oidc-provider (a certified implementation
// nobody here wrote), listening on 127.0.0.1, issuing RFC 9068 JWT access tokens through the client
// credentials grant with resource indicators (RFC 8707). Each resource server (audience) chooses
// its signing algorithm and key; the provider's keystore holds RSA, RSA (PS256), P-256 and Ed25519 keys.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors as providerErrors } from 'oidc-provider';

export type InteropAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';
export const INTEROP_ALGORITHMS: readonly InteropAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** The one client: a backend service getting tokens for itself (client credentials). */
export const CLIENT_ID = 'orders-service';
const CLIENT_SECRET = 'orders-service-secret-that-is-long-enough-for-hs256';

/** The resource indicator (and so the `aud`) of the resource server whose tokens are signed with `alg`. */
export const resourceFor = (alg: InteropAlgorithm): string => `https://${alg.toLowerCase()}.api.example.test`;
export const ALL_RESOURCES: readonly string[] = INTEROP_ALGORITHMS.map(resourceFor);

/** A private signing key for the provider's keystore (`jwks.keys`); its public half is what it publishes. */
export async function providerKey(alg: InteropAlgorithm, kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

/** One key of each algorithm, kids `<alg>-<suffix>`. */
export async function keysOfEveryAlgorithm(suffix: string): Promise<JWK[]> {
  return Promise.all(INTEROP_ALGORITHMS.map((alg) => providerKey(alg, `${alg.toLowerCase()}-${suffix}`)));
}

export interface ProviderConfig {
  /** The keystore: private JWKs with `kid` and `alg`. */
  readonly keys: readonly JWK[];
  /** Which key signs the tokens for `alg`'s resource server; default: the keystore's first key with that alg. */
  readonly signingKid?: Partial<Record<InteropAlgorithm, string>>;
  /** Where the JWKS is published (oidc-provider's `routes.jwks`); default `/jwks`. */
  readonly jwksPath?: string;
}

/** oidc-provider behind a node:http server on 127.0.0.1, restartable on the same port (same issuer). */
export class TestProvider {
  /** Paths of every request received, in order (discovery, JWKS, token). */
  readonly requests: string[] = [];
  readonly #server: Server;
  #handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  #port = 0;

  private constructor() {
    this.#server = createServer((req, res) => {
      this.requests.push(req.url ?? '');
      // No keep-alive: a client must never reuse a socket of the provider instance before a restart.
      res.setHeader('connection', 'close');
      if (this.#handler === undefined) res.writeHead(503).end();
      else this.#handler(req, res);
    });
  }

  /** Starts a provider with `config` on a free port. */
  static async start(config: ProviderConfig): Promise<TestProvider> {
    const provider = new TestProvider();
    await provider.#listen();
    provider.#configure(config);
    return provider;
  }

  /** The issuer identifier, as oidc-provider writes it in `iss` and in its metadata. */
  get issuer(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get listening(): boolean {
    return this.#server.listening;
  }

  /** How many requests went to `path` (e.g. '/.well-known/openid-configuration'). */
  count(path: string): number {
    return this.requests.filter((p) => p === path).length;
  }

  /** A fresh access token for `resource` (client credentials grant, RFC 8707 resource indicator). */
  async token(resource: string, scope = 'orders:read'): Promise<string> {
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
    });
    const body = (await response.json()) as { access_token?: string; token_type?: string };
    if (response.status !== 200 || typeof body.access_token !== 'string') throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
    return body.access_token;
  }

  /** Stops listening and drops open connections: the provider is down. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** Listens again on the same port (same issuer) with a new provider instance built from `config`: a restart with new keys. */
  async restart(config: ProviderConfig): Promise<void> {
    await this.stop();
    this.#configure(config);
    await this.#listen();
  }

  #listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#port = (this.#server.address() as AddressInfo).port;
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  #configure(config: ProviderConfig): void {
    const kidFor = (alg: InteropAlgorithm): string | undefined => config.signingKid?.[alg] ?? config.keys.find((key) => key.alg === alg)?.kid;
    const provider = new Provider(this.issuer, {
      jwks: { keys: config.keys.map((key) => ({ ...key })) },
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
        },
      ],
      scopes: ['orders:read'],
      routes: { jwks: config.jwksPath ?? '/jwks' },
      ttl: { ClientCredentials: 300 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx, resourceIndicator) => {
            const alg = INTEROP_ALGORITHMS.find((a) => resourceFor(a) === resourceIndicator);
            if (alg === undefined) throw new providerErrors.InvalidTarget();
            // RFC 9068 JWT access tokens, signed with this resource server's algorithm and key.
            return { scope: 'orders:read', audience: resourceIndicator, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg, kid: kidFor(alg) } } };
          },
        },
      },
    });
    this.#handler = provider.callback();
  }
}
