/**
 * The seed's "Complete Example", end to end: a login route and /api/me behind the guard with
 * authPath '/api/auth/login' and HS512. Runs offline: the server listens on a free local port.
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
  } finally {
    server.close();
  }
});
