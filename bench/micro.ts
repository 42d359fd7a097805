/**
 * Micro benchmark, part 1: one HS256 verification, per implementation, in two modes.
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
 * Part 2 (unless BENCH_ASYMMETRIC=0): RS256, PS256, ES256 and EdDSA, a new token on every call
 * only (cold). Per algorithm: one key pair (RSA 2048, P-256, Ed25519) and a pool of tokens signed
 * with jose beforehand; four implementations configured with the same public key: the bare
 * node:crypto floor (split, base64url, `JSON.parse`, `alg` check, `crypto.verify` with a KeyObject
 * made beforehand, `exp` check), jwtguard `verifyToken` with `cacheSize: 0` (the public key as PEM;
 * one token verified before timing, so its fast path has learned the key, as in a server that has
 * seen one token; the sanity check also proves the fast path answers), fast-jwt `createVerifier`
 * (PEM, no cache) and jose `jwtVerify` (`importSPKI`). Each round gives every implementation of an
 * algorithm the same BENCH_ASYM_PER_ROUND tokens, never seen before by any of them, in ten slices
 * that the implementations take turns on (in an order that rotates), so that a slow spell of the
 * machine hits all of them alike; warmups use a separate part of the pool. Ratios to the floor and to
 * fast-jwt are paired per round (median over rounds, with the range): the targets are
 * jwtguard within 1.15x of the floor and at most 1.05x fast-jwt.
 *
 *   node --import tsx bench/micro.ts
 */
import { createSecretKey } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createVerifier } from 'fast-jwt';
import { importSPKI, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import type { JwtGuardOptions } from '../src/index.js';
import { loadCore } from './target.js';
import {
  ASYMMETRIC_ALGORITHMS,
  SECRET,
  SECRET_BYTES,
  asymmetricFloor,
  benchKeyPair,
  decodeSub,
  expiredAsymmetricToken,
  floorVerify,
  expiredToken,
  fmt,
  log,
  machineBusyMicros,
  median,
  renderMarkdown,
  renderText,
  settings,
  signAsymmetricToken,
  signToken,
  signTokens,
  tamper,
  type AsymmetricAlg,
  type BenchKeyPair,
  type Table,
} from './common.js';

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
  /** The RS256/PS256/ES256/EdDSA rows (cold only); undefined with BENCH_ASYMMETRIC=0. */
  readonly asymmetric?: AsymmetricMicroResult;
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
  const asymmetric = settings.asymmetric ? await runAsymmetric() : undefined;
  const wall = (performance.now() - started) * 1000; // µs
  const own = process.cpuUsage(ownBefore);
  const otherCpuPct = Math.max(0, (100 * (machineBusyMicros() - machineBefore - own.user - own.system)) / wall);
  return { rows, ...(asymmetric ? { asymmetric } : {}), otherCpuPct, settings: { rounds, roundMs, warmupMs, coldTokens }, seconds: wall / 1e6 };
}

// --- Part 2: RS256, PS256, ES256, EdDSA; a new token on every call ----------------------------

/** The targets for jwtguard on a new token: at most this many times the floor's ns/op ... */
export const FLOOR_TARGET = 1.15;
/** ... and at most this many times fast-jwt's, same run. */
export const FAST_JWT_TARGET = 1.05;

type AsymmetricRole = 'floor' | 'jwtguard' | 'fast-jwt' | 'jose';

interface AsymmetricCandidate {
  readonly role: AsymmetricRole;
  readonly name: string;
  readonly async: boolean;
  /** A fresh instance configured with `pair`'s public key; `seen` is a valid token it may verify before timing. */
  readonly make: (pair: BenchKeyPair, seen: string) => Promise<Verify>;
}

const asymmetricCandidates: readonly AsymmetricCandidate[] = [
  {
    role: 'floor',
    name: 'bare node:crypto verify (floor)',
    async: false,
    make: async (pair) => asymmetricFloor(pair.alg, pair.publicKey),
  },
  {
    role: 'jwtguard',
    name: 'jwtguard verifyToken (cacheSize: 0)',
    async: true,
    make: async (pair, seen) => {
      const options = { publicKey: pair.publicPem, algorithm: pair.alg, cacheSize: 0 } as JwtGuardOptions;
      const { verifyToken, normalizeOptions } = await loadCore();
      // The first token of an alg (and kid) goes to jose, which hands the key it used to the fast path.
      await verifyToken(seen, options);
      // From the second on the fast path must answer, or this row would measure jose.
      const config = normalizeOptions(options);
      const fast = config.asymmetricFastPath?.verify(seen, config.claims.now());
      if (typeof fast !== 'object' || fast === null || fast instanceof Error) {
        throw new Error(`micro sanity check: jwtguard ${pair.alg}: the node:crypto fast path did not take a token after the key was learned`);
      }
      return (token) => verifyToken(token, options);
    },
  },
  {
    role: 'fast-jwt',
    name: 'fast-jwt createVerifier (no cache)',
    async: false,
    make: async (pair) => createVerifier({ key: pair.publicPem, algorithms: [pair.alg] }) as Verify,
  },
  {
    role: 'jose',
    name: 'jose jwtVerify (importSPKI)',
    async: true,
    make: async (pair) => {
      const key = await importSPKI(pair.publicPem, pair.alg);
      const options = { algorithms: [pair.alg] };
      return (token) => jwtVerify(token, key, options);
    },
  },
];

/** A ratio paired per round: the median over rounds, and the lowest and highest single round. */
export interface PairedRatio {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

const paired = (a: readonly number[], b: readonly number[]): PairedRatio => {
  const ratios = a.map((x, i) => x / b[i]!);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
};

export interface AsymmetricMicroRow {
  readonly alg: AsymmetricAlg;
  readonly role: AsymmetricRole;
  readonly name: string;
  /** Median ns/op over rounds. */
  readonly ns: number;
  /** ns/op ÷ the floor's of the same round. */
  readonly floorRatio: PairedRatio;
  /** ns/op ÷ fast-jwt's of the same round. */
  readonly fastJwtRatio: PairedRatio;
}

export interface AsymmetricMicroResult {
  readonly rows: readonly AsymmetricMicroRow[];
  readonly settings: { readonly rounds: number; readonly perRound: number; readonly warmupTokens: number; readonly warmupMs: number; readonly poolPerAlg: number };
  /** How long signing the pools took (seconds, all algorithms). */
  readonly signSeconds: number;
}

/** Tokens of the pool kept for warmups (cycled through until warmupMs): never used in a measured round. */
const ASYM_WARMUP_TOKENS = 1000;
/** A round's tokens are verified in this many slices, the implementations taking turns slice by slice. */
const ASYM_SLICES = 10;

interface AsymmetricBench {
  readonly alg: AsymmetricAlg;
  readonly candidate: AsymmetricCandidate;
  readonly verify: Verify;
  readonly loop: Loop;
  readonly samples: number[];
}

async function runAsymmetric(): Promise<AsymmetricMicroResult> {
  const { rounds, warmupMs, asymPerRound: perRound } = settings;
  const poolPerAlg = ASYM_WARMUP_TOKENS + rounds * perRound;
  const pools = new Map<AsymmetricAlg, string[]>();
  const benches: AsymmetricBench[] = [];
  const signStarted = performance.now();
  for (const alg of ASYMMETRIC_ALGORITHMS) {
    log(`micro: ${alg}: signing ${fmt(poolPerAlg)} distinct tokens with jose ...`);
    const pair = benchKeyPair(alg);
    pools.set(alg, await signTokens(poolPerAlg, 0, (sub) => signAsymmetricToken(alg, sub)));
    const seen = await signAsymmetricToken(alg, 'user-seen');
    const valid = await signAsymmetricToken(alg, 'user-check');
    const expired = await expiredAsymmetricToken(alg);
    for (const candidate of asymmetricCandidates) {
      const verify = await candidate.make(pair, seen);
      await sanityCheck(`${candidate.name} (${alg})`, verify, valid, expired);
      benches.push({ alg, candidate, verify, loop: compileLoop(candidate.async, 'cold'), samples: [] });
    }
  }
  const signSeconds = (performance.now() - signStarted) / 1000;

  // Warmup: at least warmupMs and one pass, cycling through the pool's first ASYM_WARMUP_TOKENS.
  for (const bench of benches) {
    const pool = pools.get(bench.alg)!;
    let elapsed = 0;
    let passes = 0;
    do {
      elapsed += await bench.loop(bench.verify, pool, 0, ASYM_WARMUP_TOKENS);
      passes++;
    } while (elapsed < warmupMs * 1e6 && passes < 100);
  }

  log(`micro: ${rounds} rounds x ${benches.length} asymmetric benchmarks, ${fmt(perRound)} new tokens each per round ...`);
  const candidateCount = asymmetricCandidates.length;
  for (let round = 0; round < rounds; round++) {
    const offset = ASYM_WARMUP_TOKENS + round * perRound;
    for (let a = 0; a < ASYMMETRIC_ALGORITHMS.length; a++) {
      const pool = pools.get(ASYMMETRIC_ALGORITHMS[a]!)!;
      // One algorithm's implementations take turns on the same tokens, slice by slice, in an order
      // that rotates, so a slow spell of the machine within the round hits all of them alike.
      const elapsed = new Array<number>(candidateCount).fill(0);
      for (let slice = 0; slice < ASYM_SLICES; slice++) {
        const from = offset + Math.floor((slice * perRound) / ASYM_SLICES);
        const to = offset + Math.floor(((slice + 1) * perRound) / ASYM_SLICES);
        for (let k = 0; k < candidateCount; k++) {
          const c = (k + round + slice) % candidateCount;
          const bench = benches[a * candidateCount + c]!;
          elapsed[c]! += await bench.loop(bench.verify, pool, from, to - from);
        }
      }
      for (let c = 0; c < candidateCount; c++) benches[a * candidateCount + c]!.samples.push(elapsed[c]! / perRound);
    }
  }

  const rows: AsymmetricMicroRow[] = [];
  for (const alg of ASYMMETRIC_ALGORITHMS) {
    const of = (role: AsymmetricRole): AsymmetricBench => benches.find((b) => b.alg === alg && b.candidate.role === role)!;
    const floor = of('floor').samples;
    const fastJwt = of('fast-jwt').samples;
    for (const candidate of asymmetricCandidates) {
      const { samples } = of(candidate.role);
      rows.push({ alg, role: candidate.role, name: candidate.name, ns: median(samples), floorRatio: paired(samples, floor), fastJwtRatio: paired(samples, fastJwt) });
    }
  }
  return { rows, settings: { rounds, perRound, warmupTokens: ASYM_WARMUP_TOKENS, warmupMs, poolPerAlg }, signSeconds };
}

export function asymmetricTable(result: AsymmetricMicroResult): Table {
  const multi = result.settings.rounds > 1;
  const ratio = (r: PairedRatio): string[] => [`${fmt(r.median, 2)}×`, ...(multi ? [`${fmt(r.min, 2)}–${fmt(r.max, 2)}`] : [])];
  return {
    headers: ['alg', 'new token each call', 'ns/op', 'ops/s', '× floor', ...(multi ? ['range'] : []), '× fast-jwt', ...(multi ? ['range'] : [])],
    numeric: [false, false, true, true, true, ...(multi ? [true] : []), true, ...(multi ? [true] : [])],
    rows: result.rows.map((r) => [r.alg, r.name, fmt(r.ns), fmt(1e9 / r.ns), ...ratio(r.floorRatio), ...ratio(r.fastJwtRatio)]),
  };
}

export function asymmetricMarkdown(result: AsymmetricMicroResult): string {
  return renderMarkdown(asymmetricTable(result));
}

/** jwtguard against the targets, one line per algorithm. */
export function asymmetricSummary(result: AsymmetricMicroResult): string[] {
  const multi = result.settings.rounds > 1;
  const range = (r: PairedRatio): string => (multi ? ` (rounds ${fmt(r.min, 2)}–${fmt(r.max, 2)})` : '');
  return result.rows
    .filter((r) => r.role === 'jwtguard')
    .map((r) => {
      const floorMet = r.floorRatio.median <= FLOOR_TARGET ? 'met' : 'NOT met';
      const fastJwtMet = r.fastJwtRatio.median <= FAST_JWT_TARGET ? 'met' : 'NOT met';
      return (
        `${r.alg}: jwtguard ${fmt(r.ns / 1000, 1)} µs, ${fmt(r.floorRatio.median, 2)}× the floor${range(r.floorRatio)}, target ≤ ${fmt(FLOOR_TARGET, 2)}: ${floorMet}; ` +
        `${fmt(r.fastJwtRatio.median, 2)}× fast-jwt${range(r.fastJwtRatio)}, target ≤ ${fmt(FAST_JWT_TARGET, 2)}: ${fastJwtMet}`
      );
    });
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
  if (result.asymmetric) {
    console.log(`\n${renderText(asymmetricTable(result.asymmetric))}\n`);
    for (const line of asymmetricSummary(result.asymmetric)) console.log(line);
  }
}
