/**
 * Refresh benchmark: refreshes per second through HTTP, on Redis, with logins and the memoryStore
 * as baselines measured in the same run.
 *
 * One framework (Fastify when BENCH_FRAMEWORKS has it, else the first listed), four servers, each
 * in its own child process (bench/server.ts): the sessions guard of the HTTP benchmark
 * (`sessionGuardOptions`) on `redisStore({ client })`, twice (one answers refreshes, one logins),
 * and the same on `memoryStore()`, twice. Separate servers, so the logins of one run cannot evict
 * (memoryStore: 100,000 sessions at most) the sessions the refresh chains live on.
 *
 * - refresh: BENCH_CONNECTIONS concurrent chains, each one session: every request is
 *   POST /api/auth/refresh with the refresh token the previous answer gave (so a fixed request,
 *   as autocannon sends, cannot do it). Each chain logs in once, before its first run, untimed.
 * - login:   the same number of concurrent loops of POST /api/auth/login?sub=..., each a new session.
 *
 * The client is node:http with a keep-alive agent (one socket per chain), lighter than fetch, in
 * this process. Every answer is checked (200, a well-formed pair of the chain's subject and
 * session, a new refresh token); a wrong one counts as a failure, stops its chain for the run and
 * fails the benchmark. Before each run a sanity check must pass: a login, a refresh, the same
 * refresh again within the grace (the same pair back), the new access token accepted, then the
 * grandparent token presented (401 refresh_token_reused), which must end the session (its access
 * token 401 token_revoked, its current refresh token 401 refresh_token_invalid).
 *
 * BENCH_REPEAT rounds, each running the four (operation, store) pairs back to back in an order that
 * rotates; medians reported, Redis ÷ memoryStore paired per round. CPU: the server's and Redis's
 * (INFO cpu) per operation, and client, server, Redis and the rest of the machine as % of a core.
 *
 *   node --import tsx bench/refresh.ts
 */
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { DISTURBED_PCT, LOGIN_PATH, decodePayload, REFRESH_PATH, fmt, log, machineBusyMicros, median, renderMarkdown, renderText, settings, type Framework, type ServerVariant, type Table } from './common.js';
import { FRAMEWORK_LABEL, checkPair, login, startServer, type RunningServer, type SessionPair, type SessionsBackend } from './http.js';
import { openRedis, type BenchRedis } from './redis.js';

type Operation = 'refresh' | 'login';
type Store = 'redis' | 'memory';
const KINDS: readonly (readonly [Operation, Store])[] = [
  ['refresh', 'redis'],
  ['refresh', 'memory'],
  ['login', 'redis'],
  ['login', 'memory'],
];
const STORE_LABEL: Readonly<Record<Store, string>> = { redis: 'Redis', memory: 'memoryStore' };
const keyOf = (operation: Operation, store: Store): string => `${operation}/${store}`;
/** Failure messages kept per run (the count is always complete). */
const MAX_MESSAGES = 5;

interface Answer {
  readonly status: number;
  readonly text: string;
}

function post(agent: Agent, port: number, path: string, body?: string, authorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body === undefined ? { 'content-length': '0' } : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    if (authorization !== undefined) headers.authorization = authorization;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout (10 s)')));
    req.on('error', reject);
    req.end(body);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const refreshBody = (refreshToken: string): string => JSON.stringify({ refreshToken });

async function get(port: number, token: string): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}/api/me`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

function expect(answer: Answer, status: number, label: string, error?: string): void {
  const code = (parse(answer.text) as { error?: unknown } | undefined)?.error;
  if (answer.status !== status || (error !== undefined && code !== error)) {
    throw new Error(`sanity check failed: ${label}: expected ${status}${error === undefined ? '' : ` ${error}`}, got ${answer.status} ${answer.text.slice(0, 200)}`);
  }
}

/** Rotation, grace and reuse detection, for real, on this server's store. */
async function sanityCheck(agent: Agent, port: number, name: string): Promise<void> {
  const sub = 'user-refresh-check';
  const first = await login(port, sub, name);
  const sid = decodePayload(first.token).sid as string;
  const pairOf = (answer: Answer, label: string): SessionPair => {
    expect(answer, 200, `${name}: ${label}`);
    const pair = checkPair(parse(answer.text), sub, sid);
    if (typeof pair === 'string') throw new Error(`sanity check failed: ${name}: ${label} answered ${pair}: ${answer.text.slice(0, 200)}`);
    return pair;
  };
  const second = pairOf(await post(agent, port, REFRESH_PATH, refreshBody(first.refreshToken)), 'refresh');
  if (second.refreshToken === first.refreshToken || second.token === first.token) throw new Error(`sanity check failed: ${name}: a refresh answered the same tokens`);
  const again = pairOf(await post(agent, port, REFRESH_PATH, refreshBody(first.refreshToken)), 'the same refresh within the grace');
  if (again.token !== second.token || again.refreshToken !== second.refreshToken) throw new Error(`sanity check failed: ${name}: a refresh within the grace did not answer the same pair`);
  expect(await get(port, second.token), 200, `${name}: a refreshed access token`);
  const third = pairOf(await post(agent, port, REFRESH_PATH, refreshBody(second.refreshToken)), 'a second refresh');
  expect(await post(agent, port, REFRESH_PATH, refreshBody(first.refreshToken)), 401, `${name}: the grandparent refresh token`, 'refresh_token_reused');
  expect(await get(port, third.token), 401, `${name}: an access token of the session that reuse ended`, 'token_revoked');
  expect(await post(agent, port, REFRESH_PATH, refreshBody(third.refreshToken)), 401, `${name}: the current refresh token of the session that reuse ended`, 'refresh_token_invalid');
}

interface Chain {
  readonly sub: string;
  sid: string | undefined;
  refreshToken: string | undefined;
}

interface Drive {
  readonly completed: number;
  readonly failed: number;
  readonly messages: readonly string[];
  readonly latencies: readonly number[];
  /** Seconds, from the start until the last chain's last answer. */
  readonly wall: number;
}

/** Every refresh chain that has no live refresh token logs in (untimed). */
async function prepare(port: number, chains: readonly Chain[], name: string): Promise<void> {
  await Promise.all(
    chains.map(async (chain) => {
      if (chain.refreshToken !== undefined) return;
      const pair = await login(port, chain.sub, name);
      chain.refreshToken = pair.refreshToken;
      chain.sid = decodePayload(pair.token).sid as string;
    }),
  );
}

/** The chains, each one request at a time, for `seconds`. */
async function drive(agent: Agent, port: number, operation: Operation, chains: readonly Chain[], seconds: number): Promise<Drive> {
  const latencies: number[] = [];
  const messages: string[] = [];
  let completed = 0;
  let failed = 0;
  const fail = (chain: Chain, message: string): void => {
    failed++;
    chain.refreshToken = undefined;
    if (messages.length < MAX_MESSAGES) messages.push(message);
  };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    chains.map(async (chain) => {
      while (performance.now() < deadline) {
        const presented = chain.refreshToken;
        if (operation === 'refresh' && presented === undefined) return;
        const sent = performance.now();
        let answer: Answer;
        try {
          answer = operation === 'refresh' ? await post(agent, port, REFRESH_PATH, refreshBody(presented!)) : await post(agent, port, `${LOGIN_PATH}?sub=${chain.sub}`);
        } catch (error) {
          return fail(chain, `${operation}: ${(error as Error).message}`);
        }
        latencies.push(performance.now() - sent);
        if (answer.status !== 200) return fail(chain, `${operation}: ${answer.status} ${answer.text.slice(0, 120)}`);
        const pair = checkPair(parse(answer.text), chain.sub, operation === 'refresh' ? chain.sid : undefined);
        if (typeof pair === 'string') return fail(chain, `${operation} answered ${pair}`);
        if (operation === 'refresh') {
          if (pair.refreshToken === presented) return fail(chain, 'refresh answered the presented refresh token');
          chain.refreshToken = pair.refreshToken;
        }
        completed++;
      }
    }),
  );
  return { completed, failed, messages, latencies, wall: (performance.now() - start) / 1000 };
}

interface Sample {
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly completed: number;
  readonly failed: number;
  readonly serverCpuUsPerOp: number;
  readonly redisCpuUsPerOp: number;
  readonly serverCpuPct: number;
  readonly clientCpuPct: number;
  readonly redisCpuPct: number;
  readonly otherCpuPct: number;
}

export interface RefreshRow extends Sample {
  readonly operation: Operation;
  readonly store: Store;
  /** Redis rows: ops/s ÷ the memoryStore's for the same operation, paired per round. */
  readonly vsMemory?: { readonly median: number; readonly min: number; readonly max: number };
}

export interface RefreshResult {
  readonly framework: Framework;
  readonly redis: string;
  readonly rows: readonly RefreshRow[];
  readonly settings: { readonly duration: number; readonly warmup: number; readonly chains: number; readonly repeat: number; readonly retry: number };
  readonly failures: readonly string[];
  readonly seconds: number;
}

const cpuMicros = (usage: NodeJS.CpuUsage): number => usage.user + usage.system;

const percentile = (sorted: readonly number[], p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

async function measure(agent: Agent, server: RunningServer, redis: BenchRedis, name: string, operation: Operation, chains: readonly Chain[], failures: string[]): Promise<Sample> {
  const { duration, warmup } = settings;
  const report = (run: Drive, label: string): void => {
    if (run.failed > 0) failures.push(`${name}${label}: ${run.failed} failed (${run.messages.join('; ')})`);
  };
  if (operation === 'refresh') await prepare(server.port, chains, name);
  if (warmup > 0) {
    report(await drive(agent, server.port, operation, chains, warmup), ' warmup');
    if (operation === 'refresh') await prepare(server.port, chains, name);
  }
  const before = await server.usage();
  const redisBefore = await redis.cpuMicros();
  const clientBefore = process.cpuUsage();
  const machineBefore = machineBusyMicros();
  const run = await drive(agent, server.port, operation, chains, duration);
  const wall = run.wall * 1e6; // µs
  const machineBusy = machineBusyMicros() - machineBefore;
  const clientCpu = cpuMicros(process.cpuUsage(clientBefore));
  const redisCpu = (await redis.cpuMicros()) - redisBefore;
  const serverCpu = cpuMicros((await server.usage()).cpu) - cpuMicros(before.cpu);
  report(run, '');
  if (run.completed === 0) failures.push(`${name}: no ${operation} completed`);
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const ops = Math.max(1, run.completed);
  return {
    opsPerSecond: run.completed / run.wall,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    completed: run.completed,
    failed: run.failed,
    serverCpuUsPerOp: serverCpu / ops,
    redisCpuUsPerOp: redisCpu / ops,
    serverCpuPct: (100 * serverCpu) / wall,
    clientCpuPct: (100 * clientCpu) / wall,
    redisCpuPct: (100 * redisCpu) / wall,
    // os.cpus() counts in 10 ms ticks: ±a few %.
    otherCpuPct: Math.max(0, (100 * (machineBusy - serverCpu - clientCpu - redisCpu)) / wall),
  };
}

/** The refresh benchmark on `backend`'s Redis (by default one opened and closed here); undefined when there is none. */
export async function runRefresh(backend?: SessionsBackend): Promise<RefreshResult | { readonly skipped: string }> {
  let own: BenchRedis | undefined;
  if (backend === undefined) {
    const opened = settings.sessions ? await openRedis() : { skip: 'turned off by BENCH_SESSIONS=0' };
    if ('url' in opened) own = opened;
    backend = 'url' in opened ? { redis: opened } : { skip: opened.skip };
  }
  try {
    if (backend.redis === undefined) {
      log(`refresh: skipped: ${backend.skip}`);
      return { skipped: backend.skip };
    }
    return await runOn(backend.redis);
  } finally {
    await own?.stop();
  }
}

async function runOn(redis: BenchRedis): Promise<RefreshResult> {
  const started = performance.now();
  const { duration, warmup, connections: chains, repeat, retry, frameworks } = settings;
  const framework: Framework = frameworks.includes('fastify') ? 'fastify' : frameworks[0]!;
  const agent = new Agent({ keepAlive: true, maxSockets: chains + 1 });
  const servers = new Map<string, RunningServer>();
  const failures: string[] = [];
  const rows: RefreshRow[] = [];
  try {
    for (const [operation, store] of KINDS) {
      const variant: ServerVariant = store === 'redis' ? 'sessions' : 'sessions-memory';
      servers.set(keyOf(operation, store), await startServer(framework, variant, redis));
    }
    const chainsOf = new Map<string, Chain[]>(
      KINDS.map(([operation, store]) => [keyOf(operation, store), Array.from({ length: chains }, (_, i) => ({ sub: `chain-${operation}-${String(i).padStart(4, '0')}`, sid: undefined, refreshToken: undefined }))]),
    );
    const samples = new Map<string, Sample[]>();
    for (let rep = 0; rep < repeat; rep++) {
      const order = KINDS.map((_, i) => KINDS[(i + rep) % KINDS.length]!);
      for (const [operation, store] of order) {
        const key = keyOf(operation, store);
        const server = servers.get(key)!;
        const name = `${FRAMEWORK_LABEL[framework]} / ${operation} / ${STORE_LABEL[store]}`;
        await sanityCheck(agent, server.port, name);
        log(`refresh: ${name}${repeat > 1 ? `, run ${rep + 1}/${repeat}` : ''}: ${chains} chains, ${warmup} s warmup + ${duration} s ...`);
        let sample = await measure(agent, server, redis, name, operation, chainsOf.get(key)!, failures);
        for (let attempt = 1; attempt <= retry && sample.otherCpuPct > DISTURBED_PCT; attempt++) {
          log(`refresh: ${name}: other processes used ${fmt(sample.otherCpuPct)}% of a core; retrying (${attempt}/${retry}) ...`);
          await sanityCheck(agent, server.port, name);
          const again = await measure(agent, server, redis, name, operation, chainsOf.get(key)!, failures);
          if (again.otherCpuPct < sample.otherCpuPct) sample = again;
        }
        samples.set(key, [...(samples.get(key) ?? []), sample]);
      }
    }
    for (const [operation, store] of KINDS) {
      const runs = samples.get(keyOf(operation, store))!;
      const memoryRuns = samples.get(keyOf(operation, 'memory'))!;
      const med = (pick: (s: Sample) => number): number => median(runs.map(pick));
      const ratios = runs.map((s, i) => s.opsPerSecond / memoryRuns[i]!.opsPerSecond);
      rows.push({
        operation,
        store,
        opsPerSecond: med((s) => s.opsPerSecond),
        p50: med((s) => s.p50),
        p99: med((s) => s.p99),
        completed: runs.reduce((acc, s) => acc + s.completed, 0),
        failed: runs.reduce((acc, s) => acc + s.failed, 0),
        serverCpuUsPerOp: med((s) => s.serverCpuUsPerOp),
        redisCpuUsPerOp: med((s) => s.redisCpuUsPerOp),
        serverCpuPct: med((s) => s.serverCpuPct),
        clientCpuPct: med((s) => s.clientCpuPct),
        redisCpuPct: med((s) => s.redisCpuPct),
        otherCpuPct: med((s) => s.otherCpuPct),
        ...(store === 'redis' ? { vsMemory: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) } } : {}),
      });
    }
  } finally {
    for (const server of servers.values()) await server.stop();
    agent.destroy();
  }
  return {
    framework,
    redis: redis.description,
    rows,
    settings: { duration, warmup, chains, repeat, retry },
    failures,
    seconds: (performance.now() - started) / 1000,
  };
}

export function refreshTable(result: RefreshResult): Table {
  const multi = result.settings.repeat > 1;
  return {
    headers: ['operation', 'store', 'per second', '× memoryStore', 'p50 ms', 'p99 ms', 'server CPU µs/op', 'Redis CPU µs/op', 'server CPU', 'Redis CPU', 'client CPU', 'other CPU', 'failed'],
    numeric: [false, false, true, true, true, true, true, true, true, true, true, true, true],
    rows: result.rows.map((row) => [
      row.operation,
      STORE_LABEL[row.store],
      fmt(row.opsPerSecond),
      row.vsMemory ? `${fmt(row.vsMemory.median, 2)}×${multi ? ` (${fmt(row.vsMemory.min, 2)}–${fmt(row.vsMemory.max, 2)})` : ''}` : '1.00×',
      fmt(row.p50, 1),
      fmt(row.p99, 1),
      fmt(row.serverCpuUsPerOp, 1),
      fmt(row.redisCpuUsPerOp, 1),
      `${fmt(row.serverCpuPct)}%`,
      `${fmt(row.redisCpuPct)}%`,
      `${fmt(row.clientCpuPct)}%`,
      `${fmt(row.otherCpuPct)}%`,
      row.failed === 0 ? '0' : `**${row.failed}**`,
    ]),
  };
}

/** The headline: refreshes per second on Redis, against the baselines of the same run. */
export function refreshSummary(result: RefreshResult): string {
  const row = (operation: Operation, store: Store): RefreshRow | undefined => result.rows.find((r) => r.operation === operation && r.store === store);
  const redis = row('refresh', 'redis');
  const memory = row('refresh', 'memory');
  const logins = row('login', 'redis');
  if (redis === undefined || memory === undefined || logins === undefined) return '';
  return (
    `Refreshes per second on Redis: ${fmt(redis.opsPerSecond)} (p50 ${fmt(redis.p50, 1)} ms, p99 ${fmt(redis.p99, 1)} ms; ` +
    `server ${fmt(redis.serverCpuUsPerOp)} µs + Redis ${fmt(redis.redisCpuUsPerOp)} µs of CPU each), ` +
    `${fmt(redis.vsMemory?.median ?? NaN, 2)}× the memoryStore's ${fmt(memory.opsPerSecond)}/s; logins on Redis: ${fmt(logins.opsPerSecond)}/s.`
  );
}

export function refreshMarkdown(result: RefreshResult): string {
  return renderMarkdown(refreshTable(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runRefresh();
  if ('skipped' in result) {
    console.log(`refresh benchmark skipped: ${result.skipped}`);
  } else {
    console.log(renderText(refreshTable(result)));
    console.log(refreshSummary(result));
    if (result.failures.length > 0) {
      console.error(`\nFAILED: ${result.failures.join('; ')}`);
      process.exitCode = 1;
    }
  }
}
