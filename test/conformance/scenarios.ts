import assert from 'node:assert/strict';
import type { JwtGuardOptions } from '../../src/index.js';
import { decodePayload, hmacToken, now, SEED_SECRET, STRONG_SECRET, tamper, unsecuredToken } from '../support/tokens.js';
import { LOGIN_USER, type LoginMode } from './harness.js';

/** Named option sets; each adapter starts one server per preset. */
export const PRESETS = {
  /** The seed's "Complete Example": Authorization header, auth path, HS512 with the seed's 39-byte secret. */
  seed: { secret: SEED_SECRET, authPath: '/api/auth/login', header: 'Authorization', algorithm: 'HS512', onWarning: () => {} },
  query: { secret: STRONG_SECRET, query: 'token' },
  cookie: { secret: STRONG_SECRET, cookie: 'jwt' },
  sources: { secret: STRONG_SECRET, header: 'X-Token', cookie: 'jwt', query: 'token' },
  delay: { secret: STRONG_SECRET, delay: '150ms' },
  preflight: { secret: STRONG_SECRET, guardPreflight: true },
} satisfies Record<string, JwtGuardOptions>;

export type PresetName = keyof typeof PRESETS;

export interface ScenarioContext {
  readonly url: string;
  readonly options: JwtGuardOptions;
}

export interface Scenario {
  readonly name: string;
  readonly preset: PresetName;
  run(ctx: ScenarioContext): Promise<void>;
}

const CREDENTIALS = JSON.stringify({ username: 'alice', password: 'wonderland' });

function login(ctx: ScenarioContext, mode: LoginMode | '' = '', credentials = CREDENTIALS, extraQuery = ''): Promise<Response> {
  const query = mode ? `?mode=${mode}${extraQuery}` : '';
  return fetch(`${ctx.url}/api/auth/login${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: credentials });
}

function get(ctx: ScenarioContext, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${ctx.url}${path}`, { headers });
}

async function expectUnauthorized(response: Response, code: string): Promise<void> {
  const body = (await response.json()) as { error: string; message: string };
  assert.equal(response.status, 401);
  assert.equal(body.error, code);
  assert.equal(typeof body.message, 'string');
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (code === 'token_missing') assert.equal(challenge, 'Bearer');
  else assert.match(challenge, /^Bearer error="invalid_token"/);
}

/** Logs in and checks the answer is exactly `{ token }` with a correct Content-Length; returns the token. */
async function expectToken(response: Response, status = 200): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(text)));
  const body = JSON.parse(text) as { token?: unknown };
  assert.deepEqual(Object.keys(body), ['token']);
  assert.equal(typeof body.token, 'string');
  return body.token as string;
}

async function expectMintRefused(response: Response): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 500, text);
  const body = JSON.parse(text) as { error: string; token?: unknown };
  assert.equal(body.error, 'mint_body_invalid');
  assert.equal(body.token, undefined);
  assert.doesNotMatch(text, /welcome alice|\[1,2,3\]|userId/);
}

async function expectMe(response: Response, expected: Record<string, unknown>): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const { user } = JSON.parse(text) as { user: Record<string, unknown> };
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(user[key], value, `payload.${key}`);
}

function mintScenario(mode: LoginMode, status = 200): Scenario {
  return {
    name: `mint: login route answering in "${mode}" mode yields a token that opens /api/me`,
    preset: 'seed',
    async run(ctx) {
      const token = await expectToken(await login(ctx, mode), status);
      const payload = decodePayload(token);
      assert.equal(payload.userId, LOGIN_USER.userId);
      assert.equal(typeof payload.iat, 'number');
      await expectMe(await get(ctx, '/api/me', { authorization: `Bearer ${token}` }), LOGIN_USER);
    },
  };
}

function refusedMintScenario(mode: LoginMode): Scenario {
  return {
    name: `mint: a 2xx "${mode}" body that is not a JSON object yields 500 mint_body_invalid, never a token`,
    preset: 'seed',
    run: async (ctx) => expectMintRefused(await login(ctx, mode)),
  };
}

function rejectedTokenScenario(name: string, code: string, makeToken: () => Promise<string> | string): Scenario {
  return {
    name: `guard: ${name} → 401 ${code}`,
    preset: 'seed',
    async run(ctx) {
      const token = await makeToken();
      await expectUnauthorized(await get(ctx, '/api/me', { authorization: `Bearer ${token}` }), code);
    },
  };
}

const validSeedToken = (claims = {}) => hmacToken({ ...LOGIN_USER, ...claims }, SEED_SECRET, 'HS512');

/** The one table every adapter must pass, unchanged. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'seed flow: login → token (HS512, iat, 1h exp) → /api/me with Bearer → payload',
    preset: 'seed',
    async run(ctx) {
      const token = await expectToken(await login(ctx));
      const [header] = token.split('.');
      assert.deepEqual(JSON.parse(Buffer.from(header ?? '', 'base64url').toString()), { alg: 'HS512', typ: 'JWT' });
      const payload = decodePayload(token);
      assert.equal(payload.userId, 123);
      assert.equal(payload.role, 'admin');
      assert.ok(Math.abs((payload.iat as number) - now()) <= 5);
      assert.equal(payload.exp, (payload.iat as number) + 3600);
      await expectMe(await get(ctx, '/api/me', { authorization: `Bearer ${token}` }), { ...LOGIN_USER, iat: payload.iat });
    },
  },
  {
    name: 'mint: an exp in the login body is kept',
    preset: 'seed',
    async run(ctx) {
      const exp = now() + 600;
      const token = await expectToken(await login(ctx, 'exp', CREDENTIALS, `&exp=${exp}`));
      assert.equal(decodePayload(token).exp, exp);
    },
  },
  {
    name: 'mint: a failed login (401) passes through untouched',
    preset: 'seed',
    async run(ctx) {
      const response = await login(ctx, '', JSON.stringify({ username: 'alice', password: 'nope' }));
      assert.equal(response.status, 401);
      assert.deepEqual(await response.json(), { error: 'invalid_credentials' });
      assert.equal(response.headers.get('www-authenticate'), null);
    },
  },
  {
    name: 'mint: the query string does not change the auth path',
    preset: 'seed',
    run: async (ctx) => void (await expectToken(await login(ctx, 'json', CREDENTIALS, '&x=1'))),
  },
  {
    name: 'guard: /api/auth/login/x is not the auth path and is guarded',
    preset: 'seed',
    run: async (ctx) => expectUnauthorized(await get(ctx, '/api/auth/login/x'), 'token_missing'),
  },
  mintScenario('string'),
  mintScenario('buffer'),
  mintScenario('chunked'),
  mintScenario('stream'),
  mintScenario('created', 201),
  {
    name: 'mint: headers the route set are kept, but no stale Content-Length, ETag or Content-Type leaks',
    preset: 'seed',
    async run(ctx) {
      const response = await login(ctx, 'headers');
      const token = await expectToken(response);
      assert.equal(response.headers.get('x-login'), 'yes');
      assert.equal(response.headers.get('etag'), null);
      assert.ok(token.length > 20);
    },
  },
  refusedMintScenario('text'),
  refusedMintScenario('array'),
  refusedMintScenario('empty'),
  refusedMintScenario('broken'),
  {
    name: 'guard: no token → 401 token_missing with a bare Bearer challenge; the route never runs',
    preset: 'seed',
    run: async (ctx) => expectUnauthorized(await get(ctx, '/api/me'), 'token_missing'),
  },
  {
    name: 'guard: another auth scheme (Basic) carries no JWT → 401 token_missing',
    preset: 'seed',
    run: async (ctx) => expectUnauthorized(await get(ctx, '/api/me', { authorization: 'Basic YWxpY2U6d29uZGVybGFuZA==' }), 'token_missing'),
  },
  {
    name: 'guard: "bearer" in lower case is accepted',
    preset: 'seed',
    run: async (ctx) => expectMe(await get(ctx, '/api/me', { authorization: `bearer ${await validSeedToken()}` }), LOGIN_USER),
  },
  rejectedTokenScenario('malformed token (two segments)', 'token_malformed', () => 'abc.def'),
  rejectedTokenScenario('malformed token (not base64url JSON)', 'token_malformed', () => 'abc.def.ghi'),
  rejectedTokenScenario('tampered payload', 'signature_invalid', async () => tamper(await validSeedToken(), { role: 'root' })),
  rejectedTokenScenario('expired token', 'token_expired', () => validSeedToken({ exp: now() - 60 })),
  rejectedTokenScenario('token not valid yet (nbf in the future)', 'token_not_yet_valid', () => validSeedToken({ nbf: now() + 3600 })),
  rejectedTokenScenario('token signed with another secret', 'signature_invalid', () => hmacToken(LOGIN_USER, STRONG_SECRET, 'HS512')),
  rejectedTokenScenario('alg: none', 'token_malformed', () => unsecuredToken(LOGIN_USER)),
  rejectedTokenScenario('alg: none with a signature segment', 'algorithm_not_allowed', () => `${unsecuredToken(LOGIN_USER)}c2ln`),
  rejectedTokenScenario('wrong algorithm (HS256 where HS512 is configured)', 'algorithm_not_allowed', () => hmacToken(LOGIN_USER, SEED_SECRET, 'HS256')),
  {
    name: 'guard: an error thrown by a route after the guard reaches the app error handler',
    preset: 'seed',
    async run(ctx) {
      const response = await get(ctx, '/api/boom', { authorization: `Bearer ${await validSeedToken()}` });
      assert.equal(response.status, 500);
      assert.deepEqual(await response.json(), { error: 'handled' });
    },
  },
  {
    name: 'guard: CORS preflight passes unguarded by default',
    preset: 'seed',
    async run(ctx) {
      const response = await fetch(`${ctx.url}/api/me`, { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'GET' } });
      await response.arrayBuffer();
      assert.notEqual(response.status, 401);
    },
  },
  {
    name: 'guard: a plain OPTIONS request (not a preflight) is guarded',
    preset: 'seed',
    async run(ctx) {
      const response = await fetch(`${ctx.url}/api/me`, { method: 'OPTIONS' });
      await expectUnauthorized(response, 'token_missing');
    },
  },
  {
    name: 'guard: guardPreflight: true guards preflights too',
    preset: 'preflight',
    async run(ctx) {
      const response = await fetch(`${ctx.url}/api/me`, { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'GET' } });
      await expectUnauthorized(response, 'token_missing');
    },
  },
  {
    name: 'source: query parameter (percent-encoded) is accepted',
    preset: 'query',
    async run(ctx) {
      const token = await hmacToken(LOGIN_USER);
      await expectMe(await get(ctx, `/api/me?token=${encodeURIComponent(token).replace(/\./g, '%2E')}`), LOGIN_USER);
      await expectUnauthorized(await get(ctx, '/api/me?token='), 'token_missing');
      await expectUnauthorized(await get(ctx, '/api/me', { authorization: `Bearer ${token}` }), 'token_missing');
    },
  },
  {
    name: 'source: cookie is accepted',
    preset: 'cookie',
    async run(ctx) {
      const token = await hmacToken(LOGIN_USER);
      await expectMe(await get(ctx, '/api/me', { cookie: `theme=dark; jwt=${token}` }), LOGIN_USER);
      await expectUnauthorized(await get(ctx, '/api/me', { cookie: 'theme=dark' }), 'token_missing');
    },
  },
  {
    name: 'source: with several sources, header wins over cookie, cookie over query; a bare custom header works',
    preset: 'sources',
    async run(ctx) {
      const good = await hmacToken({ ...LOGIN_USER, src: 'good' });
      const bad = 'x.y.z';
      await expectMe(await get(ctx, `/api/me?token=${bad}`, { 'x-token': good, cookie: `jwt=${bad}` }), { src: 'good' });
      await expectMe(await get(ctx, `/api/me?token=${bad}`, { cookie: `jwt=${good}` }), { src: 'good' });
      await expectMe(await get(ctx, `/api/me?token=${good}`), { src: 'good' });
      await expectUnauthorized(await get(ctx, `/api/me?token=${good}`, { 'x-token': bad }), 'token_malformed');
    },
  },
  {
    name: 'delay: every failure kind waits at least the delay; success does not',
    preset: 'delay',
    async run(ctx) {
      const forged = tamper(await hmacToken(LOGIN_USER), { role: 'root' });
      const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer abc' }, { authorization: `Bearer ${forged}` }];
      for (const headers of attempts) {
        const started = performance.now();
        const response = await get(ctx, '/api/me', headers);
        await response.arrayBuffer();
        assert.equal(response.status, 401);
        assert.ok(performance.now() - started >= 145, 'failure answered before the delay');
      }
      await expectMe(await get(ctx, '/api/me', { authorization: `Bearer ${await hmacToken(LOGIN_USER)}` }), LOGIN_USER);
    },
  },
];
