// The CLI as a user runs it: compiled by tsc with the package's build config (tsconfig.build.json)
// and started with `node .../dist/esm/cli/cli.js` in a child process.
//
// It is built into a private directory, not dist/: the packed-tarball test and the benchmarks
// delete and rebuild dist/ while other test files run in parallel, which would pull the CLI out
// from under these tests. The directory is named by a hash of the sources, so every test file of
// a run shares one build, and a stale build is never used. It mirrors the package layout
// (package.json next to dist/esm), and sits under node_modules/.cache so that the CLI resolves
// jose from the repository's node_modules exactly as an installed package resolves its own.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../../..');
const cacheRoot = join(root, 'node_modules', '.cache', 'jwtguard-cli-test');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of [...files(join(root, 'src')), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json'), join(root, 'package.json')]) {
    hash.update(file.slice(root.length)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

let built: string | undefined;

/** Path of the built `cli.js`; builds once per source state. */
export function cliPath(): string {
  if (built !== undefined) return built;
  const dir = join(cacheRoot, sourceHash());
  const entry = join(dir, 'dist', 'esm', 'cli', 'cli.js');
  if (!existsSync(entry)) {
    mkdirSync(cacheRoot, { recursive: true });
    const staging = join(cacheRoot, `tmp-${randomUUID()}`);
    try {
      // The package's build config, narrowed to the CLI's import graph (what tsc reaches from cli.ts).
      const config = {
        extends: join(root, 'tsconfig.build.json'),
        compilerOptions: { rootDir: join(root, 'src'), outDir: join(staging, 'dist', 'esm'), declaration: false },
        files: [join(root, 'src', 'cli', 'cli.ts')],
        include: [],
      };
      mkdirSync(staging, { recursive: true });
      writeFileSync(join(staging, 'tsconfig.json'), JSON.stringify(config));
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(staging, 'tsconfig.json')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      writeFileSync(join(staging, 'dist', 'esm', 'package.json'), '{ "type": "module" }\n');
      cpSync(join(root, 'package.json'), join(staging, 'package.json'));
      // Atomic: a parallel test file that built the same sources first wins, and this copy is dropped.
      renameSync(staging, dir);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(entry)) throw new Error(`building the CLI failed:\n${(error as { stdout?: Buffer }).stdout?.toString() ?? error}`, { cause: error });
    }
    // Builds of older sources, unused for a day, are dropped.
    for (const old of readdirSync(cacheRoot)) {
      const path = join(cacheRoot, old);
      if (path !== dir && Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
    }
  }
  built = entry;
  return entry;
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly stdin?: string;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
}

/** Every output of every run in this process, to check that no secret ever appears in any of them. */
export const transcript: string[] = [];

/**
 * Runs `node cli.js ...args` with stdin closed (or fed `stdin`), colour-neutral environment
 * (NO_COLOR, FORCE_COLOR removed unless given) and its own cwd. Asynchronous, so a test can
 * serve a JWKS from this process while the CLI fetches it.
 */
export function cli(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { cwd: options.cwd ?? root, env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const run = { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      transcript.push(run.stdout, run.stderr);
      resolvePromise(run);
    });
    child.stdin.on('error', () => {}); // the CLI may exit before reading everything (a usage error)
    child.stdin.end(options.stdin ?? '');
  });
}

/** Parses stdout as JSON, failing with the whole run when it is not. */
export function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

/** Describes a run for assertion messages. */
export const show = (run: Run): string => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

/** A fresh scratch directory under the test cache, removed by the caller's `after`. */
export function scratch(): string {
  const dir = join(cacheRoot, `scratch-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
