// A scriptable authorization server on 127.0.0.1 (node:http) for the discovery unit tests: its
// OpenID and RFC 8414 metadata documents and its JWKS each answer as the test says, so every failure
// mode can be produced exactly. (The interop tests use a real provider: test/interop.)
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { JwtGuardError, type JwtGuardErrorCode } from '../../../../src/index.js';

/** How one endpoint answers. */
export type Mode = 'ok' | 'notFound' | 'status500' | 'redirect' | 'html' | 'array' | 'huge' | 'hang' | 'hangBody';

export type Algorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

export interface SigningKey {
  readonly alg: Algorithm;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** The published JWK (with `alg` unless made without). */
  readonly jwk: JWK;
}

export async function signingKey(alg: Algorithm, kid: string, { withAlg = true }: { withAlg?: boolean } = {}): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', ...(withAlg && { alg }) };
  return { alg, kid, privateKey, jwk };
}

export class FakeIssuer {
  openid: Mode = 'ok';
  oauth: Mode = 'notFound';
  jwksMode: Mode = 'ok';
  keys: JWK[];
  /** Members merged into (or, when `undefined`, removed from) the metadata document. */
  overrides: Record<string, unknown> = {};
  jwksPath = '/keys';
  /** Paths of every request, in order. */
  readonly requests: string[] = [];
  readonly #server: Server;
  readonly #path: string;
  #port = 0;

  /** `path`: the issuer's path component, e.g. `/tenant-a` (empty for an issuer at the origin); `slash`: the issuer ends with "/". */
  private constructor(keys: JWK[], path: string, readonly slash: boolean) {
    this.keys = keys;
    this.#path = path;
    this.#server = createServer((req, res) => {
      const url = req.url ?? '';
      this.requests.push(url);
      let mode: Mode;
      let body: unknown;
      if (url === `${path}/.well-known/openid-configuration`) [mode, body] = [this.openid, this.metadata()];
      else if (url === `/.well-known/oauth-authorization-server${path}`) [mode, body] = [this.oauth, this.metadata()];
      else if (url === this.jwksPath) [mode, body] = [this.jwksMode, { keys: this.keys }];
      else [mode, body] = ['notFound', undefined];
      switch (mode) {
        case 'ok':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
          return;
        case 'notFound':
          res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
          return;
        case 'status500':
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(body));
          return;
        case 'redirect':
          res.writeHead(302, { location: `${this.origin}/elsewhere` }).end();
          return;
        case 'html':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
          return;
        case 'array':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([body]));
          return;
        case 'huge': {
          // No Content-Length: a valid document, after 4 MiB of JSON whitespace, that only turns out too large while it is read.
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          let sent = 0;
          const pump = (): void => {
            while (sent < 4 * 1024 * 1024) {
              sent += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            res.end(JSON.stringify(body));
          };
          res.on('error', () => undefined);
          pump();
          return;
        }
        case 'hang':
          return;
        case 'hangBody':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"issuer": ');
          return;
      }
    });
  }

  static async start(keys: JWK[], { path = '', slash = false }: { path?: string; slash?: boolean } = {}): Promise<FakeIssuer> {
    const issuer = new FakeIssuer(keys, path, slash);
    await issuer.listen();
    return issuer;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The issuer identifier: what `issuerBaseURL` must be and what the metadata names. */
  get issuer(): string {
    return `${this.origin}${this.#path}${this.slash ? '/' : ''}`;
  }

  metadata(): Record<string, unknown> {
    const document: Record<string, unknown> = {
      issuer: this.issuer,
      jwks_uri: `${this.origin}${this.jwksPath}`,
      token_endpoint: `${this.origin}/token`,
      ...this.overrides,
    };
    for (const [name, value] of Object.entries(this.overrides)) if (value === undefined) delete document[name];
    return document;
  }

  count(path: string): number {
    return this.requests.filter((p) => p === path).length;
  }

  get openidPath(): string {
    return `${this.#path}/.well-known/openid-configuration`;
  }

  get oauthPath(): string {
    return `/.well-known/oauth-authorization-server${this.#path}`;
  }

  /** A token signed with `key`, issued by this issuer (unless the payload says otherwise), valid for 5 minutes. */
  token(key: SigningKey, payload: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT({ sub: 'user-1', iss: this.issuer, ...payload })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#port = (this.#server.address() as AddressInfo).port;
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/** Fails the test if any promise rejection goes unhandled while it runs. */
export function noUnhandledRejections(t: TestContext): void {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  t.after(async () => {
    await sleep(20); // let stray promise chains settle
    process.off('unhandledRejection', listener);
    assert.deepEqual(seen, [], 'unhandled rejections');
  });
}

/** Asserts a JwtGuardError of exactly `code`; returns it. */
export async function rejectsWith(promise: Promise<unknown>, code: JwtGuardErrorCode): Promise<JwtGuardError> {
  let caught: unknown;
  await promise.then(
    (value) => assert.fail(`resolved with ${JSON.stringify(value)}, but ${code} was expected`),
    (error: unknown) => (caught = error),
  );
  assert.ok(caught instanceof JwtGuardError, `rejected with a non-JwtGuardError: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Collects `onWarning` messages. */
export function warnings(): { readonly messages: string[]; readonly onWarning: (message: string) => void } {
  const messages: string[] = [];
  return { messages, onWarning: (message) => messages.push(message) };
}
