// Differential test of the guard's reading of the request target against the framework's routing
// (issue 9): every adapter's harness app, behind `jwtGuard` with an auth path and a public path,
// gets raw HTTP/1.1 requests without a token whose targets a guard parsing the target itself could
// read as the auth path (mint) or the public path (pass) while the framework routes them to
// another handler: absolute-form targets with `?`/`#` right after the authority, dot segments,
// `;`, `%2F`, case, ... For every request, no guarded handler may answer 2xx, no token may be
// minted, and the server must still answer the next request. A fixed corpus lists every failing
// request at once; a fast-check grammar of targets looks further and shrinks what it finds.
// `OPTIONS` with `Access-Control-Request-Method` but no `Origin` is no CORS preflight and is held
// to the same properties; it has tests of its own so that its failures and those of the target
// parsing never hide each other. Real preflights (with `Origin`) may reach a handler by design,
// but must never be minted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { JwtGuardOptions } from '../../src/index.js';
import { hmacToken, STRONG_SECRET } from '../support/tokens.js';
import { ADAPTERS } from './adapters.js';
import { HANDLER_HEADER, LOGIN_USER, type RunningServer } from './harness.js';
import {
  AUTH_PATH,
  corpusTargets,
  describeViolation,
  METHODS,
  methodArb,
  ORIGINLESS_PREFLIGHT,
  PUBLIC_PATH,
  rawRequestOf,
  targetArb,
  violationOf,
  type MethodVariant,
} from './request-targets/corpus.js';
import { rawRequest, type RawResponse } from './request-targets/raw-http.js';

const OPTIONS = { secret: STRONG_SECRET, authPath: AUTH_PATH, publicPaths: [PUBLIC_PATH] } satisfies JwtGuardOptions;
/** Requests of the corpus in flight at once, per adapter. */
const CONCURRENCY = 8;

const TARGETS = corpusTargets();

function method(label: string): MethodVariant {
  const variant = METHODS.find((m) => m.label === label);
  assert.ok(variant, label);
  return variant;
}
const [GET, POST, DELETE] = [method('GET'), method('POST'), method('DELETE')];

function answered(response: RawResponse | string): RawResponse {
  if (typeof response === 'string') assert.fail(response);
  return response;
}

/**
 * Sends a target without a token with each of `variants`, one after the other, then checks that the
 * server still answers a plain `GET /api/health`; the violations found, described.
 */
async function check(adapter: string, url: string, variants: readonly MethodVariant[], target: string): Promise<string[]> {
  const violations: string[] = [];
  for (const variant of variants) {
    const violation = violationOf(variant, await rawRequest(url, rawRequestOf(variant, target)));
    if (violation !== undefined) violations.push(describeViolation(adapter, variant, target, violation));
  }
  const probe = await rawRequest(url, { method: 'GET', target: PUBLIC_PATH });
  if (typeof probe === 'string' || probe.status !== 200 || probe.headers[HANDLER_HEADER] !== 'health') {
    const sent = variants.map((variant) => variant.label).join(', ');
    violations.push(`${adapter} ${JSON.stringify(target)}: after ${sent}, the server no longer answers GET ${PUBLIC_PATH} normally: ${typeof probe === 'string' ? probe : probe.status}`);
  }
  return violations;
}

for (const adapter of ADAPTERS) {
  describe(`request targets: ${adapter.name}`, () => {
    let server: RunningServer;
    before(async () => {
      server = await adapter.start(OPTIONS);
    });
    after(() => server.close());

    test('control: the oracle sees what it looks for (handlers name themselves, the raw login mints, the guard refuses a tokenless /)', async () => {
      const bearer = { Authorization: `Bearer ${await hmacToken(LOGIN_USER)}` };
      const health = answered(await rawRequest(server.url, { method: 'GET', target: PUBLIC_PATH }));
      assert.equal(health.status, 200, health.body);
      assert.deepEqual(JSON.parse(health.body), { handler: 'health' });
      assert.equal(violationOf(GET, health), undefined);
      for (const [target, handler] of [['/', 'root'], ['/no/such/route', 'catchall']] as const) {
        const tokenless = answered(await rawRequest(server.url, { method: 'DELETE', target }));
        assert.equal(tokenless.status, 401, tokenless.body);
        const withToken = answered(await rawRequest(server.url, { method: 'DELETE', target, headers: bearer }));
        assert.equal(withToken.status, 200, withToken.body);
        assert.equal(withToken.headers[HANDLER_HEADER], handler);
        assert.deepEqual(JSON.parse(withToken.body), { handler });
        assert.match(violationOf(DELETE, withToken) ?? '', new RegExp(`guarded handler answered \\(${handler}\\)`));
      }
      const me = answered(await rawRequest(server.url, { method: 'GET', target: '/api/me', headers: bearer }));
      assert.match(violationOf(GET, me) ?? '', /guarded handler answered \(\/api\/me\)/);
      // A real login over the raw client is minted, and the oracle says so.
      const body = JSON.stringify({ username: 'alice', password: 'wonderland' });
      const login = answered(await rawRequest(server.url, { method: 'POST', target: AUTH_PATH, headers: { 'Content-Type': 'application/json' }, body }));
      assert.equal(login.status, 200, login.body);
      assert.match(violationOf(POST, login) ?? '', /a token was minted/);
      // The auth and public paths, unguarded for every method, have no 2xx handler for the methods they do not route.
      for (const target of [AUTH_PATH, PUBLIC_PATH]) {
        const other = answered(await rawRequest(server.url, { method: 'PUT', target, headers: bearer }));
        assert.equal(other.status, 405, other.body);
        assert.equal(other.headers[HANDLER_HEADER], 'method-not-allowed');
      }
    });

    /** Sends every target of the corpus with each of `variants`; asserts no request violates the properties, listing all that do. */
    async function corpus(variants: readonly MethodVariant[]): Promise<void> {
      const violations: string[] = [];
      let next = 0;
      let done = 0;
      const worker = async (): Promise<void> => {
        while (next < TARGETS.length) {
          const target = TARGETS[next++] as string;
          violations.push(...(await check(adapter.name, server.url, variants, target)));
          done++;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      assert.equal(done, TARGETS.length);
      const requests = TARGETS.length * variants.length;
      assert.deepEqual(violations, [], `${violations.length} of ${requests} requests violate the safety properties on ${adapter.name}:\n${violations.join('\n')}\n`);
    }

    /** Sends generated targets with generated variants; asserts the properties for each (fast-check shrinks a failure to a minimal target). */
    async function property(variants: fc.Arbitrary<MethodVariant>, numRuns: number): Promise<void> {
      await fc.assert(
        fc.asyncProperty(targetArb, variants, async (target, variant) => {
          const violations = await check(adapter.name, server.url, [variant], target);
          assert.deepEqual(violations, [], violations.join('\n'));
        }),
        { numRuns },
      );
    }

    test(`corpus: ${TARGETS.length} targets × ${METHODS.length} methods (${METHODS.map((m) => m.label).join(', ')}) without a token: no guarded handler answers 2xx, no token is minted, the server stays up`, () =>
      corpus(METHODS));

    test(`corpus: ${TARGETS.length} targets as OPTIONS with Access-Control-Request-Method but no Origin (no preflight) keep the same properties`, () => corpus([ORIGINLESS_PREFLIGHT]));

    test('property: generated targets (absolute-form prefix, dot and encoded segments, `;`, `?`/`#` anywhere) × methods keep the same properties', () =>
      property(methodArb, 150));

    test('property: generated targets as OPTIONS with Access-Control-Request-Method but no Origin keep the same properties', () =>
      property(fc.constant(ORIGINLESS_PREFLIGHT), 50));
  });
}
