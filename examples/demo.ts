/**
 * The seed's "Complete Example", end to end: a login route and /api/me behind the guard with
 * authPath '/api/auth/login' and HS512; then the same login with sessions (refresh tokens with
 * rotation and reuse detection, logout). Runs offline: the servers listen on free local ports.
 *
 *   npm install && npm run demo
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { jwtGuard } from 'jwtguard/express';

const SECRET = 'MySuperSecretKeyThatIsVeryLongAndSecure'; // the seed's example secret (39 bytes: jwtguard warns)

const app = express();
app.use(
  jwtGuard({
    secret: SECRET,
    authPath: '/api/auth/login',
    header: 'Authorization',
    algorithm: 'HS512',
    onWarning: (message) => console.log(`  (warning) ${message}`),
  }),
);

// The app's own login route: it knows nothing about JWTs, it answers the user as JSON.
app.post('/api/auth/login', express.json(), (req, res) => {
  const { username, password } = req.body ?? {};
  if (username !== 'alice' || password !== 'wonderland') return void res.status(401).json({ error: 'invalid_credentials' });
  res.json({ userId: 123, role: 'admin' });
});
app.get('/api/me', (req, res) => void res.json({ user: req.auth }));

const server = app.listen(0, '127.0.0.1', async () => {
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const show = async (label: string, response: Response) => {
    const challenge = response.headers.get('www-authenticate');
    console.log(`${label}\n  → ${response.status} ${await response.text()}${challenge ? `\n    WWW-Authenticate: ${challenge}` : ''}\n`);
  };
  try {
    console.log(`jwtguard demo on ${base}\n`);
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
    });
    const { token } = (await login.json()) as { token: string };
    console.log(`1. POST /api/auth/login (alice / wonderland)\n  → ${login.status} {"token": "${token}"}`);
    const [header, payload] = token.split('.') as [string, string];
    console.log(`  header:  ${Buffer.from(header, 'base64url').toString()}`);
    console.log(`  payload: ${Buffer.from(payload, 'base64url').toString()}\n`);

    await show('2. GET /api/me with Authorization: Bearer <token>', await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } }));

    const tampered = `${header}.${Buffer.from(JSON.stringify({ userId: 1, role: 'admin', exp: 9999999999 })).toString('base64url')}.${token.split('.')[2]}`;
    await show('3. GET /api/me with a tampered token (payload changed, signature kept)', await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${tampered}` } }));
    await show('4. GET /api/me without a token', await fetch(`${base}/api/me`));
    await show(
      '5. POST /api/auth/login with a wrong password (passes through untouched)',
      await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: 'guess' }) }),
    );
    await sessionsDemo();
  } finally {
    server.close();
  }
});

/** The same login route with sessions: refresh tokens rotate, a reused one ends the session. */
async function sessionsDemo(): Promise<void> {
  const sessions = express();
  const guard = jwtGuard({
    secret: 'a-64-byte-demo-secret-0123456789abcdef0123456789abcdef0123456789',
    authPath: '/api/auth/login',
    expiresIn: '15m',
    refresh: { path: '/api/auth/refresh', reuseInterval: 0 }, // no grace, to show reuse detection at once
    logoutPath: '/api/auth/logout',
  });
  sessions.use(guard);
  sessions.post('/api/auth/login', (_req, res) => void res.json({ userId: 123, role: 'admin' }));
  sessions.get('/api/me', (req, res) => void res.json({ user: req.auth }));
  const server = sessions.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, body?: unknown, token?: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body ?? {}) });
  const short = (text: string) => text.replace(/"(eyJ[^"]{20})[^"]*"/g, '"$1…"').replace(/"refreshToken":"([^"]{8})[^"]*"/g, '"refreshToken":"$1…"');
  const show = async (label: string, response: Response) => console.log(`${label}\n  → ${response.status} ${short(await response.text())}\n`);
  try {
    console.log('--- with sessions: refresh: { path: "/api/auth/refresh" }, logoutPath: "/api/auth/logout" ---\n');
    const login = await post('/api/auth/login');
    const first = (await login.clone().json()) as { token: string; refreshToken: string };
    await show('6. POST /api/auth/login', login);
    const refreshed = await post('/api/auth/refresh', { refreshToken: first.refreshToken });
    const second = (await refreshed.clone().json()) as { token: string; refreshToken: string };
    await show('7. POST /api/auth/refresh with the refresh token: a new pair, the old refresh token is used up', refreshed);
    await show('8. POST /api/auth/refresh with the OLD refresh token again: reuse, the whole session ends', await post('/api/auth/refresh', { refreshToken: first.refreshToken }));
    await show('9. GET /api/me with the newest access token of that session', await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${second.token}` } }));
    const other = (await (await post('/api/auth/login')).json()) as { token: string };
    await show('10. POST /api/auth/logout with a fresh login\'s access token', await post('/api/auth/logout', {}, other.token));
    await show('11. GET /api/me with that token after logout', await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${other.token}` } }));
  } finally {
    await guard.close();
    server.close();
  }
}
