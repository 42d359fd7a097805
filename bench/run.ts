/**
 * `npm run bench`: the micro benchmark, then the HTTP benchmark, then bench/RESULTS.md.
 *
 * Environment (all optional):
 *   BENCH_ONLY=micro|http|memory  run one part only (RESULTS.md then holds that part only)
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
 *
 * A failed sanity check aborts the run (and RESULTS.md is not written). Non-2xx responses,
 * errors or timeouts during a run are reported in the tables and make the exit code 1.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DISTURBED_PCT, fmt, log, renderText, settings } from './common.js';
import { httpMarkdown, httpTable, runHttp, type HttpResult } from './http.js';
import { memoryMarkdown, runMemory, type MemoryRow } from './memory.js';
import { microMarkdown, microTable, runMicro, type MicroResult } from './micro.js';

const ROOT = new URL('../', import.meta.url);
const OUT = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

const LIBRARIES = ['jose', 'fast-jwt', 'jsonwebtoken', 'express', 'express-jwt', 'fastify', '@fastify/jwt', 'koa', 'koa-jwt', 'hono', '@hono/node-server', 'autocannon'];

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

function markdown(environment: readonly string[], micro: MicroResult | undefined, http: HttpResult | undefined, memory: readonly MemoryRow[] | undefined, seconds: number): string {
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
    const disturbed = http.rows.filter((r) => r.otherCpuPct > DISTURBED_PCT).length;
    if (disturbed > 0) {
      out.push(
        `**Warning:** in ${disturbed} of ${http.rows.length} rows other processes used more than ${DISTURBED_PCT}% of a core during the run`,
        '(see "other CPU"): those req/s and ratios are unreliable. Re-run on an otherwise idle machine.',
        '',
      );
    }
    if (http.rows.some((r) => r.reused)) {
      out.push(
        `† The pool wrapped on that server: a token came back after ${fmt(httpTokens)} others. Only a cache holding more than`,
        `${fmt(httpTokens)} tokens could have hit (jwtguard's and fast-jwt's are much smaller).`,
        '',
      );
    }
    if (http.failures.length > 0) out.push('**FAILURES:**', '', ...http.failures.map((f) => `- ${f}`), '');
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
let memory: MemoryRow[] | undefined;
if (settings.only === undefined || settings.only === 'micro') {
  micro = await runMicro();
  console.log(`\nMicro: one HS256 verification (${fmt(micro.seconds, 1)} s)\n`);
  console.log(renderText(microTable(micro)));
  if (micro.otherCpuPct > DISTURBED_PCT) console.log(`Warning: other processes used ${fmt(micro.otherCpuPct)}% of a core during the micro benchmark.`);
}
if (settings.only === undefined || settings.only === 'http') {
  http = await runHttp();
  console.log(`\nHTTP: GET /api/me (${fmt(http.seconds, 1)} s)\n`);
  console.log(renderText(httpTable(http)));
  if (http.rows.some((r) => r.reused)) console.log(`† the token pool wrapped on that server (BENCH_HTTP_TOKENS=${settings.httpTokens})`);
  const disturbed = http.rows.filter((r) => r.otherCpuPct > DISTURBED_PCT).length;
  if (disturbed > 0) console.log(`Warning: other processes used > ${DISTURBED_PCT}% of a core in ${disturbed} rows: those numbers are unreliable.`);
}
if (settings.only === undefined || settings.only === 'memory') {
  memory = await runMemory();
  console.log('\nMemory and floods\n');
  console.log(memoryMarkdown(memory));
}
const seconds = (performance.now() - started) / 1000;
environment.push(`Load average at end: ${loadavg()}`);
console.log(`\nTotal: ${fmt(seconds, 1)} s`);

if (process.env.BENCH_NO_WRITE === undefined || process.env.BENCH_NO_WRITE === '' || process.env.BENCH_NO_WRITE === '0') {
  writeFileSync(OUT, markdown(environment, micro, http, memory, seconds));
  console.log(`Wrote ${OUT}`);
}
if (http && http.failures.length > 0) {
  console.error(`\nFAILED: ${http.failures.join('; ')}`);
  process.exitCode = 1;
}
