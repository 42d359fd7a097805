import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { JwtGuardOptions, JwtGuardPayload } from '../../src/index.js';
import type { SessionManager } from '../../src/core/sessions/session-manager.js';
import { decodePayload, hmacToken, now, SEED_SECRET, STRONG_SECRET, tamper, unsecuredToken } from '../support/tokens.js';
import { LOGIN_USER, type HarnessSetup, type LoginMode } from './harness.js';
import { AUTHZ_PREFIX, AUTHZ_PUBLIC_ROUTE } from './authz-routes.js';
import { authzScenarios } from './authz-scenarios.js';
import { browserScenarios, TRUSTED_ORIGIN } from './browser-scenarios.js';

/** `sub` values the revocation hooks below single out. */
const REVOKED_SUB = 'revoked-user';
/** The hook fails (throws, or rejects in the async variant) for this subject: the store is down. */
const STORE_DOWN_SUB = 'store-down';
/** The hook answers neither `true` nor `false` for this subject. */
const UNDECIDED_SUB = 'undecided';
/** `jti`s revoked while the test runs, to prove a revocation takes effect on a cached token at once. */
const revokedJtis = new Set<unknown>();
/** How many times the revocation hooks saw each token: proves they run on every request, cache hits included. */
const revocationCalls = new Map<string, number>();

function revocationVerdict(payload: JwtGuardPayload, token: string): boolean {
  revocationCalls.set(token, (revocationCalls.get(token) ?? 0) + 1);
  if (payload.sub === STORE_DOWN_SUB) throw new Error('revocation store down at db.internal:5432');
  if (payload.sub === UNDECIDED_SUB) return undefined as unknown as boolean;
  return payload.sub === REVOKED_SUB || revokedJtis.has(payload.jti);
}

async function asyncRevocationVerdict(payload: JwtGuardPayload, token: string): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return revocationVerdict(payload, token); // a throw here becomes a rejection
}

/** Named option sets; each adapter starts one server per preset. */
export const PRESETS = {
  /** The seed's "Complete Example": Authorization header, auth path, HS512 with the seed's 39-byte secret. */
  seed: { secret: SEED_SECRET, authPath: '/api/auth/login', header: 'Authorization', algorithm: 'HS512', onWarning: () => {} },
  query: { secret: STRONG_SECRET, query: 'token' },
  cookie: { secret: STRONG_SECRET, cookie: 'jwt' },
  sources: { secret: STRONG_SECRET, header: 'X-Token', cookie: 'jwt', query: 'token' },
  delay: { secret: STRONG_SECRET, delay: '150ms' },
  preflight: { secret: STRONG_SECRET, guardPreflight: true },
  anonymous: { secret: STRONG_SECRET, credentialsRequired: false },
  /** An exact public path. */
  public: { secret: STRONG_SECRET, publicPaths: ['/api/auth/login/x'] },
  /** A public prefix and a public RegExp. */
  publicPatterns: { secret: STRONG_SECRET, publicPaths: ['/api/auth/login/*', /^\/api\/bo+m$/] },
  /** A public predicate that looks at the method too. */
  publicPredicate: { secret: STRONG_SECRET, publicPaths: ({ method, path }) => method === 'GET' && path === '/api/auth/login/x' },
  revocation: { secret: STRONG_SECRET, isRevoked: revocationVerdict },
  revocationAsync: { secret: STRONG_SECRET, isRevoked: asyncRevocationVerdict },
  /** Failures decided synchronously (no delay, sync hook): the adapters' direct path. */
  forward: { secret: STRONG_SECRET, forwardErrors: true, isRevoked: revocationVerdict },
  /** With a delay every failure settles asynchronously: the adapters' promise path. */
  forwardDelayed: { secret: STRONG_SECRET, forwardErrors: true, delay: '60ms' },
  /** Sessions: 15-minute access tokens, refresh with a 2 s grace for concurrent refreshes, logout. */
  sessions: { secret: STRONG_SECRET, authPath: '/api/auth/login', expiresIn: '15m', refresh: { path: '/api/auth/refresh', reuseInterval: '2s' }, logoutPath: '/api/auth/logout' },
  /** The same sessions, with a JSON body parser before the guard (see PRESET_SETUP). */
  sessionsParsed: { secret: STRONG_SECRET, authPath: '/api/auth/login', expiresIn: '15m', refresh: { path: '/api/auth/refresh' }, logoutPath: '/api/auth/logout' },
  /** Sessions without the grace: any second use of a refresh token is a reuse. */
  sessionsNoGrace: { secret: STRONG_SECRET, authPath: '/api/auth/login', refresh: { path: '/api/auth/refresh', reuseInterval: 0 }, logoutPath: '/api/auth/logout' },
  /** Minted lifetimes capped at one hour, whatever `exp` the login route answers. */
  capped: { secret: STRONG_SECRET, authPath: '/api/auth/login', maxExpiresIn: '1h' },
  /** Route authorization (authz-routes.ts); one route behind a public path, where the guard verifies nothing. */
  authz: { secret: STRONG_SECRET, publicPaths: [AUTHZ_PREFIX + AUTHZ_PUBLIC_ROUTE] },
  /** Browsers (browser-scenarios.ts): the access token in the default `__Host-jwtguard` cookie; CSRF protection on by default. */
  browser: { secret: STRONG_SECRET, authPath: '/api/auth/login', tokenCookie: true },
  /** Sessions with both tokens in cookies (the refresh cookie scoped to the refresh path). */
  browserSessions: { secret: STRONG_SECRET, authPath: '/api/auth/login', expiresIn: '15m', tokenCookie: true, refresh: { path: '/api/auth/refresh', cookie: true }, logoutPath: '/api/auth/logout' },
  /** Only the refresh token in a cookie: the access token stays in the body (kept in memory by the page). */
  browserRefreshOnly: { secret: STRONG_SECRET, authPath: '/api/auth/login', expiresIn: '15m', refresh: { path: '/api/auth/refresh', cookie: true }, logoutPath: '/api/auth/logout' },
  /** http://localhost development: `secure: false`, a named cookie and SameSite=Strict. */
  browserInsecure: { secret: STRONG_SECRET, authPath: '/api/auth/login', tokenCookie: { name: 'dev-token', sameSite: 'strict', secure: false }, onWarning: () => {} },
  /** CSRF widened: one trusted origin, and same-site requests allowed. */
  browserTrusted: { secret: STRONG_SECRET, authPath: '/api/auth/login', tokenCookie: true, csrf: { trustedOrigins: [TRUSTED_ORIGIN], allowSameSite: true } },
  /** CSRF turned off (warns): cross-site requests go through. */
  browserNoCsrf: { secret: STRONG_SECRET, authPath: '/api/auth/login', tokenCookie: true, csrf: false, onWarning: () => {} },
  /** A refusal forwarded to the app's error handler. */
  browserForward: { secret: STRONG_SECRET, authPath: '/api/auth/login', tokenCookie: true, forwardErrors: true },
} satisfies Record<string, JwtGuardOptions>;

export type PresetName = keyof typeof PRESETS;

/** Presets whose harness app differs beyond the guard's options. */
export const PRESET_SETUP: Partial<Record<PresetName, HarnessSetup>> = {
  sessionsParsed: { bodyParserFirst: true },
};

export interface ScenarioContext {
  readonly url: string;
  readonly options: JwtGuardOptions;
  /** The guard's sessions handle, for presets with `refresh`. */
  readonly sessions?: SessionManager | undefined;
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

function getWith(ctx: ScenarioContext, path: string, token: string): Promise<Response> {
  return get(ctx, path, { authorization: `Bearer ${token}` });
}

/** A fresh HS256 token (STRONG_SECRET) for `sub`, unique per call so it starts outside the verified-token cache. */
function userToken(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return hmacToken({ ...LOGIN_USER, sub, jti: randomUUID(), ...claims });
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

/** A non-401 failure (503 for a failing revocation store): JSON, no challenge, not cacheable, no internals. */
async function expectUnavailable(response: Response, code: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 503, text);
  const body = JSON.parse(text) as { error: string; message: string };
  assert.deepEqual(Object.keys(body), ['error', 'message']);
  assert.equal(body.error, code);
  assert.equal(typeof body.message, 'string');
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.equal(response.headers.get('www-authenticate'), null);
  assert.doesNotMatch(text, /store down|db\.internal/, 'the hook’s own error must not reach the client');
}

/** The answer of the app's own error handler (see harness.ts): exactly `{ error: 'handled', code }`. */
async function expectHandled(response: Response, status: number, code?: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.deepEqual(JSON.parse(text), code === undefined ? { error: 'handled' } : { error: 'handled', code });
}

/** /api/me answered by the route for an anonymous request: 200 and no user at all. */
async function expectAnonymous(response: Response): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.deepEqual(JSON.parse(text), {});
  assert.equal(response.headers.get('www-authenticate'), null);
}

/** The unguarded-looking route `/api/auth/login/x` answered by the route itself. */
async function expectPublicRoute(response: Response): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.deepEqual(JSON.parse(text), { ok: true });
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

/** The same revocation behaviour, with a synchronous and with an async `isRevoked`. */
function revocationScenarios(preset: 'revocation' | 'revocationAsync'): Scenario[] {
  const kind = preset === 'revocation' ? 'sync hook' : 'async hook';
  const failure = preset === 'revocation' ? 'throws' : 'rejects';
  return [
    {
      name: `revocation (${kind}): a revoked token → 401 token_revoked with an invalid_token challenge, again on the cached second request`,
      preset,
      async run(ctx) {
        const token = await userToken(REVOKED_SUB);
        await expectUnauthorized(await getWith(ctx, '/api/me', token), 'token_revoked');
        await expectUnauthorized(await getWith(ctx, '/api/me', token), 'token_revoked');
        assert.equal(revocationCalls.get(token), 2, 'isRevoked runs on every request, cache hits included');
      },
    },
    {
      name: `revocation (${kind}): other users pass, and the hook sees each of their requests`,
      preset,
      async run(ctx) {
        const token = await userToken('alice');
        await expectMe(await getWith(ctx, '/api/me', token), { ...LOGIN_USER, sub: 'alice' });
        await expectMe(await getWith(ctx, '/api/me', token), { ...LOGIN_USER, sub: 'alice' });
        assert.equal(revocationCalls.get(token), 2);
      },
    },
    {
      name: `revocation (${kind}): revoking a token that is already cached refuses its very next request`,
      preset,
      async run(ctx) {
        const token = await userToken('bob');
        await expectMe(await getWith(ctx, '/api/me', token), { sub: 'bob' });
        revokedJtis.add(decodePayload(token).jti);
        await expectUnauthorized(await getWith(ctx, '/api/me', token), 'token_revoked');
      },
    },
    {
      name: `revocation (${kind}): a hook that ${failure} → 503 revocation_unavailable (fail closed, twice), without leaking its error`,
      preset,
      async run(ctx) {
        const token = await userToken(STORE_DOWN_SUB);
        await expectUnavailable(await getWith(ctx, '/api/me', token), 'revocation_unavailable');
        await expectUnavailable(await getWith(ctx, '/api/me', token), 'revocation_unavailable');
      },
    },
    {
      name: `revocation (${kind}): a hook answering neither true nor false → 503 revocation_unavailable`,
      preset,
      run: async (ctx) => expectUnavailable(await getWith(ctx, '/api/me', await userToken(UNDECIDED_SUB)), 'revocation_unavailable'),
    },
    {
      name: `revocation (${kind}): the hook never sees an unverified token: a forged one → 401 signature_invalid, a missing one → token_missing`,
      preset,
      async run(ctx) {
        const forged = tamper(await userToken('alice'), { sub: REVOKED_SUB });
        await expectUnauthorized(await getWith(ctx, '/api/me', forged), 'signature_invalid');
        assert.equal(revocationCalls.get(forged), undefined);
        await expectUnauthorized(await get(ctx, '/api/me'), 'token_missing');
      },
    },
  ];
}


interface Pair {
  readonly token: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

/** A login answer with sessions: exactly `{ token, refreshToken, expiresIn }`, not cacheable. */
async function expectPair(response: Response, status = 200): Promise<Pair> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const body = JSON.parse(text) as Pair;
  assert.deepEqual(Object.keys(body).sort(), ['expiresIn', 'refreshToken', 'token']);
  assert.match(body.refreshToken, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(typeof body.expiresIn, 'number');
  return body;
}

function refreshWith(ctx: ScenarioContext, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  return fetch(`${ctx.url}/api/auth/refresh`, { method: 'POST', headers, body });
}

const refreshOf = (ctx: ScenarioContext, refreshToken: string): Promise<Response> => refreshWith(ctx, JSON.stringify({ refreshToken }));

function logout(ctx: ScenarioContext, token: string): Promise<Response> {
  return fetch(`${ctx.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

/** A failure of the refresh endpoint: the status, the code, JSON, no token in it. */
async function expectRefused(response: Response, status: number, code: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  const body = JSON.parse(text) as { error: string; message: string };
  assert.equal(body.error, code);
  assert.doesNotMatch(text, /"token"|refreshToken"/);
}

function sessionScenarios(): Scenario[] {
  return [
    {
      name: 'sessions: login answers { token, refreshToken, expiresIn }; the access token carries sid and jti and opens /api/me',
      preset: 'sessions',
      async run(ctx) {
        const pair = await expectPair(await login(ctx));
        assert.equal(pair.expiresIn, 900);
        const payload = decodePayload(pair.token);
        assert.match(String(payload.sid), /^[A-Za-z0-9_-]{22,}$/);
        assert.equal(typeof payload.jti, 'string');
        assert.equal(payload.exp, (payload.iat as number) + 900);
        await expectMe(await getWith(ctx, '/api/me', pair.token), { ...LOGIN_USER, sid: payload.sid });
      },
    },
    {
      name: 'sessions: refresh exchanges the refresh token for a new pair (same session), with no access token needed',
      preset: 'sessions',
      async run(ctx) {
        const first = await expectPair(await login(ctx));
        const second = await expectPair(await refreshOf(ctx, first.refreshToken));
        assert.notEqual(second.refreshToken, first.refreshToken);
        assert.notEqual(second.token, first.token);
        assert.equal(decodePayload(second.token).sid, decodePayload(first.token).sid);
        assert.equal(decodePayload(second.token).userId, LOGIN_USER.userId);
        await expectMe(await getWith(ctx, '/api/me', second.token), LOGIN_USER);
        await expectPair(await refreshOf(ctx, second.refreshToken));
      },
    },
    {
      name: 'sessions: two concurrent refreshes with one token (two tabs) both get the same new pair, within reuseInterval',
      preset: 'sessions',
      async run(ctx) {
        const first = await expectPair(await login(ctx));
        const [a, b] = await Promise.all([refreshOf(ctx, first.refreshToken), refreshOf(ctx, first.refreshToken)]);
        const pairA = await expectPair(a);
        const pairB = await expectPair(b);
        assert.deepEqual(pairB, pairA);
        await expectPair(await refreshOf(ctx, pairA.refreshToken));
      },
    },
    {
      name: 'sessions: a grandparent refresh token → 401 refresh_token_reused, and the whole session ends (its refresh and access tokens)',
      preset: 'sessions',
      async run(ctx) {
        const first = await expectPair(await login(ctx));
        const second = await expectPair(await refreshOf(ctx, first.refreshToken));
        const third = await expectPair(await refreshOf(ctx, second.refreshToken));
        await expectRefused(await refreshOf(ctx, first.refreshToken), 401, 'refresh_token_reused');
        await expectRefused(await refreshOf(ctx, third.refreshToken), 401, 'refresh_token_invalid');
        await expectUnauthorized(await getWith(ctx, '/api/me', third.token), 'token_revoked');
        await expectUnauthorized(await getWith(ctx, '/api/me', first.token), 'token_revoked');
      },
    },
    {
      name: 'sessions (no grace): a used refresh token presented again → 401 refresh_token_reused; the session ends',
      preset: 'sessionsNoGrace',
      async run(ctx) {
        const first = await expectPair(await login(ctx));
        const second = await expectPair(await refreshOf(ctx, first.refreshToken));
        await expectMe(await getWith(ctx, '/api/me', second.token), LOGIN_USER);
        await expectRefused(await refreshOf(ctx, first.refreshToken), 401, 'refresh_token_reused');
        await expectRefused(await refreshOf(ctx, second.refreshToken), 401, 'refresh_token_invalid');
        await expectUnauthorized(await getWith(ctx, '/api/me', second.token), 'token_revoked');
      },
    },
    {
      name: 'sessions: logout → 204; then the access token → 401 token_revoked, the refresh token → 401 refresh_token_invalid; a second logout → 204',
      preset: 'sessions',
      async run(ctx) {
        const pair = await expectPair(await login(ctx));
        const other = await expectPair(await login(ctx));
        const response = await logout(ctx, pair.token);
        assert.equal(await response.text(), '');
        assert.equal(response.status, 204);
        await expectUnauthorized(await getWith(ctx, '/api/me', pair.token), 'token_revoked');
        await expectRefused(await refreshOf(ctx, pair.refreshToken), 401, 'refresh_token_invalid');
        const again = await logout(ctx, pair.token);
        await again.arrayBuffer();
        assert.equal(again.status, 204);
        await expectMe(await getWith(ctx, '/api/me', other.token), LOGIN_USER);
      },
    },
    {
      name: 'sessions: logout needs a valid access token (none → 401 token_missing, forged → 401 signature_invalid)',
      preset: 'sessions',
      async run(ctx) {
        const response = await fetch(`${ctx.url}/api/auth/logout`, { method: 'POST' });
        await expectUnauthorized(response, 'token_missing');
        const pair = await expectPair(await login(ctx));
        await expectUnauthorized(await logout(ctx, tamper(pair.token, { role: 'root' })), 'signature_invalid');
        await expectMe(await getWith(ctx, '/api/me', pair.token), LOGIN_USER);
      },
    },
    {
      name: 'sessions: bad refresh requests → 400 invalid_request (not JSON, no field, wrong type, wrong size, empty, too large); an unknown token → 401 refresh_token_invalid',
      preset: 'sessions',
      async run(ctx) {
        for (const body of ['not json', '{}', '[]', '"x"', JSON.stringify({ refreshToken: 42 }), JSON.stringify({ refreshToken: 'a'.repeat(42) }), JSON.stringify({ refreshToken: 'a'.repeat(44) }), JSON.stringify({ refreshToken: `${'a'.repeat(42)}!` }), '', JSON.stringify({ refreshToken: 'a'.repeat(100_000) })]) {
          await expectRefused(await refreshWith(ctx, body), 400, 'invalid_request');
        }
        await expectRefused(await refreshWith(ctx, JSON.stringify({ refreshToken: 'a'.repeat(43) }), { 'content-type': 'text/plain' }), 401, 'refresh_token_invalid');
        await expectRefused(await refreshOf(ctx, 'A'.repeat(43)), 401, 'refresh_token_invalid');
      },
    },
    {
      name: 'sessions: with a JSON body parser before the guard, refresh, bad bodies and logout work the same',
      preset: 'sessionsParsed',
      async run(ctx) {
        const first = await expectPair(await login(ctx));
        const second = await expectPair(await refreshOf(ctx, first.refreshToken));
        await expectRefused(await refreshWith(ctx, JSON.stringify({ refreshToken: 7 })), 400, 'invalid_request');
        // Broken JSON is the app's parser's to answer (Express's sends its own 400 to the error handler).
        const broken = await refreshWith(ctx, '{"refreshToken":');
        assert.equal(broken.status, 400);
        assert.doesNotMatch(await broken.text(), /"token"/);
        const out = await logout(ctx, second.token);
        await out.arrayBuffer();
        assert.equal(out.status, 204);
        await expectUnauthorized(await getWith(ctx, '/api/me', second.token), 'token_revoked');
      },
    },
    {
      name: 'sessions: only POST reaches the refresh endpoint; GET there is guarded like any route',
      preset: 'sessions',
      run: async (ctx) => expectUnauthorized(await get(ctx, '/api/auth/refresh'), 'token_missing'),
    },
    {
      name: 'sessions: revokeSubject (log out everywhere) ends every session of the subject; a token minted afterwards works',
      preset: 'sessions',
      async run(ctx) {
        assert.ok(ctx.sessions, 'the harness exposes the sessions handle');
        const sub = `user-${randomUUID()}`;
        const subject = JSON.stringify({ username: 'alice', password: 'wonderland' });
        // The harness login answers LOGIN_USER (no sub): sign in as `sub` directly through the engine.
        const a = await ctx.sessions.start({ ...LOGIN_USER, sub });
        const b = await ctx.sessions.start({ ...LOGIN_USER, sub });
        const bystander = await expectPair(await login(ctx, '', subject));
        await expectMe(await getWith(ctx, '/api/me', a.token), { sub });
        await ctx.sessions.revokeSubject(sub);
        await expectUnauthorized(await getWith(ctx, '/api/me', a.token), 'token_revoked');
        await expectUnauthorized(await getWith(ctx, '/api/me', b.token), 'token_revoked');
        await expectRefused(await refreshOf(ctx, b.refreshToken), 401, 'refresh_token_invalid');
        await expectMe(await getWith(ctx, '/api/me', bystander.token), LOGIN_USER);
        const after = await ctx.sessions.start({ ...LOGIN_USER, sub });
        await expectMe(await getWith(ctx, '/api/me', after.token), { sub });
      },
    },
  ];
}

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
    name: 'mint: a login route that answers twice → a token for its answer (never the other), and the server stays up',
    preset: 'seed',
    async run(ctx) {
      const token = await expectToken(await login(ctx, 'twice'));
      assert.equal(decodePayload(token).userId, LOGIN_USER.userId);
      await expectMe(await getWith(ctx, '/api/me', token), LOGIN_USER);
      await expectToken(await login(ctx, 'twice'));
    },
  },
  {
    name: 'mint: a 204 answer given a body → 500 mint_body_invalid as JSON, and the server stays up',
    preset: 'seed',
    async run(ctx) {
      await expectMintRefused(await login(ctx, 'nocontent'));
      await expectToken(await login(ctx));
    },
  },
  {
    name: 'mint: only POST mints; GET on the auth path is guarded (401 without a token; with one, the route answers and nothing is minted)',
    preset: 'seed',
    async run(ctx) {
      await expectUnauthorized(await get(ctx, '/api/auth/login'), 'token_missing');
      const response = await get(ctx, '/api/auth/login', { authorization: `Bearer ${await validSeedToken()}` });
      const text = await response.text();
      assert.equal(response.status, 405, text);
      assert.doesNotMatch(text, /"token"/);
    },
  },
  {
    name: 'preflight: OPTIONS with Access-Control-Request-Method but no Origin is not a preflight and is guarded',
    preset: 'seed',
    async run(ctx) {
      for (const path of ['/api/me', '/api/auth/login']) {
        await expectUnauthorized(await fetch(`${ctx.url}${path}`, { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } }), 'token_missing');
      }
    },
  },
  {
    name: 'preflight: a preflight to the login path reaches the CORS handler (204) and is never minted',
    preset: 'seed',
    async run(ctx) {
      const response = await fetch(`${ctx.url}/api/auth/login`, { method: 'OPTIONS', headers: { origin: 'http://app.test', 'access-control-request-method': 'POST' } });
      assert.equal(await response.text(), '');
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
    },
  },
  {
    name: 'mint limits: a login answer over mintBodyLimit (64 KiB), as JSON or as a stream → 500 mint_body_invalid naming the option',
    preset: 'seed',
    async run(ctx) {
      for (const mode of ['big', 'bigstream'] as const) {
        const response = await login(ctx, mode, CREDENTIALS, '&size=1000000');
        const text = await response.text();
        assert.equal(response.status, 500, `${mode}: ${text.slice(0, 200)}`);
        assert.equal(JSON.parse(text).error, 'mint_body_invalid');
        assert.match(JSON.parse(text).message, /mintBodyLimit/);
      }
      for (const mode of ['big', 'bigstream'] as const) await expectToken(await login(ctx, mode, CREDENTIALS, '&size=1000'));
    },
  },
  {
    name: 'mint limits: a login answer whose token would be longer than maxTokenLength → 500 mint_body_invalid, never an unusable token',
    preset: 'seed',
    async run(ctx) {
      const response = await login(ctx, 'big', CREDENTIALS, '&size=10000');
      const text = await response.text();
      assert.equal(response.status, 500, text.slice(0, 200));
      assert.equal(JSON.parse(text).error, 'mint_body_invalid');
      assert.match(JSON.parse(text).message, /maxTokenLength/);
    },
  },
  ...(['gzip', 'deflate', 'br'] as const).map(
    (coding): Scenario => ({
      name: `mint: a ${coding}-encoded login answer (a compression middleware after the guard) is decoded and minted; the token answer is not encoded`,
      preset: 'seed',
      async run(ctx) {
        const response = await login(ctx, 'encoded', CREDENTIALS, `&coding=${coding}`);
        assert.equal(response.headers.get('content-encoding'), null);
        const token = await expectToken(response);
        assert.equal(decodePayload(token).userId, LOGIN_USER.userId);
      },
    }),
  ),
  {
    name: 'maxExpiresIn: an exp the login route sets beyond it is clamped to iat + maxExpiresIn; a nearer one is kept',
    preset: 'capped',
    async run(ctx) {
      const far = decodePayload(await expectToken(await login(ctx, 'exp', CREDENTIALS, `&exp=${now() + 10 * 365 * 86400}`)));
      assert.equal(far.exp, (far.iat as number) + 3600);
      const near = now() + 600;
      assert.equal(decodePayload(await expectToken(await login(ctx, 'exp', CREDENTIALS, `&exp=${near}`))).exp, near);
    },
  },
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
      await expectHandled(response, 500);
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
  {
    name: 'anonymous: credentialsRequired: false lets a request without a token through with no payload',
    preset: 'anonymous',
    run: async (ctx) => expectAnonymous(await get(ctx, '/api/me')),
  },
  {
    name: 'anonymous: another auth scheme (Basic) carries no JWT, so the request is anonymous too',
    preset: 'anonymous',
    run: async (ctx) => expectAnonymous(await get(ctx, '/api/me', { authorization: 'Basic YWxpY2U6d29uZGVybGFuZA==' })),
  },
  {
    name: 'anonymous: a present but invalid token is still refused (malformed, forged, expired), never downgraded to anonymous',
    preset: 'anonymous',
    async run(ctx) {
      await expectUnauthorized(await getWith(ctx, '/api/me', 'abc.def'), 'token_malformed');
      await expectUnauthorized(await getWith(ctx, '/api/me', tamper(await userToken('alice'), { role: 'root' })), 'signature_invalid');
      await expectUnauthorized(await getWith(ctx, '/api/me', await userToken('alice', { exp: now() - 60 })), 'token_expired');
    },
  },
  {
    name: 'anonymous: a valid token still yields its payload',
    preset: 'anonymous',
    run: async (ctx) => expectMe(await getWith(ctx, '/api/me', await userToken('alice')), { ...LOGIN_USER, sub: 'alice' }),
  },
  {
    name: 'publicPaths (exact): the public route answers without a token, with or without a query string; /api/me still needs one',
    preset: 'public',
    async run(ctx) {
      await expectPublicRoute(await get(ctx, '/api/auth/login/x'));
      await expectPublicRoute(await get(ctx, '/api/auth/login/x?a=1&token=x'));
      await expectUnauthorized(await get(ctx, '/api/me'), 'token_missing');
      await expectMe(await getWith(ctx, '/api/me', await userToken('alice')), { sub: 'alice' });
    },
  },
  {
    name: 'publicPaths (exact): a trailing slash or a longer path is not the public path and is guarded',
    preset: 'public',
    async run(ctx) {
      await expectUnauthorized(await get(ctx, '/api/auth/login/x/'), 'token_missing');
      await expectUnauthorized(await get(ctx, '/api/auth/login/xy'), 'token_missing');
    },
  },
  {
    name: 'publicPaths: a public route does not look at the token, so even an invalid one does not refuse it',
    preset: 'public',
    run: async (ctx) => expectPublicRoute(await getWith(ctx, '/api/auth/login/x', 'abc.def')),
  },
  {
    name: 'publicPaths (prefix "/…/*"): paths under the prefix are public, a sibling sharing its letters is not; /api/me still needs a token',
    preset: 'publicPatterns',
    async run(ctx) {
      await expectPublicRoute(await get(ctx, '/api/auth/login/x'));
      await expectUnauthorized(await get(ctx, '/api/auth/loginx'), 'token_missing');
      await expectUnauthorized(await get(ctx, '/api/me'), 'token_missing');
    },
  },
  {
    name: 'publicPaths (RegExp): a matching route runs without a token (/api/boom reaches the error handler)',
    preset: 'publicPatterns',
    async run(ctx) {
      await expectHandled(await get(ctx, '/api/boom'), 500);
      await expectUnauthorized(await get(ctx, '/api/boo'), 'token_missing');
    },
  },
  {
    name: 'publicPaths (predicate): it gets the method and the path without query; what it refuses is guarded',
    preset: 'publicPredicate',
    async run(ctx) {
      await expectPublicRoute(await get(ctx, '/api/auth/login/x'));
      await expectPublicRoute(await get(ctx, '/api/auth/login/x?a=1'));
      const head = await fetch(`${ctx.url}/api/auth/login/x`, { method: 'HEAD' });
      await head.arrayBuffer();
      assert.equal(head.status, 401);
      assert.equal(head.headers.get('www-authenticate'), 'Bearer');
      await expectUnauthorized(await get(ctx, '/api/me'), 'token_missing');
      await expectMe(await getWith(ctx, '/api/me', await userToken('alice')), { sub: 'alice' });
    },
  },
  ...revocationScenarios('revocation'),
  ...revocationScenarios('revocationAsync'),
  {
    name: 'forwardErrors: no token → the app’s error handler answers 401 token_missing',
    preset: 'forward',
    run: async (ctx) => expectHandled(await get(ctx, '/api/me'), 401, 'token_missing'),
  },
  {
    name: 'forwardErrors with a delay: failures reach the error handler only after the delay',
    preset: 'forwardDelayed',
    async run(ctx) {
      for (const [headers, code] of [[{}, 'token_missing'], [{ authorization: 'Bearer abc.def' }, 'token_malformed']] as const) {
        const started = performance.now();
        await expectHandled(await get(ctx, '/api/me', headers), 401, code);
        assert.ok(performance.now() - started >= 55, 'a forwarded failure still waits out the delay');
      }
      await expectMe(await getWith(ctx, '/api/me', await userToken('alice')), { sub: 'alice' });
    },
  },
  {
    name: 'forwardErrors: invalid tokens reach the error handler with their status and code',
    preset: 'forward',
    async run(ctx) {
      await expectHandled(await getWith(ctx, '/api/me', 'abc.def'), 401, 'token_malformed');
      await expectHandled(await getWith(ctx, '/api/me', tamper(await userToken('alice'), { role: 'root' })), 401, 'signature_invalid');
      await expectHandled(await getWith(ctx, '/api/me', await userToken('alice', { exp: now() - 60 })), 401, 'token_expired');
    },
  },
  {
    name: 'forwardErrors: a revoked token → 401 token_revoked and a failing revocation store → 503 revocation_unavailable, both via the error handler',
    preset: 'forward',
    async run(ctx) {
      const revoked = await userToken(REVOKED_SUB);
      await expectHandled(await getWith(ctx, '/api/me', revoked), 401, 'token_revoked');
      await expectHandled(await getWith(ctx, '/api/me', revoked), 401, 'token_revoked');
      await expectHandled(await getWith(ctx, '/api/me', await userToken(STORE_DOWN_SUB)), 503, 'revocation_unavailable');
    },
  },
  {
    name: 'forwardErrors: a valid token reaches the route as usual, and a route error is still a plain 500',
    preset: 'forward',
    async run(ctx) {
      const token = await userToken('alice');
      await expectMe(await getWith(ctx, '/api/me', token), { ...LOGIN_USER, sub: 'alice' });
      await expectHandled(await getWith(ctx, '/api/boom', token), 500);
    },
  },
  ...sessionScenarios(),
  ...authzScenarios(),
  ...browserScenarios(),
];
