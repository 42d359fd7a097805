import type { Server } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { JwtGuardOptions } from '../../src/index.js';
import type { SessionManager } from '../../src/core/sessions/session-manager.js';

/**
 * The app every adapter harness builds, in its own framework, behind `jwtGuard(options)`:
 *
 * - `POST /api/auth/login` reads a JSON body `{ username, password }`. `alice` / `wonderland`
 *   succeeds with `LOGIN_USER` (status 200), anything else answers 401 `{ error: 'invalid_credentials' }`.
 *   The query parameter `mode` picks how the route writes its answer (see {@link LoginMode}).
 * - `GET /api/me` answers 200 `{ user: <payload the adapter exposes> }`.
 * - `GET /api/auth/login/x` answers 200 `{ ok: true }` (it is not the auth path, so it is guarded).
 * - `GET /api/boom` throws `new Error('boom')`.
 * - `OPTIONS /api/auth/login` is a CORS handler after the guard: 204 with `Access-Control-Allow-Origin: *`.
 * - `POST /api/effects?id=<id>` has a side effect the browser scenarios (browser-scenarios.ts) look
 *   for: it calls {@link recordEffect} with the id, then answers 200 `{ done: <id>, user: <payload> }`.
 *   A successful login also records the query's `effect` id, so a refused login is seen not to run.
 *
 * Routes for the request-target tests (request-targets.test.ts), whose answers name the handler
 * that ran, in a JSON body `{ handler }` and in the {@link HANDLER_HEADER} header (HEAD answers
 * have no body):
 * - `GET /api/health` answers 200 `{ handler: 'health' }` (the tests make it a public path).
 * - `/`, for any method, answers 200 `{ handler: 'root' }`.
 * - Any other method on a path of {@link UNROUTED_METHOD_PATHS} answers 405 `{ error: 'method_not_allowed' }`,
 *   so that the auth path and the public path, which are unguarded for every method, never reach a 2xx handler.
 * - Every other request the framework routes nowhere reaches a catch-all that answers 200 `{ handler: 'catchall' }`
 *   (after the guard, so without a valid token it is still a 401).
 *
 * The app's own error handler (Express error middleware, Fastify `setErrorHandler`, a Koa
 * try/catch middleware registered before the guard, Hono `app.onError`) reveals what reached it:
 * it answers status `err.status ?? err.statusCode ?? 500` with `{ error: 'handled', code: err.code }`.
 * So `/api/boom` gives 500 `{ error: 'handled' }` (a plain Error has no code), and a failure the
 * guard forwards under `forwardErrors: true` gives e.g. 401 `{ error: 'handled', code: 'token_missing' }`.
 * On Hono a forwarded failure is an `HTTPException`: the handler answers with the status of its
 * ready response (`err.getResponse().status`) and the code of its `cause`, the JwtGuardError.
 */
export interface AdapterHarness {
  readonly name: string;
  start(options: JwtGuardOptions, setup?: HarnessSetup): Promise<RunningServer>;
}

/** How a harness app differs for a preset, beyond the guard's options. */
export interface HarnessSetup {
  /**
   * A JSON body parser runs before the guard, on every request (Express `express.json()`, a Koa
   * middleware filling `ctx.request.body` as koa-bodyparser does, a Hono middleware calling
   * `c.req.json()`; Fastify always parses in its own way).
   */
  readonly bodyParserFirst?: boolean;
}

/** What a harness error handler reads from whatever reached it (a JwtGuardError, a plain Error, ...). */
export interface HandledError {
  readonly status?: number;
  readonly statusCode?: number;
  readonly code?: string;
}

export interface RunningServer {
  readonly url: string;
  /** The guard's sessions handle (`jwtGuard(...).sessions`, Fastify's `app.jwtSessions`), when `refresh` is configured. */
  readonly sessions?: SessionManager | undefined;
  close(): Promise<void>;
}

/** A Node server that was told to listen on 127.0.0.1, once it does: its URL and a close that waits. */
export async function listening(server: Server): Promise<RunningServer> {
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The response header in which the request-target routes name themselves (`root`, `health`, `catchall`, `method-not-allowed`). */
export const HANDLER_HEADER = 'x-handler';

/** Paths whose routed methods are left alone, and whose other methods answer 405 instead of reaching the catch-all. */
export const UNROUTED_METHOD_PATHS: readonly string[] = ['/api/auth/login', '/api/health'];

export const LOGIN_USER = Object.freeze({ userId: 123, role: 'admin' });

/** Ids of the side effects that happened (`POST /api/effects`, a login with `effect`): every harness app runs in this process. */
export const EFFECTS = new Set<string>();

/** What `POST /api/effects` and the login route do with their id: record it. An absent or empty id records nothing. */
export function recordEffect(id: string | null | undefined): void {
  if (id) EFFECTS.add(id);
}

/**
 * How the login route writes its successful answer:
 * - `json`: the framework's idiomatic JSON answer (`res.json`, `return obj`, `ctx.body = obj`, `c.json`).
 * - `string`: `JSON.stringify(LOGIN_USER)` sent as a string with `Content-Type: application/json`.
 * - `buffer`: the same JSON as a Buffer / Uint8Array.
 * - `chunked`: the JSON written in two chunks (`res.write` + `res.end`, or a two-chunk stream).
 * - `stream`: the JSON as a Node Readable (or web ReadableStream) of several chunks.
 * - `created`: `LOGIN_USER` with status 201.
 * - `exp`: `{ ...LOGIN_USER, exp: <the number in query parameter `exp`> }`.
 * - `headers`: `LOGIN_USER` with extra headers `X-Login: yes`, `Set-Cookie: sid=abc`, `ETag: "v1"`
 *   and a deliberately stale `Content-Length: 5`-style header matching the original body only.
 * - `text`: 200 `text/plain` "welcome alice".
 * - `array`: 200 JSON `[1,2,3]`.
 * - `empty`: 200 with an empty body.
 * - `broken`: 200 `application/json` with the body `{"userId":`.
 * - `twice`: answers twice, the framework's way. Express: `res.json({ userId: 'second' })` after
 *   `res.json(LOGIN_USER)` then `next()` into the 405 route; Fastify: `reply.send(LOGIN_USER)`
 *   then `reply.send({ userId: 'second' })`; Koa and Hono, where the last answer wins: a first
 *   `{ userId: 'second' }` replaced by `LOGIN_USER`. The minted payload is always `LOGIN_USER`.
 * - `nocontent`: status 204 given `LOGIN_USER` as a body anyway.
 * - `big`: `{ ...LOGIN_USER, pad: 'x' * size }` (query `size`), the idiomatic JSON answer.
 * - `bigstream`: the same JSON as a stream of 16 KiB chunks.
 * - `encoded`: `LOGIN_USER` compressed with query `coding` (`gzip`, `deflate`, `br`) and sent with
 *   that `Content-Encoding`, as a compression middleware after the guard would.
 */
export type LoginMode =
  | 'json' | 'string' | 'buffer' | 'chunked' | 'stream' | 'created' | 'exp' | 'headers' | 'text' | 'array' | 'empty' | 'broken'
  | 'twice' | 'nocontent' | 'big' | 'bigstream' | 'encoded';

/** The second answer of mode `twice`, which must never be minted. */
export const SECOND_ANSWER = Object.freeze({ userId: 'second' });

/** The JSON of a login answer cut into 16 KiB pieces, for the streaming modes. */
export function chunksOf(json: string, size = 16_384): string[] {
  const parts: string[] = [];
  for (let i = 0; i < json.length; i += size) parts.push(json.slice(i, i + size));
  return parts;
}

/** Mode `encoded`: the JSON compressed as the query's `coding` asks, and that coding's header value. */
export function encodedLogin(json: string, query: URLSearchParams): { coding: string; bytes: Buffer } {
  const coding = query.get('coding') ?? 'gzip';
  const bytes = coding === 'br' ? brotliCompressSync(json) : coding === 'deflate' ? deflateSync(json) : gzipSync(json);
  return { coding, bytes };
}

export function isValidLogin(body: unknown): boolean {
  const b = body as { username?: unknown; password?: unknown } | null;
  return b !== null && typeof b === 'object' && b.username === 'alice' && b.password === 'wonderland';
}

/** The JSON body a mode sends (for modes that send JSON), given the request's query. */
export function loginBody(mode: string, query: URLSearchParams): unknown {
  if (mode === 'exp') return { ...LOGIN_USER, exp: Number(query.get('exp')) };
  if (mode === 'array') return [1, 2, 3];
  if (mode === 'big' || mode === 'bigstream') return { ...LOGIN_USER, pad: 'x'.repeat(Number(query.get('size'))) };
  return LOGIN_USER;
}
