/**
 * Micro benchmark: one HS256 verification, per implementation, in two modes.
 *
 * - hot:  the same token on every call (what a verified-token cache can exploit);
 * - cold: a different valid token on every call. Tokens come from a pool signed with jose before
 *   timing, and no implementation instance ever sees the same cold token twice (warmup and every
 *   round take disjoint slices of the pool), so no cache of any size can hit.
 *
 * Each (implementation, mode) gets its own instance (fresh options object / verifier) and its own
 * loop function (compiled separately, so one implementation's call-site feedback cannot slow down
 * another's), is sanity-checked (accepts a valid token with the right `sub`, rejects a tampered and
 * an expired one), warmed up, then measured in rounds. Rounds are interleaved across
 * implementations (round-robin, rotating the start) so drift affects all alike; the median round
 * is reported, with the ratio to the bare node:crypto floor measured in the same run.
 *
 *   node --import tsx bench/micro.ts
 */
import { createSecretKey } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createVerifier } from 'fast-jwt';
import { jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import type { JwtGuardOptions } from '../src/index.js';
import { loadCore } from './target.js';
import { SECRET, SECRET_BYTES, decodeSub, floorVerify, expiredToken, fmt, log, machineBusyMicros, median, renderMarkdown, renderText, settings, signToken, signTokens, tamper, type Table } from './common.js';

type Verify = (token: string) => unknown;

interface Candidate {
  readonly name: string;
  readonly async: boolean;
  /** A fresh, independent instance (its own options object, key, verifier or cache). */
  readonly make: () => Promise<Verify>;
}


const candidates: readonly Candidate[] = [
  {
    name: 'bare node:crypto HMAC (floor)',
    async: false,
    make: async () => floorVerify,
  },
  {
    name: 'jwtguard verifyToken',
    async: true,
    make: async () => {
      const options: JwtGuardOptions = { secret: SECRET, algorithm: 'HS256' }; // a new object: a fresh normalised config
      const { verifyToken } = await loadCore();
      return (token) => verifyToken(token, options);
    },
  },
  {
    // The same call with the verified-token cache turned off: the verification path alone.
    name: 'jwtguard verifyToken (cacheSize: 0)',
    async: true,
    make: async () => {
      const options = { secret: SECRET, algorithm: 'HS256', cacheSize: 0 } as JwtGuardOptions;
      const { verifyToken } = await loadCore();
      return (token) => verifyToken(token, options);
    },
  },
  {
    name: 'jose jwtVerify (CryptoKey)',
    async: true,
    make: async () => {
      const key = await crypto.subtle.importKey('raw', SECRET_BYTES, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      const options = { algorithms: ['HS256'] };
      return (token) => jwtVerify(token, key, options);
    },
  },
  {
    name: 'jose jwtVerify (raw bytes)',
    async: true,
    make: async () => {
      const key = Uint8Array.from(SECRET_BYTES);
      const options = { algorithms: ['HS256'] };
      return (token) => jwtVerify(token, key, options);
    },
  },
  {
    name: 'fast-jwt createVerifier (no cache)',
    async: false,
    make: async () => createVerifier({ key: SECRET, algorithms: ['HS256'] }) as Verify,
  },
  {
    name: 'fast-jwt createVerifier (cache)',
    async: false,
    make: async () => createVerifier({ key: SECRET, algorithms: ['HS256'], cache: true }) as Verify,
  },
  {
    // The usual call, and what express-jwt and koa-jwt do: a string secret. jsonwebtoken 9 then
    // tries createPublicKey on it first (which throws) before createSecretKey, on every call.
    name: 'jsonwebtoken verify (string secret)',
    async: false,
    make: async () => {
      const options: jsonwebtoken.VerifyOptions = { algorithms: ['HS256'] };
      return (token) => jsonwebtoken.verify(token, SECRET, options);
    },
  },
  {
    name: 'jsonwebtoken verify (KeyObject)',
    async: false,
    make: async () => {
      const key = createSecretKey(Buffer.from(SECRET_BYTES));
      const options: jsonwebtoken.VerifyOptions = { algorithms: ['HS256'] };
      return (token) => jsonwebtoken.verify(token, key, options);
    },
  },
];

const FLOOR = candidates[0]!.name;

type Mode = 'hot' | 'cold';

/** Runs `n` verifications starting at `tokens[offset]` (cold) or of `tokens[0]` (hot); returns elapsed ns. */
type Loop = (fn: Verify, tokens: readonly string[], offset: number, n: number) => Promise<number>;

/**
 * A separately compiled loop per benchmark (as benchmark.js does), so call-site type feedback is
 * per implementation. Every result is kept in a sink so nothing can be optimised away.
 */
function compileLoop(async: boolean, mode: Mode): Loop {
  const token = mode === 'hot' ? 'tokens[0]' : 'tokens[offset + i]';
  const call = async ? `await fn(${token})` : `fn(${token})`;
  const body = `
    let sink;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink = ${call};
    const elapsed = Number(process.hrtime.bigint() - start);
    if (sink === undefined) throw new Error('verification returned nothing');
    return elapsed;`;
  return new Function('process', `return async function loop(fn, tokens, offset, n) {${body}}`)(process) as Loop;
}

async function sanityCheck(name: string, verify: Verify, valid: string, expired: string): Promise<void> {
  const result = (await verify(valid)) as { sub?: unknown; payload?: { sub?: unknown } };
  const sub = result?.payload?.sub ?? result?.sub;
  if (sub !== decodeSub(valid)) throw new Error(`micro sanity check: ${name} returned ${JSON.stringify(result)} for a valid token`);
  for (const [label, bad] of [['tampered', tamper(valid)], ['expired', expired]] as const) {
    let accepted = false;
    try {
      await verify(bad);
      accepted = true;
    } catch {
      // expected
    }
    if (accepted) throw new Error(`micro sanity check: ${name} accepted a ${label} token`);
  }
}

interface Bench {
  readonly candidate: Candidate;
  readonly mode: Mode;
  readonly verify: Verify;
  readonly loop: Loop;
  /** Next unused index in the cold pool (cold mode). */
  offset: number;
  /** Operations per round. */
  n: number;
  readonly samples: number[];
}

export interface MicroRow {
  readonly name: string;
  readonly hotNs: number;
  readonly coldNs: number;
  readonly hotRatio: number;
  readonly coldRatio: number;
  readonly hotOpsPerRound: number;
  readonly coldOpsPerRound: number;
}

export interface MicroResult {
  readonly rows: readonly MicroRow[];
  /** CPU used by other processes while the micro benchmark ran (% of one core). */
  readonly otherCpuPct: number;
  readonly settings: { rounds: number; roundMs: number; warmupMs: number; coldTokens: number };
  readonly seconds: number;
}

export async function runMicro(): Promise<MicroResult> {
  const started = performance.now();
  const machineBefore = machineBusyMicros();
  const ownBefore = process.cpuUsage();
  const { rounds, roundMs, warmupMs, coldTokens } = settings;
  log(`micro: signing ${fmt(coldTokens)} distinct cold tokens with jose ...`);
  const pool = await signTokens(coldTokens);
  const hotToken = await signToken('user-hot');
  const expired = await expiredToken();
  const hotTokens = [hotToken];

  // Cold budget per implementation: at most a tenth of the pool for warmup, the rest split across
  // rounds. Slow implementations use fewer tokens per round (about roundMs worth, at least 500).
  const coldWarmup = Math.floor(coldTokens / 10);
  const coldPerRound = Math.floor((coldTokens - coldWarmup) / rounds);
  if (coldPerRound < 500) throw new Error(`BENCH_COLD_TOKENS=${coldTokens} is too small for ${rounds} rounds: need at least ${Math.ceil((500 * rounds) / 0.9)}.`);

  const benches: Bench[] = [];
  for (const mode of ['hot', 'cold'] as const) {
    for (const candidate of candidates) {
      const verify = await candidate.make();
      await sanityCheck(`${candidate.name} (${mode})`, verify, hotToken, expired);
      benches.push({ candidate, mode, verify, loop: compileLoop(candidate.async, mode), offset: 0, n: 0, samples: [] });
    }
  }

  // Warmup (at least warmupMs and 1000 calls), which also calibrates the round size.
  for (const bench of benches) {
    const cold = bench.mode === 'cold';
    const tokens = cold ? pool : hotTokens;
    const batch = 200;
    let ops = 0;
    let elapsed = 0;
    do {
      elapsed += await bench.loop(bench.verify, tokens, ops, batch);
      ops += batch;
    } while ((elapsed < warmupMs * 1e6 || ops < 1000) && !(cold && ops + batch > coldWarmup));
    const perRound = Math.round((roundMs * 1e6) / (elapsed / ops));
    bench.offset = cold ? ops : 0;
    bench.n = cold ? Math.min(coldPerRound, Math.max(500, perRound)) : Math.max(1000, perRound);
  }

  log(`micro: ${rounds} rounds x ${benches.length} benchmarks (hot ~${roundMs} ms/round, cold up to ${fmt(coldPerRound)} fresh tokens/round) ...`);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < benches.length; k++) {
      const bench = benches[(k + round) % benches.length]!;
      const tokens = bench.mode === 'hot' ? hotTokens : pool;
      const elapsed = await bench.loop(bench.verify, tokens, bench.offset, bench.n);
      if (bench.mode === 'cold') bench.offset += bench.n;
      bench.samples.push(elapsed / bench.n);
    }
  }
  for (const bench of benches) {
    if (bench.mode === 'cold' && bench.offset > pool.length) throw new Error('micro: cold pool exhausted (a token would have been reused)');
  }

  const nsOf = (name: string, mode: Mode): Bench => benches.find((b) => b.candidate.name === name && b.mode === mode)!;
  const floorHot = median(nsOf(FLOOR, 'hot').samples);
  const floorCold = median(nsOf(FLOOR, 'cold').samples);
  const rows: MicroRow[] = candidates.map((c) => {
    const hot = nsOf(c.name, 'hot');
    const cold = nsOf(c.name, 'cold');
    const hotNs = median(hot.samples);
    const coldNs = median(cold.samples);
    return { name: c.name, hotNs, coldNs, hotRatio: hotNs / floorHot, coldRatio: coldNs / floorCold, hotOpsPerRound: hot.n, coldOpsPerRound: cold.n };
  });
  const wall = (performance.now() - started) * 1000; // µs
  const own = process.cpuUsage(ownBefore);
  const otherCpuPct = Math.max(0, (100 * (machineBusyMicros() - machineBefore - own.user - own.system)) / wall);
  return { rows, otherCpuPct, settings: { rounds, roundMs, warmupMs, coldTokens }, seconds: wall / 1e6 };
}

export function microTable(result: MicroResult): Table {
  return {
    headers: ['HS256 verify', 'hot ns/op', 'hot ops/s', 'hot × floor', 'cold ns/op', 'cold ops/s', 'cold × floor'],
    numeric: [false, true, true, true, true, true, true],
    rows: result.rows.map((r) => [
      r.name,
      fmt(r.hotNs),
      fmt(1e9 / r.hotNs),
      `${fmt(r.hotRatio, 2)}×`,
      fmt(r.coldNs),
      fmt(1e9 / r.coldNs),
      `${fmt(r.coldRatio, 2)}×`,
    ]),
  };
}

export function microMarkdown(result: MicroResult): string {
  return renderMarkdown(microTable(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runMicro();
  console.log(renderText(microTable(result)));
}
