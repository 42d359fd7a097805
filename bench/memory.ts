/**
 * Memory and flood behaviour of `verifyToken` (issue: bounded heap, invalid floods grow nothing):
 * 1,000,000 distinct valid tokens used once, 1,000,000 forged ones, then 1,000,000 valid ones used
 * twice each (which the cache admits), through one options object with the default cache; heap
 * measured after a full GC before and after each phase, and the time per verification.
 */
import { createHmac } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadCore } from './target.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SECRET = 'a-64-byte-test-secret-0123456789abcdef0123456789abcdef0123456789';
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function token(i: number, forged: boolean): string {
  const payload = Buffer.from(JSON.stringify({ sub: `user-${i}`, role: 'member', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
  const input = `${HEADER}.${payload}`;
  const signature = createHmac('sha256', forged ? 'not-the-secret' : SECRET).update(input).digest('base64url');
  return `${input}.${signature}`;
}

const heapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

export interface MemoryRow {
  readonly phase: string;
  readonly tokens: number;
  /** `verifyToken`, awaited: a rejection costs a rejected promise. */
  readonly nsPerToken: number;
  /** The guard's `authenticate`, as the middleware calls it: synchronous for these tokens. */
  readonly nsPerRequest: number;
  readonly heapMb: number;
  readonly growthMb: number;
  readonly cacheEntries: number;
}

export async function runMemory(count = Number(process.env.BENCH_MEMORY_TOKENS ?? 1_000_000)): Promise<MemoryRow[]> {
  const { createGuard, normalizeOptions, verifyToken } = await loadCore();
  const options = { secret: SECRET };
  const cache = normalizeOptions(options).cache;
  await verifyToken(token(-1, false), options);
  // A second, independent guard (its own options object, so its own cache) for the middleware's path.
  const guard = createGuard({ secret: SECRET });
  const request = { url: '/api/me', headers: { authorization: '' } };
  const rows: MemoryRow[] = [];
  const baseline = heapMb();
  rows.push({ phase: 'baseline (guard built, 1 token)', tokens: 1, nsPerToken: 0, nsPerRequest: 0, heapMb: baseline, growthMb: 0, cacheEntries: cache?.size ?? 0 });

  // uses: how often each token is verified in a row. The cache admits a token on its second
  // verification, so the last phase is the one that fills it to its bound.
  const phases = [
    { phase: 'distinct valid tokens, each used once', forged: false, uses: 1, offset: 0 },
    { phase: 'distinct forged tokens (bad signature)', forged: true, uses: 1, offset: 0 },
    { phase: 'distinct valid tokens, each used twice (cached)', forged: false, uses: 2, offset: count },
  ] as const;
  for (const { phase, forged, uses, offset } of phases) {
    let elapsed = 0n;
    let guardElapsed = 0n;
    for (let i = 0; i < count; i++) {
      const t = token(forged ? -i - 2 : i + offset, forged);
      let started = process.hrtime.bigint();
      for (let use = 0; use < uses; use++) {
        try {
          await verifyToken(t, options);
          if (forged) throw new Error('a forged token was accepted');
        } catch (error) {
          if (!forged) throw error;
        }
      }
      elapsed += process.hrtime.bigint() - started;
      request.headers.authorization = `Bearer ${t}`;
      started = process.hrtime.bigint();
      for (let use = 0; use < uses; use++) {
        const pending = guard.authenticate(request);
        const result = pending instanceof Promise ? await pending : pending;
        if (result.ok === forged) throw new Error(`the guard ${forged ? 'accepted a forged' : 'refused a valid'} token`);
      }
      guardElapsed += process.hrtime.bigint() - started;
    }
    const heap = heapMb();
    rows.push({ phase, tokens: count, nsPerToken: Number(elapsed) / (count * uses), nsPerRequest: Number(guardElapsed) / (count * uses), heapMb: heap, growthMb: heap - baseline, cacheEntries: cache?.size ?? 0 });
  }
  return rows;
}

export function memoryMarkdown(rows: readonly MemoryRow[]): string {
  const lines = [
    '| phase | tokens | ns/verification, verifyToken | ns/request, guard | heap after GC (MB) | growth vs baseline (MB) | cache entries |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.phase} | ${r.tokens.toLocaleString('en-US')} | ${r.nsPerToken ? Math.round(r.nsPerToken).toLocaleString('en-US') : '—'} | ${r.nsPerRequest ? Math.round(r.nsPerRequest).toLocaleString('en-US') : '—'} | ${r.heapMb.toFixed(1)} | ${r.growthMb.toFixed(1)} | ${r.cacheEntries.toLocaleString('en-US')} |`),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(memoryMarkdown(await runMemory()));
}
