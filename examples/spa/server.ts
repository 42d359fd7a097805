/**
 * The SPA example: a static page that logs in, asks "who am I", keeps notes, refreshes its access
 * token silently before it expires and logs out, with both tokens in HttpOnly cookies that its
 * script never sees, and CSRF protection refusing what another site sends.
 *
 *   npm run demo:spa                               # Express, access tokens of 30 s
 *   npm run demo:spa -- --framework hono --access-ttl 10 --port 3000
 *
 * Frameworks: express, fastify, koa, hono. See docs/browser.md.
 */
import { parseArgs } from 'node:util';
import { FRAMEWORKS, startApp, type Framework } from './apps.js';
import { startOtherSite } from './other-site.js';

const { values } = parseArgs({
  options: {
    framework: { type: 'string', default: 'express' },
    port: { type: 'string', default: '3000' },
    'access-ttl': { type: 'string', default: '30' },
  },
});

const framework = values.framework as Framework;
const port = Number(values.port);
const accessSeconds = Number(values['access-ttl']);
if (!FRAMEWORKS.includes(framework)) throw new Error(`--framework must be one of ${FRAMEWORKS.join(', ')}; got ${values.framework}`);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number (0: any free one); got ${values.port}`);
if (!Number.isInteger(accessSeconds) || accessSeconds < 2) throw new Error(`--access-ttl must be a whole number of seconds, at least 2; got ${values['access-ttl']}`);

const app = await startApp(framework, { port, accessSeconds, onWarning: (message) => console.log(`(jwtguard warning) ${message}`) });
const other = await startOtherSite(app.url);

console.log(`jwtguard SPA example on ${framework}: ${app.url}/`);
console.log(`  log in as alice / wonderland; access tokens live ${accessSeconds} s and are refreshed silently`);
console.log(`  another site, trying a cross-site form and fetch: ${other.url}/`);
console.log(`  another origin of the same site: ${other.sameSiteUrl}/`);

const stop = (): void => {
  void Promise.all([app.close(), other.close()]).then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
