/**
 * `npm run bench`: the micro benchmark (HS256, then RS256/PS256/ES256/EdDSA on a new token), then
 * the HTTP benchmark (with the sessions rows and the RS256 rows), then the refresh benchmark, then
 * the memory benchmark, then bench/RESULTS.md.
 *
 * The sessions rows and the refresh benchmark need a Redis: a throwaway redis-server started here
 * (when it is on PATH; no persistence, a temporary directory, killed at the end), else REDIS_URL;
 * without either they are skipped, with the reason printed and written to RESULTS.md.
 *
 * Environment (all optional):
 *   BENCH_ONLY=micro|http|refresh|memory  run one part only (RESULTS.md then holds that part only);
 *                              http is the HTTP table (sessions rows included) and the refresh benchmark
 *   BENCH_SESSIONS=0           no sessions rows and no refresh benchmark (no Redis needed)
 *   BENCH_ASYMMETRIC=0         no asymmetric rows: neither the RS256/PS256/ES256/EdDSA micro rows nor
 *                              the RS256 HTTP rows (Express and Fastify, jwtguard against express-jwt
 *                              and @fastify/jwt, a new token per request)
 *   BENCH_ASYM_PER_ROUND=1500  new tokens per asymmetric micro round (each algorithm's pool is
 *                              1000 warmup tokens + BENCH_ROUNDS x this, signed before timing)
 *   BENCH_ASYM_HTTP_TOKENS=40000  distinct RS256 tokens for the RS256 HTTP rows (~20 s to sign)
 *   REDIS_URL=redis://...      the Redis to use when redis-server is not on PATH
 *   BENCH_MEMORY_TOKENS=1000000   distinct tokens per phase of the memory benchmark
 *   BENCH_DURATION=3           seconds per measured HTTP run
 *   BENCH_WARMUP=1             seconds of unmeasured load before each HTTP run
 *   BENCH_REPEAT=5             HTTP rounds; each runs every variant once, back to back (medians reported)
 *   BENCH_RETRY=1              re-runs of an HTTP run disturbed by other processes (least disturbed kept)
 *   BENCH_CONNECTIONS=50       autocannon connections
 *   BENCH_FRAMEWORKS=express,fastify,koa,hono
 *   BENCH_HTTP_TOKENS=200000   distinct tokens for the HTTP "fresh" mode
 *   BENCH_ROUNDS=7             micro rounds (median reported)
 *   BENCH_ROUND_MS=150         target length of a hot micro round
 *   BENCH_WARMUP_MS=300        micro warmup per benchmark
 *   BENCH_COLD_TOKENS=60000    distinct tokens for the micro "cold" mode
 *   BENCH_NO_WRITE=1           print only, leave RESULTS.md alone
 *   BENCH_OUT=path             write the results there instead of bench/RESULTS.md
 *
 * A failed sanity check aborts the run (and RESULTS.md is not written). Non-2xx responses,
 * errors or timeouts during a run are reported in the tables and make the exit code 1.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DISTURBED_PCT, fmt, log, renderText, settings } from './common.js';
import { ASYMMETRIC_TARGET, FRAMEWORK_LABEL, SESSIONS_TARGET, asymmetricHttpSummary, httpMarkdown, httpTable, runHttp, sessionsSummary, type HttpResult, type SessionsBackend } from './http.js';
import { memoryMarkdown, runMemory, type MemoryRow } from './memory.js';
import { FAST_JWT_TARGET, FLOOR_TARGET, asymmetricMarkdown, asymmetricSummary, asymmetricTable, microMarkdown, microTable, runMicro, type MicroResult } from './micro.js';
import { openRedis, type BenchRedis } from './redis.js';
import { refreshMarkdown, refreshSummary, refreshTable, runRefresh, type RefreshResult } from './refresh.js';

const ROOT = new URL('../', import.meta.url);
const OUT = process.env.BENCH_OUT?.trim() || fileURLToPath(new URL('./RESULTS.md', import.meta.url));

const LIBRARIES = ['jose', 'fast-jwt', 'jsonwebtoken', 'express', 'express-jwt', 'fastify', '@fastify/jwt', 'koa', 'koa-jwt', 'hono', '@hono/node-server', 'autocannon', 'redis'];

function version(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, ROOT), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function gitState(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: fileURLToPath(ROOT), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `commit \`${commit}\`${dirty ? ' **plus uncommitted changes in src/**' : ''}`;
  } catch {
    return 'not a git checkout';
  }
}

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(', ');

type Refresh = RefreshResult | { readonly skipped: string };

function markdown(environment: readonly string[], micro: MicroResult | undefined, http: HttpResult | undefined, refresh: Refresh | undefined, memory: readonly MemoryRow[] | undefined, seconds: number): string {
  const out: string[] = [
    '# jwtguard benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts). Numbers from one machine and one run: compare rows of the',
    'same table (measured in the same run), not numbers across machines or runs.',
    '',
    ...environment.map((line) => `- ${line}`),
    `- Total run time: ${fmt(seconds)} s`,
    '',
  ];
  if (micro) {
    out.push(
      '## Micro: one HS256 verification',
      '',
      `Median of ${micro.settings.rounds} rounds per cell, after a warmup of at least ${micro.settings.warmupMs} ms; rounds are`,
      'interleaved across implementations. **hot**: the same token on every call. **cold**: a different valid token on',
      `every call, from ${fmt(micro.settings.coldTokens)} tokens signed with jose beforehand; no instance sees a cold token twice, so no`,
      'cache can hit. Async APIs are awaited one call at a time, so their ns/op is a latency that includes the promise',
      "and, for Web Crypto (jose, and hono/jwt below), the hop to libuv's thread pool. **× floor**: ns/op divided by the",
      "floor's in the same mode; the floor is node:crypto `createHmac` + base64url + `JSON.parse` + `timingSafeEqual` +",
      'the `alg` and `exp` checks, written plainly: a reference point, not a hard lower bound (caching the decoded',
      'header, for one, beats it). Every implementation first proves it accepts a valid token and rejects a tampered',
      'and an expired one. The `cacheSize: 0` row is jwtguard with its verified-token cache turned off.',
      `Other processes used ${fmt(micro.otherCpuPct)}% of a core meanwhile${micro.otherCpuPct > DISTURBED_PCT ? ' (**disturbed**: re-run on an idle machine)' : ''}.`,
      '',
      microMarkdown(micro),
      '',
    );
    const asym = micro.asymmetric;
    if (asym) {
      const { rounds, perRound, warmupTokens, warmupMs, poolPerAlg } = asym.settings;
      out.push(
        '## Micro: RS256, PS256, ES256, EdDSA, a new token on every call',
        '',
        'One key pair per algorithm (RSA 2048, P-256, Ed25519, generated for the run) and, per algorithm,',
        `${fmt(poolPerAlg)} tokens of the same claims as above signed with jose beforehand (${fmt(asym.signSeconds)} s for all four). Four implementations`,
        'configured with the same public key: **floor**, the counterpart of the HMAC floor: split, base64url,',
        '`JSON.parse` of the header and the `alg` check, one node:crypto `verify` with a KeyObject made beforehand (PS256:',
        'PSS with a 32-byte salt; ES256: IEEE P1363 signatures, as JWS has them), `JSON.parse` of the payload and the `exp`',
        "check; **jwtguard** `verifyToken` with `{ publicKey: <SPKI PEM>, algorithm, cacheSize: 0 }`, after one other token",
        "was verified, so that its node:crypto fast path has learned the key from jose's verification (as in a server that",
        "has seen one token; the first token of an alg and kid goes to jose, at jose's cost); before timing, the fast",
        'path must be seen answering; **fast-jwt** `createVerifier({ key: <PEM>, algorithms: [alg] })`, no cache;',
        "**jose** `jwtVerify` with a CryptoKey from `importSPKI` (Web Crypto: the hop to libuv's thread pool is in its",
        `latency). Each of ${rounds} rounds gives every implementation of an algorithm the same ${fmt(perRound)} tokens, none of which any of them`,
        'has seen before, in ten slices that the implementations take turns on (in an order that rotates), so a slow spell',
        `of the machine hits them alike; warmups (at least ${warmupMs} ms each) cycle`,
        `through a separate slice of ${fmt(warmupTokens)} tokens. **ns/op**: median over rounds. **× floor** and **× fast-jwt**: ns/op`,
        "divided by the floor's / fast-jwt's in the same round, median over rounds; **range**: the lowest and highest",
        `single round. The issue's targets for jwtguard: at most ${fmt(FLOOR_TARGET, 2)}× the floor and at most ${fmt(FAST_JWT_TARGET, 2)}× fast-jwt. Every`,
        'implementation first proves it accepts a valid token and rejects a tampered and an expired one. The "other',
        'processes" figure above covers this part too.',
        '',
        asymmetricMarkdown(asym),
        '',
        ...asymmetricSummary(asym).map((line) => `- ${line}`),
        '',
      );
    }
  }
  if (http) {
    const { duration, warmup, connections, httpTokens, repeat } = http.settings;
    out.push(
      '## HTTP: GET /api/me',
      '',
      `autocannon, ${connections} connections over 127.0.0.1, ${duration} s per run after ${warmup} s of warmup${repeat > 1 ? `, ${repeat} rounds` : ''}; the server`,
      'runs in a child process, so it has one core and the load generator the other. **bare**: no auth, answers a',
      'constant of the same shape; **empty middleware**: bare plus one middleware that does nothing (`next()`), the',
      "cost any middleware pays in that framework; **HMAC floor**: one middleware that runs only the micro benchmark's",
      'floor (split, `createHmac`, `timingSafeEqual`, `JSON.parse`, `exp`; no cache, no canonical or claim checks):',
      'what verifying a new token costs at the least. The others answer the verified payload. Peers: express-jwt (`algorithms: [\'HS256\']`),',
      "@fastify/jwt (`request.jwtVerify()` in an onRequest hook, default options, so fast-jwt's cache is off), koa-jwt,",
      "hono/jwt (`alg: 'HS256'`). **same**: one valid token on every request. **fresh**: a different valid token per",
      `request, cycling through ${fmt(httpTokens)} tokens signed with jose (bare is loaded the same way, so each ratio`,
      'compares runs with the same client work). **× bare**: req/s divided by the same framework\'s bare req/s in the',
      'same token mode and the same round, then the median over rounds (a round runs every variant once, back to back, in an',
      'order that rotates from round to round); **range**: the lowest and highest single-round ratio, how much this',
      'machine moved during the run. Before each run the server must answer 200 with the token\'s own payload for valid tokens and',
      '401 without a token, with a tampered and with an expired one.',
      '',
      ...('tokens' in http.rs256
        ? [
            `**RS256 rows** (${http.rs256.frameworks.map((f) => FRAMEWORK_LABEL[f]).join(', ')}): a new RS256 token per request, fresh mode only, cycling through`,
            `${fmt(http.rs256.tokens)} tokens signed with jose (${fmt(http.rs256.signSeconds)} s) with an RSA 2048 key generated for the run; the servers get its public`,
            "key as SPKI PEM: **jwtguard, RS256** `{ publicKey, algorithm: 'RS256' }` (default options otherwise: its",
            http.rs256.tokens > 10_000
              ? 'verified-token cache of 10,000 is on but cannot hit, the pool being larger), express-jwt'
              : `verified-token cache of 10,000 is on, and can hit once the pool of ${fmt(http.rs256.tokens)} wraps), express-jwt`,
            "`{ secret: publicKey, algorithms: ['RS256'] }`, @fastify/jwt `{ secret: { public: publicKey }, verify: { algorithms: ['RS256'] } }`",
            "(verify-only; fast-jwt's cache off). jwtguard verifies the first RS256 token with jose and the rest with",
            'node:crypto: the sanity check before each run sends that first token, and the server then confirms over IPC',
            'that its fast path verifies a token itself. They run in the same rounds as the',
            "other variants, so **× bare** is their share of the bare fresh run's req/s in that round (bare's tokens are",
            "HS256, about 300 characters shorter). **share ÷ peer**: jwtguard's share of bare ÷ the peer's, paired per round",
            `(that is, their req/s ratio in the round), median and range over rounds; the issue's target is ≥ ${fmt(ASYMMETRIC_TARGET, 2)}×. Their`,
            'sanity check also sends an HS256 token signed with the bench secret, which they must refuse (jwtguard with 401;',
            '@fastify/jwt answers it 500 `FAST_JWT_INVALID_ALGORITHM`).',
            '',
          ]
        : [`No RS256 rows: ${http.rs256.skipped}.`, '']),
      ...(http.sessions.redis !== undefined
        ? [
            '**jwtguard + sessions (Redis)**: the jwtguard guard with sessions on: the same `{ secret, algorithm: \'HS256\' }` plus',
            "`authPath: '/api/auth/login'`, `expiresIn: '1h'`, `refresh: { path: '/api/auth/refresh', expiresIn: '2h' }`,",
            "`logoutPath: '/api/auth/logout'` and `store: redisStore({ client })`, a node-redis client of",
            `${http.sessions.redis}. Each access token is checked against the guard's local mirror of the`,
            'revocations (fed by Redis pub/sub), so a request makes no Redis call. Its tokens are access tokens of real sessions,',
            'which carry `sid` and `jti` (about 100 characters longer than the jose tokens, and `/api/me` answers those claims',
            'too): **same**, a token from a login through that very server (POST /api/auth/login, whose route answers',
            `\`{ sub, role }\`); **fresh**, ${fmt(httpTokens)} sessions opened beforehand, one login each, by a guard with the same options`,
            `on the same Redis in the bench process (${fmt(httpTokens / http.sessions.poolSeconds)} logins/s there). Its sanity check adds: a pool token answers`,
            '200, and a token of a session logged in and then out through the server (POST /api/auth/logout: 204) answers',
            '401 `token_revoked`. **× jwtguard**: req/s divided by the plain jwtguard row\'s of the same framework, token mode and',
            `round, median over rounds (single-round range in brackets); the issue's target is ≥ ${fmt(SESSIONS_TARGET, 2)}× on a repeated token.`,
            '',
          ]
        : [`No sessions rows: ${http.sessions.skipped}.`, '']),
      'p50/p99 latencies are in whole milliseconds (autocannon\'s resolution).',
      '',
      '**server CPU µs/req** (server process CPU time ÷ requests) is the cost that does not depend on the client, and',
      '**CPU/req × bare** compares it with the bare server\'s in the same token mode and round (median over rounds). **server',
      'CPU** and **client CPU** are CPU time ÷ wall time: when the server is well below 100% and the client near it, the',
      'load generator was the bottleneck and the req/s ratio understates the middleware\'s cost (typical of the fastest',
      'servers in fresh mode, where autocannon rebuilds every request); read server CPU µs/req there. **other CPU**:',
      'what the rest of the machine used meanwhile; anything well above a few % means another process competed for',
      `the two cores and the row is disturbed (a run above ${DISTURBED_PCT}% is retried up to ${http.settings.retry} time(s); the least disturbed is kept).`,
      '',
      httpMarkdown(http),
      '',
    );
    const rs256 = asymmetricHttpSummary(http);
    if (rs256.length > 0) out.push('RS256, jwtguard against the peer:', '', ...rs256.map((line) => `- ${line}`), '');
    const summary = sessionsSummary(http);
    if (summary.length > 0) out.push('Sessions on Redis against the same guard without sessions:', '', ...summary.map((line) => `- ${line}`), '');
    const disturbed = http.rows.filter((r) => r.otherCpuPct > DISTURBED_PCT).length;
    if (disturbed > 0) {
      out.push(
        `**Warning:** in ${disturbed} of ${http.rows.length} rows other processes used more than ${DISTURBED_PCT}% of a core during the run`,
        '(see "other CPU"): those req/s and ratios are unreliable. Re-run on an otherwise idle machine.',
        '',
      );
    }
    if (http.rows.some((r) => r.reused)) {
      const rs256Tokens = 'tokens' in http.rs256 ? http.rs256.tokens : undefined;
      out.push(
        `† The pool wrapped on that server: a token came back after ${fmt(httpTokens)} others${rs256Tokens !== undefined ? ` (RS256 rows: ${fmt(rs256Tokens)})` : ''}. Only a cache holding more than`,
        `${fmt(rs256Tokens !== undefined ? Math.min(httpTokens, rs256Tokens) : httpTokens)} tokens could have hit (jwtguard's and fast-jwt's are much smaller).`,
        '',
      );
    }
    if (http.failures.length > 0) out.push('**FAILURES:**', '', ...http.failures.map((f) => `- ${f}`), '');
  }
  if (refresh !== undefined) {
    out.push('## Refresh: POST /api/auth/refresh on Redis', '');
    if ('skipped' in refresh) {
      out.push(`Skipped: ${refresh.skipped}.`, '');
    } else {
      const { duration, warmup, chains, repeat } = refresh.settings;
      out.push(
        `${FRAMEWORK_LABEL[refresh.framework]}, the sessions guard of the HTTP benchmark, on Redis (${refresh.redis}) and, as a`,
        "baseline, on `memoryStore()`; each (operation, store) on a server process of its own. **refresh**:",
        `${chains} concurrent chains, each one session logged in beforehand: every request is POST /api/auth/refresh with the`,
        'refresh token the previous answer gave (rotation: each one is good once), so autocannon\'s fixed requests cannot',
        'do it; the client is node:http with a keep-alive agent, one socket per chain, in the bench process. **login**: as',
        `many concurrent loops of POST /api/auth/login, each a new session. ${duration} s per run after ${warmup} s of warmup${repeat > 1 ? `, ${repeat} rounds` : ''}`,
        '(each runs the four back to back, in an order that rotates; medians reported). Every answer must be 200 with a',
        'well-formed pair of the chain\'s subject and session and a new refresh token, else it counts as failed. Before',
        'each run: a login, a refresh, the same refresh again within the grace (the same pair back), the new access token',
        'accepted, then the grandparent refresh token refused with 401 `refresh_token_reused`, which must end the session',
        '(its access token 401 `token_revoked`, its current refresh token 401 `refresh_token_invalid`).',
        '',
        'A refresh costs a SHA-256 of the presented token, a lookup and an atomic rotation in the store (two Redis',
        'scripts), a signed access token and the encrypted answer kept for the grace; a login one signed token and one',
        'store write. **× memoryStore**: per second ÷ the memoryStore\'s for the same operation, paired per round (range in',
        'brackets). **server / Redis CPU µs/op**: CPU time of the server process / of redis-server (INFO cpu) per',
        'operation; the CPU columns are CPU time ÷ wall time. Server, Redis and load generator share the two cores here,',
        'so the figures are a floor for what one instance does, not a Redis limit.',
        '',
        refreshMarkdown(refresh),
        '',
        refreshSummary(refresh),
        '',
      );
      const disturbed = refresh.rows.filter((r) => r.otherCpuPct > DISTURBED_PCT).length;
      if (disturbed > 0) out.push(`**Warning:** in ${disturbed} of ${refresh.rows.length} rows other processes used more than ${DISTURBED_PCT}% of a core: those rates are unreliable.`, '');
      if (refresh.failures.length > 0) out.push('**FAILURES:**', '', ...refresh.failures.map((f) => `- ${f}`), '');
    }
  }
  if (memory) {
    out.push(
      '## Memory and floods: `verifyToken` with the default cache',
      '',
      'One options object (default `cacheSize`: 10,000), three phases of distinct HS256 tokens: valid and used once,',
      'forged (right shape, wrong signature), then valid and used twice in a row, which the cache admits (it stores a',
      'token from its second verification on), so that phase fills it to its bound. Heap is `heapUsed` after two full',
      'GCs; ns/verification times `verifyToken` alone (token generation excluded). A bounded heap and equal costs for',
      'forged and valid tokens are the targets.',
      '',
      memoryMarkdown(memory),
      '',
    );
  }
  return out.join('\n');
}

const started = performance.now();
const cpu = os.cpus();
const environment = [
  `Date: ${new Date().toISOString()}`,
  `Node ${process.version} on ${os.platform()} ${os.arch()}`,
  `CPU: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores (load average at start: ${loadavg()})`,
  `jwtguard: this repository, built to dist/ by npm run build, ${gitState()}`,
  `Libraries: ${LIBRARIES.map((name) => `${name} ${version(name)}`).join(', ')}`,
];
log(environment.join('\n'));

let micro: MicroResult | undefined;
let http: HttpResult | undefined;
let refresh: Refresh | undefined;
let memory: MemoryRow[] | undefined;
const runsHttp = settings.only === undefined || settings.only === 'http';
const runsRefresh = runsHttp || settings.only === 'refresh';
// One Redis for the sessions rows and the refresh benchmark, opened before any timing starts.
let redis: BenchRedis | undefined;
let backend: SessionsBackend | undefined;
if (runsRefresh) {
  const opened = settings.sessions ? await openRedis() : { skip: 'turned off by BENCH_SESSIONS=0' };
  if ('url' in opened) redis = opened;
  backend = 'url' in opened ? { redis: opened } : { skip: opened.skip };
  const line = redis ? `Redis: ${redis.description}` : `Redis: none, sessions rows and refresh benchmark skipped: ${backend.skip}`;
  environment.push(line);
  log(line);
}
try {

  if (settings.only === undefined || settings.only === 'micro') {
    micro = await runMicro();
    console.log(`\nMicro: one HS256 verification (${fmt(micro.seconds, 1)} s with the asymmetric rows)\n`);
    console.log(renderText(microTable(micro)));
    if (micro.asymmetric) {
      console.log(`\nMicro: RS256, PS256, ES256, EdDSA, a new token on every call (${fmt(micro.asymmetric.settings.perRound)} per round)\n`);
      console.log(renderText(asymmetricTable(micro.asymmetric)));
      console.log(`\n${asymmetricSummary(micro.asymmetric).map((line) => `  ${line}`).join('\n')}`);
    }
    if (micro.otherCpuPct > DISTURBED_PCT) console.log(`Warning: other processes used ${fmt(micro.otherCpuPct)}% of a core during the micro benchmark.`);
  }
  if (runsHttp) {
    http = await runHttp(backend);
    console.log(`\nHTTP: GET /api/me (${fmt(http.seconds, 1)} s)\n`);
    console.log(renderText(httpTable(http)));
    if (http.rows.some((r) => r.reused)) {
      console.log(`† the token pool wrapped on that server (BENCH_HTTP_TOKENS=${settings.httpTokens}${'tokens' in http.rs256 ? `, RS256 rows BENCH_ASYM_HTTP_TOKENS=${http.rs256.tokens}` : ''})`);
    }
    const disturbed = http.rows.filter((r) => r.otherCpuPct > DISTURBED_PCT).length;
    if (disturbed > 0) console.log(`Warning: other processes used > ${DISTURBED_PCT}% of a core in ${disturbed} rows: those numbers are unreliable.`);
    const rs256 = asymmetricHttpSummary(http);
    if (rs256.length > 0) console.log(`\nRS256, jwtguard against the peer:\n${rs256.map((line) => `  ${line}`).join('\n')}`);
    else if ('skipped' in http.rs256) console.log(`\nNo RS256 rows: ${http.rs256.skipped}`);
    const summary = sessionsSummary(http);
    if (summary.length > 0) console.log(`\nSessions on Redis against the same guard without sessions:\n${summary.map((line) => `  ${line}`).join('\n')}`);
    else if (http.sessions.skipped !== undefined) console.log(`\nNo sessions rows: ${http.sessions.skipped}`);
  }
  if (runsRefresh) {
    refresh = await runRefresh(backend);
    if ('skipped' in refresh) {
      console.log(`\nRefresh benchmark skipped: ${refresh.skipped}`);
    } else {
      console.log(`\nRefresh: POST /api/auth/refresh, ${FRAMEWORK_LABEL[refresh.framework]}, ${refresh.settings.chains} chains (${fmt(refresh.seconds, 1)} s)\n`);
      console.log(renderText(refreshTable(refresh)));
      console.log(refreshSummary(refresh));
      const disturbed = refresh.rows.filter((r) => r.otherCpuPct > DISTURBED_PCT).length;
      if (disturbed > 0) console.log(`Warning: other processes used > ${DISTURBED_PCT}% of a core in ${disturbed} rows: those numbers are unreliable.`);
    }
  }
  if (settings.only === undefined || settings.only === 'memory') {
    memory = await runMemory();
    console.log('\nMemory and floods\n');
    console.log(memoryMarkdown(memory));
  }
} finally {
  await redis?.stop();
}
const seconds = (performance.now() - started) / 1000;
environment.push(`Load average at end: ${loadavg()}`);
console.log(`\nTotal: ${fmt(seconds, 1)} s`);

if (process.env.BENCH_NO_WRITE === undefined || process.env.BENCH_NO_WRITE === '' || process.env.BENCH_NO_WRITE === '0') {
  writeFileSync(OUT, markdown(environment, micro, http, refresh, memory, seconds));
  console.log(`Wrote ${OUT}`);
}
const failures = [...(http?.failures ?? []), ...(refresh !== undefined && !('skipped' in refresh) ? refresh.failures : [])];
if (failures.length > 0) {
  console.error(`\nFAILED: ${failures.join('; ')}`);
  process.exitCode = 1;
}
