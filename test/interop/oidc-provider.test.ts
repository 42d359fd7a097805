// Interop with a real authorization server nobody here wrote: panva's oidc-provider on 127.0.0.1
// issues RFC 9068 JWT access tokens (client credentials + resource indicators), each resource
// server's tokens signed with RS256, PS256, ES256 or EdDSA; jwtguard finds the keys only through
// discovery (`issuerBaseURL`), on every adapter, over real HTTP. Then: rotation at the provider (a
// key added, keys removed and moved to a new jwks_uri, across provider restarts), the provider
// down (503 key_source_unavailable, and recovery), and tokens from another issuer (refused).
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JWK } from 'jose';
import type { JwtGuardOptions } from '../../src/index.js';
import { ADAPTERS } from '../conformance/adapters.js';
import type { AdapterHarness, RunningServer } from '../conformance/harness.js';
import { ALL_RESOURCES, CLIENT_ID, INTEROP_ALGORITHMS, TestProvider, keysOfEveryAlgorithm, providerKey, resourceFor } from './support/provider.js';

/** Unhandled rejections anywhere in this file fail it (checked when the file ends). */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
after(async () => {
  await sleep(20);
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'unhandled rejections');
});

const EXPRESS_AND_FASTIFY = ADAPTERS.filter((h) => h.name === 'express' || h.name === 'fastify');
assert.equal(EXPRESS_AND_FASTIFY.length, 2);

/** The guard options of an API that accepts the provider's access tokens for any of the four resource servers. */
function apiOptions(provider: TestProvider, extra: JwtGuardOptions = {}): JwtGuardOptions {
  return { issuerBaseURL: provider.issuer, audience: [...ALL_RESOURCES], profile: 'at+jwt', onWarning: () => undefined, ...extra };
}

interface Answer {
  readonly status: number;
  readonly body: { user?: Record<string, unknown>; error?: string };
}

async function getMe(server: RunningServer, token?: string): Promise<Answer> {
  const response = await fetch(`${server.url}/api/me`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

async function start(t: TestContext, harness: AdapterHarness, options: JwtGuardOptions): Promise<RunningServer> {
  const server = await harness.start(options);
  t.after(() => server.close());
  return server;
}

async function expectOk(server: RunningServer, token: string, message: string): Promise<Record<string, unknown>> {
  const answer = await getMe(server, token);
  assert.equal(answer.status, 200, `${message}: ${JSON.stringify(answer.body)}`);
  return answer.body.user ?? {};
}

async function expectRefused(server: RunningServer, token: string | undefined, status: number, error: string, message: string): Promise<void> {
  const answer = await getMe(server, token);
  assert.deepEqual({ status: answer.status, error: answer.body.error }, { status, error }, message);
}

/** The token with one signature character changed (still canonical base64url). */
const forge = (token: string): string => {
  const i = token.length - 10;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
};

describe('oidc-provider access tokens verified through discovery, on every adapter', () => {
  let provider: TestProvider;
  before(async () => {
    provider = await TestProvider.start({ keys: await keysOfEveryAlgorithm('2026-01') });
  });
  after(() => provider.stop());

  for (const harness of ADAPTERS) {
    test(`${harness.name}: RS256, PS256, ES256 and EdDSA tokens (a new one per request) → 200; forged, missing, wrong audience → 401`, async (t) => {
      const messages: string[] = [];
      const server = await start(t, harness, apiOptions(provider, { onWarning: (m) => messages.push(m) }));
      for (const alg of INTEROP_ALGORITHMS) {
        for (let i = 0; i < 3; i++) {
          const user = await expectOk(server, await provider.token(resourceFor(alg)), `${alg} #${i + 1}`);
          assert.equal(user.iss, provider.issuer);
          assert.equal(user.sub, CLIENT_ID);
          assert.equal(user.client_id, CLIENT_ID);
          assert.equal(user.aud, resourceFor(alg));
          assert.equal(user.scope, 'orders:read');
        }
        await expectRefused(server, forge(await provider.token(resourceFor(alg))), 401, 'signature_invalid', `${alg} forged`);
      }
      await expectRefused(server, undefined, 401, 'token_missing', 'no token');
      // The algorithms came from the provider's metadata (no `algorithms` option); it lists Ed25519 too, which jwtguard does not name.
      assert.deepEqual(messages.filter((m) => m.includes('`algorithms` is not set')).length, 1);
      assert.match(messages[0] ?? '', /accepted with RS256, PS256, ES256, EdDSA, from its discovery document/);
    });
  }

  test('an API that accepts only one resource server refuses the others’ tokens (aud)', async (t) => {
    const server = await start(t, ADAPTERS[0] as AdapterHarness, apiOptions(provider, { audience: resourceFor('ES256') }));
    await expectOk(server, await provider.token(resourceFor('ES256')), 'its own');
    await expectRefused(server, await provider.token(resourceFor('RS256')), 401, 'claim_invalid', 'another API’s token');
  });

  test('an explicit `algorithms` pins the allowlist: EdDSA tokens are refused when only ES256 is listed', async (t) => {
    const server = await start(t, ADAPTERS[0] as AdapterHarness, apiOptions(provider, { algorithms: ['ES256'] }));
    await expectOk(server, await provider.token(resourceFor('ES256')), 'ES256');
    await expectRefused(server, await provider.token(resourceFor('EdDSA')), 401, 'algorithm_not_allowed', 'EdDSA');
  });
});

describe('tokens from another issuer are refused', () => {
  let provider: TestProvider;
  let keys: JWK[];
  before(async () => {
    keys = await keysOfEveryAlgorithm('main');
    provider = await TestProvider.start({ keys });
  });
  after(() => provider.stop());

  for (const harness of EXPRESS_AND_FASTIFY) {
    test(`${harness.name}: another provider with its own keys → 401 key_not_found; one sharing the same keys → 401 claim_invalid (iss)`, async (t) => {
      const other = await TestProvider.start({ keys: await keysOfEveryAlgorithm('other') });
      t.after(() => other.stop());
      const sibling = await TestProvider.start({ keys }); // e.g. a staging tenant that reused production's signing keys
      t.after(() => sibling.stop());
      const server = await start(t, harness, apiOptions(provider, { jwksOptions: { cooldownDuration: 0 } }));
      for (const alg of INTEROP_ALGORITHMS) {
        await expectOk(server, await provider.token(resourceFor(alg)), `${alg} from the configured issuer`);
        await expectRefused(server, await other.token(resourceFor(alg)), 401, 'key_not_found', `${alg} from another issuer`);
        await expectRefused(server, await sibling.token(resourceFor(alg)), 401, 'claim_invalid', `${alg} from an issuer sharing the keys`);
      }
      assert.equal(other.count('/jwks') + other.count('/.well-known/openid-configuration'), 0, 'the token’s own issuer is never contacted');
    });
  }
});

describe('key rotation at the provider', () => {
  for (const harness of EXPRESS_AND_FASTIFY) {
    test(`${harness.name}: a key added, then the old keys removed and the set moved to a new jwks_uri, across provider restarts`, async (t) => {
      const [rsOld, esOld, rsNew, rsNewer] = await Promise.all([providerKey('RS256', 'rs-old'), providerKey('ES256', 'es-old'), providerKey('RS256', 'rs-new'), providerKey('RS256', 'rs-newer')]);
      const provider = await TestProvider.start({ keys: [rsOld, esOld] });
      t.after(() => provider.stop());
      // cooldownDuration 0: an unknown kid re-reads the metadata and the key set at once (default: at most every 30 s).
      const server = await start(t, harness, apiOptions(provider, { jwksOptions: { cooldownDuration: 0 } }));
      const rs = resourceFor('RS256');

      const tokenOld = await provider.token(rs);
      await expectOk(server, tokenOld, 'before rotation');
      assert.deepEqual([provider.count('/.well-known/openid-configuration'), provider.count('/jwks')], [1, 1]);

      // 1. The provider restarts with a new signing key; the old one is still published.
      await provider.restart({ keys: [rsNew, rsOld, esOld], signingKid: { RS256: 'rs-new' } });
      const tokenNew = await provider.token(rs);
      for (let i = 0; i < 3; i++) await expectOk(server, tokenNew, `new key, request ${i + 1}`); // learned by the fast path from the second on
      await expectOk(server, tokenOld, 'old key, still published');
      await expectOk(server, await provider.token(resourceFor('ES256')), 'ES256, untouched');
      assert.deepEqual([provider.count('/.well-known/openid-configuration'), provider.count('/jwks')], [2, 2], 'the unknown kid re-read the metadata with the key set');

      // 2. It restarts again: only a newer key, published at a new jwks_uri (the old URL is gone).
      await provider.restart({ keys: [rsNewer], jwksPath: '/jwks-2026-02' });
      await expectOk(server, await provider.token(rs), 'newest key, found through the moved jwks_uri');
      assert.equal(provider.count('/jwks-2026-02'), 1);
      await expectRefused(server, tokenNew, 401, 'key_not_found', 'a removed key (learned by the fast path before) no longer verifies');
      await expectRefused(server, tokenOld, 401, 'key_not_found', 'the oldest key no longer verifies');
    });
  }
});

describe('the provider down → 503 key_source_unavailable', () => {
  for (const harness of ADAPTERS) {
    test(`${harness.name}: down before the first request → 503 (no unhandled rejection); back → 200`, async (t) => {
      const provider = await TestProvider.start({ keys: await keysOfEveryAlgorithm('down') });
      t.after(() => provider.stop());
      const token = await provider.token(resourceFor('ES256'));
      await provider.stop();
      // cooldownDuration 0: no pause before retrying a failed discovery (default: one second).
      const server = await start(t, harness, apiOptions(provider, { jwksOptions: { cooldownDuration: 0 } }));
      for (let i = 0; i < 3; i++) await expectRefused(server, token, 503, 'key_source_unavailable', `down, request ${i + 1}`);
      await provider.restart({ keys: await keysOfEveryAlgorithm('down-2') });
      await expectOk(server, await provider.token(resourceFor('ES256')), 'back');
    });
  }

  for (const harness of EXPRESS_AND_FASTIFY) {
    test(`${harness.name}: fresh metadata and keys hide an outage; once they must be re-read (cacheMaxAge), 503 until the provider is back`, async (t) => {
      const keys = await keysOfEveryAlgorithm('blip');
      const provider = await TestProvider.start({ keys });
      t.after(() => provider.stop());
      const cached = await start(t, harness, apiOptions(provider));
      const rereading = await start(t, harness, apiOptions(provider, { jwksOptions: { cacheMaxAge: 0, cooldownDuration: 0 } }));
      const tokens = await Promise.all(INTEROP_ALGORITHMS.map((alg) => provider.token(resourceFor(alg))));
      for (const token of tokens) {
        await expectOk(cached, token, 'before');
        await expectOk(rereading, token, 'before');
      }
      await provider.stop();
      for (const token of tokens) {
        await expectOk(cached, token, 'during the outage, from the cached metadata and keys');
        await expectRefused(rereading, token, 503, 'key_source_unavailable', 'during the outage, metadata too old');
      }
      await provider.restart({ keys });
      for (const token of tokens) await expectOk(rereading, token, 'after the outage');
    });
  }
});
